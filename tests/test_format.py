from datetime import date
from decimal import Decimal

import pytest

from psis.templatetags.psis_format import figure, long_date, pounds, uk_date


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("2850000"), "£2,850,000"),
        (Decimal("75000.5"), "£75,000.50"),
        (Decimal("75000.00"), "£75,000"),
        (Decimal("0.07"), "£0.07"),
        (None, ""),
    ],
)
def test_pounds(value, shown):
    assert pounds(value) == shown


def test_dates_are_british():
    assert uk_date(date(2027, 3, 31)) == "31/03/2027"
    assert long_date(date(2022, 10, 1)) == "1 October 2022"


def test_figure_drops_needless_decimals():
    assert figure(Decimal("1130.00")) == "1,130"
    assert figure(Decimal("12.50")) == "12.5"
