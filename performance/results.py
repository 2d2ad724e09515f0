"""Performance results: every KPI's actuals, targets, RAG, trend and forecast for a quarter.

The rules live in ``psis.rag``, ``psis.targets`` and ``psis.periods``; this module fetches the
figures in a fixed handful of queries, lets pandas add them up (exactly, in whole pence), and
hands back plain dataclasses. Nothing here is computed in a template.

How a KPI is judged (its *basis*, a ``psis.rag.Basis`` decided by ``psis.rag.basis``), where the
contract leaves a choice:

- a target per year, per quarter ("£75,000 (quarterly)") or per week (pro-rated by the weeks
  in the period) is judged on the year to date against the pro-rata year-to-date target; the
  quarter alone is shown beside it;
- a percentage (sum of numerators over sum of denominators) or an average (weighted by cases)
  is judged on the year to date against its target, which is not pro-rated;
- an administrator can set what a KPI is judged on (``Kpi.judged_on``): a minimum *each
  quarter* ("a minimum of 60 ... each quarter") is set to the quarter in the catalogue, and is
  judged on the quarter with the year to date shown;
- a minimum *each month* is judged month by month (every month met: green) within the quarter;
  a breakdown with a minimum in each category ("in each ICN location") is judged category by
  category; either way the worst month or category sets the RAG;
- a level ("carers on register during quarter", ``Kpi.ytd`` latest) is never summed: its year
  to date is the latest value reported in the year, its target is not pro-rated and it has no
  year-end forecast; with no pro-rated target period it is judged on the quarter;
- a KPI reported annually is due only in the last quarter of the contract year, and its one
  figure is judged against the whole year's target;
- evidence takes the commissioner's rating on review (until rated: "Evidence").

Figures count only from returns that have been submitted (submitted, queried or accepted). A due
KPI with no figure is *missing* once its return is overdue or was submitted without it (whether
or not it has a target: the provider owes it). Before the return's due date an unsubmitted
return is *awaiting*: ``rag`` is ``Rag.NOT_DUE`` with ``awaiting=True`` and ``rag_word``
"Awaiting return", so it is neither an exception nor counted as not due.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

import pandas as pd
from django.db.models import Case, CharField, F, IntegerField, TextField, When
from django.db.models.functions import Cast, Round
from django.utils import timezone

from contracts.models import Contract, ReportingPeriod
from kpis.models import Frequency, Kpi, Measure, TargetPeriod, TargetStatus
from pathways.models import Pathway
from performance.models import RagOverride
from psis import formatting, periods, rag, targets
from psis.rag import Basis, Judgement, Polarity, Rag, Trend
from reports.models import BreakdownFigure, Figure, Return
from reports.state import ReturnState, state_of

HISTORY_QUARTERS = 8
SUBMITTED = (Return.Status.SUBMITTED, Return.Status.QUERIED, Return.Status.ACCEPTED)
BANDS = (Rag.GREEN, Rag.AMBER, Rag.RED, Rag.MISSING)
AWAITING = "awaiting"
_HUNDRED = Decimal(100)


# --- what the service hands back -----------------------------------------------------------------


@dataclass(frozen=True)
class KpiResult:
    """One KPI in one quarter."""

    kpi: Kpi
    period: ReportingPeriod
    due: bool
    actual: Decimal | None
    ytd_actual: Decimal | None
    quarter_target: Decimal | None
    ytd_target: Decimal | None
    annual_target: Decimal | None
    percent_of_target: Decimal | None
    rag: Rag
    quarter_rag: Rag
    rag_source: str  # "rule" or "override"
    override: RagOverride | None
    explanation: str
    trend: Trend
    forecast: Decimal | None
    run_rate_needed: Decimal | None
    history: tuple[tuple[ReportingPeriod, Decimal | None], ...]
    commentary: str
    # Beyond the agreed API:
    rule_rag: Rag = Rag.NOT_DUE  # the rule's headline RAG, before any override
    rule_explanation: str = ""
    quarter_explanation: str = ""
    basis: Basis = Basis.YEAR_TO_DATE
    awaiting: bool = False
    previous_actual: Decimal | None = None
    narrative: str = ""
    months: tuple[Decimal | None, ...] = ()
    categories: tuple[tuple[str, int], ...] = ()
    missing_quarters: tuple[str, ...] = ()

    @property
    def rag_word(self) -> str:
        return "Awaiting return" if self.awaiting else self.rag.word

    @property
    def rag_css(self) -> str:
        return "rag-not_due" if self.awaiting else f"rag-{self.rag.value}"

    @property
    def quarter_rag_word(self) -> str:
        return "Awaiting return" if self.awaiting else self.quarter_rag.word

    @property
    def is_overridden(self) -> bool:
        return self.override is not None

    @property
    def is_exception(self) -> bool:
        return self.rag.is_exception

    @property
    def trend_word(self) -> str:
        return self.trend.word

    @property
    def direction(self) -> rag.Direction:
        """Which way the value moved since the previous quarter (the arrow; not the polarity)."""
        return rag.direction(self.actual, self.previous_actual)

    @property
    def trend_arrow(self) -> str:
        return self.direction.arrow

    @property
    def trend_shown(self) -> str:
        """e.g. "↓ Better" for a lower-is-better KPI whose value fell."""
        return rag.trend_shown(self.direction, self.trend)

    @property
    def headline_is_ytd(self) -> bool:
        return self.basis == Basis.YEAR_TO_DATE

    # Figures as shown on screen and in the pack ("" where there is none).
    @property
    def actual_shown(self) -> str:
        return formatting.figure(self.actual, self.kpi.measure)

    @property
    def ytd_shown(self) -> str:
        return formatting.figure(self.ytd_actual, self.kpi.measure)

    @property
    def quarter_target_shown(self) -> str:
        return formatting.figure(self.quarter_target, self.kpi.measure)

    @property
    def ytd_target_shown(self) -> str:
        return formatting.figure(self.ytd_target, self.kpi.measure)

    @property
    def annual_target_shown(self) -> str:
        return formatting.figure(self.annual_target, self.kpi.measure)

    @property
    def previous_shown(self) -> str:
        return formatting.figure(self.previous_actual, self.kpi.measure)

    @property
    def forecast_shown(self) -> str:
        return _estimate(self.kpi, self.forecast)

    @property
    def run_rate_shown(self) -> str:
        return _estimate(self.kpi, self.run_rate_needed)

    @property
    def percent_shown(self) -> str:
        return formatting.rag_percent(self.percent_of_target)


@dataclass(frozen=True)
class ReturnSummary:
    """Where a pathway's return for the quarter stands."""

    pathway: Pathway
    status: str  # "not_started" or a Return.Status value
    submitted_at: datetime | None
    due_date: date
    state: ReturnState  # not due, due, overdue, draft, submitted (late), queried, accepted


