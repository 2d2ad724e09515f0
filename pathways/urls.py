"""A contract's own page, at contracts/<reference>/ (see psis/urls.py)."""

from django.urls import path

from pathways import views

urlpatterns = [
    path("", views.contract_detail, name="contract_detail"),
]
