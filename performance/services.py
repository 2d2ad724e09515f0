"""Writes about KPIs: a commissioner's RAG override and its withdrawal."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from contracts.access import require_reviewer
from contracts.models import ReportingPeriod, User
from kpis.models import Kpi
from performance.models import RagOverride


@transaction.atomic
def rag_override_create(
    *, kpi: Kpi, period: ReportingPeriod, rag: str, reason: str, user: User
) -> RagOverride:
    """Record a commissioner's RAG for a KPI in a quarter. Only the contract's commissioners may.

    Raises PermissionDenied for anyone else and ValidationError for a missing reason, a RAG that
    is not green, amber or red, a quarter of another contract or one that has not begun, or an
    override already in force.
    """
    contract = kpi.pathway.contract
    require_reviewer(user, contract)
    if period.contract_id != contract.pk:
        raise ValidationError("That quarter belongs to another contract.")
    if period.start > timezone.localdate():
        raise ValidationError(
            f"{period.label} has not begun (it starts on {period.start.day} {period.start:%B %Y}): "
            "a RAG can be overridden only for a quarter that has begun."
        )
    override = RagOverride(
        kpi=kpi,
        period=period,
        rag=rag,
        reason=(reason or "").strip(),
        created_by=user,
        created_at=timezone.now(),
    )
    override.full_clean()
    override._history_user = user
    try:
        with transaction.atomic():
            override.save()
    except IntegrityError as exc:  # another commissioner got there first
        raise ValidationError(
            "This KPI already has an override for this quarter; withdraw it first."
        ) from exc
    return override


@transaction.atomic
def rag_override_withdraw(*, override: RagOverride, user: User) -> RagOverride:
    """Withdraw an override (kept, with who withdrew it and when), so the rule's RAG shows again."""
    require_reviewer(user, override.kpi.pathway.contract)
    locked = RagOverride.objects.select_for_update().get(pk=override.pk)
    if locked.withdrawn_at is not None:
        raise ValidationError("This override has already been withdrawn.")
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_by = user
    locked._history_user = user
    locked.save(update_fields=["withdrawn_at", "withdrawn_by"])
    return locked
