from django.apps import AppConfig


class HomeConfig(AppConfig):
    verbose_name = "Home pages"
    name = "home"
