"""Pro-rating a KPI target to the period being judged.

Pure Decimal arithmetic: no Django, no database, no floats.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from psis.formatting import number

Number = Decimal | int


class TargetPeriod(StrEnum):
    ANNUAL = "annual"
    QUARTERLY = "quarterly"
    MONTHLY = "monthly"
    WEEKLY = "weekly"
    NONE = "none"  # not pro-rated: percentages, averages, point-in-time levels
    UNSTATED = "unstated"  # no target, or "to be agreed with commissioners"


_CUMULATIVE = frozenset(
    {TargetPeriod.ANNUAL, TargetPeriod.QUARTERLY, TargetPeriod.MONTHLY, TargetPeriod.WEEKLY}
)


def to_decimal(value: Number) -> Decimal:
    """Accept int or Decimal; refuse float (and bool), which would bring binary rounding in."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"Expected an int or Decimal, not {type(value).__name__}: {value!r}.")
    result = Decimal(value)
    if result.is_nan():
        raise ValueError("A figure cannot be NaN.")
    return result


def is_cumulative(period: TargetPeriod) -> bool:
    """True where the target adds up over the year, so year to date is a pro-rated sum."""
    return period in _CUMULATIVE


def _check_quarters(quarters: int) -> None:
    if not 1 <= quarters <= 4:
        raise ValueError(f"Quarters into the year must be 1, 2, 3 or 4, not {quarters}.")


def _need_weeks(weeks: Number | None, what: str) -> Decimal:
    if weeks is None:
        raise ValueError(f"A weekly target needs the number of weeks {what}.")
    return to_decimal(weeks)


def quarter_target(
    target: Number | None, period: TargetPeriod, *, weeks: Number | None = None
) -> Decimal | None:
    """The target for one quarter; ``weeks`` (weeks in the quarter) is needed for weekly ones."""
    if target is None or period == TargetPeriod.UNSTATED:
        return None
    value = to_decimal(target)
    match period:
        case TargetPeriod.ANNUAL:
            return value / 4
        case TargetPeriod.MONTHLY:
            return value * 3
        case TargetPeriod.WEEKLY:
            return value * _need_weeks(weeks, "in the quarter")
        case _:
            return value


def ytd_target(
    target: Number | None,
    period: TargetPeriod,
    *,
    quarters: int,
    weeks: Number | None = None,
) -> Decimal | None:
    """The target for the first ``quarters`` quarters of the contract year.

    For a weekly target ``weeks`` is the number of weeks from the start of the year to the end of
    quarter ``quarters``.
    """
    _check_quarters(quarters)
    if target is None or period == TargetPeriod.UNSTATED:
        return None
    value = to_decimal(target)
    match period:
        case TargetPeriod.ANNUAL:
            return value * quarters / 4
        case TargetPeriod.QUARTERLY:
            return value * quarters
        case TargetPeriod.MONTHLY:
            return value * 3 * quarters
        case TargetPeriod.WEEKLY:
            return value * _need_weeks(weeks, "from the start of the year")
        case _:
            return value


def annual_equivalent(
    target: Number | None, period: TargetPeriod, *, weeks_in_year: Number | None = None
) -> Decimal | None:
    if target is None or period == TargetPeriod.UNSTATED:
        return None
    value = to_decimal(target)
    match period:
        case TargetPeriod.QUARTERLY:
            return value * 4
        case TargetPeriod.MONTHLY:
            return value * 12
        case TargetPeriod.WEEKLY:
            return value * _need_weeks(weeks_in_year, "in the year")
        case _:
            return value


def explain_ytd(
    target: Number | None,
    period: TargetPeriod,
    quarters: int,
    *,
    weeks: Number | None = None,
) -> str:
    """How the year-to-date target was reached, e.g. "annual 5,000 × 3/4"."""
    _check_quarters(quarters)
    if target is None or period == TargetPeriod.UNSTATED:
        return "no target stated"
    shown = number(target)
    match period:
        case TargetPeriod.ANNUAL:
            return f"annual {shown} × {quarters}/4"
        case TargetPeriod.QUARTERLY:
            return f"quarterly {shown} × {quarters} {_plural(quarters, 'quarter')}"
        case TargetPeriod.MONTHLY:
            return f"monthly {shown} × {3 * quarters} months"
        case TargetPeriod.WEEKLY:
            if weeks is None:
                return f"weekly {shown} × weeks to date"
            return f"weekly {shown} × {number(weeks)} weeks"
        case _:
            return f"{shown} (not pro-rated)"


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"
