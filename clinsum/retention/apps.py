from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "clinsum.retention"
    label = "retention"
