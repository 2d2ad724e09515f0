"""Contract meetings, action logs and meeting packs, under contracts/<reference>/meetings/."""

from django.urls import path

from reports import pack_views

app_name = "meetings"

urlpatterns = [
    path("", pack_views.meeting_list, name="list"),
    path("new/", pack_views.meeting_create, name="create"),
    path("<int:pk>/", pack_views.meeting_detail, name="detail"),
    path("<int:pk>/edit/", pack_views.meeting_edit, name="edit"),
    path("<int:pk>/actions/new/", pack_views.action_create, name="action_create"),
    path("actions/<int:pk>/edit/", pack_views.action_edit, name="action_edit"),
    path("packs/generate/", pack_views.pack_generate, name="pack_generate"),
    path("packs/<int:pk>/", pack_views.pack_detail, name="pack"),
    path("packs/<int:pk>/status/", pack_views.pack_status, name="pack_status"),
    path("packs/<int:pk>/finalise/", pack_views.pack_finalise, name="pack_finalise"),
    path("packs/<int:pk>/download.<str:fmt>", pack_views.pack_download, name="pack_download"),
]
