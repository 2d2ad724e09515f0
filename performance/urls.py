"""Performance dashboards, under contracts/<reference>/performance/ (see psis/urls.py)."""

from django.urls import path

from performance import views

urlpatterns = [
    path("", views.overview, name="performance_overview"),
    path("performance.<str:fmt>", views.overview_download, name="performance_download"),
    path("exceptions/", views.exceptions, name="performance_exceptions"),
    path(
        "exceptions/exceptions.<str:fmt>",
        views.exceptions_download,
        name="performance_exceptions_download",
    ),
    path("pathway/<slug:code>/", views.pathway_detail, name="performance_pathway"),
    path(
        "pathway/<slug:code>/performance.<str:fmt>",
        views.pathway_download,
        name="performance_pathway_download",
    ),
    path("kpi/<slug:code>/", views.kpi_detail, name="performance_kpi"),
    path("kpi/<slug:code>/history.<str:fmt>", views.kpi_download, name="performance_kpi_download"),
    path("kpi/<slug:code>/override/", views.override_create, name="rag_override_create"),
    path(
        "kpi/<slug:code>/override/<int:pk>/withdraw/",
        views.override_withdraw,
        name="rag_override_withdraw",
    ),
]