@dataclass(frozen=True)
class ContractResults:
    contract: Contract
    period: ReportingPeriod
    previous_period: ReportingPeriod | None
    by_pathway: list[tuple[Pathway, list[KpiResult]]]
    rag_counts: dict  # {"overall": {"green": n, ...}, "pathways": {code: {...}}}
    changes: list[tuple[KpiResult, Rag]]
    exceptions: list[KpiResult]
    returns: list[ReturnSummary]
    periods: list[ReportingPeriod] = field(default_factory=list)  # every quarter, oldest first

    @property
    def results(self) -> list[KpiResult]:
        return [r for _, results in self.by_pathway for r in results]


# --- reading the database: a fixed number of queries ---------------------------------------------


def contract_periods(contract: Contract) -> list[ReportingPeriod]:
    """Every quarter of the contract, oldest first (one query)."""
    found = list(ReportingPeriod.objects.filter(contract=contract).order_by("start"))
    for period in found:
        period.contract = contract  # already in hand: no query to fetch it again
    return found


def _kpis(contract: Contract, pathway_ids: list[int], oba_class: str | None) -> list[Kpi]:
    """The KPIs of those pathways, with their targets and categories (three queries)."""
    qs = Kpi.objects.for_contract(contract).filter(pathway__in=pathway_ids).with_targets()
    if oba_class:
        qs = qs.filter(oba_class=oba_class)
    return list(qs.order_by("pathway__order", "order", "code"))


def reported_pathways(contract: Contract, pathways) -> list[Pathway]:
    """The pathways to report, cross-cutting first: a queryset is read, a list used as given."""
    if isinstance(pathways, list | tuple):
        found = [p for p in pathways if p.contract_id == contract.pk]
    else:
        qs = Pathway.objects.filter(contract=contract).select_related("provider")
        if pathways is not None:
            qs = qs.filter(pk__in=pathways.values("pk"))
        found = list(qs)
    return sorted(found, key=lambda p: (not p.is_cross_cutting, p.order, p.name))


@dataclass
class _Data:
    returns: dict[tuple[int, int], Return]  # (pathway id, period id)
    figures: dict[tuple[int, int], dict]  # (kpi id, period id) -> figure values
    categories: dict[tuple[int, int], dict[int, int]]  # (kpi id, period id) -> {category: count}
    sums: dict[tuple[int, int], _Sums]  # (kpi id, period id) -> pandas' quarter and YTD sums
    overrides: dict[tuple[int, int], RagOverride]


def _figure_values(shown_ids: list[int]) -> dict:
    """What is read of each figure: amounts in whole pence (exact, and cheaper to read than
    decimals), and the words and monthly figures only for the quarters shown."""

    def pence(field):
        return Cast(Round(F(field) * 100), IntegerField())

    def when_shown(expression, output):
        return Case(
            When(ret__period_id__in=shown_ids, then=expression), default=None, output_field=output
        )

    return {
        "value_pence": pence("value"),
        "month_1_pence": when_shown(pence("month_1"), IntegerField()),
        "month_2_pence": when_shown(pence("month_2"), IntegerField()),
        "month_3_pence": when_shown(pence("month_3"), IntegerField()),
        "shown_narrative": when_shown(F("narrative"), TextField()),
        "shown_explanation": when_shown(F("explanation"), TextField()),
        "shown_rating": when_shown(F("rating"), CharField()),
    }


# The columns of a figure row, as read by _load (values_list: tuples are cheapest to read).
_FIGURE_COLUMNS = ("kpi_id", "ret__period_id", "numerator", "denominator", "cases")
_DETAIL = (
    "month_1_pence",
    "month_2_pence",
    "month_3_pence",
    "shown_narrative",
    "shown_explanation",
    "shown_rating",
)


