from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from psis.templatetags.psis_format import (
    figure,
    long_date,
    long_datetime,
    person,
    pounds,
    short_date,
    short_datetime,
)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("2850000"), "£2,850,000"),
        (Decimal("75000.5"), "£75,000.50"),
        (Decimal("75000.00"), "£75,000"),
        (Decimal("0.07"), "£0.07"),
        ("1250.5", "£1,250.50"),
        (None, ""),
    ],
)
def test_pounds(value, shown):
    assert pounds(value) == shown


def test_dates_are_british():
    assert short_date(date(2027, 3, 31)) == "31/03/2027"
    assert long_date(date(2022, 10, 1)) == "1 October 2022"


def test_moments_are_shown_in_uk_local_time():
    summer = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert short_datetime(summer) == "01/07/2026 00:30"
    assert long_datetime(summer) == "1 July 2026, 00:30"
    assert short_date(summer) == "01/07/2026"
    assert long_date(summer) == "1 July 2026"


def test_figure_drops_needless_decimals():
    assert figure(Decimal("1130.00")) == "1,130"
    assert figure(Decimal("12.50")) == "12.5"
    assert figure(12.5) == "12.5"


def test_person():
    user = SimpleNamespace(username="jdoe", get_full_name=lambda: "Jane Doe")
    assert person(user) == "Jane Doe"
    assert person(None) == ""
