"""Writes to returns (save, submit, accept, query, answer, import) and the reads they share.

Every write is one transaction, takes the return's row lock first (``select_for_update``), checks
the version the user saw (so a stale save is refused, never silently overwriting), and saves row
by row so django-simple-history keeps the earlier value, who changed it, when and why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import PurePath

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from contracts.models import Contract, ReportingPeriod, User
from kpis.models import Kpi, KpiCategory, Measure
from pathways.models import Pathway
from psis import access, periods
from psis.targets import TargetPeriod, format_number, quarter_target
from reports import excel, validation
from reports.models import (
    Attachment,
    BreakdownFigure,
    Figure,
    ReminderSent,
    Return,
    ReturnComment,
)
from reports.validation import FigureValues, KpiSpec, Parsed, Problem

ANSWER_FIELD = "answer"
ANSWER_MESSAGE = "Answer the commissioner's query before resubmitting"


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


# ---- Reads: what a return asks for ---------------------------------------------------------


def kpis_due(pathway: Pathway, period: ReportingPeriod) -> list[Kpi]:
    """The pathway's KPIs asked for in the period, in catalogue order."""
    kpis = Kpi.objects.filter(pathway=pathway).prefetch_related("targets", "categories")
    return [kpi for kpi in kpis if kpi.is_due(period)]


def _month_label(day: date) -> str:
    return f"{day:%B %Y}"


def spec_for(kpi: Kpi, period: ReportingPeriod) -> KpiSpec:
    return KpiSpec(
        code=kpi.code,
        measure=kpi.measure,
        monthly=kpi.asks_each_month,
        has_total=kpi.has_total,
        categories=tuple((str(c.pk), c.name) for c in kpi.categories.all()),
        months=tuple(_month_label(m) for m in period.as_quarter.months),
    )


def target_text(kpi: Kpi, period: ReportingPeriod) -> str:
    """The target for the period, in words: "1,250 this quarter (annual target 5,000)"."""
    if kpi.target_status == "to_be_agreed":
        return "To be agreed with commissioners"
    if not kpi.is_rated:
        return "Rated by the commissioner" if kpi.measure == Measure.EVIDENCE else "No target"
    target = kpi.target_for_year(period.year)
    if target is None:
        return "No target set for this year"
    target_period = TargetPeriod(kpi.target_period)
    weeks = periods.weeks_in(period.start, period.end)
    quarter = quarter_target(target, target_period, weeks=weeks)

    def shown(value: Decimal) -> str:
        if kpi.measure == Measure.MONEY:
            return validation.pounds(value)
        if kpi.measure == Measure.PERCENTAGE:
            return f"{format_number(value)}%"
        return format_number(value)

    lower = " or fewer" if kpi.polarity == "lower" else ""
    match target_period:
        case TargetPeriod.ANNUAL:
            return f"{shown(quarter)}{lower} this quarter (annual target {shown(target)})"
        case TargetPeriod.MONTHLY:
            return f"{shown(target)}{lower} a month ({shown(quarter)} this quarter)"
        case TargetPeriod.WEEKLY:
            return f"{shown(target)}{lower} a week ({shown(quarter)} this quarter)"
        case TargetPeriod.QUARTERLY:
            return f"{shown(quarter)}{lower} this quarter"
    return f"{shown(target)}{lower}"


def figure_values(spec: KpiSpec, figure: Figure | None) -> FigureValues:
    """A stored figure as the values validation works on."""
    if figure is None:
        return FigureValues()
    counts = {str(b.category_id): b.count for b in figure.breakdown.all()}

    def whole(value):
        return None if value is None else int(value)

    return FigureValues(
        value=figure.value,
        numerator=figure.numerator,
        denominator=figure.denominator,
        cases=figure.cases,
        months=tuple(whole(m) for m in figure.months),
        categories={key: counts.get(key) for key, _ in spec.categories},
        total=whole(figure.value) if spec.measure == Measure.BREAKDOWN else None,
        narrative=figure.narrative,
        explanation=figure.explanation,
        consent=figure.consent_confirmed,
        pd_reason=figure.personal_data_reason,
    )


