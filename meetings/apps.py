from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    verbose_name = "Contract meetings, action logs and packs"
    name = "meetings"
