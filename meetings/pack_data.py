"""What the quarterly contract meeting pack says: the quarter gathered and arranged for reading.

Every figure, RAG, trend and explanation comes from ``performance.results.contract_results``;
this module only arranges and words them. The PDF (``pack_pdf``) and the workbook
(``pack_xlsx``) both render what it gathers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from contracts.models import Contract, ReportingPeriod
from kpis.models import ObaClass
from meetings.models import Action, Meeting, MeetingPack
from performance import charts
from performance.results import contract_results, not_rated
from psis.formatting import (
    figure,
    long_date,
    number,
    percent,
    person,
    rag_percent,
    short_date,
    unit,
)
from psis.rag import DEFAULT_TOLERANCE, Rag, Trend
from reports.models import Figure, Return, ReturnComment

logger = logging.getLogger(__name__)

RAG_BANDS = (Rag.GREEN, Rag.AMBER, Rag.RED, Rag.MISSING)
DASH = "—"


# --- shaping the results for reading -------------------------------------------------------------


def _shown(kpi, value: Decimal | None) -> str:
    return figure(value, kpi.measure) or DASH


def _percent(value: Decimal | None) -> str:
    return rag_percent(value) or DASH


@dataclass(frozen=True)
class KpiRow:
    """One KPI in a pathway table, worded for the page (the raw result kept for the workbook)."""

    result: object
    code: str
    description: str
    section: str
    target_quarter: str
    target_ytd: str
    actual_quarter: str
    actual_ytd: str
    headline_is_ytd: bool
    percent: str
    rag: str
    rag_word: str
    rag_css: str
    overridden: bool
    override_note: str
    trend: str
    explanation: str
    commentary: str
    narrative: str
    chart: str | None
    chart_alt: str


@dataclass(frozen=True)
class KpiGroup:
    section: str
    rows: list[KpiRow]


@dataclass(frozen=True)
class PathwaySection:
    pathway: object
    anchor: str
    title: str
    provider: str
    groups: list[KpiGroup]
    not_due: list[KpiRow]
    counts: dict
    commentary: str
    return_status: str
    explanations: list[KpiRow]
    narratives: list[KpiRow]
    comments: list[dict]
    overrides: list[KpiRow]

    @property
    def rows(self) -> list[KpiRow]:
        return [row for group in self.groups for row in group.rows]


@dataclass(frozen=True)
class MatrixRow:
    name: str
    anchor: str
    counts: list[int]
    other: int
    total: int


@dataclass(frozen=True)
class ReturnRow:
    pathway: str
    status: str
    due: str
    submitted: str
    note: str
    is_problem: bool


@dataclass(frozen=True)
class ActionRow:
    action: Action
    raised: str
    description: str
    owner: str
    due: str
    status: str
    kpi: str
    closed: str
    is_overdue: bool
    carried_forward: bool


@dataclass(frozen=True)
class ExceptionRow:
    row: KpiRow
    pathway: str
    actions: list[ActionRow]


@dataclass(frozen=True)
class Amendment:
    pathway: str
    kpi_code: str
    kpi_description: str
    quarter: str
    change: str
    changed_at: str
    changed_by: str
    reason: str


@dataclass
class PackData:
    """Everything the PDF and the workbook show, in reading order."""

    contract: Contract
    period: ReportingPeriod
    marking: str  # "DRAFT" or "FINAL"
    generated_at: datetime
    title: str
    quarter_text: str
    meeting: Meeting | None
    meeting_date: str
    parties: list[tuple[str, str]]
    key_dates: list[tuple[str, str]]
    matrix: list[MatrixRow]
    matrix_total: MatrixRow
    changes: list[tuple[KpiRow, str, str]]
    previous_label: str
    returns: list[ReturnRow]
    cross_cutting: PathwaySection | None
    sections: list[PathwaySection]
    exceptions: list[ExceptionRow]
    actions: list[ActionRow]
    amendments: list[Amendment]
    previous_final: MeetingPack | None
    rag_rules: list[tuple[str, str]]
    definitions: list[tuple[str, str]]
    timings: dict = field(default_factory=dict)

    @property
    def all_sections(self) -> list[PathwaySection]:
        return ([self.cross_cutting] if self.cross_cutting else []) + self.sections

    @property
    def is_draft(self) -> bool:
        return self.marking == "DRAFT"


def _chart_points(result) -> list[tuple[str, Decimal | None]]:
    return [(p.short_label, value) for p, value in result.history]


def _chart(result) -> str | None:
    """The dashboard's small chart (same call, same SVG), as a data URI for an ``<img>``."""
    points = _chart_points(result)
    if not points or all(value is None for _, value in points):
        return None
    svg = charts.history_chart(
        points,
        target=result.quarter_target,
        title=f"{result.kpi.code}: last {len(points)} quarters",
        width=170,
        height=64,
        unit=unit(result.kpi.measure),
        chart_id=f"chart-{result.kpi.pk}",
    )
    return charts.data_uri(svg)


