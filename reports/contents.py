"""What a return asks for and holds: its KPIs, their specs and targets, stored figures,
and what would stop it being submitted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from contracts.models import ReportingPeriod
from kpis.models import Kpi, Measure
from pathways.models import Pathway
from psis import formatting, periods
from psis.targets import TargetPeriod, quarter_target
from reports import validation
from reports.models import (
    Attachment,
    Figure,
    Return,
    ReturnComment,
)
from reports.validation import FigureValues, Kind, KpiSpec, Problem

ANSWER_FIELD = "answer"
ANSWER_MESSAGE = "Answer the commissioner's query before resubmitting"

# The Figure columns a return's values are stored in (and its history compares).
FIGURE_FIELDS = (
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


def kpis_due(pathway: Pathway, period: ReportingPeriod) -> list[Kpi]:
    """The pathway's KPIs asked for in the period, in catalogue order."""
    kpis = Kpi.objects.filter(pathway=pathway).prefetch_related("targets", "categories")
    return [kpi for kpi in kpis if kpi.is_due(period)]


def spec_for(kpi: Kpi, period: ReportingPeriod) -> KpiSpec:
    return KpiSpec(
        code=kpi.code,
        measure=kpi.measure,
        monthly=kpi.asks_each_month,
        has_total=kpi.has_total,
        categories=tuple((str(c.pk), c.name) for c in kpi.categories.all()),
        months=tuple(formatting.month(m) for m in period.as_quarter.months),
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
        return formatting.figure(value, kpi.measure)

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
    raw: dict[str, object] = {}
    for name, value in figure_inputs(spec, values).items():
        if isinstance(value, bool):
            raw[name] = value
        elif isinstance(value, Decimal | int):
            raw[name] = formatting.plain_number(value)
        else:
            raw[name] = "" if value is None else str(value)
    return raw


def describe_figure(kpi: Kpi, spec: KpiSpec, values: FigureValues) -> str:
    """A figure in words, for "last quarter" and read-only pages."""
    if kpi.measure == Measure.EVIDENCE:
        return "Evidence provided" if values.narrative else "No evidence"
    if spec.monthly:
        if all(m is None for m in values.months):
            return "No figure"
        months = ", ".join("–" if m is None else formatting.number(m) for m in values.months)
        total = validation.headline(spec, values)
        return f"{months} (total {formatting.number(total)})" if total is not None else months
    if kpi.measure == Measure.PERCENTAGE:
        if values.numerator is None or values.denominator is None:
            return "No figure"
        of = f"{formatting.number(values.numerator)} of {formatting.number(values.denominator)}"
        if values.denominator == 0:
            return of
        return f"{of} ({formatting.percent(validation.headline(spec, values))})"
    if kpi.measure == Measure.AVERAGE:
        if values.value is None:
            return "No figure"
        cases = "" if values.cases is None else f" over {formatting.number(values.cases)} cases"
        return f"{formatting.number(values.value)}{cases}"
    if kpi.measure == Measure.BREAKDOWN:
        total = validation.headline(spec, values)
        return "No figure" if total is None else f"Total {formatting.number(total)}"
    if values.value is None:
        return "No figure"
    if kpi.measure == Measure.MONEY:
        return formatting.money(values.value)
    return formatting.number(values.value)


NO_EARLIER_FIGURE = "No earlier figure"


def last_return(kpi: Kpi, spec: KpiSpec, before: Figure | None) -> str:
    """The "Last return" of a KPI, with the quarter it came from: "1,250 (Year 1 Q3)".

    ``before`` is the KPI's figure from ``previous_figures`` (the previous quarter's, or the
    previous year's for a KPI reported annually); "No earlier figure" where there is none.
    """
    if before is None:
        return NO_EARLIER_FIGURE
    described = describe_figure(kpi, spec, figure_values(spec, before))
    return f"{described} ({before.ret.period.label})"


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
        .select_related("kpi", "ret__period")
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
            problems.append(Problem(ANSWER_FIELD, ANSWER_MESSAGE, kind=Kind.ANSWER_NEEDED))
    return problems
