"""How numbers, money, percentages, dates, date-times, people and file sizes are shown.

The one place each of these is decided: pages (through the ``psis_format`` template filters), the
meeting pack, the Excel template, CSV/XLSX exports, a return's history, validation messages,
results and charts, the contract-exit archive, the admin and reminder emails all call it.
Pure: no Django model; ``django.utils.timezone`` only to put a moment in UK local time
(imported when a moment is shown, so the rule modules that import this one load without Django).

Numbers
    Thousands separators, at most two decimals, rounded half up, and decimals only where the
    value has them: "5,000", "1,234,567.5", "13.14". ``None`` and "" are shown as "" (callers
    say "not reported" or "—" where they need a word).
Money
    Pounds with thousands separators, pence only when the amount (to the penny) is not whole:
    "£75,000", "£1,234.50"; a negative amount is "-£5".
Percentages
    A figure that is a percentage: one decimal at most, "85.5%", "10%". A percentage of target
    shown beside a RAG is rounded *down* to a whole per cent (``rag_percent``), so 99.99% is
    never shown as 100% beside an amber and 89.99% never as 90% beside a red.
Dates
    One form for reading, one for tables. "2 December 2026" (``long_date``) everywhere a date is
    read in a sentence: pages, the printed and PDF pack, emails, the Excel template's heading,
    messages. It is the form most pages and the pack already used, and nobody misreads it
    (02/12 is 12 February to an American reader). The compact "02/12/2026" (``short_date``) only
    where a column needs the room or a file needs a compact cell: the home page's and return
    list's columns, a return's history, the KPI page's commentary column and RAG cells, the
    meetings' pack, action and returns columns, the admin's lists, CSV files and the exit archive.
    (The earlier third form, "2 Dec 2026", is gone.)
Date-times
    Always UK local time (GMT or BST): "2 December 2026, 14:05" in a sentence
    (``long_datetime``) and "02/12/2026 14:05" in a column or a file (``short_datetime``).
People
    Full name, else username (``person``); where a record must say exactly who (the
    contract-exit archive), the username follows in brackets.
File sizes
    "512 bytes", "1.5 KB", "2.0 MB" (powers of 1,024, one decimal).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

_PLACES = 2  # a number's decimals at most
_PERCENT_PLACES = 1  # a percentage figure's decimals at most
_PENNY = Decimal("0.01")


def _blank(value) -> bool:
    return value is None or value == ""


def _decimal(value) -> Decimal:
    """int, Decimal, a float (by its shortest repr) or a numeric string; never a bool or NaN."""
    if isinstance(value, bool):
        raise TypeError(f"Expected a number, not a bool: {value!r}.")
    if isinstance(value, float | str):
        try:
            value = Decimal(str(value).strip())
        except InvalidOperation:
            raise TypeError(f"Expected a number, not {value!r}.") from None
    if not isinstance(value, int | Decimal):
        raise TypeError(f"Expected a number, not {type(value).__name__}: {value!r}.")
    result = Decimal(value)
    if result.is_nan():
        raise ValueError("A figure cannot be NaN.")
    return result


def _fixed(value: Decimal, places: int, rounding: str) -> str:
    """Thousands separators, at most ``places`` decimals, no trailing zeros, never "-0"."""
    if value.is_infinite():
        return "∞" if value > 0 else "-∞"
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=rounding)
    text = f"{rounded:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


# --- numbers, money, percentages -----------------------------------------------------------------


def number(value) -> str:
    """5,000 and 13.14: at most two decimals (half up), only where the value has them."""
    if _blank(value):
        return ""
    return _fixed(_decimal(value), _PLACES, ROUND_HALF_UP)


def money(value) -> str:
    """£75,000 for whole pounds, £1,234.50 otherwise (never £1,234.5); -£5 when negative."""
    if _blank(value):
        return ""
    amount = _decimal(value)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount.is_infinite():
        return f"{sign}£∞"
    pence = amount.quantize(_PENNY, rounding=ROUND_HALF_UP)
    text = f"{pence:,.0f}" if pence == pence.to_integral_value() else f"{pence:,.2f}"
    return f"{sign if pence else ''}£{text}"


def percent(value) -> str:
    """A figure that is a percentage (already × 100): 85.5%, 10%, one decimal at most."""
    if _blank(value):
        return ""
    return f"{_fixed(_decimal(value), _PERCENT_PLACES, ROUND_HALF_UP)}%"


def rag_percent(value) -> str:
    """A percentage of target beside a RAG (already × 100), rounded down to a whole per cent, so
    99.99% is never shown as 100% beside an amber: 90%, 89%."""
    if _blank(value):
        return ""
    return f"{_fixed(_decimal(value), 0, ROUND_FLOOR)}%"


def unit(measure: str) -> str:
    """The unit ``in_unit`` and the charts take for a KPI's measure: "£", "%" or ""."""
    return {"money": "£", "percentage": "%"}.get(measure, "")


def in_unit(value, unit: str = "") -> str:
    """A number with its unit: £ in front (as money), % after (as a percentage), else a word
    after: "£75,000", "85.5%", "4,100 hours"."""
    if _blank(value):
        return ""
    if unit == "£":
        return money(value)
    if unit == "%":
        return percent(value)
    return f"{number(value)} {unit}" if unit else number(value)