def _chart_alt(result) -> str:
    points = _chart_points(result)
    if not points:
        return ""
    text = charts.describe(
        points, targets=[result.quarter_target] * len(points), unit=unit(result.kpi.measure)
    )
    return f"{result.kpi.code} by quarter: {text}"


def _override_note(result) -> str:
    override = result.override
    if override is None:
        return ""
    return (
        f"Overridden to {result.rag.word} by {person(override.created_by)} on "
        f"{long_date(override.created_at)} (the rule gave {result.rule_rag.word}): "
        f"{override.reason}"
    )


def _trend(result) -> str:
    if result.trend == Trend.NONE:
        return DASH
    return result.trend_shown or DASH


def kpi_row(result, *, with_chart: bool = True) -> KpiRow:
    kpi = result.kpi
    return KpiRow(
        result=result,
        code=kpi.code,
        description=kpi.description,
        section=kpi.section,
        target_quarter=_shown(kpi, result.quarter_target),
        target_ytd=_shown(kpi, result.ytd_target),
        actual_quarter=_shown(kpi, result.actual),
        actual_ytd=_shown(kpi, result.ytd_actual),
        headline_is_ytd=result.headline_is_ytd,
        percent=_percent(result.percent_of_target),
        rag=result.rag.value,
        rag_word=result.rag_word,
        rag_css=result.rag_css,
        overridden=result.is_overridden,
        override_note=_override_note(result),
        trend=_trend(result),
        explanation=result.explanation,
        commentary=result.commentary,
        narrative=result.narrative,
        chart=_chart(result) if with_chart and result.due else None,
        chart_alt=_chart_alt(result),
    )


def _groups(rows: list[KpiRow]) -> list[KpiGroup]:
    """Consecutive KPIs under the same heading; short tables print better than long ones."""
    groups: list[KpiGroup] = []
    for row in rows:
        if groups and groups[-1].section == row.section:
            groups[-1].rows.append(row)
        else:
            groups.append(KpiGroup(row.section, [row]))
    return groups


def _counts(counts: dict) -> tuple[list[int], int, int]:
    bands = [counts.get(b.value, 0) for b in RAG_BANDS]
    other = not_rated(counts)
    return bands, other, sum(bands) + other


def _return_row(summary) -> ReturnRow:
    state = summary.state
    return ReturnRow(
        pathway=summary.pathway.name,
        status=state.label,
        due=short_date(summary.due_date),
        submitted=short_date(summary.submitted_at) or DASH,
        note=state.timeliness,
        is_problem=state.is_problem,
    )


def _review_thread(returns: list[Return]) -> dict[int, list[dict]]:
    """Commissioners' comments on the returns (queries, acceptance) and the provider's answers."""
    pathway_of = {r.pk: r.pathway_id for r in returns}
    comments = (
        ReturnComment.objects.filter(ret_id__in=list(pathway_of))
        .exclude(text="")
        .select_related("author", "kpi")
        .order_by("created_at", "pk")
    )
    by_pathway: dict[int, list[dict]] = {}
    for comment in comments:
        by_pathway.setdefault(pathway_of[comment.ret_id], []).append(
            {
                "kind": comment.get_kind_display(),
                "author": person(comment.author),
                "when": long_date(comment.created_at),
                "kpi": comment.kpi.code if comment.kpi_id else "",
                "text": comment.text,
            }
        )
    return by_pathway


