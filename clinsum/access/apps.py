from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "clinsum.access"
    label = "access"

    def ready(self):
        from clinsum.accounts.signals import user_deactivated

        from .services import access_end_on_deactivation

        user_deactivated.connect(access_end_on_deactivation, dispatch_uid="access_end_on_deactivation")