def _load(
    kpis: list[Kpi],
    pathway_ids: Iterable[int],
    window: list[ReportingPeriod],
    override_periods: list[ReportingPeriod],
) -> _Data:
    """Three to four queries, whatever the number of KPIs, quarters or contracts."""
    period_ids = [p.pk for p in window]
    # Query: the pathways' returns in the window (status, submission, lateness).
    returns = {
        (r.pathway_id, r.period_id): r
        for r in Return.objects.filter(pathway_id__in=list(pathway_ids), period_id__in=period_ids)
        .only("pk", "pathway_id", "period_id", "status", "submitted_at", "is_late")
        .order_by()
    }
    submitted = [r.pk for r in returns.values() if r.status in SUBMITTED]
    kpi_ids = [k.pk for k in kpis]
    figure_rows: list[tuple] = []
    breakdown_rows: list[dict] = []
    if submitted and kpi_ids:
        # Query: every figure of those KPIs in the submitted returns of the window.
        annotations = _figure_values([p.pk for p in override_periods])
        figure_rows = list(
            Figure.objects.filter(ret_id__in=submitted, kpi_id__in=kpi_ids)
            .order_by()
            .annotate(**annotations)
            .values_list(*_FIGURE_COLUMNS, "value_pence", *_DETAIL)
        )
        breakdown_kpis = [k.pk for k in kpis if k.measure == Measure.BREAKDOWN]
        if breakdown_kpis:
            # Query: the category counts of the breakdown KPIs among them.
            breakdown_rows = list(
                BreakdownFigure.objects.filter(
                    figure__ret_id__in=submitted, figure__kpi_id__in=breakdown_kpis
                )
                .order_by()
                .values("figure__kpi_id", "figure__ret__period_id", "category_id", "count")
            )
    overrides = {}
    if kpi_ids and override_periods:
        # Query: active overrides of those KPIs in the quarters shown, with who made them.
        overrides = {
            (o.kpi_id, o.period_id): o
            for o in RagOverride.objects.for_results(kpi_ids, [p.pk for p in override_periods])
        }
    shown = {p.pk for p in override_periods}
    # The words and monthly figures of the quarters shown (the rest only feed sums and charts).
    figures = {
        (row[0], row[1]): dict(zip(_DETAIL, row[6:], strict=True))
        for row in figure_rows
        if row[1] in shown
    }
    categories: dict[tuple[int, int], dict[int, int]] = {}
    for row in breakdown_rows:
        key = (row["figure__kpi_id"], row["figure__ret__period_id"])
        categories.setdefault(key, {})[row["category_id"]] = row["count"]
    sums = _sums(kpis, window, figure_rows, breakdown_rows)
    return _Data(returns, figures, categories, sums, overrides)


# --- adding up: pandas, in whole pence so that nothing passes through a float --------------------


class _Sums(NamedTuple):
    """One KPI in one quarter: its quarter figures and the running sums of its contract year.

    amount: count, pounds, or a breakdown's total (else the sum of its categories), in pence;
    num / den: a percentage's numerator and denominator; weighted / cases: an average's
    value × cases (in pence) and cases. ``ytd_*`` are running sums within the contract year;
    ``*_n`` count the quarters that reported the figure; ``latest_amount`` is the latest
    amount reported in the contract year so far (a level's year to date).
    """

    value: int | None
    amount: int | None
    num: int | None
    den: int | None
    ytd_amount: int
    ytd_amount_n: int
    ytd_num: int
    ytd_num_n: int
    ytd_den: int
    ytd_cases: int
    ytd_weighted: int
    ytd_weighted_n: int
    latest_amount: int | None = None


_SUM_COLUMNS = ["amount", "num", "den", "cases", "weighted"]


def _sums(
    kpis: list[Kpi],
    window: list[ReportingPeriod],
    figure_rows: list[tuple],
    breakdown_rows: list[dict],
) -> dict[tuple[int, int], _Sums]:
    """Quarter and year-to-date sums per (KPI, quarter), by the KPI's shape (see _Sums)."""
    place = {p.pk: p.index for p in window}
    annual = {k.pk for k in kpis if k.frequency == Frequency.ANNUAL}
    # An annual KPI's one figure is the one in the contract year's last quarter.
    rows = [r for r in figure_rows if r[0] not in annual or place[r[1]] % 4 == 3]
    if not rows:
        return {}
    kpi, period, num, den, cases, value = list(zip(*rows, strict=False))[:6]
    frame = pd.DataFrame(
        {
            "kpi": kpi,
            "period": period,
            "value": pd.array(value, dtype="Int64"),
            "num": pd.array(num, dtype="Int64"),
            "den": pd.array(den, dtype="Int64"),
            "cases": pd.array(cases, dtype="Int64"),
        }
    )
    frame["measure"] = frame["kpi"].map({k.pk: k.measure for k in kpis})
    frame["index"] = frame["period"].map(place)
    frame["year"] = frame["index"] // 4
    if breakdown_rows:
        counts = pd.DataFrame.from_records(
            breakdown_rows,
            columns=["figure__kpi_id", "figure__ret__period_id", "category_id", "count"],
        )
        totals = (
            counts.groupby(["figure__kpi_id", "figure__ret__period_id"])["count"].sum() * 100
        ).rename("categories_total")
        frame = frame.join(totals, on=["kpi", "period"])
        frame["categories_total"] = frame["categories_total"].astype("Int64")
    else:
        frame["categories_total"] = pd.array([None] * len(frame), dtype="Int64")

    summed = frame["measure"].isin([Measure.COUNT, Measure.MONEY, Measure.BREAKDOWN])
    percentage = frame["measure"] == Measure.PERCENTAGE
    average = frame["measure"] == Measure.AVERAGE
    frame["amount"] = frame["value"].fillna(frame["categories_total"]).where(summed)
    both = percentage & frame["num"].notna() & frame["den"].notna()
    frame["num"] = frame["num"].where(both)
    frame["den"] = frame["den"].where(both)
    weighted = average & frame["value"].notna() & frame["cases"].notna()
    frame["weighted"] = (frame["value"] * frame["cases"]).where(weighted)
    frame["cases"] = frame["cases"].where(weighted)

    frame = frame.sort_values(["kpi", "index"], kind="stable").reset_index(drop=True)
    keys = [frame["kpi"], frame["year"]]
    running = frame[_SUM_COLUMNS].fillna(0).astype("int64").groupby(keys).cumsum()
    reported = frame[_SUM_COLUMNS].notna().astype("int64").groupby(keys).cumsum()
    latest = frame["amount"].groupby(keys).ffill()

    def column(series) -> list:
        return series.astype(object).where(series.notna(), None).tolist()

    out_columns = [
        column(frame["value"]),
        column(frame["amount"]),
        column(frame["num"]),
        column(frame["den"]),
        running["amount"].tolist(),
        reported["amount"].tolist(),
        running["num"].tolist(),
        reported["num"].tolist(),
        running["den"].tolist(),
        running["cases"].tolist(),
        running["weighted"].tolist(),
        reported["weighted"].tolist(),
        column(latest),
    ]
    keys_out = zip(frame["kpi"].tolist(), frame["period"].tolist(), strict=True)
    rows_out = zip(*out_columns, strict=True)
    return {key: _Sums(*values) for key, values in zip(keys_out, rows_out, strict=True)}


