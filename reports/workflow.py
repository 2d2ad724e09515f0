"""A return's life: save a draft, submit, accept, query, answer.

Every write is one transaction, takes the return's row lock first (``select_for_update``), checks
the version the user saw (so a stale save is refused, never silently overwriting), and saves row
by row so django-simple-history keeps the earlier value, who changed it, when and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from contracts.access import can_review
from contracts.models import User
from kpis.models import Kpi, Measure
from pathways.access import can_submit
from psis import formatting
from reports import validation
from reports.contents import (
    ANSWER_FIELD,
    FIGURE_FIELDS,
    return_specs,
    stored_values,
    submission_problems,
)
from reports.history import changes_since
from reports.models import (
    Attachment,
    BreakdownFigure,
    Figure,
    Return,
    ReturnComment,
)
from reports.state import submitted_late
from reports.validation import FigureValues, Kind, KpiSpec, Parsed, Problem


class ReturnError(Exception):
    """A write that cannot be done; ``str()`` says why in plain English."""


class ReturnLocked(ReturnError):
    pass


class StaleReturn(ReturnError):
    def __init__(self, changes: list[str]):
        self.changes = changes
        super().__init__(
            "Someone else saved this return after you opened it, so your changes were not "
            "saved. Check what changed, then save again."
        )


class ReturnInvalid(ReturnError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def _require_submitter(user: User, ret: Return) -> None:
    if not can_submit(user, ret.pathway):
        raise PermissionDenied("Only the provider delivering this pathway can change its returns.")


def _require_reviewer(user: User, ret: Return) -> None:
    if not can_review(user, ret.pathway.contract):
        raise PermissionDenied("Only the contract's commissioners can review returns.")


def _lock(ret: Return) -> Return:
    """The return, re-read with its row locked until the transaction ends (only its own row:
    locking the joined contract would make every pathway's save wait for the others)."""
    return (
        Return.objects.select_for_update(of=("self",))
        .select_related("pathway__contract", "period")
        .get(pk=ret.pk)
    )


def _save(obj, user: User, reason: str) -> None:
    """Save one row, telling django-simple-history who and why."""
    obj._history_user = user
    obj._change_reason = reason[:100]
    obj.save()


def _delete(obj, user: User, reason: str) -> None:
    """Remove a category count or attachment, recording who and why. Once the return has been
    submitted only a queried return's correction may do this (see RecordedRemoval)."""
    obj.delete(by=user, reason=reason)


def _comment(ret: Return, user: User, kind: str, text: str, kpi: Kpi | None = None):
    """Add to the review thread, telling django-simple-history who wrote it."""
    comment = ReturnComment(ret=ret, kind=kind, text=text, kpi=kpi, author=user)
    _save(comment, user, ReturnComment.Kind(kind).label)
    return comment


def _figure_fields(spec: KpiSpec, values: FigureValues) -> dict[str, object]:
    """What the Figure row should hold for these values."""
    fields: dict[str, object] = dict.fromkeys(FIGURE_FIELDS)
    fields.update(
        narrative=values.narrative,
        explanation=values.explanation,
        consent_confirmed=values.consent,
        personal_data_reason=values.pd_reason,
    )
    if spec.monthly:
        months = [None if m is None else Decimal(m) for m in values.months]
        fields.update(month_1=months[0], month_2=months[1], month_3=months[2])
        fields["value"] = validation.headline(spec, values)
    elif spec.measure == Measure.BREAKDOWN:
        fields["value"] = None if values.total is None else Decimal(values.total)
    else:
        fields.update(
            value=values.value,
            numerator=values.numerator,
            denominator=values.denominator,
            cases=values.cases,
        )
    return fields


def _figure_content(spec: KpiSpec, values: FigureValues) -> tuple:
    """The figure itself (numbers, counts, evidence), not its explanation or confirmations."""
    fields = _figure_fields(spec, values)
    for name in ("explanation", "consent_confirmed", "personal_data_reason"):
        fields.pop(name)
    return tuple(fields.items()), tuple(sorted(values.categories.items()))


def _has_content(fields: Mapping[str, object], counts: Mapping[str, int | None]) -> bool:
    return any(v not in (None, "", False) for v in fields.values()) or any(
        c is not None for c in counts.values()
    )


@dataclass
class Uploads:
    """Evidence files to add (by KPI code) and attachments to remove (by id)."""

    add: Mapping[str, Sequence] = field(default_factory=dict)
    remove: Iterable[int] = ()


def _write_figures(
    ret: Return,
    user: User,
    kpis: Sequence[Kpi],
    specs: Sequence[KpiSpec],
    data: Parsed,
    uploads: Uploads,
    reason: str,
) -> bool:
    """Save what changed, row by row. True when any figure or attachment changed."""
    existing = {f.kpi_id: f for f in ret.figures.prefetch_related("breakdown", "attachments").all()}
    changed = False
    remove = set(uploads.remove)
    for kpi, spec in zip(kpis, specs, strict=True):
        values = data.figures.get(spec.code, FigureValues())
        fields = _figure_fields(spec, values)
        counts = values.categories if spec.measure == Measure.BREAKDOWN else {}
        files = list(uploads.add.get(spec.code, ()))
        figure = existing.get(kpi.pk)
        if figure is None:
            if not _has_content(fields, counts) and not files:
                continue
            figure = Figure(ret=ret, kpi=kpi)
        if figure.pk is None or any(
            getattr(figure, name) != value for name, value in fields.items()
        ):
            for name, value in fields.items():
                setattr(figure, name, value)
            _save(figure, user, reason)
            changed = True
        rows = {str(b.category_id): b for b in figure.breakdown.all()} if figure.pk else {}
        for key, count in counts.items():
            row = rows.get(key)
            if row is None and count is not None:
                _save(
                    BreakdownFigure(figure=figure, category_id=int(key), count=count), user, reason
                )
                changed = True
            elif row is not None and count is None:
                _delete(row, user, reason)
                changed = True
            elif row is not None and row.count != count:
                row.count = count
                _save(row, user, reason)
                changed = True
        for attachment in list(figure.attachments.all()) if figure.pk else []:
            if attachment.pk in remove:
                stored = attachment.file.name
                _delete(attachment, user, reason)
                if ret.submitted_at is None:
                    # Never submitted: nobody has relied on it, so the file goes too.
                    attachment.file.storage.delete(stored)
                changed = True
        for upload in files:
            attachment = Attachment(
                figure=figure,
                name=upload.name[:200],
                size=upload.size,
                content_type=(getattr(upload, "content_type", "") or "")[:100],
                uploaded_by=user,
            )
            attachment.file.save(upload.name, upload, save=False)
            _save(attachment, user, reason)
            changed = True
    return changed


def _files_change(ret: Return, uploads: Uploads) -> bool:
    """True when saving adds a file or removes one this return holds. The page sends every
    evidence KPI's file box, empty or not, so an empty box is no change."""
    if any(uploads.add.values()):
        return True
    remove = set(uploads.remove)
    return bool(remove) and Attachment.objects.filter(figure__ret=ret, pk__in=remove).exists()


@transaction.atomic
def return_save_draft(
    *,
    ret: Return,
    user: User,
    data: Parsed,
    version: int,
    uploads: Uploads | None = None,
    reason: str = "Saved as a draft",
    answer: str = "",
) -> Return:
    """Save what the provider entered (partial is fine). Refuses a stale version.

    A return not yet started (``ret.pk`` is None, version 0) is created here. Once a return has
    been submitted, changing a figure needs a reason (``data.change_reason``).
    """
    _require_submitter(user, ret)
    uploads = uploads or Uploads()
    started = ret.pk is None
    if started:
        try:
            with transaction.atomic():
                current = Return(pathway=ret.pathway, period=ret.period)
                _save(current, user, "Started")
        except IntegrityError:
            # Someone else started it since the page was opened.
            existing = Return.objects.get(pathway=ret.pathway, period=ret.period)
            raise StaleReturn(changes_since(existing, 0)) from None
        current = _lock(current)
    else:
        current = _lock(ret)
        if current.version != version:
            raise StaleReturn(changes_since(current, version))
    if current.is_locked:
        raise ReturnLocked(
            f"This return is {current.get_status_display().lower()} and locked, so it cannot be "
            "changed."
        )
    if data.problems:
        raise ReturnInvalid(data.problems)
    kpis, specs = return_specs(current)
    was_submitted = current.submitted_at is not None
    if was_submitted:
        before = stored_values(current, specs)
        if (
            any(
                _figure_content(s, before.get(s.code, FigureValues()))
                != _figure_content(s, data.figures.get(s.code, FigureValues()))
                for s in specs
            )
            or _files_change(current, uploads)
        ) and not data.change_reason:
            raise ReturnInvalid(
                [
                    Problem(
                        validation.CHANGE_REASON,
                        validation.CHANGE_REASON_MESSAGE,
                        kind=Kind.CHANGE_REASON_NEEDED,
                    )
                ]
            )
        if data.change_reason:
            reason = data.change_reason
    changed = _write_figures(current, user, kpis, specs, data, uploads, reason)
    if (
        changed
        or current.commentary != data.commentary
        or current.commentary_personal_data_reason != data.commentary_pd_reason
        or started
    ):
        current.commentary = data.commentary
        current.commentary_personal_data_reason = data.commentary_pd_reason
        current.version += 1
        _save(current, user, reason)
    if answer.strip() and not _answered(current, answer):
        _comment(current, user, ReturnComment.Kind.ANSWER, answer.strip())
    return current


def _answered(ret: Return, answer: str) -> bool:
    """The thread already ends with this answer (sent by a first click of the same button)."""
    last = ret.comments.order_by("-pk").first()
    return (
        last is not None and last.kind == ReturnComment.Kind.ANSWER and last.text == answer.strip()
    )


def saves_nothing(ret: Return, data: Parsed, *, answer: str = "") -> bool:
    """True when saving ``data`` (and ``answer``) would leave the return exactly as it is: the
    same edit was saved meanwhile, as when a button is clicked twice. Such a save overwrites
    nothing, so it is no conflict even though the page was opened at an earlier version."""
    if ret.pk is None or (answer.strip() and not _answered(ret, answer)):
        return False
    _, specs = return_specs(ret)
    stored = stored_values(ret, specs)

    def content(spec: KpiSpec, values: FigureValues):
        counts = {key: count for key, count in values.categories.items() if count is not None}
        return _figure_fields(spec, values), counts

    return (
        ret.commentary == data.commentary
        and ret.commentary_personal_data_reason == data.commentary_pd_reason
        and all(
            content(s, stored.get(s.code, FigureValues()))
            == content(s, data.figures.get(s.code, FigureValues()))
            for s in specs
        )
    )


@transaction.atomic
def return_submit(*, ret: Return, user: User, now=None) -> Return:
    """Submit once: lock, check everything, record when, who and whether it was late."""
    _require_submitter(user, ret)
    if ret.pk is None:
        raise ReturnInvalid(
            [
                Problem(
                    "",
                    "Enter the return's figures before submitting it",
                    kind=Kind.NOTHING_ENTERED,
                )
            ]
        )
    current = _lock(ret)
    if current.is_locked:
        raise ReturnLocked(
            f"This return was already submitted on "
            f"{formatting.long_datetime(current.submitted_at)} by "
            f"{current.submitted_by}."
        )
    problems = submission_problems(current)
    if problems:
        raise ReturnInvalid(problems)
    now = now or timezone.now()
    resubmission = current.status == Return.Status.QUERIED
    if not resubmission:
        current.is_late = submitted_late(timezone.localdate(now), current.period.due_date)
    current.status = Return.Status.SUBMITTED
    current.submitted_at = now
    current.submitted_by = user
    current.version += 1
    _save(current, user, "Resubmitted after a query" if resubmission else "Submitted")
    return current


@transaction.atomic
def return_accept(
    *, ret: Return, user: User, comment: str = "", ratings: Mapping[str, str] | None = None
) -> Return:
    """A commissioner accepts a submitted return (rating its evidence, if given)."""
    _require_reviewer(user, ret)
    current = _lock(ret)
    if current.status != Return.Status.SUBMITTED:
        raise ReturnLocked(
            f"Only a submitted return can be accepted; this one is "
            f"{current.get_status_display().lower()}."
        )
    for figure in current.figures.filter(kpi__measure=Measure.EVIDENCE).select_related("kpi"):
        rating = (ratings or {}).get(figure.kpi.code, "")
        if rating and rating != figure.rating:
            figure.rating = rating
            _save(figure, user, "Rated on review")
    current.status = Return.Status.ACCEPTED
    current.reviewed_at = timezone.now()
    current.reviewed_by = user
    current.version += 1
    _save(current, user, "Accepted")
    _comment(current, user, ReturnComment.Kind.ACCEPTANCE, comment.strip())
    return current


@transaction.atomic
def return_query(*, ret: Return, user: User, comment: str, kpi: Kpi | None = None) -> Return:
    """A commissioner sends a submitted return back with a comment; the provider may edit it."""
    _require_reviewer(user, ret)
    comment = comment.strip()
    if not comment:
        raise ReturnInvalid(
            [Problem("comment", "Say what the provider needs to look at", kind=Kind.COMMENT_NEEDED)]
        )
    current = _lock(ret)
    if current.status != Return.Status.SUBMITTED:
        raise ReturnLocked(
            f"Only a submitted return can be queried; this one is "
            f"{current.get_status_display().lower()}."
        )
    if kpi is not None and kpi.pathway_id != current.pathway_id:
        raise ReturnInvalid(
            [Problem("kpi", "Choose a KPI of this return", kind=Kind.NOT_IN_RETURN)]
        )
    current.status = Return.Status.QUERIED
    current.reviewed_at = timezone.now()
    current.reviewed_by = user
    current.version += 1
    _save(current, user, f"Queried: {comment}")
    _comment(current, user, ReturnComment.Kind.QUERY, comment, kpi)
    return current


@transaction.atomic
def return_answer(*, ret: Return, user: User, text: str) -> ReturnComment:
    """The provider answers a query (it stays queried until resubmitted)."""
    _require_submitter(user, ret)
    text = text.strip()
    if not text:
        raise ReturnInvalid(
            [Problem(ANSWER_FIELD, "Write your answer to the query", kind=Kind.ANSWER_NEEDED)]
        )
    current = _lock(ret)
    if current.status != Return.Status.QUERIED:
        raise ReturnLocked("Only a queried return can be answered.")
    return _comment(current, user, ReturnComment.Kind.ANSWER, text)
