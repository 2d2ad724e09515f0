from django.apps import AppConfig


class KpisConfig(AppConfig):
    verbose_name = "KPIs and targets"
    name = "kpis"