def _plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else f"{value:.2f}"
    return str(value)


def figure_inputs(spec: KpiSpec, values: FigureValues) -> dict[str, object]:
    """The values to show in a figure's inputs, keyed by field name (numbers stay numbers)."""
    inputs: dict[str, object] = {}
    for part in spec.parts():
        name = spec.field(part.key)
        if part.key.startswith("month_"):
            inputs[name] = values.months[int(part.key[-1]) - 1]
        elif part.key.startswith("cat_"):
            inputs[name] = values.categories.get(part.key[4:])
        elif part.key == "total":
            inputs[name] = values.total
        elif part.key == "narrative":
            inputs[name] = values.narrative
        elif part.key == "consent":
            inputs[name] = values.consent
        else:
            inputs[name] = getattr(values, part.key)
    inputs[spec.field("explanation")] = values.explanation
    return inputs


def figure_raw(spec: KpiSpec, values: FigureValues) -> dict[str, object]:
    """As ``figure_inputs``, with numbers as the text a person would type."""
    return {
        name: value if isinstance(value, bool) else _plain(value)
        for name, value in figure_inputs(spec, values).items()
    }


def describe_figure(kpi: Kpi, spec: KpiSpec, values: FigureValues) -> str:
    """A figure in words, for "last quarter" and read-only pages."""
    if kpi.measure == Measure.EVIDENCE:
        return "Evidence provided" if values.narrative else "No evidence"
    if spec.monthly:
        if all(m is None for m in values.months):
            return "No figure"
        months = ", ".join("–" if m is None else format_number(m) for m in values.months)
        total = validation.headline(spec, values)
        return f"{months} (total {format_number(total)})" if total is not None else months
    if kpi.measure == Measure.PERCENTAGE:
        if values.numerator is None or values.denominator is None:
            return "No figure"
        if values.denominator == 0:
            return f"{values.numerator:,} of {values.denominator:,}"
        share = validation.headline(spec, values)
        return f"{values.numerator:,} of {values.denominator:,} ({format_number(share, 1)}%)"
    if kpi.measure == Measure.AVERAGE:
        if values.value is None:
            return "No figure"
        cases = "" if values.cases is None else f" over {values.cases:,} cases"
        return f"{format_number(values.value)}{cases}"
    if kpi.measure == Measure.BREAKDOWN:
        total = validation.headline(spec, values)
        return "No figure" if total is None else f"Total {format_number(total)}"
    if values.value is None:
        return "No figure"
    if kpi.measure == Measure.MONEY:
        return validation.pounds(values.value)
    return format_number(values.value)


def previous_figures(pathway: Pathway, period: ReportingPeriod, kpis: Sequence[Kpi]) -> dict:
    """Each KPI's figure in the last submitted return it was due in before ``period``.

    Quarterly KPIs look at the previous quarter, annual ones at the previous year's. Drafts do
    not count: they are not figures yet.
    """
    earlier = list(
        ReportingPeriod.objects.filter(
            contract_id=period.contract_id, start__lt=period.start
        ).order_by("-start")[:4]
    )
    wanted: dict[int, list[Kpi]] = defaultdict(list)
    for kpi in kpis:
        due_in = next((p for p in earlier if kpi.is_due(p)), None)
        if due_in is not None:
            wanted[due_in.pk].append(kpi)
    if not wanted:
        return {}
    figures = (
        Figure.objects.filter(
            ret__pathway=pathway,
            ret__period_id__in=list(wanted),
            kpi__in=[k for ks in wanted.values() for k in ks],
        )
        .exclude(ret__status=Return.Status.DRAFT)
        .select_related("kpi", "ret")
        .prefetch_related("breakdown")
    )
    return {
        f.kpi.code: f for f in figures if any(k.pk == f.kpi_id for k in wanted[f.ret.period_id])
    }


