"""Demonstration RAG override, called by ``contracts.demo.seed_demo``."""

from datetime import timedelta

from django.db import transaction

from contracts.models import Contract, User
from performance import results, services
from performance.models import RagOverride
from psis.rag import Rag
from reports.models import Return

DEMO_PREFIX = "[Demo data]"
REASON = (
    f"{DEMO_PREFIX} The shortfall is explained by a vacancy filled in the last month of the "
    "quarter; activity has recovered since and a recovery plan was agreed at the contract "
    "meeting, so the commissioners rate this amber rather than red."
)


@transaction.atomic
def seed_demo_overrides(contract: Contract) -> RagOverride | None:
    """Override one red KPI to amber, in the latest quarter whose returns were all accepted.

    Repeatable: earlier demo overrides of the contract are removed first. None if the demo has
    no red KPI to override or the contract has no commissioner account.
    """
    RagOverride.objects.filter(
        kpi__pathway__contract=contract, reason__startswith=DEMO_PREFIX
    ).delete()
    commissioner = (
        User.objects.filter(
            role=User.Role.COMMISSIONER, organisation__in=contract.commissioners.all()
        )
        .order_by("username")
        .first()
    )
    if commissioner is None:
        return None
    all_periods = results.contract_periods(contract)
    accepted = (
        Return.objects.filter(pathway__contract=contract, status="accepted")
        .order_by("-period__start")
        .values_list("period_id", flat=True)
        .first()
    )
    period = next((p for p in all_periods if p.pk == accepted), None)
    if period is None:
        return None
    # Judged as the meeting saw it: the day after the returns were due.
    res = results.contract_results(
        contract, period, all_periods=all_periods, today=period.due_date + timedelta(days=1)
    )
    red = next((r for r in res.results if r.rag == Rag.RED and r.rag_source == "rule"), None)
    if red is None:
        return None
    return services.rag_override_create(
        kpi=red.kpi, period=period, rag=Rag.AMBER.value, reason=REASON, user=commissioner
    )
