from django.apps import AppConfig


class AskingConfig(AppConfig):
    name = "clinsum.asking"
    label = "asking"
    verbose_name = "Questions asked of a chart"
