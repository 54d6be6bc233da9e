"""Django's PostgreSQL backend, with test databases created, migrated and dropped by the owner
role (the app role may not create databases), and dates Python cannot hold read as the nearest
date it can (see `OUT_OF_RANGE`) instead of failing the whole query."""

from datetime import UTC, date, datetime

import psycopg
from django.db.backends.postgresql import base, creation
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from psycopg.types.datetime import DateLoader, TimestampLoader

from clinsum.db.roles import as_owner

# A stored timestamp beyond what Python holds (9999-12-31T23:00-05:00 is year 10000 in UTC;
# 0001-01-01T00:00+01:00 is year 0; infinity) made psycopg raise DataError and the chart, the
# note, a summary job or a report fail. Such a value reads as these bounds, one day inside
# Python's own, so that converting it to any time zone still works; pages show "date out of
# range" for them (charts' note_date filter).
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def out_of_range(value) -> bool:
    """A date or datetime read in place of one Python cannot hold."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value <= EARLIEST or value >= LATEST
    if isinstance(value, date):
        return value <= EARLIEST.date() or value >= LATEST.date()
    return False


def _clamp(exc: psycopg.DataError, earliest, latest):
    message = str(exc)
    if "too small" in message:
        return earliest
    if "too large" in message:
        return latest
    raise exc


class ClampingTzLoader(BaseTzLoader):
    def load(self, data):
        try:
            return super().load(data)
        except psycopg.DataError as exc:
            return _clamp(exc, EARLIEST, LATEST).replace(tzinfo=self.timezone or UTC)


class ClampingTimestampLoader(TimestampLoader):
    def load(self, data):
        try:
            return super().load(data)
        except psycopg.DataError as exc:
            return _clamp(exc, EARLIEST.replace(tzinfo=None), LATEST.replace(tzinfo=None))


class ClampingDateLoader(DateLoader):
    def load(self, data):
        try:
            return super().load(data)
        except psycopg.DataError as exc:
            return _clamp(exc, EARLIEST.date(), LATEST.date())


def register_clamping_loaders(tz, context) -> None:
    class SpecificClampingTzLoader(ClampingTzLoader):
        timezone = tz

    context.adapters.register_loader("timestamptz", SpecificClampingTzLoader)
    context.adapters.register_loader("timestamp", ClampingTimestampLoader)
    context.adapters.register_loader("date", ClampingDateLoader)


class DatabaseCreation(creation.DatabaseCreation):
    def create_test_db(self, *args, **kwargs):
        alias = self.connection.alias
        with as_owner(alias):
            name = super().create_test_db(*args, **kwargs)
        return name

    def destroy_test_db(self, *args, **kwargs):
        with as_owner(self.connection.alias):
            return super().destroy_test_db(*args, **kwargs)


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        register_clamping_loaders(self.timezone, connection)
        return connection

    def create_cursor(self, name=None):
        cursor = super().create_cursor(name)
        # Django registers its own time zone loader on a cursor whose time zone differs from
        # the connection's (override_settings): keep it clamping.
        loader = cursor.adapters.get_loader(psycopg.postgres.types["timestamptz"].oid, psycopg.pq.Format.TEXT)
        if loader is not None and not issubclass(loader, ClampingTzLoader):
            register_clamping_loaders(getattr(loader, "timezone", self.timezone), cursor)
        return cursor
