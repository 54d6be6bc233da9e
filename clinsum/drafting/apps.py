from django.apps import AppConfig


class DraftingConfig(AppConfig):
    name = "clinsum.drafting"
    label = "drafting"
    verbose_name = "Nurse documentation drafts"
