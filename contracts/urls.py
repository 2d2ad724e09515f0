from django.urls import path

from contracts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("account/", views.account, name="account"),
    path("account/sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("contracts/<slug:reference>/", views.contract_detail, name="contract_detail"),
    path("contracts/<slug:reference>/kpis/", views.kpi_catalogue, name="kpi_catalogue"),
    path(
        "contracts/<slug:reference>/kpis/catalogue.<str:fmt>",
        views.kpi_catalogue_download,
        name="kpi_catalogue_download",
    ),
    path("contracts/<slug:reference>/exit/", views.contract_exit, name="contract_exit"),
]
