from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "clinsum.accounts"
    label = "accounts"
