from django.apps import AppConfig


class ChartsConfig(AppConfig):
    name = "clinsum.charts"
    label = "charts"
