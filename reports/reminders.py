"""Deadline reminders: which providers to remind of which returns, once each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from contracts.models import Contract
from reports.models import (
    ReminderSent,
)
from reports.schedule import Slot, return_slots


@dataclass
class Reminder:
    slot: Slot
    kind: str  # ReminderSent.Kind

    @property
    def days_left(self) -> int:
        return (self.slot.period.due_date - self.slot.today).days


def reminders_due(*, today: date, days: int) -> list[Reminder]:
    """Returns not yet submitted that are due within ``days`` days, or overdue, and have not
    had that reminder yet."""
    sent = set(ReminderSent.objects.values_list("pathway_id", "period_id", "kind"))
    reminders = []
    for contract in Contract.objects.order_by("reference"):
        due = contract.periods.filter(due_date__lte=today + timedelta(days=days))
        pathways = contract.pathways.select_related("contract", "provider")
        for slot in return_slots(pathways=pathways, periods_=due, today=today):
            state = slot.state
            if state.is_submitted:
                continue
            kind = ReminderSent.Kind.OVERDUE if state.is_overdue else ReminderSent.Kind.DUE_SOON
            if (slot.pathway.pk, slot.period.pk, kind) not in sent:
                reminders.append(Reminder(slot=slot, kind=kind))
    return reminders
