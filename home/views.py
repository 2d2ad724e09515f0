"""The home page: what needs the person signed in, across every contract they can see."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from contracts.access import (
    contracts_for,
)
from reports import schedule


@require_GET
def home(request: HttpRequest) -> HttpResponse:

    contracts = list(
        contracts_for(request.user).select_related("lead_commissioner", "lead_provider")
    )
    context = {"contracts": contracts}
    if request.user.role == request.user.Role.PROVIDER:
        context["returns_due"] = schedule.returns_due_for(
            request.user, contracts, timezone.localdate()
        )
    elif request.user.role in (request.user.Role.COMMISSIONER, request.user.Role.OFFICER):
        context["to_review"] = schedule.returns_to_review(contracts, timezone.localdate())
    return render(request, "home/home.html", context)
