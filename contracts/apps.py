from django.apps import AppConfig


class ContractsConfig(AppConfig):
    verbose_name = "Contracts, organisations and people"
    name = "contracts"
