"""A return's history: every change to it and its figures, who made it, when and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from kpis.models import Kpi, KpiCategory, Measure
from psis import formatting
from reports.contents import FIGURE_FIELDS
from reports.models import (
    Attachment,
    BreakdownFigure,
    Figure,
    Return,
)

FIELD_LABELS = {
    "value": "figure",
    "numerator": "numerator",
    "denominator": "denominator",
    "cases": "number of cases",
    "month_1": "first month",
    "month_2": "second month",
    "month_3": "third month",
    "narrative": "evidence",
    "explanation": "explanation",
    "consent_confirmed": "consent confirmation",
    "personal_data_reason": "reason for personal data",
    "rating": "rating",
    "count": "count",
    "commentary": "commentary",
    "status": "status",
}
_TEXT_FIELDS = {"narrative", "explanation", "commentary", "personal_data_reason"}


def _blank(value) -> bool:
    return value is None or value is False or (isinstance(value, str) and value == "")


def _shown(name: str, value, money: bool = False) -> str:
    if value is None or value == "":
        return "blank"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "status":
        return Return.Status(value).label
    if money and name == "value":
        return formatting.money(value)
    if isinstance(value, Decimal | int):
        return formatting.number(value)
    text = str(value)
    if name in _TEXT_FIELDS:
        return f"“{text[:80]}{'…' if len(text) > 80 else ''}”"
    return text


@dataclass
class HistoryEntry:
    when: object
    who: str
    what: str
    changes: list[str]
    reason: str


def _diff(old, new, fields: Iterable[str], money: bool = False) -> list[str]:
    lines = []
    for name in fields:
        before = getattr(old, name, None) if old is not None else None
        after = getattr(new, name, None)
        if before != after and not (_blank(before) and _blank(after)):
            label = FIELD_LABELS.get(name, name.replace("_", " "))
            lines.append(f"{label}: {_shown(name, before, money)} → {_shown(name, after, money)}")
    return lines


def return_history(ret: Return, *, since=None) -> list[HistoryEntry]:
    """Every recorded change to a return, its figures, category counts and attachments, oldest
    first. ``since`` keeps only changes after that moment."""
    if ret.pk is None:
        return []
    entries: list[tuple[object, int, HistoryEntry]] = []
    codes = dict(Figure.objects.filter(ret=ret).values_list("pk", "kpi__code"))
    # Deleted figures keep their history: read KPI codes from it too.
    for record in Figure.history.filter(ret_id=ret.pk).values("id", "kpi__code"):
        codes.setdefault(record["id"], record["kpi__code"])

    money = set(
        Kpi.objects.filter(pathway_id=ret.pathway_id, measure=Measure.MONEY).values_list(
            "code", flat=True
        )
    )

    def collect(records, what_of, fields, in_pounds=lambda record: False):
        previous: dict[int, object] = {}
        for record in records:
            old = previous.get(record.id)
            previous[record.id] = record
            if since is not None and record.history_date <= since:
                continue
            what = what_of(record)
            if record.history_type == "-":
                changes = ["removed"]
            else:
                changes = _diff(old, record, fields, in_pounds(record))
            if not changes:
                continue
            entries.append(
                (
                    record.history_date,
                    record.history_id,
                    HistoryEntry(
                        when=record.history_date,
                        who=formatting.person(record.history_user) or "System",
                        what=what,
                        changes=changes,
                        reason=record.history_change_reason or "",
                    ),
                )
            )

    collect(
        Return.history.filter(id=ret.pk).select_related("history_user").order_by("history_date"),
        lambda r: "Return",
        ["status", "commentary"],
    )
    collect(
        Figure.history.filter(ret_id=ret.pk)
        .select_related("history_user")
        .order_by("id", "history_date"),
        lambda r: codes.get(r.id, "Figure"),
        [*FIGURE_FIELDS, "rating"],
        lambda r: codes.get(r.id) in money,
    )
    categories = dict(
        KpiCategory.objects.filter(kpi__pathway_id=ret.pathway_id).values_list("pk", "name")
    )
    collect(
        BreakdownFigure.history.filter(figure_id__in=list(codes))
        .select_related("history_user")
        .order_by("id", "history_date"),
        lambda r: f"{codes.get(r.figure_id, '')} {categories.get(r.category_id, '')}".strip(),
        ["count"],
    )
    collect(
        Attachment.history.filter(figure_id__in=list(codes))
        .select_related("history_user")
        .order_by("id", "history_date"),
        lambda r: f"{codes.get(r.figure_id, '')} attachment".strip(),
        ["name"],
    )
    entries.sort(key=lambda e: (e[0], e[1]))
    return [entry for _, _, entry in entries]


def changes_since(ret: Return, version: int) -> list[str]:
    """What others changed after the user loaded ``version`` of the return, in words."""
    seen = (
        Return.history.filter(id=ret.pk, version=version).order_by("-history_date").first()
        if version
        else None
    )
    since = seen.history_date if seen is not None else None
    lines = []
    for entry in return_history(ret, since=since):
        when = formatting.short_datetime(entry.when)
        lines.append(f"{entry.who} changed {entry.what} ({when}): {'; '.join(entry.changes)}")
    return lines or ["The return was changed by someone else after you opened it."]