def return_specs(ret: Return) -> tuple[list[Kpi], list[KpiSpec]]:
    kpis = kpis_due(ret.pathway, ret.period)
    return kpis, [spec_for(k, ret.period) for k in kpis]


def stored_values(ret: Return, specs: Iterable[KpiSpec]) -> dict[str, FigureValues]:
    if ret.pk is None:
        return {}
    figures = {
        f.kpi.code: f
        for f in ret.figures.select_related("kpi").prefetch_related("breakdown", "attachments")
    }
    return {spec.code: figure_values(spec, figures.get(spec.code)) for spec in specs}


def stored_raw(
    ret: Return, specs: Sequence[KpiSpec], values: Mapping[str, FigureValues] | None = None
) -> dict[str, object]:
    """A return's saved contents as typed text, keyed by field name."""
    if values is None:
        values = stored_values(ret, specs)
    raw: dict[str, object] = {validation.COMMENTARY: ret.commentary}
    for spec in specs:
        raw.update(figure_raw(spec, values.get(spec.code, FigureValues())))
    return raw


@dataclass(frozen=True)
class Contents:
    """What the return page needs of a return, read once: its KPIs, their specs, its figures."""

    kpis: list[Kpi]
    specs: list[KpiSpec]
    figures: dict[int, Figure]  # by KPI id, with their breakdown counts and attachments
    values: dict[str, FigureValues]  # by KPI code
    pd_reasons: dict[str, str]  # reasons given for personal data, by KPI code (and commentary)

    @property
    def attachments(self) -> dict[str, list[Attachment]]:
        return {
            kpi.code: list(self.figures[kpi.pk].attachments.all())
            for kpi in self.kpis
            if kpi.pk in self.figures
        }


def return_contents(ret: Return) -> Contents:
    """A return's contents for its page (five queries; two for a return not yet started)."""
    kpis, specs = return_specs(ret)
    if ret.pk is None:
        return Contents(kpis, specs, figures={}, values={}, pd_reasons={})
    # Queries: the figures, their breakdown counts, their attachments.
    figures = {f.kpi_id: f for f in ret.figures.prefetch_related("breakdown", "attachments")}
    pairs = [(kpi, spec, figures.get(kpi.pk)) for kpi, spec in zip(kpis, specs, strict=True)]
    pd_reasons = {
        kpi.code: f.personal_data_reason for kpi, _, f in pairs if f and f.personal_data_reason
    }
    if ret.commentary_personal_data_reason:
        pd_reasons[validation.COMMENTARY] = ret.commentary_personal_data_reason
    values = {spec.code: figure_values(spec, f) for _, spec, f in pairs}
    return Contents(kpis, specs, figures, values, pd_reasons)


def stored_pd_reasons(ret: Return) -> dict[str, str]:
    if ret.pk is None:
        return {}
    reasons = dict(
        ret.figures.exclude(personal_data_reason="").values_list(
            "kpi__code", "personal_data_reason"
        )
    )
    if ret.commentary_personal_data_reason:
        reasons[validation.COMMENTARY] = ret.commentary_personal_data_reason
    return reasons


def attachment_counts(ret: Return) -> dict[str, int]:
    if ret.pk is None:
        return {}
    counts: dict[str, int] = defaultdict(int)
    for code in Attachment.objects.filter(figure__ret=ret).values_list(
        "figure__kpi__code", flat=True
    ):
        counts[code] += 1
    return dict(counts)


def previous_headlines(ret: Return, kpis: Sequence[Kpi], specs: Sequence[KpiSpec]):
    before = previous_figures(ret.pathway, ret.period, kpis)
    return {
        spec.code: validation.headline(spec, figure_values(spec, before[spec.code]))
        for spec in specs
        if spec.code in before
    }


