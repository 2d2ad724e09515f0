"""Red / amber / green judgements, trends and forecasts, with plain-English explanations.

Pure Decimal arithmetic: no Django, no database, no floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from psis.formatting import in_unit, percent, rag_percent
from psis.targets import Number, TargetPeriod, to_decimal

DEFAULT_TOLERANCE = Decimal("0.10")
_INFINITY = Decimal("Infinity")


class Polarity(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class Rag(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    MISSING = "missing"
    NO_TARGET = "no_target"
    NOT_DUE = "not_due"
    EVIDENCE = "evidence"

    @property
    def word(self) -> str:
        return _RAG_WORDS[self]

    @property
    def is_exception(self) -> bool:
        return self in (Rag.RED, Rag.AMBER, Rag.MISSING)


_RAG_WORDS = {
    Rag.GREEN: "Green",
    Rag.AMBER: "Amber",
    Rag.RED: "Red",
    Rag.MISSING: "Missing",
    Rag.NO_TARGET: "No target",
    Rag.NOT_DUE: "Not due",
    Rag.EVIDENCE: "Evidence",
}


class Trend(StrEnum):
    """Better or worse than the previous period, given the polarity (the word beside the arrow)."""

    BETTER = "better"
    SAME = "same"
    WORSE = "worse"
    NONE = "none"

    @property
    def word(self) -> str:
        return _TREND_WORDS[self]


_TREND_WORDS = {
    Trend.BETTER: "Better",
    Trend.SAME: "Same",
    Trend.WORSE: "Worse",
    Trend.NONE: "No trend",
}


class Direction(StrEnum):
    """Which way the value itself moved against the previous period (the arrow)."""

    ROSE = "rose"
    SAME = "same"
    FELL = "fell"
    NONE = "none"

    @property
    def arrow(self) -> str:
        return _DIRECTION_ARROWS[self]


_DIRECTION_ARROWS = {
    Direction.ROSE: "↑",
    Direction.SAME: "→",
    Direction.FELL: "↓",
    Direction.NONE: "",
}


def trend_shown(direction_: Direction, trend_: Trend) -> str:
    """The arrow for the value's direction and the word for better or worse: "↓ Better"."""
    if trend_ == Trend.NONE or direction_ == Direction.NONE:
        return ""
    return f"{direction_.arrow} {trend_.word}"


class Basis(StrEnum):
    """What a KPI's headline RAG is judged on (see ``basis``)."""

    YEAR_TO_DATE = "ytd"
    QUARTER = "quarter"
    EACH_MONTH = "months"
    EACH_CATEGORY = "categories"
    YEAR = "year"  # reported annually: the one figure against the whole year's target
    RATING = "rating"  # evidence: the commissioner's rating on review
    NONE = "none"  # not rated: monitoring only, or no target yet

    @property
    def label(self) -> str:
        return _BASIS_LABELS[self]


_BASIS_LABELS = {
    Basis.YEAR_TO_DATE: "Year to date",
    Basis.QUARTER: "Quarter",
    Basis.EACH_MONTH: "Each month",
    Basis.EACH_CATEGORY: "Each category",
    Basis.YEAR: "Year",
    Basis.RATING: "Commissioner's rating",
    Basis.NONE: "Not rated",
}


class JudgedOn(StrEnum):
    """An administrator's choice of what a KPI's headline is judged on (``basis`` applies it)."""

    AUTOMATIC = "auto"  # by the KPI's shape (see ``basis``)
    YEAR_TO_DATE = "ytd"
    QUARTER = "quarter"
    EACH_MONTH = "months"  # only where the return asks for each month's figure


class YearToDate(StrEnum):
    """How a KPI's year to date is formed from its quarters' figures.

    A percentage is always sum of numerators over sum of denominators, and an average weighted
    by its cases; for counts, money and breakdowns: SUM adds up a flow (people seen, pounds);
    LATEST takes the latest reported value of a level (people on a register, members) and never
    sums it, nor pro-rates its target.
    """

    SUM = "sum"
    LATEST = "latest"


