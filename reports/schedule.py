"""Which returns are due, for whom, and which wait for review."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from contracts.models import Contract, ReportingPeriod, User
from kpis.models import Kpi
from pathways.access import can_submit, pathways_for
from pathways.models import Pathway
from reports.models import (
    Return,
)
from reports.state import ReturnState, state_of


@dataclass
class Slot:
    """One pathway's return for one quarter, whether or not it has been started."""

    contract: Contract
    pathway: Pathway
    period: ReportingPeriod
    ret: Return | None
    today: date

    @property
    def status(self) -> str:
        """The return's status, or "not_started" when there is none."""
        return "not_started" if self.ret is None else self.ret.status

    @property
    def state(self) -> ReturnState:
        return state_of(self.ret, self.period, self.today)

    @property
    def needs_provider(self) -> bool:
        return self.status in ("not_started", "draft", "queried")


def return_slots(
    *, pathways: Iterable[Pathway], periods_: Iterable[ReportingPeriod], today: date
) -> list[Slot]:
    """A slot per pathway and period in which the pathway has a KPI due, most recent first."""
    pathways = list(pathways)
    periods_ = list(periods_)
    if not pathways or not periods_:
        return []
    returns = {
        (r.pathway_id, r.period_id): r
        for r in Return.objects.filter(pathway__in=pathways, period__in=periods_).select_related(
            "submitted_by"
        )
    }
    kpis: dict[int, list[Kpi]] = defaultdict(list)
    for kpi in Kpi.objects.filter(pathway__in=pathways).only("pathway_id", "frequency"):
        kpis[kpi.pathway_id].append(kpi)
    slots = []
    for period in sorted(periods_, key=lambda p: p.start, reverse=True):
        for pathway in pathways:
            if not any(k.is_due(period) for k in kpis[pathway.pk]):
                continue
            slots.append(
                Slot(
                    contract=pathway.contract,
                    pathway=pathway,
                    period=period,
                    ret=returns.get((pathway.pk, period.pk)),
                    today=today,
                )
            )
    return slots


def returns_due_for(user: User, contracts: Iterable[Contract], today: date) -> list[Slot]:
    """A provider's returns to act on: every ended quarter's return not yet submitted (or
    queried back), and the latest ended quarter's whatever its state."""
    slots: list[Slot] = []
    for contract in contracts:
        pathways = [
            p
            for p in pathways_for(user, contract).select_related("contract", "provider")
            if can_submit(user, p)
        ]
        ended = list(contract.periods.filter(end__lt=today).order_by("-start"))
        if not ended:
            continue
        latest = ended[0]
        slots.extend(
            s
            for s in return_slots(pathways=pathways, periods_=ended, today=today)
            if s.needs_provider or s.period == latest
        )
    return slots


def returns_to_review(contracts: Iterable[Contract], today: date) -> list[Slot]:
    """Submitted returns waiting for a commissioner, longest waiting first."""
    returns = (
        Return.objects.filter(pathway__contract__in=list(contracts), status=Return.Status.SUBMITTED)
        .select_related("pathway__contract", "period", "submitted_by")
        .order_by("submitted_at")
    )
    return [
        Slot(contract=r.pathway.contract, pathway=r.pathway, period=r.period, ret=r, today=today)
        for r in returns
    ]
