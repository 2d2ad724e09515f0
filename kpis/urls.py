"""The KPI catalogue, under contracts/<reference>/kpis/ (see psis/urls.py)."""

from django.urls import path

from kpis import views

urlpatterns = [
    path("", views.kpi_catalogue, name="kpi_catalogue"),
    path("catalogue.<str:fmt>", views.kpi_catalogue_download, name="kpi_catalogue_download"),
]
