"""Contract exit, at contracts/<reference>/exit/ (see psis/urls.py)."""

from django.urls import path

from exits import views

urlpatterns = [
    path("", views.contract_exit, name="contract_exit"),
]
