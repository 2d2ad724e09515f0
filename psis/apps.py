from django.apps import AppConfig


class PsisConfig(AppConfig):
    name = "psis"

    def ready(self):
        from psis import checks  # noqa: F401 (registers the deploy check)
