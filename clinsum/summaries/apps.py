from django.apps import AppConfig


class SummariesConfig(AppConfig):
    name = "clinsum.summaries"
    label = "summaries"