def action_row(action: Action, period: ReportingPeriod, today: date) -> ActionRow:
    owner = action.owner_organisation.short_name
    if action.owner_person:
        owner = f"{action.owner_person} ({owner})"
    return ActionRow(
        action=action,
        raised=action.raised_at.period.label,
        description=action.description,
        owner=owner,
        due=short_date(action.due_date),
        status=action.get_status_display(),
        kpi=action.kpi.code if action.kpi_id else "",
        closed=short_date(action.closed_at),
        is_overdue=action.is_open and action.due_date < today,
        carried_forward=action.raised_at.period_id != period.pk,
    )


def action_log(contract: Contract, period: ReportingPeriod, meeting: Meeting | None):
    """The pack's action log: carried forward to the quarter's meeting, and raised at it."""
    if meeting is not None:
        actions = Action.objects.for_meeting(meeting)
    else:
        actions = Action.objects.for_quarter(contract, period)
    return list(
        actions.select_related("raised_at__period", "owner_organisation", "kpi").order_by(
            "raised_at__period__start", "due_date", "pk"
        )
    )


FIGURE_FIELDS = {
    "value": "figure",
    "numerator": "numerator",
    "denominator": "denominator",
    "cases": "cases",
    "month_1": "month 1",
    "month_2": "month 2",
    "month_3": "month 3",
    "rating": "rating",
}


def _value_text(value) -> str:
    if value is None or value == "":
        return "not reported"
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return number(value)
    return str(value).capitalize()


def previous_final_pack(contract: Contract, period: ReportingPeriod) -> MeetingPack | None:
    return (
        MeetingPack.objects.filter(
            contract=contract,
            status=MeetingPack.Status.FINAL,
            job_status=MeetingPack.JobStatus.DONE,
            period__start__lt=period.start,
        )
        .select_related("period")
        .order_by("-period__start")
        .first()
    )


def amendments(
    contract: Contract, period: ReportingPeriod, previous_final: MeetingPack | None
) -> list[Amendment]:
    """Figures of earlier quarters changed since the previous final pack was issued.

    Read from the figures' history: each figure's values as they stood when the previous pack
    was finalised against its values now; who made the last change, when, and why.
    """
    if previous_final is None or previous_final.finalised_at is None:
        return []
    cutoff = previous_final.finalised_at
    history = Figure.history.model.objects
    scope = Q(ret__pathway__contract=contract, ret__period__start__lt=period.start)
    changed_ids = set(
        history.filter(scope, history_date__gt=cutoff).values_list("id", flat=True).distinct()
    )
    if not changed_ids:
        return []
    records = list(
        history.filter(id__in=changed_ids)
        .select_related("history_user", "kpi__pathway", "ret__period")
        .order_by("id", "history_date", "history_id")
    )
    by_figure: dict[int, list] = {}
    for record in records:
        by_figure.setdefault(record.id, []).append(record)
    result = []
    for records in by_figure.values():
        before = [r for r in records if r.history_date <= cutoff]
        after = [r for r in records if r.history_date > cutoff]
        old = before[-1] if before and before[-1].history_type != "-" else None
        new = after[-1]
        changes = []
        for name, label in FIGURE_FIELDS.items():
            was = getattr(old, name) if old is not None else None
            now = getattr(new, name) if new.history_type != "-" else None
            if (was or None) != (now or None) and not (was is None and now is None):
                changes.append(f"{label} {_value_text(was)} → {_value_text(now)}")
        if not changes:
            continue
        kpi = new.kpi
        result.append(
            Amendment(
                pathway=kpi.pathway.name,
                kpi_code=kpi.code,
                kpi_description=kpi.description,
                quarter=f"{new.ret.period.label} ({new.ret.period.fy_label})",
                change="; ".join(changes),
                changed_at=short_date(new.history_date),
                changed_by=person(new.history_user),
                reason=new.history_change_reason or "",
            )
        )
    result.sort(key=lambda a: (a.quarter, a.pathway, a.kpi_code))
    return result


