"""A contract's page: its parties, funding and the pathways the person may see."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from contracts.access import (
    can_review,
    get_contract_for_user,
    is_lead_provider,
)
from pathways.access import pathways_for


@require_GET
def contract_detail(request: HttpRequest, reference: str) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    today = timezone.localdate()
    pathways = list(
        pathways_for(request.user, contract).select_related("provider").prefetch_related("kpis")
    )
    context = {
        "contract": contract,
        "commissioners": list(contract.commissioners.all()),
        "funding": list(contract.funding.all()),
        "pathways": pathways,
        "current_quarter": contract.quarter_of(today) if today >= contract.start_date else None,
        "is_lead_provider": is_lead_provider(request.user, contract),
        "can_review": can_review(request.user, contract),
    }
    return render(request, "pathways/contract_detail.html", context)