def figure(value, measure: str = "") -> str:
    """A KPI's figure by its measure ("money", "percentage", or any other: a number); an
    infinite value is "∞" whatever the measure."""
    if _blank(value):
        return ""
    if _decimal(value).is_infinite():
        return number(value)
    if measure == "money":
        return money(value)
    if measure == "percentage":
        return percent(value)
    return number(value)


def plain_number(value) -> str:
    """A number as a person would type it into a form or a CSV file: no separators, whole
    numbers without a point, others with at least two decimals ("1250", "1250.50", "13.125")."""
    if _blank(value):
        return ""
    amount = _decimal(value)
    if amount.is_infinite():
        return "Infinity" if amount > 0 else "-Infinity"
    if amount == amount.to_integral_value():
        return format(amount.quantize(Decimal(1)), "f")
    amount = amount.normalize()
    if amount.as_tuple().exponent > -2:
        amount = amount.quantize(_PENNY)
    return format(amount, "f")


def cell_number(value) -> Decimal | None:
    """A number for a spreadsheet cell: to the penny (half up), no trailing zeros; None for a
    blank or an infinite value."""
    if _blank(value):
        return None
    amount = _decimal(value)
    if amount.is_infinite():
        return None
    return amount.quantize(_PENNY, ROUND_HALF_UP).normalize() + 0


# --- dates and date-times ------------------------------------------------------------------------


def local(moment: datetime) -> datetime:
    """An aware moment in UK local time (GMT or BST); a naive one is taken as local already."""
    # Imported here so the pure rule modules that show numbers and dates load without Django.
    from django.utils import timezone

    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def _day(value) -> date | None:
    if isinstance(value, datetime):
        return local(value).date()
    return value if isinstance(value, date) else None


def _dated(value, show) -> str:
    """``show`` the day of a date or moment; "" for a blank; anything else as it is."""
    if _blank(value):
        return ""
    day = _day(value)
    return show(day) if day is not None else str(value)


def long_date(value) -> str:
    """2 December 2026 (a date-time is shown as its UK local day)."""
    return _dated(value, lambda day: f"{day.day} {day:%B %Y}")


def short_date(value) -> str:
    """02/12/2026, for a table column or a file (a date-time: its UK local day)."""
    return _dated(value, lambda day: f"{day:%d/%m/%Y}")


def month(value) -> str:
    """December 2026."""
    return _dated(value, lambda day: f"{day:%B %Y}")


def long_datetime(value) -> str:
    """2 December 2026, 14:05 in UK local time; a plain date is shown as a date."""
    if not isinstance(value, datetime):
        return long_date(value)
    moment = local(value)
    return f"{long_date(moment)}, {moment:%H:%M}"


def short_datetime(value) -> str:
    """02/12/2026 14:05 in UK local time, for a table column or a file."""
    if not isinstance(value, datetime):
        return short_date(value)
    return f"{local(value):%d/%m/%Y %H:%M}"


def cell_moment(value: datetime | None) -> datetime | None:
    """A moment for a spreadsheet cell (Excel has no time zones): UK local time, to the second,
    without its zone."""
    if value is None:
        return None
    return local(value).replace(tzinfo=None, microsecond=0)


def rag_percent_cell(value) -> Decimal | None:
    """A percentage of target beside a RAG, for a spreadsheet cell: the whole per cent shown by
    ``rag_percent`` (rounded down); None for a blank or an infinite value."""
    if _blank(value):
        return None
    amount = _decimal(value)
    if amount.is_infinite():
        return None
    return amount.to_integral_value(ROUND_FLOOR) + 0


# Spreadsheet formats, so a workbook cell reads like the page: the compact date and date-time.
EXCEL_DATE = "dd/mm/yyyy"
EXCEL_DATETIME = "dd/mm/yyyy hh:mm"


def excel_format(value, measure: str = "") -> str:
    """The number format for a spreadsheet cell holding ``value`` (as ``cell_number`` writes
    it), so it reads as ``figure`` shows it: decimals, and pence, only where the value has
    them (a format cannot drop ".00" by itself, so it is chosen cell by cell)."""
    whole = _blank(value) or _decimal(value) == _decimal(value).to_integral_value()
    if measure == "money":
        return '"£"#,##0' if whole else '"£"#,##0.00'
    if measure == "percentage":
        return '0"%"' if whole else '0.0"%"'
    return "#,##0" if whole else "#,##0.##"


# --- people and files ----------------------------------------------------------------------------


def person(user, *, with_username: bool = False) -> str:
    """Full name, else username; "" for nobody. ``with_username`` adds the username in
    brackets after a full name, for records that must say exactly who."""
    if user is None:
        return ""
    full = (user.get_full_name() or "").strip()
    if not full:
        return user.username
    return f"{full} ({user.username})" if with_username else full


_SIZE_UNITS = ("KB", "MB", "GB", "TB", "PB")


def file_size(n: int) -> str:
    """512 bytes, 1 byte, 1.5 KB, 2.0 MB: powers of 1,024, one decimal."""
    size = abs(int(n))
    sign = "-" if n < 0 else ""
    if size < 1024:
        return f"{sign}{size} byte{'' if size == 1 else 's'}"
    value = Decimal(size)
    for unit in _SIZE_UNITS:
        value /= 1024
        if value < 1024 or unit == _SIZE_UNITS[-1]:
            break
    shown = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{sign}{shown:,} {unit}"