# --- judging one KPI in one quarter --------------------------------------------------------------


def _from_pence(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value) / _HUNDRED


def _months(figure: dict) -> list[Decimal | None]:
    return [_from_pence(figure[f"month_{i}_pence"]) for i in (1, 2, 3)]


class _Actuals(NamedTuple):
    """A KPI's figures in a quarter, from pandas' sums."""

    quarter: Decimal | None
    ytd: Decimal | None
    reported: int  # quarters of the contract year so far that reported it


def _quarter_and_ytd(kpi: Kpi, sums: _Sums | None) -> _Actuals:
    """The quarter's actual, the year-to-date actual and the quarters reported so far."""
    if not sums:
        return _Actuals(None, None, 0)
    match kpi.measure:
        case Measure.PERCENTAGE:
            num, den = sums.num, sums.den
            actual = None if num is None or not den else Decimal(num) * _HUNDRED / den
            ytd_den = sums.ytd_den
            ytd = Decimal(sums.ytd_num) * _HUNDRED / ytd_den if ytd_den else None
            return _Actuals(actual, ytd, sums.ytd_num_n)
        case Measure.AVERAGE:
            actual = _from_pence(sums.value)
            cases = sums.ytd_cases
            ytd = _from_pence(sums.ytd_weighted) / cases if cases else None
            return _Actuals(actual, ytd, sums.ytd_weighted_n)
        case Measure.EVIDENCE:
            return _Actuals(None, None, 0)
        case _:
            amount = _from_pence(sums.amount)
            if kpi.is_level:  # the latest value of the year so far, never a sum
                return _Actuals(amount, _from_pence(sums.latest_amount), sums.ytd_amount_n)
            ytd = _from_pence(sums.ytd_amount) if sums.ytd_amount_n else None
            return _Actuals(amount, ytd, sums.ytd_amount_n)


def _basis(kpi: Kpi) -> Basis:
    return kpi.basis


def _shown(kpi: Kpi, value: Decimal | None) -> str:
    return formatting.figure(value, kpi.measure) or "not reported"


def _estimate(kpi: Kpi, value: Decimal | None) -> str:
    """A forecast or run-rate: whole numbers for counts (it is an estimate)."""
    if value is None:
        return ""
    if kpi.measure in (Measure.COUNT, Measure.BREAKDOWN):
        value = value.to_integral_value(ROUND_HALF_UP)
    return _shown(kpi, value)


def _target_shown(kpi: Kpi, value: Decimal) -> str:
    word = "maximum" if kpi.polarity == Polarity.LOWER else "target"
    return f"{word} {_shown(kpi, value)}"


def _ratio_text(j: Judgement) -> str:
    if j.ratio is None:
        return ""
    if j.ratio.is_infinite():
        return "within the maximum"
    return formatting.rag_percent(j.ratio * 100)


def _tolerance_text(j: Judgement) -> str:
    return f"tolerance {formatting.percent(j.tolerance * 100)}"


def _sentence(kpi: Kpi, label: str, j: Judgement, how: str = "", pro_rata: bool = False) -> str:
    """e.g. "YTD 1,130 against pro-rata target 1,250 (annual 5,000 × 3/4): 90.4% → Amber"."""
    target = _target_shown(kpi, j.expected)
    if pro_rata:
        target = f"pro-rata {target}"
    if how:
        target = f"{target} ({how})"
    actual = _shown(kpi, j.actual)
    prefix = f"{label} " if label else ""
    outcome = f"{_ratio_text(j)} → {j.rag.word}, {_tolerance_text(j)}"
    return f"{prefix}{actual} against {target}: {outcome}"


def _pct(j: Judgement | None) -> Decimal | None:
    if j is None or j.ratio is None or j.ratio.is_infinite():
        return None
    return j.ratio * _HUNDRED


@dataclass
class _Context:
    contract: Contract
    by_index: dict[int, ReportingPeriod]
    data: _Data
    today: date
    actuals: dict[tuple[int, int], Decimal | None] = field(default_factory=dict)

    def weeks(self, period: ReportingPeriod) -> tuple[Decimal, Decimal, Decimal]:
        """Weeks in the quarter, from the start of the contract year, and in the whole year."""
        first, last = periods.contract_year_bounds(self.contract.start_date, period.year)
        return (
            periods.weeks_in(period.start, period.end),
            periods.weeks_in(first, period.end),
            periods.weeks_in(first, last),
        )


class _Targets(NamedTuple):
    """A KPI's targets in a quarter (None when it has none)."""

    quarter: Decimal | None
    ytd: Decimal | None
    annual: Decimal | None
    how: str  # how the YTD target was pro-rated, in words


