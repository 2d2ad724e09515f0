"""Contract exit, at contracts/<reference>/exit/ (see psis/urls.py)."""

from django.urls import path

from exits import views

urlpatterns = [
    path("", views.contract_exit, name="contract_exit"),
    path("archives/<int:pk>/", views.exit_job, name="contract_exit_job"),
    path("archives/<int:pk>/status/", views.exit_job_status, name="contract_exit_job_status"),
    path("archives/<int:pk>/download/", views.exit_job_download, name="contract_exit_job_download"),
]
