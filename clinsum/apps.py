from django.apps import AppConfig


class ClinsumConfig(AppConfig):
    """The project itself, as an app: its system checks (clinsum/deploy_checks.py) and the commands
    that span apps (clinsum/management/commands: seed_demo)."""

    name = "clinsum"
    label = "clinsum"

    def ready(self):
        from clinsum import deploy_checks  # noqa: F401  (registers the checks)
