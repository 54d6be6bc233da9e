"""`migrate` as the owner role, then the app role's grants (clinsum.db.roles)."""

from django.core.management.commands.migrate import Command as DjangoMigrate

from clinsum.db.roles import app_privileges_grant, app_role, as_owner


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " Runs as the database owner (DATABASE_OWNER_URL) and grants the app role its rights."

    def handle(self, *args, **options):
        alias = options["database"]
        role = app_role(alias)
        with as_owner(alias):
            super().handle(*args, **options)
            granted = app_privileges_grant(role, alias)
        if granted and options["verbosity"] >= 2:
            self.stdout.write(f"granted the app role its rights ({len(granted)} statements)")