RAG_RULES = [
    (
        "Expected figure",
        "The target pro-rated to the period judged: an annual target T is T/4 a quarter and "
        "T × q/4 for the first q quarters of the contract year; a monthly target × 3 a quarter; "
        "a weekly target × the weeks in the period; a quarterly target as stated; a percentage "
        "or average target is not pro-rated.",
    ),
    (
        "Ratio",
        "Actual ÷ expected where higher is better; expected ÷ actual where lower is better.",
    ),
    (
        "Green, Amber, Red",
        f"Green: ratio at least 1 (100%). Amber: at least 1 minus the tolerance (by default "
        f"{percent(DEFAULT_TOLERANCE * 100)}, so 90%). Red: below that.",
    ),
    (
        "Headline RAG",
        "Counts and money against an annual, quarterly or weekly target are judged year to "
        "date against the pro-rata year-to-date target, with the quarter shown beside it. A "
        "percentage's year to date is the sum of numerators over the sum of denominators; an "
        "average is weighted by its cases; a level (people on a register, members) takes its "
        "latest value, never a sum, against a target that is not pro-rated. A minimum each "
        "quarter, each month or in each category is judged on the quarter (every month or "
        "category must meet it). KPIs reported annually are judged once, in the last quarter "
        "of the contract year. What each KPI is judged on is shown on its KPI page.",
    ),
    (
        "Missing",
        "Due but not reported once the return is overdue or was submitted without it. Counts "
        "as an exception.",
    ),
    (
        "Awaiting return",
        "The return is not yet submitted and not yet due: not rated yet.",
    ),
    ("No target", "Monitoring only, or target to be agreed with commissioners: not rated."),
    ("Evidence", "Narrative and documents, rated by the commissioner on review."),
    (
        "Override",
        "A commissioner may override any RAG with a recorded reason; the pack marks it with † "
        "and shows who, when and why.",
    ),
    (
        "Trend",
        "Against the previous quarter in which the KPI was due: the arrow shows which way the "
        "value moved (↑ rose, → same, ↓ fell); the word says better or worse given the polarity "
        "(for lower-is-better measures a fall is better).",
    ),
    (
        "Forecast",
        "For cumulative targets, year to date × 4 ÷ quarters so far; with the quarterly run rate "
        "still needed to reach the annual target.",
    ),
]

GLOSSARY = [
    ("YTD", "Year to date: from the start of the contract year to the end of the quarter."),
    ("Contract year", "Twelve months from the contract's start date; quarters of three months."),
    ("Financial year", "1 April to 31 March, as council papers label periods."),
    ("OBA class", "Outcome-based accountability: " + "; ".join(ObaClass.labels)),
    ("LBB", "London Borough of Bromley"),
    ("SELCCG", "South East London Clinical Commissioning Group"),
    ("BCF", "Better Care Fund"),
    ("SPA", "Single Point of Access"),
    ("ICN", "Integrated Care Network (Bromley, Beckenham, Orpington)"),
    ("IAG", "Information, advice and guidance"),
]


def _parties(contract: Contract, pathways) -> list[tuple[str, str]]:
    lead = contract.lead_provider
    lead_text = lead.name + (f" (trading as {lead.trading_as})" if lead.trading_as else "")
    commissioners = [o.name for o in contract.commissioners.all()]
    partners = sorted(
        {p.provider.name for p in pathways if p.provider_id != contract.lead_provider_id}
    )
    parties = [
        ("Lead commissioner", contract.lead_commissioner.name),
        ("Commissioners", "; ".join(commissioners)),
        ("Lead provider", lead_text),
    ]
    if partners:
        parties.append(("Delivery partners", "; ".join(partners)))
    return parties


def _key_dates(contract: Contract, period: ReportingPeriod) -> list[tuple[str, str]]:
    dates = [
        ("Contract year", f"Year {period.year} (quarter {period.quarter} of 4)"),
        ("Quarter", f"{long_date(period.start)} to {long_date(period.end)}"),
        ("Returns due", long_date(period.due_date)),
        ("Contract started", long_date(contract.start_date)),
        (
            "Initial term ends",
            f"{long_date(contract.initial_term_end)} ({contract.initial_term_years} years)",
        ),
    ]
    if contract.extension_years:
        dates += [
            ("Extension decision due by", long_date(contract.extension_decision_due)),
            (
                "Latest end if extended",
                f"{long_date(contract.latest_possible_end)} "
                f"(up to {contract.extension_years} more years)",
            ),
        ]
    return dates