_NO_TARGETS = _Targets(None, None, None, "")


def _targets(kpi: Kpi, period: ReportingPeriod, ctx: _Context) -> _Targets:
    """The quarter, year-to-date and annual targets, and how the YTD target was pro-rated."""
    if not kpi.is_rated:
        return _NO_TARGETS
    value = kpi.target_for_year(period.year)
    if value is None:
        return _NO_TARGETS
    tp = targets.TargetPeriod(kpi.target_period)
    if kpi.is_level:  # a level's target holds at every point of the year: not pro-rated
        return _Targets(value, value, value, "")
    weeks_q, weeks_ytd, weeks_year = ctx.weeks(period)
    annual = targets.annual_equivalent(value, tp, weeks_in_year=weeks_year)
    if kpi.frequency == Frequency.ANNUAL:
        year = targets.ytd_target(value, tp, quarters=4, weeks=weeks_year)
        whole_year = tp in (targets.TargetPeriod.ANNUAL, targets.TargetPeriod.NONE)
        how = "" if whole_year else targets.explain_ytd(value, tp, 4, weeks=weeks_year)
        return _Targets(year, year, annual, how)
    quarter = targets.quarter_target(value, tp, weeks=weeks_q)
    ytd = targets.ytd_target(value, tp, quarters=period.quarter, weeks=weeks_ytd)
    how = targets.explain_ytd(value, tp, period.quarter, weeks=weeks_ytd)
    if tp == targets.TargetPeriod.ANNUAL:
        how = f"annual {formatting.number(value)} × {3 * period.quarter}/12"
    return _Targets(quarter, ytd, annual, how)


def _months_judgement(kpi: Kpi, figure: dict | None, target: Decimal, tol) -> Judgement:
    months = [None, None, None] if figure is None else _months(figure)
    return rag.judge_months(
        months,
        target,
        polarity=Polarity(kpi.polarity),
        tolerance=tol,
        unit=formatting.unit(kpi.measure),
    )


def _categories_judgement(
    kpi: Kpi, counts: dict[int, int], target: Decimal, tol: Decimal
) -> tuple[Judgement, str]:
    """Every category must meet the quarter's target; the worst one sets the RAG."""
    polarity = Polarity(kpi.polarity)
    judged = [
        (c.name, rag.judge(counts.get(c.pk), target, polarity=polarity, tolerance=tol))
        for c in kpi.categories.all()
    ]
    missing = [name for name, j in judged if j.rag == Rag.MISSING]
    if not judged or missing:
        j = rag.judge(None, target, polarity=polarity, tolerance=tol)
        names = ", ".join(missing) or "no category"
        return j, f"{names} not reported ({_target_shown(kpi, target)} each) → Missing"
    worst_name, worst = min(judged, key=lambda pair: pair[1].ratio)
    met = sum(1 for _, j in judged if j.rag == Rag.GREEN)
    figures = ", ".join(f"{name} {_shown(kpi, j.actual)}" for name, j in judged)
    text = f"{figures}: {met} of {len(judged)} met the {_target_shown(kpi, target)} each"
    if worst.rag == Rag.GREEN:
        return worst, f"{text} → Green"
    return worst, (
        f"{text}; lowest {worst_name} {_shown(kpi, worst.actual)} ({_ratio_text(worst)}) → "
        f"{worst.rag.word}, {_tolerance_text(worst)}"
    )


@dataclass(frozen=True)
class _Inputs:
    """What the rule judges a KPI in a quarter on."""

    kpi: Kpi
    period: ReportingPeriod
    figure: dict | None  # the shown figure's values, if any
    sums: _Sums | None
    actuals: _Actuals
    targets: _Targets


def _inputs(kpi: Kpi, period: ReportingPeriod, ctx: _Context) -> _Inputs:
    key = (kpi.pk, period.pk)
    sums = ctx.data.sums.get(key)
    return _Inputs(
        kpi=kpi,
        period=period,
        figure=ctx.data.figures.get(key),
        sums=sums,
        actuals=_quarter_and_ytd(kpi, sums),
        targets=_targets(kpi, period, ctx),
    )


class _Judged(NamedTuple):
    """The rule's judgements of a reported KPI, and the sentences saying them."""

    headline: Judgement
    text: str
    quarter: Judgement
    quarter_text: str
    basis: Basis


