"""Django's PostgreSQL backend, with test databases created, migrated and dropped by the owner
role (the app role may not create databases). Everything else is the stock backend."""

from django.db.backends.postgresql import base, creation

from clinsum.db.roles import as_owner


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
