"""Template filters for showing numbers, money, percentages, dates and people.

Thin wrappers, one per function of ``psis.formatting``, where every rule lives (its docstring
says which date form is used where). Prose on a page or in the pack uses ``long_date`` /
``long_datetime`` ("2 December 2026", "2 December 2026, 14:05"); a table column that needs the
room uses ``short_date`` / ``short_datetime`` ("02/12/2026", "02/12/2026 14:05").
"""

from django import template

from psis import formatting

register = template.Library()


@register.filter
def short_date(value) -> str:
    """02/12/2026 (a moment: its UK local day), for a table column."""
    return formatting.short_date(value)


@register.filter
def short_datetime(value) -> str:
    """02/12/2026 14:05 in UK local time (a plain date: 02/12/2026), for a table column."""
    return formatting.short_datetime(value)


@register.filter
def long_date(value) -> str:
    """2 December 2026 (a moment: its UK local day)."""
    return formatting.long_date(value)


@register.filter
def long_datetime(value) -> str:
    """2 December 2026, 14:05 in UK local time."""
    return formatting.long_datetime(value)


@register.filter
def pounds(value) -> str:
    """£2,850,000, or £75,000.50 when there are pence."""
    return formatting.money(value)


@register.filter
def figure(value, measure: str = "") -> str:
    """A figure with thousands separators and no needless decimals; given a KPI's measure,
    money as pounds and a percentage with its sign: {{ value|figure:kpi.measure }}."""
    return formatting.figure(value, measure)


@register.filter
def file_size(n) -> str:
    """512 bytes, 1.5 KB, 2.0 MB."""
    return "" if n is None or n == "" else formatting.file_size(n)


@register.filter
def person(user) -> str:
    """Full name, else username."""
    return formatting.person(user)
