"""Display helpers: UK dates, pounds, figures. Formatting only; no rules live here."""

from datetime import date, datetime
from decimal import Decimal

from django import template
from django.utils import timezone

from psis.targets import format_number

register = template.Library()


@register.filter
def uk_date(value) -> str:
    """30/09/2027"""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


@register.filter
def long_date(value) -> str:
    """1 October 2022"""
    if not isinstance(value, date):
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value.day} {value:%B %Y}"


@register.filter
def pounds(value) -> str:
    """£2,850,000, or £75,000.50 when there are pence."""
    if value is None or value == "":
        return ""
    amount = Decimal(value)
    if amount == amount.to_integral_value():
        return "£" + format_number(amount, places=0)
    return f"£{amount.quantize(Decimal('0.01')):,}"


@register.filter
def figure(value) -> str:
    """A figure with thousands separators and no needless decimals."""
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        value = Decimal(str(value))
    return format_number(Decimal(value))