def build_pack_data(
    contract: Contract,
    period: ReportingPeriod,
    *,
    marking: str = "DRAFT",
    generated_at: datetime | None = None,
    results=None,
) -> PackData:
    """Gather the quarter for the pack. ``results`` (a ContractResults) is fetched if not given."""
    started = time.perf_counter()
    generated_at = generated_at or timezone.now()
    today = timezone.localdate(generated_at)
    if results is None:
        results = contract_results(contract, period, today=today)
    timings = {"results": time.perf_counter() - started}

    pathways = [p for p, _ in results.by_pathway]
    returns = list(
        Return.objects.filter(pathway__in=[p.pk for p in pathways], period=period).only(
            "pk", "pathway_id", "commentary", "status"
        )
    )
    commentary = {r.pathway_id: r.commentary for r in returns}
    comments = _review_thread(returns)
    summaries = {s.pathway.pk: s for s in results.returns}
    meeting = (
        Meeting.objects.filter(contract=contract, period=period).select_related("period").first()
    )
    # Overdue as the meeting will see it (or today, if the pack is read before the meeting).
    as_of = min(today, meeting.date) if meeting else today
    actions = [action_row(a, period, as_of) for a in action_log(contract, period, meeting)]
    actions_by_kpi: dict[int, list[ActionRow]] = {}
    for row in actions:
        if row.action.kpi_id:
            actions_by_kpi.setdefault(row.action.kpi_id, []).append(row)

    rows_by_kpi: dict[int, KpiRow] = {}
    sections: list[PathwaySection] = []
    matrix: list[MatrixRow] = []
    for pathway, kpi_results in results.by_pathway:
        rows = [kpi_row(r) for r in kpi_results]
        rows_by_kpi.update({row.result.kpi.pk: row for row in rows})
        due = [row for row in rows if row.result.due]
        summary = summaries.get(pathway.pk)
        anchor = f"pathway-{pathway.code.lower()}"
        counts = results.rag_counts["pathways"].get(pathway.code, {})
        bands, other, total = _counts(counts)
        title = pathway.name
        matrix.append(MatrixRow(title, anchor, bands, other, total))
        sections.append(
            PathwaySection(
                pathway=pathway,
                anchor=anchor,
                title=title,
                provider=pathway.provider.name,
                groups=_groups(due),
                not_due=[row for row in rows if not row.result.due],
                counts=counts,
                commentary=commentary.get(pathway.pk, ""),
                return_status=str(summary.state) if summary else "",
                explanations=[row for row in due if row.commentary],
                narratives=[row for row in due if row.narrative],
                comments=comments.get(pathway.pk, []),
                overrides=[row for row in due if row.overridden],
            )
        )
    bands, other, total = _counts(results.rag_counts["overall"])
    matrix_total = MatrixRow("All KPIs", "", bands, other, total)
    cross = next((s for s in sections if s.pathway.is_cross_cutting), None)
    timings["rows"] = time.perf_counter() - started

    previous_final = previous_final_pack(contract, period)
    return PackData(
        contract=contract,
        period=period,
        marking=marking,
        generated_at=generated_at,
        title=f"{contract.reference} contract meeting pack, {period.label} ({period.fy_label})",
        quarter_text=f"{period.label} ({period.fy_label})",
        meeting=meeting,
        meeting_date=long_date(meeting.date) if meeting else "Not yet arranged",
        parties=_parties(contract, pathways),
        key_dates=_key_dates(contract, period),
        matrix=matrix,
        matrix_total=matrix_total,
        changes=[
            (rows_by_kpi[r.kpi.pk], previous.word, r.kpi.pathway.name)
            for r, previous in results.changes
        ],
        previous_label=(
            f"{results.previous_period.label} ({results.previous_period.fy_label})"
            if results.previous_period
            else ""
        ),
        returns=[_return_row(s) for s in results.returns],
        cross_cutting=cross,
        sections=[s for s in sections if s is not cross],
        exceptions=[
            ExceptionRow(
                rows_by_kpi[r.kpi.pk], r.kpi.pathway.name, actions_by_kpi.get(r.kpi.pk, [])
            )
            for r in results.exceptions
        ],
        actions=actions,
        amendments=amendments(contract, period, previous_final),
        previous_final=previous_final,
        rag_rules=RAG_RULES,
        definitions=GLOSSARY,
        timings=timings,
    )
