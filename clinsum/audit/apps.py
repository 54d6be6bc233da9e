from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "clinsum.audit"
    label = "audit"
