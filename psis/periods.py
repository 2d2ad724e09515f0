"""Contract years, contract quarters, financial-year labels and due dates.

Pure date arithmetic: no Django, no database. A contract starts on the 1st of a month; its
contract year n runs for twelve months from the start, and each contract quarter is three
calendar months. Councils also label periods by financial year (1 April to 31 March).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, timedelta
from decimal import Decimal

from holidays import country_holidays

from psis.formatting import long_date

_ONE_DAY = timedelta(days=1)


def _add_months(d: date, months: int) -> date:
    """Move by whole calendar months, clamping the day to the target month's length."""
    month_index = d.year * 12 + d.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    if not MINYEAR <= year <= MAXYEAR:
        raise ValueError(f"The year {year} is out of range.")
    day = min(d.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def _months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def _check_start(start: date) -> None:
    if start.day != 1:
        raise ValueError(f"A contract must start on the 1st of a month, not {long_date(start)}.")


def add_years(d: date, years: int) -> date:
    """29 February becomes 28 February in a year that is not a leap year."""
    return _add_months(d, 12 * years)


def financial_year_label(day: date) -> str:
    """The financial year (1 April to 31 March) holding ``day``, e.g. "2022/23"."""
    first = day.year if day.month >= 4 else day.year - 1
    return f"{first}/{(first + 1) % 100:02d}"


def financial_quarter(day: date) -> int:
    """1 for April–June, 2 July–September, 3 October–December, 4 January–March."""
    return (day.month - 4) % 12 // 3 + 1


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int
    start: date
    end: date

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"Year {self.year} Q{self.quarter}"

    @property
    def short_label(self) -> str:
        return f"Y{self.year}Q{self.quarter}"

    @property
    def index(self) -> int:
        return (self.year - 1) * 4 + self.quarter - 1

    @property
    def months(self) -> tuple[date, date, date]:
        return (self.start, _add_months(self.start, 1), _add_months(self.start, 2))

    @property
    def fy_label(self) -> str:
        """Labelled by its middle month, so by the financial quarter holding most of its months."""
        middle = self.months[1]
        return f"{financial_year_label(middle)} Q{financial_quarter(middle)}"

    @property
    def fy_slug(self) -> str:
        return self.fy_label.replace("/", "-").replace(" ", "-")


def quarter_by_index(start: date, index: int) -> Quarter:
    _check_start(start)
    if index < 0:
        raise ValueError(f"Quarter index must be 0 or more, not {index}.")
    year, quarter = divmod(index, 4)
    first = _add_months(start, 3 * index)
    last = _add_months(start, 3 * index + 3) - _ONE_DAY
    return Quarter(year=year + 1, quarter=quarter + 1, start=first, end=last)


def quarter_by_number(start: date, year: int, quarter: int) -> Quarter:
    if year < 1:
        raise ValueError(f"Contract year must be 1 or more, not {year}.")
    if not 1 <= quarter <= 4:
        raise ValueError(f"Quarter must be 1, 2, 3 or 4, not {quarter}.")
    return quarter_by_index(start, (year - 1) * 4 + quarter - 1)


def quarter_of(start: date, day: date) -> Quarter:
    _check_start(start)
    if day < start:
        raise ValueError(f"{long_date(day)} is before the contract starts on {long_date(start)}.")
    return quarter_by_index(start, _months_between(start, day) // 3)


def quarters_between(start: date, first: Quarter, last: Quarter) -> list[Quarter]:
    """Both ends included; empty when ``last`` is before ``first``."""
    return [quarter_by_index(start, i) for i in range(first.index, last.index + 1)]


# ASCII digits only: "Y١Q1" (Arabic-Indic one) is not a label anyone types or links to.
_CONTRACT_LABEL = re.compile(r"y(?:ear)?\s*(\d+)\s*[-,]?\s*q(?:uarter)?\s*(\d+)", re.ASCII)
_FY_LABEL = re.compile(
    r"(?:fy\s*)?(\d{4})\s*[/-]\s*(\d{2}|\d{4})\s*-?\s*q(?:uarter)?\s*(\d+)", re.ASCII
)
_ACCEPTED_FORMS = (
    "a contract quarter such as 'Y1Q1' or 'Year 1 Q1', "
    "or a financial-year quarter such as '2022/23 Q3' or '2022-23-Q3'"
)


def parse_quarter_label(start: date, label: str) -> Quarter:
    """Read "Y1Q1", "Year 1 Q1", "2022/23 Q3" or "2022-23-Q3" (any case and spacing)."""
    text = " ".join(label.split()).lower()
    if match := _CONTRACT_LABEL.fullmatch(text):
        return quarter_by_number(start, int(match[1]), int(match[2]))
    if match := _FY_LABEL.fullmatch(text):
        first_year, second, fy_quarter = int(match[1]), match[2], int(match[3])
        if int(second) % 100 != (first_year + 1) % 100 or (
            len(second) == 4 and int(second) != first_year + 1
        ):
            raise ValueError(
                f"'{label}' is not a financial year: the second year must follow the first "
                f"(for example 2022/23)."
            )
        if not 1 <= fy_quarter <= 4:
            raise ValueError(f"Quarter must be 1, 2, 3 or 4, not {fy_quarter}.")
        # The contract quarter holding the financial quarter's middle month has its own middle
        # month inside that financial quarter, whatever month the contract starts in.
        fy_start = _add_months(date(first_year, 4, 1), 3 * (fy_quarter - 1))
        middle = _add_months(fy_start, 1)
        _check_start(start)
        if middle < start:
            raise ValueError(
                f"{label.strip()} is before the contract starts on {long_date(start)}."
            )
        return quarter_of(start, middle)
    raise ValueError(f"Could not read the quarter '{label}'. Use {_ACCEPTED_FORMS}.")


def contract_year_bounds(start: date, year: int) -> tuple[date, date]:
    """First and last day of contract year ``year`` (1-based)."""
    if year < 1:
        raise ValueError(f"Contract year must be 1 or more, not {year}.")
    return add_years(start, year - 1), add_years(start, year) - _ONE_DAY


def initial_term_end(start: date, years: int) -> date:
    """Last day of a term of ``years`` years: 1 Oct 2022 + 5 years ends on 30 Sep 2027."""
    return add_years(start, years) - _ONE_DAY


def extension_decision_due(start: date, years: int, notice_months: int) -> date:
    """Last day to decide on an extension and still give ``notice_months`` whole months' notice.

    That is the day before the date ``notice_months`` calendar months before the day after the
    term ends: a term ending 30 Sep 2027 with 6 months' notice gives 31 Mar 2027.
    """
    if notice_months < 0:
        raise ValueError(f"Notice must be 0 months or more, not {notice_months}.")
    return _add_months(add_years(start, years), -notice_months) - _ONE_DAY


def england_bank_holidays(years: Iterable[int]) -> frozenset[date]:
    """Bank holidays in England (and Wales), from the ``holidays`` package."""
    return frozenset(country_holidays("GB", subdiv="ENG", years=list(years)).keys())


def add_working_days(day: date, n: int, holidays: Collection[date]) -> date:
    """The n-th working day after ``day``, skipping weekends and ``holidays``."""
    if n < 1:
        raise ValueError(f"Number of working days must be 1 or more, not {n}.")
    current = day
    counted = 0
    while counted < n:
        current += _ONE_DAY
        if current.weekday() < 5 and current not in holidays:
            counted += 1
    return current


def due_date(
    quarter: Quarter, working_days: int = 15, holidays: Collection[date] | None = None
) -> date:
    """``working_days`` working days after the quarter ends (England bank holidays by default)."""
    if holidays is None:
        first = quarter.end.year
        holidays = england_bank_holidays(range(first, first + 2 + working_days // 200))
    return add_working_days(quarter.end, working_days, holidays)


def weeks_in(start: date, end: date) -> Decimal:
    """Whole days from ``start`` to ``end`` inclusive, divided by 7."""
    if end < start:
        raise ValueError(f"{end} is before {start}.")
    return Decimal((end - start).days + 1) / Decimal(7)
