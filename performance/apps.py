from django.apps import AppConfig


class PerformanceConfig(AppConfig):
    verbose_name = "Performance results and RAG overrides"
    name = "performance"
