"""Contract meetings, action logs and meeting packs, under contracts/<reference>/meetings/."""

from django.urls import path

from meetings import views

app_name = "meetings"

urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("new/", views.meeting_create, name="create"),
    path("<int:pk>/", views.meeting_detail, name="detail"),
    path("<int:pk>/edit/", views.meeting_edit, name="edit"),
    path("<int:pk>/actions/new/", views.action_create, name="action_create"),
    path("actions/<int:pk>/edit/", views.action_edit, name="action_edit"),
    path("packs/generate/", views.pack_generate, name="pack_generate"),
    path("packs/<int:pk>/", views.pack_detail, name="pack"),
    path("packs/<int:pk>/status/", views.pack_status, name="pack_status"),
    path("packs/<int:pk>/finalise/", views.pack_finalise, name="pack_finalise"),
    path("packs/<int:pk>/download.<str:fmt>", views.pack_download, name="pack_download"),
]