def basis(
    *,
    measure: str,
    frequency: str,
    target_period: str,
    rated: bool,
    asks_each_month: bool,
    has_total: bool,
    judged_on: str = JudgedOn.AUTOMATIC,
) -> Basis:
    """What a KPI's headline is judged on, where the contract leaves a choice.

    ``measure`` is count, money, percentage, average, breakdown or evidence; ``frequency``
    quarterly or annual; ``target_period`` a ``TargetPeriod`` value; ``rated``: judged by rule
    against a target; ``asks_each_month``: a monthly minimum whose return asks for each month;
    ``has_total``: a breakdown that also reports its total.

    Evidence takes the commissioner's rating; a KPI with no rule-set target is not rated; one
    reported annually is judged on the year. Otherwise an administrator's ``judged_on`` (a
    ``JudgedOn``) decides, where it is not automatic (each month only where the return asks for
    each month's figure). Automatically: a percentage or average, and a target per year, per
    quarter (a quarterly money target such as "£75,000 (quarterly)": the quarter is shown
    beside it) or per week, on the year to date; a monthly minimum asked month by month on each
    month, and a breakdown without a total with a monthly minimum on each category; anything
    else (a level, not pro-rated) on the quarter. "A minimum of N each quarter" is judged on the
    quarter by setting ``judged_on`` to quarter.
    """
    if measure == "evidence":
        return Basis.RATING
    if not rated:
        return Basis.NONE
    if frequency == "annual":
        return Basis.YEAR
    match JudgedOn(judged_on):
        case JudgedOn.YEAR_TO_DATE:
            return Basis.YEAR_TO_DATE
        case JudgedOn.QUARTER:
            return Basis.QUARTER
        case JudgedOn.EACH_MONTH if asks_each_month:
            return Basis.EACH_MONTH
    if measure in ("percentage", "average"):
        return Basis.YEAR_TO_DATE
    match target_period:
        case TargetPeriod.ANNUAL | TargetPeriod.QUARTERLY | TargetPeriod.WEEKLY:
            return Basis.YEAR_TO_DATE
        case TargetPeriod.MONTHLY if asks_each_month:
            return Basis.EACH_MONTH
        case TargetPeriod.MONTHLY if measure == "breakdown" and not has_total:
            return Basis.EACH_CATEGORY
        case _:
            return Basis.QUARTER


@dataclass(frozen=True)
class Judgement:
    rag: Rag
    ratio: Decimal | None
    actual: Decimal | None
    expected: Decimal | None
    tolerance: Decimal
    polarity: Polarity
    explanation: str


def ratio(actual: Number | None, expected: Number | None, polarity: Polarity) -> Decimal | None:
    """How far the actual meets the expected figure: 1 or more meets it.

    Higher is better: actual / expected. An expected 0 is met by any actual of 0 or more
    (ratio 1); a negative actual against 0 gives ratio 0.
    Lower is better: expected / actual. An actual of 0 or less cannot exceed the maximum: the
    ratio is Decimal("Infinity"), or 1 when the maximum is also 0.
    None when either figure is None. A negative expected figure is a ValueError.
    """
    if actual is None or expected is None:
        return None
    return _ratio(to_decimal(actual), to_decimal(expected), polarity)


def _ratio(a: Decimal, e: Decimal, polarity: Polarity) -> Decimal:
    if e < 0:
        raise ValueError(f"A target cannot be negative ({e}).")
    if polarity == Polarity.HIGHER:
        if e == 0:
            return Decimal(1) if a >= 0 else Decimal(0)
        return a / e
    if a <= 0:
        return Decimal(1) if e == 0 and a == 0 else _INFINITY
    return e / a


def percent_of_target(
    actual: Number | None, expected: Number | None, polarity: Polarity
) -> Decimal | None:
    """Ratio × 100 for display; None where there is no finite ratio."""
    value = ratio(actual, expected, polarity)
    if value is None or value.is_infinite():
        return None
    return value * 100


def _rag_for(value: Decimal, tolerance: Decimal) -> Rag:
    if value >= 1:
        return Rag.GREEN
    if value >= 1 - tolerance:
        return Rag.AMBER
    return Rag.RED


def _percent(value: Decimal) -> str:
    if value.is_infinite():
        return "within the maximum"
    return rag_percent(value * 100)


def _check_tolerance(tolerance: Number) -> Decimal:
    value = to_decimal(tolerance)
    if not 0 <= value <= 1:
        raise ValueError(f"Tolerance must be between 0 and 1 (e.g. 0.10 for 10%), not {value}.")
    return value


def _target_word(polarity: Polarity) -> str:
    return "maximum" if polarity == Polarity.LOWER else "target"


