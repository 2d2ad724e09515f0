"""Quarterly returns, under contracts/<reference>/returns/ (see psis/urls.py)."""

from django.urls import path

from reports import views

urlpatterns = [
    path("", views.return_list, name="return_list"),
    path("<slug:pathway>/<str:quarter>/", views.return_edit, name="return_edit"),
    path("<slug:pathway>/<str:quarter>/review/", views.return_review, name="return_review"),
    path("<slug:pathway>/<str:quarter>/history/", views.return_history, name="return_history"),
    path(
        "<slug:pathway>/<str:quarter>/template.xlsx",
        views.return_template,
        name="return_template",
    ),
    path("<slug:pathway>/<str:quarter>/upload/", views.return_upload, name="return_upload"),
    path(
        "<slug:pathway>/<str:quarter>/documents/<int:pk>/",
        views.attachment_download,
        name="return_attachment",
    ),
]