def submission_problems(ret: Return) -> list[Problem]:
    """Everything stopping the saved return from being submitted."""
    kpis, specs = return_specs(ret)
    problems = validation.check_submission(
        specs,
        stored_values(ret, specs),
        previous=previous_headlines(ret, kpis, specs),
        attachments=attachment_counts(ret),
    )
    if ret.status == Return.Status.QUERIED and ret.pk is not None:
        last_query = ret.comments.filter(kind=ReturnComment.Kind.QUERY).order_by("-pk").first()
        answered = (
            last_query is not None
            and ret.comments.filter(kind=ReturnComment.Kind.ANSWER, pk__gt=last_query.pk).exists()
        )
        if last_query is not None and not answered:
            problems.append(Problem(ANSWER_FIELD, ANSWER_MESSAGE))
    return problems


# ---- Writes --------------------------------------------------------------------------------


def _require_submitter(user: User, ret: Return) -> None:
    if not access.can_submit(user, ret.pathway):
        raise PermissionDenied("Only the provider delivering this pathway can change its returns.")


def _require_reviewer(user: User, ret: Return) -> None:
    if not access.can_review(user, ret.pathway.contract):
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
    obj._history_user = user
    obj._change_reason = reason[:100]
    obj.delete()


_FIGURE_FIELDS = (
    "value",
    "numerator",
    "denominator",
    "cases",
    "month_1",
    "month_2",
    "month_3",
    "narrative",
    "explanation",
    "consent_confirmed",
    "personal_data_reason",
)


