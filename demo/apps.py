from django.apps import AppConfig


class DemoConfig(AppConfig):
    verbose_name = "Demo data"
    name = "demo"