def _judge_rule(inputs: _Inputs, ctx: _Context, explain: bool = True) -> _Judged:
    """The headline and quarter judgements of a KPI with a figure, and what they were judged on.

    ``explain=False`` skips writing the sentences (for the previous quarter's RAG).
    """
    kpi, period, figure, sums = inputs.kpi, inputs.period, inputs.figure, inputs.sums
    actual, ytd = inputs.actuals.quarter, inputs.actuals.ytd
    quarter_t, ytd_t, how = inputs.targets.quarter, inputs.targets.ytd, inputs.targets.how
    basis = _basis(kpi)
    polarity = Polarity(kpi.polarity)
    tol = kpi.tolerance
    if basis == Basis.RATING:
        rating = (figure or {}).get("shown_rating")
        if rating:
            text = f"Rated {Rag(rating).word} by the commissioner on review"
            j = Judgement(Rag(rating), None, None, None, tol, polarity, text)
        else:
            text = "Evidence reported; awaiting the commissioner's rating"
            j = Judgement(Rag.EVIDENCE, None, None, None, tol, polarity, text)
        return _Judged(j, text, j, text, basis)
    if basis == Basis.NONE or quarter_t is None:
        j = rag.judge(actual, None, polarity=polarity, has_target=False)
        if kpi.target_status == TargetStatus.TO_BE_AGREED:
            why = "target to be agreed with commissioners"
        elif kpi.is_rated:
            why = f"no target set for Year {period.year}"
        else:
            why = "monitoring only (no target)"
        text = f"{_shown(kpi, actual)} reported; {why}, so not rated"
        return _Judged(j, text, j, text, Basis.NONE)
    judge = rag.judge
    qj = judge(actual, quarter_t, polarity=polarity, tolerance=tol)
    if basis == Basis.EACH_MONTH:
        qj = _months_judgement(kpi, figure, kpi.target_for_year(period.year), tol)
        return _Judged(qj, qj.explanation, qj, qj.explanation, basis)
    if basis == Basis.EACH_CATEGORY:
        counts = ctx.data.categories.get((kpi.pk, period.pk), {})
        qj, text = _categories_judgement(kpi, counts, quarter_t, tol)
        return _Judged(qj, text, qj, text, basis)
    if basis == Basis.YEAR:
        text = _sentence(kpi, "Year", qj, how) if explain else ""
        return _Judged(qj, text, qj, text, basis)
    yj = judge(ytd, ytd_t, polarity=polarity, tolerance=tol)
    if not explain:
        return _Judged(yj if basis == Basis.YEAR_TO_DATE else qj, "", qj, "", basis)
    not_pro_rated = (
        kpi.measure in (Measure.PERCENTAGE, Measure.AVERAGE)
        or kpi.target_period == TargetPeriod.NONE
        or kpi.is_level
    )
    q_text = _sentence(kpi, "Quarter", qj)
    if not_pro_rated:
        y_text = _sentence(kpi, "YTD", yj)
    else:
        y_text = _sentence(kpi, "YTD", yj, how, pro_rata=True)
    if kpi.measure == Measure.PERCENTAGE and sums:
        y_text = y_text.replace(
            f"YTD {_shown(kpi, ytd)}",
            f"YTD {_shown(kpi, ytd)} ({formatting.number(sums.ytd_num)} of "
            f"{formatting.number(sums.ytd_den)})",
            1,
        )
    if kpi.measure == Measure.AVERAGE and sums:
        y_text = y_text.replace(
            f"YTD {_shown(kpi, ytd)}",
            f"YTD {_shown(kpi, ytd)} (weighted over {formatting.number(sums.ytd_cases)} cases)",
            1,
        )
    if basis == Basis.YEAR_TO_DATE:
        return _Judged(yj, y_text, qj, q_text, basis)
    return _Judged(qj, f"{q_text}. {y_text}", qj, q_text, basis)


@dataclass(frozen=True)
class _Rule:
    """What the rule says, before any override."""

    rag: Rag
    quarter_rag: Rag
    text: str
    quarter_text: str
    basis: Basis
    percent: Decimal | None = None
    awaiting: bool = False
    reported: bool = True


def _rule(inputs: _Inputs, ctx: _Context, explain: bool = True) -> _Rule:
    kpi, period, figure, actual = inputs.kpi, inputs.period, inputs.figure, inputs.actuals.quarter
    basis = _basis(kpi)
    key = (kpi.pk, period.pk)
    if not kpi.is_due(period):
        if kpi.frequency == Frequency.ANNUAL:
            text = f"Reported annually, in the Year {period.year} Q4 return; not due this quarter"
        else:
            text = "Not due this quarter"
        return _Rule(Rag.NOT_DUE, Rag.NOT_DUE, text, text, basis, reported=False)
    has_figure = figure is not None and (
        actual is not None
        or kpi.measure == Measure.EVIDENCE
        or (kpi.measure == Measure.BREAKDOWN and key in ctx.data.categories)
    )
    if not has_figure:
        state = state_of(ctx.data.returns.get((kpi.pathway_id, period.pk)), period, ctx.today)
        due = formatting.long_date(period.due_date)
        if not state.is_submitted and not state.is_overdue:
            text = f"Return not yet submitted; due by {due}, so not yet rated"
            return _Rule(Rag.NOT_DUE, Rag.NOT_DUE, text, text, basis, awaiting=True, reported=False)
        if state.is_submitted:
            text = "Due but not reported in the submitted return → Missing"
        else:
            text = f"Due but the return was not submitted by {due} → Missing"
        return _Rule(Rag.MISSING, Rag.MISSING, text, text, basis, reported=False)
    judged = _judge_rule(inputs, ctx, explain)
    return _Rule(
        judged.headline.rag,
        judged.quarter.rag,
        judged.text,
        judged.quarter_text,
        judged.basis,
        _pct(judged.headline),
    )


class _Forecast(NamedTuple):
    year_end: Decimal | None
    run_rate_needed: Decimal | None  # a quarter, from here to the year's target


def _forecast(inputs: _Inputs, ytd: Decimal | None, basis: Basis) -> _Forecast:
    """Year-end forecast and run-rate still needed, for targets that add up over the year."""
    kpi, period, annual_t = inputs.kpi, inputs.period, inputs.targets.annual
    if (
        ytd is None
        or basis not in (Basis.YEAR_TO_DATE, Basis.QUARTER, Basis.EACH_MONTH)
        or annual_t is None
        or not kpi.is_rated
        or kpi.is_level  # a level is not multiplied up to a year-end figure
        or kpi.frequency != Frequency.QUARTERLY
        or kpi.measure not in (Measure.COUNT, Measure.MONEY, Measure.BREAKDOWN)
        or not targets.is_cumulative(targets.TargetPeriod(kpi.target_period))
    ):
        return _Forecast(None, None)
    return _Forecast(
        rag.forecast(ytd, period.quarter), rag.run_rate_needed(annual_t, ytd, period.quarter)
    )


