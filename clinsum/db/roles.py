"""Who runs what against PostgreSQL (see the package docstring).

settings.DATABASE_OWNER holds the owner's USER and PASSWORD (embedded default: `clinsum_owner`,
trust auth on the data directory's socket; production: DATABASE_OWNER_URL, given only to the
one-shot migrate job and to operators). The app's own connection is DATABASES["default"].
"""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

# Evidence tables: the application may add rows and read them, nothing else (a retention receipt
# is also updated by its own run until sealed; its trigger refuses any change after that). Each
# has a trigger refusing UPDATE/DELETE (audit and retention migrations); these grants make that
# hold against the app role's TRUNCATE, DISABLE TRIGGER, DROP and session_replication_role too.
APPEND_ONLY_TABLES = {
    "audit_auditevent": "SELECT, INSERT",
    "audit_auditcheckpoint": "SELECT, INSERT",
    "audit_auditarchive": "SELECT, INSERT",
    "retention_deletionreceipt": "SELECT, INSERT, UPDATE",
    "retention_deletedobject": "SELECT, INSERT",
}
APP_TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def owner_credentials() -> dict[str, str] | None:
    owner = settings.DATABASE_OWNER
    return dict(owner) if owner else None


def app_role(alias: str = "default") -> str:
    """The application's role, also while as_owner() has switched the connection."""
    settings_dict = connections[alias].settings_dict
    return settings_dict.get("APP_USER") or settings_dict["USER"]


@contextmanager
def as_owner(alias: str = "default", *, required: bool = False):
    """Run the block on a connection opened as the owner role, then go back to the app role.

    Without owner credentials (a single-role install) the block runs as the app role, unless
    `required`: then it refuses, for work the app role must not be able to do.
    """
    connection = connections[alias]
    owner = owner_credentials()
    if not owner or connection.settings_dict["USER"] == owner["USER"]:
        if required and not owner:
            raise ImproperlyConfigured(
                "this needs the database owner's role: set DATABASE_OWNER_URL (operators and the "
                "migrate job only; the web and worker processes never hold it)"
            )
        yield connection
        return
    if connection.in_atomic_block:
        raise RuntimeError("cannot switch database roles inside a transaction")
    saved = {key: connection.settings_dict.get(key) for key in ("USER", "PASSWORD")}
    connection.close()
    connection.settings_dict.update(owner, APP_USER=saved["USER"])
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict.update(saved)
        connection.settings_dict.pop("APP_USER", None)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def app_privileges_grant(role: str, alias: str = "default") -> list[str]:
    """Grant the app `role` what it needs on every table and sequence of the schema, then take the
    evidence tables back to SELECT and INSERT. Run as the owner after each migrate; idempotent.
    Returns the statements run (empty when the app role is the owner: nothing to grant)."""
    owner = owner_credentials()
    if not owner or owner["USER"] == role:
        return []
    app = quote(role)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {app}",
        f"REVOKE CREATE ON SCHEMA public FROM {app}",
        f"GRANT {APP_TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO {app}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
    ]
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        present = {row[0] for row in cursor.fetchall()}
    for table, privileges in APPEND_ONLY_TABLES.items():
        if table in present:
            statements.append(f"REVOKE ALL ON {quote(table)} FROM {app}")
            statements.append(f"GRANT {privileges} ON {quote(table)} TO {app}")
    with connections[alias].cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return statements


def app_role_problems(alias: str = "default") -> list[str]:
    """What makes the connected role more than the app role should be (empty when all is well)."""
    problems = []
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        superuser, createrole, bypassrls = cursor.fetchone()
        if superuser:
            problems.append("the application connects as a PostgreSQL superuser")
        if createrole:
            problems.append("the application's role can create roles")
        if bypassrls:
            problems.append("the application's role bypasses row security")
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) = current_user "
            "ORDER BY 1 LIMIT 3"
        )
        owned = [row[0] for row in cursor.fetchall()]
        if owned:
            problems.append(
                f"the application's role owns tables ({', '.join(owned)} ...); migrations belong to an owner role"
            )
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        present = {row[0] for row in cursor.fetchall()}
        for table, allowed in APPEND_ONLY_TABLES.items():
            if table not in present:
                continue
            for privilege in sorted({"UPDATE", "DELETE", "TRUNCATE", "TRIGGER"} - set(allowed.split(", "))):
                cursor.execute("SELECT has_table_privilege(current_user, %s, %s)", [table, privilege])
                if cursor.fetchone()[0]:
                    problems.append(f"the application's role has {privilege} on {table}")
    return problems