def _figure_fields(spec: KpiSpec, values: FigureValues) -> dict[str, object]:
    """What the Figure row should hold for these values."""
    fields: dict[str, object] = dict.fromkeys(_FIGURE_FIELDS)
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
            or (uploads.add or list(uploads.remove))
        ) and not data.change_reason:
            raise ReturnInvalid(
                [Problem(validation.CHANGE_REASON, validation.CHANGE_REASON_MESSAGE)]
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
        ReturnComment.objects.create(
            ret=current, kind=ReturnComment.Kind.ANSWER, text=answer.strip(), author=user
        )
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
        raise ReturnInvalid([Problem("", "Enter the return's figures before submitting it")])
    current = _lock(ret)
    if current.is_locked:
        raise ReturnLocked(
            f"This return was already submitted on "
            f"{timezone.localtime(current.submitted_at):%d/%m/%Y at %H:%M} by "
            f"{current.submitted_by}."
        )
    problems = submission_problems(current)
    if problems:
        raise ReturnInvalid(problems)
    now = now or timezone.now()
    resubmission = current.status == Return.Status.QUERIED
    if not resubmission:
        current.is_late = periods.is_late(timezone.localdate(now), current.period.due_date)
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
    ReturnComment.objects.create(
        ret=current, kind=ReturnComment.Kind.ACCEPTANCE, text=comment.strip(), author=user
    )
    return current


@transaction.atomic
def return_query(*, ret: Return, user: User, comment: str, kpi: Kpi | None = None) -> Return:
    """A commissioner sends a submitted return back with a comment; the provider may edit it."""
    _require_reviewer(user, ret)
    comment = comment.strip()
    if not comment:
        raise ReturnInvalid([Problem("comment", "Say what the provider needs to look at")])
    current = _lock(ret)
    if current.status != Return.Status.SUBMITTED:
        raise ReturnLocked(
            f"Only a submitted return can be queried; this one is "
            f"{current.get_status_display().lower()}."
        )
    if kpi is not None and kpi.pathway_id != current.pathway_id:
        raise ReturnInvalid([Problem("kpi", "Choose a KPI of this return")])
    current.status = Return.Status.QUERIED
    current.reviewed_at = timezone.now()
    current.reviewed_by = user
    current.version += 1
    _save(current, user, f"Queried: {comment}")
    ReturnComment.objects.create(
        ret=current, kind=ReturnComment.Kind.QUERY, kpi=kpi, text=comment, author=user
    )
    return current


@transaction.atomic
def return_answer(*, ret: Return, user: User, text: str) -> ReturnComment:
    """The provider answers a query (it stays queried until resubmitted)."""
    _require_submitter(user, ret)
    text = text.strip()
    if not text:
        raise ReturnInvalid([Problem(ANSWER_FIELD, "Write your answer to the query")])
    current = _lock(ret)
    if current.status != Return.Status.QUERIED:
        raise ReturnLocked("Only a queried return can be answered.")
    return ReturnComment.objects.create(
        ret=current, kind=ReturnComment.Kind.ANSWER, text=text, author=user
    )


# ---- Excel round trip -----------------------------------------------------------------------

EXCEL_PD_HINT = "confirm why it is needed on the return page, then upload again"


class UploadRejected(ReturnError):
    """An upload that saved nothing: each problem names its sheet and cell where it can."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def return_stamp(ret: Return) -> excel.Stamp:
    return excel.Stamp(ret.pathway.contract.reference, ret.pathway.code, ret.period.short_label)


def _template_rows(ret: Return, kpis, specs, values, previous) -> list[excel.Row]:
    rows = []
    for kpi, spec in zip(kpis, specs, strict=True):
        inputs = figure_inputs(spec, values.get(spec.code, FigureValues()))
        before = previous.get(spec.code)
        last = describe_figure(kpi, spec, figure_values(spec, before)) if before else "None"
        parts = spec.parts()
        if spec.measure != Measure.EVIDENCE:
            parts.append(validation.Part("explanation", "Explanation", validation.TEXT))
        for part in parts:
            name = spec.field(part.key)
            rows.append(
                excel.Row(
                    field=name,
                    code=kpi.code,
                    kpi=kpi.description,
                    label=part.label,
                    kind=part.kind,
                    target=target_text(kpi, ret.period),
                    last=last,
                    value=inputs.get(name),
                )
            )
    rows.append(
        excel.Row(
            field=validation.COMMENTARY,
            code="Return",
            kpi="Commentary on the quarter for this pathway",
            label="Commentary (do not name anyone)",
            kind=validation.TEXT,
            value=ret.commentary,
        )
    )
    return rows


def return_template(ret: Return, *, page_url: str = "") -> tuple[str, bytes]:
    """The Excel template for a return, filled with what is saved so far: (file name, bytes)."""
    kpis, specs = return_specs(ret)
    values = stored_values(ret, specs)
    previous = previous_figures(ret.pathway, ret.period, kpis)
    contract = ret.pathway.contract
    stamp = return_stamp(ret)
    info = excel.TemplateInfo(
        contract=f"{contract.reference}: {contract.name}",
        pathway=ret.pathway.name,
        quarter=ret.period.label,
        period=f"{ret.period.fy_label}, {_long(ret.period.start)} to {_long(ret.period.end)}",
        due=_long(ret.period.due_date),
        page_url=page_url,
    )
    sheet = excel.TemplateSheet(
        stamp=stamp,
        title=excel.sheet_title(ret.pathway.code, ret.pathway.name),
        rows=_template_rows(ret, kpis, specs, values, previous),
    )
    name = f"{contract.reference}-{ret.pathway.code}-{ret.period.short_label}-return.xlsx"
    return name, excel.build_template(info, [sheet])


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def return_import_excel(
    *,
    ret: Return,
    user: User,
    upload,
    version: int,
    change_reason: str = "",
) -> Return:
    """Check a whole uploaded template, then save its figures into the draft, or nothing.

    ``upload`` is an uploaded file (name, size, read()); it is not read if it is too large.
    """
    _require_submitter(user, ret)
    if ret.is_locked:
        raise ReturnLocked(
            f"This return is {ret.get_status_display().lower()} and locked, so an upload cannot "
            "change it."
        )
    name = upload.name or ""
    try:
        if upload.size > excel.MAX_UPLOAD_BYTES:
            excel.check_file(name, upload.size, b"")
        data = upload.read(excel.MAX_UPLOAD_BYTES + 1)
        excel.check_file(name, len(data), data)
        kpis, specs = return_specs(ret)
        fields = {validation.COMMENTARY}
        for spec in specs:
            fields.update(spec.field(p.key) for p in spec.parts())
            if spec.measure != Measure.EVIDENCE:
                fields.add(spec.field("explanation"))
        reading = excel.read_template(data, stamp=return_stamp(ret), fields=fields)
    except excel.UploadRefused as refused:
        raise UploadRejected([str(refused)]) from None
    problems = [str(p) for p in reading.problems]
    raw = stored_raw(ret, specs)
    raw.update(reading.raw)
    raw[validation.CHANGE_REASON] = change_reason
    parsed = validation.parse_return(
        specs, raw, stored_pd_reasons=stored_pd_reasons(ret), pd_hint=EXCEL_PD_HINT
    )
    labels = {}
    for spec in specs:
        for part in [*spec.parts(), validation.Part("explanation", "Explanation", "")]:
            labels[spec.field(part.key)] = f"{spec.code} {part.label}"
    labels[validation.COMMENTARY] = "Commentary"
    for problem in parsed.problems:
        sheet, cell = reading.where.get(problem.field, ("", ""))
        label = labels.get(problem.field, "")
        message = f"{label}: {problem.message}" if label else problem.message
        problems.append(str(excel.CellProblem(sheet, cell, message)))
    if problems:
        raise UploadRejected(problems)
    try:
        return return_save_draft(
            ret=ret,
            user=user,
            data=parsed,
            version=version,
            reason=f"Uploaded from {PurePath(name).name}"[:100],
        )
    except ReturnInvalid as invalid:
        raise UploadRejected([str(p) for p in invalid.problems]) from None


# ---- Reads: history and what changed --------------------------------------------------------

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
        return validation.pounds(value)
    if isinstance(value, Decimal | int):
        return format_number(Decimal(value))
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


def _who(record) -> str:
    return str(record.history_user) if record.history_user else "System"


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
                        who=_who(record),
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
        [*_FIGURE_FIELDS, "rating"],
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
        when = timezone.localtime(entry.when).strftime("%d/%m/%Y %H:%M")
        lines.append(f"{entry.who} changed {entry.what} ({when}): {'; '.join(entry.changes)}")
    return lines or ["The return was changed by someone else after you opened it."]


# ---- Reads: which returns are due, and in what state ----------------------------------------


@dataclass
class Slot:
    """One pathway's return for one quarter, whether or not it has been started."""

    contract: Contract
    pathway: Pathway
    period: ReportingPeriod
    ret: Return | None
    today: date

    @property
    def state(self) -> str:
        return "not_started" if self.ret is None else self.ret.status

    @property
    def is_overdue(self) -> bool:
        return self.state in ("not_started", "draft") and self.today > self.period.due_date

    @property
    def is_late(self) -> bool:
        return self.is_overdue or bool(self.ret and self.ret.is_late)

    @property
    def needs_provider(self) -> bool:
        return self.state in ("not_started", "draft", "queried")

    @property
    def state_label(self) -> str:
        return "Not started" if self.ret is None else self.ret.get_status_display()


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
            for p in access.pathways_for(user, contract).select_related("contract", "provider")
            if access.can_submit(user, p)
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


def returns_to_review(contracts: Iterable[Contract]) -> list[Return]:
    return list(
        Return.objects.filter(pathway__contract__in=list(contracts), status=Return.Status.SUBMITTED)
        .select_related("pathway__contract", "period", "submitted_by")
        .order_by("submitted_at")
    )


# ---- Deadline reminders ----------------------------------------------------------------------


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
            if slot.state not in ("not_started", "draft"):
                continue
            kind = (
                ReminderSent.Kind.OVERDUE
                if today > slot.period.due_date
                else ReminderSent.Kind.DUE_SOON
            )
            if (slot.pathway.pk, slot.period.pk, kind) not in sent:
                reminders.append(Reminder(slot=slot, kind=kind))
    return reminders