def _result(kpi: Kpi, period: ReportingPeriod, ctx: _Context) -> KpiResult:
    key = (kpi.pk, period.pk)
    inputs = _inputs(kpi, period, ctx)
    figure = inputs.figure
    actual, ytd, reported = inputs.actuals
    quarter_t, ytd_t, annual_t = inputs.targets.quarter, inputs.targets.ytd, inputs.targets.annual
    rule = _rule(inputs, ctx)
    if not rule.reported:
        actual = ytd = None

    text = rule.text
    missing_quarters: tuple[str, ...] = ()
    if rule.reported and rule.basis in (Basis.YEAR_TO_DATE, Basis.QUARTER):
        missing_quarters = _missing_quarters(kpi, period, ctx, reported)
        if missing_quarters:
            text += f" (not reported in {', '.join(missing_quarters)}, so YTD is partial)"
    forecast, run_rate = _forecast(inputs, ytd, rule.basis)
    if forecast is not None:
        text += f". Year-end forecast {_estimate(kpi, forecast)} against {_shown(kpi, annual_t)}"
        if run_rate is not None:
            text += f"; {_estimate(kpi, run_rate)} a quarter needed from here"

    rule_text = text
    override = ctx.data.overrides.get(key)
    rag_value, source = rule.rag, "rule"
    if override is not None:
        rag_value, source = Rag(override.rag), "override"
        who = formatting.person(override.created_by)
        when = formatting.long_date(override.created_at)
        text = (
            f"Overridden to {rag_value.word} by {who} on {when}: {override.reason}. "
            f"The rule gave {rule.rag.word}: {rule_text}"
        )

    previous = _previous_actual(kpi, period, ctx)
    months: tuple = ()
    if rule.basis == Basis.EACH_MONTH and figure is not None:
        months = tuple(_months(figure))
    categories: tuple = ()
    if kpi.measure == Measure.BREAKDOWN and key in ctx.data.categories:
        counts = ctx.data.categories[key]
        categories = tuple((c.name, counts.get(c.pk)) for c in kpi.categories.all())
    figure = figure or {}
    return KpiResult(
        kpi=kpi,
        period=period,
        due=kpi.is_due(period),
        actual=actual,
        ytd_actual=ytd,
        quarter_target=quarter_t,
        ytd_target=ytd_t,
        annual_target=annual_t,
        percent_of_target=rule.percent,
        rag=rag_value,
        quarter_rag=rule.quarter_rag,
        rag_source=source,
        override=override,
        explanation=text,
        trend=rag.trend(actual, previous, Polarity(kpi.polarity)),
        forecast=forecast,
        run_rate_needed=run_rate,
        history=_history(kpi, period, ctx),
        commentary=figure.get("shown_explanation") or "",
        rule_rag=rule.rag,
        rule_explanation=rule_text,
        quarter_explanation=rule.quarter_text,
        basis=rule.basis,
        awaiting=rule.awaiting,
        previous_actual=previous,
        narrative=figure.get("shown_narrative") or "",
        months=months,
        categories=categories,
        missing_quarters=missing_quarters,
    )


def _headline_rag(kpi: Kpi, period: ReportingPeriod, ctx: _Context) -> Rag:
    """The RAG shown for a KPI in a quarter (the override's, else the rule's), without the
    explanation, trend or history: for "what changed since the previous quarter"."""
    key = (kpi.pk, period.pk)
    if key in ctx.data.overrides:
        return Rag(ctx.data.overrides[key].rag)
    return _rule(_inputs(kpi, period, ctx), ctx, explain=False).rag


def _missing_quarters(kpi, period, ctx, reported: int) -> tuple[str, ...]:
    if kpi.frequency == Frequency.ANNUAL or kpi.is_level or reported >= period.quarter:
        return ()
    earlier = [ctx.by_index.get(period.index - back) for back in range(period.quarter - 1, 0, -1)]
    return tuple(
        p.label
        for p in earlier
        if p is not None
        and _quarter_and_ytd(kpi, ctx.data.sums.get((kpi.pk, p.pk))).quarter is None
    )


def _actual_at(kpi: Kpi, period: ReportingPeriod, ctx: _Context) -> Decimal | None:
    key = (kpi.pk, period.pk)
    if key not in ctx.actuals:
        ctx.actuals[key] = _quarter_and_ytd(kpi, ctx.data.sums.get(key)).quarter
    return ctx.actuals[key]


def _previous_actual(kpi: Kpi, period: ReportingPeriod, ctx: _Context) -> Decimal | None:
    """The figure of the last quarter before this one in which the KPI was due."""
    step = 4 if kpi.frequency == Frequency.ANNUAL else 1
    before = ctx.by_index.get(period.index - step)
    return None if before is None else _actual_at(kpi, before, ctx)


def _history(kpi: Kpi, period: ReportingPeriod, ctx: _Context):
    first = period.index - HISTORY_QUARTERS + 1
    return tuple(
        (p, _actual_at(kpi, p, ctx))
        for i in range(first, period.index + 1)
        if (p := ctx.by_index.get(i)) is not None and kpi.is_due(p)
    )


# --- the service -------------------------------------------------------------------------------


def history_window(all_periods: list[ReportingPeriod], upto: ReportingPeriod, size: int | None):
    earlier = [p for p in all_periods if p.index <= upto.index]
    return earlier if size is None else earlier[-size:]


def _empty_counts() -> dict[str, int]:
    return {**{r.value: 0 for r in Rag}, AWAITING: 0}


