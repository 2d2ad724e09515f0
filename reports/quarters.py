"""Which quarter each page opens on when none is asked for: one named rule per intent.

Every function takes the quarters to choose from, oldest first, and returns one of them (None
only when there are none). ``today`` defaults to the local date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.utils import timezone

from contracts.models import Contract, ReportingPeriod
from reports.models import Return
from reports.state import is_overdue_on


def latest_due(
    periods_: Sequence[ReportingPeriod], today: date | None = None
) -> ReportingPeriod | None:
    """The latest quarter whose return due date has passed, else the first quarter."""
    today = today or timezone.localdate()
    passed = [p for p in periods_ if is_overdue_on(today, p.due_date)]
    if passed:
        return passed[-1]
    return periods_[0] if periods_ else None


def for_dashboard(
    contract: Contract, periods_: Sequence[ReportingPeriod], today: date | None = None
) -> ReportingPeriod | None:
    """Dashboards: the latest quarter past its due date in which any return exists (even a
    draft), else ``latest_due``.

    A quarter past its due date in which no return has even been started would show nothing
    but "missing"; the dashboards say separately that such quarters are overdue.
    """
    today = today or timezone.localdate()
    # Query: the latest quarter past its due date in which any return exists.
    latest = (
        # The database form of is_overdue_on: due before today.
        Return.objects.filter(pathway__contract=contract, period__due_date__lt=today)
        .order_by("-period__start")
        .values_list("period_id", flat=True)
        .first()
    )
    chosen = next((p for p in periods_ if p.pk == latest), None)
    return chosen or latest_due(periods_, today)


def for_meeting_pack(
    contract: Contract, periods_: Sequence[ReportingPeriod], today: date | None = None
) -> ReportingPeriod | None:
    """Meeting packs: the latest quarter with a return past draft (submitted, queried or
    accepted), if it is among ``periods_``; else ``latest_due``.
    """
    submitted = (
        Return.objects.filter(period__contract=contract)
        .exclude(status=Return.Status.DRAFT)
        .order_by("-period__start")
        .values_list("period_id", flat=True)
        .first()
    )
    chosen = next((p for p in periods_ if p.pk == submitted), None)
    return chosen or latest_due(periods_, today)


def for_return_list(
    periods_: Sequence[ReportingPeriod], today: date | None = None
) -> ReportingPeriod | None:
    """The list of returns: the latest quarter that has ended, else the latest quarter."""
    today = today or timezone.localdate()
    ended = [p for p in periods_ if p.end < today]
    if ended:
        return ended[-1]
    return periods_[-1] if periods_ else None
