from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "clinsum.access"
    label = "access"
