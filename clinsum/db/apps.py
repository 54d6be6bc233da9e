from django.apps import AppConfig


class DbConfig(AppConfig):
    name = "clinsum.db"
    label = "clinsum_db"
    verbose_name = "Database roles"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy checks)
