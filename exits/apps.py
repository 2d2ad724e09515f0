from django.apps import AppConfig


class ExitsConfig(AppConfig):
    verbose_name = "Contract exit and evidence retention"
    name = "exits"