def judge(
    actual: Number | None,
    expected: Number | None,
    *,
    polarity: Polarity = Polarity.HIGHER,
    tolerance: Number = DEFAULT_TOLERANCE,
    due: bool = True,
    has_target: bool = True,
    unit: str = "",
) -> Judgement:
    """Rate one figure against its (already pro-rated) expected figure.

    Checked in order: not due; no target; missing (due but not reported); then green when the
    ratio is at least 1, amber when at least 1 - tolerance, red below. ``unit`` ("£", "%",
    "hours") only decorates the explanation.
    """
    tol = _check_tolerance(tolerance)
    a = None if actual is None else to_decimal(actual)
    e = None if expected is None else to_decimal(expected)

    def result(rag: Rag, value: Decimal | None, explanation: str) -> Judgement:
        return Judgement(rag, value, a, e, tol, polarity, explanation)

    if not due:
        return result(Rag.NOT_DUE, None, "Not due for this period")
    if e is None or not has_target:
        if a is None:
            return result(Rag.NO_TARGET, None, "No target set, so not rated")
        return result(
            Rag.NO_TARGET, None, f"{in_unit(a, unit)} reported; no target set, so not rated"
        )
    target = f"{_target_word(polarity)} {in_unit(e, unit)}"
    if a is None:
        return result(Rag.MISSING, None, f"Due but not reported ({target}) → Missing")
    value = _ratio(a, e, polarity)
    rag = _rag_for(value, tol)
    explanation = (
        f"{in_unit(a, unit)} against {target}: {_percent(value)} → {rag.word} "
        f"(tolerance {percent(tol * 100)})"
    )
    return result(rag, value, explanation)


def judge_months(
    actuals: Sequence[Number | None],
    monthly_target: Number | None,
    *,
    polarity: Polarity = Polarity.HIGHER,
    tolerance: Number = DEFAULT_TOLERANCE,
    due: bool = True,
    unit: str = "",
) -> Judgement:
    """Judge a per-month target month by month: the period is only as good as its worst month.

    The judgement's ``actual`` and ``ratio`` are those of the worst month.
    """
    if not due or monthly_target is None:
        return judge(
            None, monthly_target, polarity=polarity, tolerance=tolerance, due=due, unit=unit
        )
    if not actuals:
        raise ValueError("judge_months needs at least one month's figure.")
    tol = _check_tolerance(tolerance)
    e = to_decimal(monthly_target)
    word = f"monthly {_target_word(polarity)} of {in_unit(e, unit)}"
    unreported = sum(1 for a in actuals if a is None)
    if unreported:
        explanation = f"{unreported} of {len(actuals)} months not reported ({word}) → Missing"
        return Judgement(Rag.MISSING, None, None, e, tol, polarity, explanation)
    months = [to_decimal(a) for a in actuals if a is not None]
    rated = [(a, _ratio(a, e, polarity)) for a in months]
    worst_actual, worst_ratio = min(rated, key=lambda pair: pair[1])
    rag = _rag_for(worst_ratio, tol)
    met = sum(1 for _, value in rated if value >= 1)
    figures = ", ".join(in_unit(a, unit) for a, _ in rated)
    explanation = f"{figures}: {met} of {len(rated)} months met the {word}"
    if rag == Rag.GREEN:
        explanation += " → Green"
    else:
        extreme = "lowest" if polarity == Polarity.HIGHER else "highest"
        explanation += (
            f"; {extreme} {in_unit(worst_actual, unit)} ({_percent(worst_ratio)}) → {rag.word} "
            f"(tolerance {percent(tol * 100)})"
        )
    return Judgement(rag, worst_ratio, worst_actual, e, tol, polarity, explanation)


def direction(current: Number | None, previous: Number | None) -> Direction:
    """Which way the value moved against the previous period, whatever the polarity."""
    if current is None or previous is None:
        return Direction.NONE
    now, before = to_decimal(current), to_decimal(previous)
    if now == before:
        return Direction.SAME
    return Direction.ROSE if now > before else Direction.FELL


def trend(current: Number | None, previous: Number | None, polarity: Polarity) -> Trend:
    """Better or worse against the previous period; for lower polarity a fall is better."""
    moved = direction(current, previous)
    if moved == Direction.NONE:
        return Trend.NONE
    if moved == Direction.SAME:
        return Trend.SAME
    return (
        Trend.BETTER if (moved == Direction.ROSE) == (polarity == Polarity.HIGHER) else Trend.WORSE
    )


def _check_quarters(quarters: int) -> None:
    if not 1 <= quarters <= 4:
        raise ValueError(f"Quarters into the year must be 1, 2, 3 or 4, not {quarters}.")


def forecast(ytd_actual: Number, quarters: int) -> Decimal:
    """Year-end figure at the current rate: year to date × 4 / quarters."""
    _check_quarters(quarters)
    return to_decimal(ytd_actual) * 4 / quarters


def run_rate_needed(annual_target: Number, ytd_actual: Number, quarters: int) -> Decimal | None:
    """Per remaining quarter to reach the annual target; 0 if already met, None after Q4."""
    _check_quarters(quarters)
    if quarters == 4:
        return None
    remaining = to_decimal(annual_target) - to_decimal(ytd_actual)
    if remaining <= 0:
        return Decimal(0)
    return remaining / (4 - quarters)
