from django.apps import AppConfig


class PathwaysConfig(AppConfig):
    verbose_name = "Pathways and quarterly returns"
    name = "pathways"