def not_rated(counts: dict[str, int]) -> int:
    """KPIs the rule gives no Red, Amber, Green or Missing: no target (monitoring only or to be
    agreed), evidence (the commissioner rates it), not yet due, or awaiting a return not yet due.
    The overview and the pack both count them with this."""
    return sum(
        counts.get(r.value, 0) for r in (Rag.NO_TARGET, Rag.EVIDENCE, Rag.NOT_DUE)
    ) + counts.get(AWAITING, 0)


def _count(results: Iterable[KpiResult]) -> dict[str, int]:
    counts = _empty_counts()
    counted = Counter(AWAITING if r.awaiting else r.rag.value for r in results)
    counts.update(counted)
    return counts


def _return_summary(pathway, period, ret, today) -> ReturnSummary:
    state = state_of(ret, period, today)
    return ReturnSummary(
        pathway=pathway,
        status="not_started" if ret is None else ret.status,
        submitted_at=ret.submitted_at if state.is_submitted else None,
        due_date=period.due_date,
        state=state,
    )


def contract_results(
    contract: Contract,
    period: ReportingPeriod,
    *,
    pathways=None,
    oba_class: str | None = None,
    today: date | None = None,
    all_periods: list[ReportingPeriod] | None = None,
) -> ContractResults:
    """Every KPI's result for one quarter, with counts, changes, exceptions and return status.

    ``pathways``: the pathways the reader may see (``access.pathways_for``), all if None; a
    list of Pathway objects (with their provider) is used as given, without a query.
    ``all_periods``: the contract's quarters if the caller already has them (saves a query).
    Queries: quarters (unless given), pathways, KPIs with targets and categories (3), returns,
    figures, breakdown counts, overrides: at most 9, whatever the size of the portfolio.
    """
    today = today or timezone.localdate()
    if all_periods is None:
        all_periods = contract_periods(contract)
    window = history_window(all_periods, period, HISTORY_QUARTERS)
    previous = next((p for p in reversed(window) if p.index == period.index - 1), None)
    pathway_list = reported_pathways(contract, pathways)
    kpis = _kpis(contract, [p.pk for p in pathway_list], oba_class)
    shown = [period] + ([previous] if previous else [])
    data = _load(kpis, [p.pk for p in pathway_list], window, shown)
    ctx = _Context(contract, {p.index: p for p in window}, data, today)

    by_pathway_id: dict[int, list[KpiResult]] = {p.pk: [] for p in pathway_list}
    changes: list[tuple[KpiResult, Rag]] = []
    for kpi in kpis:
        result = _result(kpi, period, ctx)
        by_pathway_id[kpi.pathway_id].append(result)
        if previous is not None and result.rag in BANDS:
            before = _headline_rag(kpi, previous, ctx)
            if before in BANDS and before != result.rag:
                changes.append((result, before))
    by_pathway = [(p, by_pathway_id[p.pk]) for p in pathway_list]
    everything = [r for _, rs in by_pathway for r in rs]
    rag_counts = {
        "overall": _count(everything),
        "pathways": {p.code: _count(rs) for p, rs in by_pathway},
    }
    return ContractResults(
        contract=contract,
        period=period,
        previous_period=previous,
        by_pathway=by_pathway,
        rag_counts=rag_counts,
        changes=changes,
        exceptions=[r for r in everything if r.is_exception],
        returns=[
            _return_summary(p, period, data.returns.get((p.pk, period.pk)), today)
            for p in pathway_list
        ],
        periods=all_periods,
    )


def kpi_history(
    kpi: Kpi,
    *,
    upto_period: ReportingPeriod,
    today: date | None = None,
    all_periods: list[ReportingPeriod] | None = None,
) -> list[KpiResult]:
    """The KPI's result in every quarter from the contract's start to ``upto_period``.

    ``kpi`` should come with its targets and categories prefetched (``Kpi.objects.with_targets``).
    Queries: quarters (unless given), returns, figures, breakdown counts, overrides.
    """
    today = today or timezone.localdate()
    contract = upto_period.contract
    if all_periods is None:
        all_periods = contract_periods(contract)
    window = history_window(all_periods, upto_period, None)
    data = _load([kpi], [kpi.pathway_id], window, window)
    ctx = _Context(contract, {p.index: p for p in window}, data, today)
    return [_result(kpi, p, ctx) for p in window]


# --- rows for downloads --------------------------------------------------------------------------

RESULT_HEADERS = [
    "Pathway",
    "KPI code",
    "Description",
    "OBA class",
    "Contract quarter",
    "Financial-year quarter",
    "Actual",
    "YTD actual",
    "Target",
    "YTD target",
    "Annual target",
    "% of target",
    "RAG",
    "RAG source",
    "Trend",
    "Explanation",
]
RESULT_WIDTHS = [24, 10, 50, 22, 14, 14, 12, 12, 12, 12, 12, 10, 14, 10, 10, 80]


def result_rows(results: Iterable[KpiResult]) -> Iterable[list]:
    """One row per KPI per quarter, in RESULT_HEADERS' order."""
    for r in results:
        yield [
            r.kpi.pathway.name,
            r.kpi.code,
            r.kpi.description,
            r.kpi.get_oba_class_display(),
            r.period.label,
            r.period.fy_label,
            formatting.cell_number(r.actual),
            formatting.cell_number(r.ytd_actual),
            formatting.cell_number(r.quarter_target),
            formatting.cell_number(r.ytd_target),
            formatting.cell_number(r.annual_target),
            formatting.cell_number(r.percent_of_target),
            r.rag_word,
            r.rag_source,
            r.trend_word,
            r.explanation,
        ]


def results_filename(contract: Contract, period: ReportingPeriod, what: str, ext: str) -> str:
    """e.g. PSIS-2024-25-Q1-performance.csv"""
    return f"{contract.reference}-{period.fy_slug}-{what}.{ext}"
