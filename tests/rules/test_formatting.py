"""How numbers, money, percentages, dates, people and file sizes are shown: both sides of each
edge, without a database."""

from datetime import UTC, date, datetime
from decimal import Decimal as D
from types import SimpleNamespace

import pytest

from psis import formatting as f

Q1_WEEKS = D(92) / 7  # 13.142857…


# --- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D(5000), "5,000"),
        (5000, "5,000"),
        (D("5000.00"), "5,000"),
        (D("1234567.5"), "1,234,567.5"),
        (D("0.25"), "0.25"),
        (D("0.125"), "0.13"),  # half up
        (D("0.124"), "0.12"),
        (D("0.005"), "0.01"),
        (D("0.0049"), "0"),
        (D("-1250"), "-1,250"),
        (D("-0.125"), "-0.13"),
        (D("-0.001"), "0"),  # never "-0"
        (D(0), "0"),
        (D("1E+3"), "1,000"),
        (Q1_WEEKS, "13.14"),
        (D("9999999999999.995"), "10,000,000,000,000"),
        (10**15, "1,000,000,000,000,000"),
        (D("Infinity"), "∞"),
        (D("-Infinity"), "-∞"),
        (1.5, "1.5"),  # a float by its shortest repr, not its binary value
        (0.1 + 0.2, "0.3"),
        ("1250.50", "1,250.5"),
        (None, ""),
        ("", ""),
    ],
)
def test_number(value, text):
    assert f.number(value) == text


def test_decimal_and_int_agree():
    assert f.number(D(1250)) == f.number(1250) == f.number(D("1250.000")) == "1,250"


@pytest.mark.parametrize("bad", [True, False, "five", object()])
def test_non_numbers_are_refused(bad):
    with pytest.raises(TypeError):
        f.number(bad)


def test_nan_is_refused():
    with pytest.raises(ValueError):
        f.number(D("NaN"))


# --- money ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D(75000), "£75,000"),
        (75000, "£75,000"),
        (D("75000.00"), "£75,000"),
        (D("2850000"), "£2,850,000"),
        (D("1234.5"), "£1,234.50"),
        (D("1234.50"), "£1,234.50"),
        (D("0.07"), "£0.07"),
        (D("3333.333"), "£3,333.33"),
        (D("0.125"), "£0.13"),  # half up to the penny
        (D("2.995"), "£3"),  # rounds to whole pounds: no ".00"
        (D("2.994"), "£2.99"),
        (D("-5"), "-£5"),
        (D("-1234.5"), "-£1,234.50"),
        (D("-0.001"), "£0"),
        (D(0), "£0"),
        (D("123456789012.34"), "£123,456,789,012.34"),
        (None, ""),
        ("", ""),
    ],
)
def test_money(value, text):
    assert f.money(value) == text


# --- percentages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D(10), "10%"),
        (D("85.5"), "85.5%"),
        (D("2.5"), "2.5%"),
        (D("90.44"), "90.4%"),
        (D("90.45"), "90.5%"),  # half up
        (D("99.99"), "100%"),
        (D("-12.34"), "-12.3%"),
        (D("0"), "0%"),
        (D("1234.5"), "1,234.5%"),
        (None, ""),
    ],
)
def test_percent(value, text):
    assert f.percent(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("99.99"), "99%"),  # never 100% beside an amber
        (D(100), "100%"),
        (D("100.01"), "100%"),
        (D("90"), "90%"),
        (D("89.999"), "89%"),  # never 90% beside a red
        (D("90.4"), "90%"),
        (D("0.5"), "0%"),
        (D("-0.5"), "-1%"),  # down is down
        (D("12345.6"), "12,345%"),
        (100, "100%"),
        (None, ""),
    ],
)
def test_rag_percent_rounds_down(value, text):
    assert f.rag_percent(value) == text


def test_unit_of_a_measure():
    assert [f.unit(m) for m in ("money", "percentage", "count", "")] == ["£", "%", "", ""]


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (D(75000), "£", "£75,000"),
        (D("12.25"), "%", "12.3%"),
        (D(4100), "hours", "4,100 hours"),
        (D("1249.875"), "", "1,249.88"),
        (None, "£", ""),
    ],
)
def test_in_unit(value, unit, text):
    assert f.in_unit(value, unit) == text


@pytest.mark.parametrize(
    ("value", "measure", "text"),
    [
        (D("1234.5"), "money", "£1,234.50"),
        (D("12.25"), "percentage", "12.3%"),
        (D("13.125"), "average", "13.13"),
        (D(1250), "count", "1,250"),
        (D("Infinity"), "money", "∞"),
        (None, "money", ""),
    ],
)
def test_figure_by_measure(value, measure, text):
    assert f.figure(value, measure) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("1250"), "1250"),
        (D("1250.00"), "1250"),
        (D("1250.5"), "1250.50"),
        (D("0.07"), "0.07"),
        (D("13.125"), "13.125"),
        (D("1E+3"), "1000"),
        (-3, "-3"),
        (None, ""),
    ],
)
def test_plain_number(value, text):
    assert f.plain_number(value) == text


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (D("1249.875"), D("1249.88")),
        (D("1250.00"), D(1250)),
        (D("-0.001"), D(0)),
        (D("Infinity"), None),
        (None, None),
    ],
)
def test_cell_number(value, cell):
    result = f.cell_number(value)
    assert result == cell
    if cell is not None:
        assert str(result) == str(cell)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (D("99.99"), D(99)),
        (D(100), D(100)),
        (D("89.999"), D(89)),
        (D("Infinity"), None),
        (None, None),
    ],
)
def test_rag_percent_cell_rounds_down_like_the_page(value, cell):
    assert f.rag_percent_cell(value) == cell
    if value is not None and cell is not None:
        assert f"{f.rag_percent_cell(value)}%" == f.rag_percent(value)


@pytest.mark.parametrize(
    ("value", "measure", "code"),
    [
        (D(75000), "money", '"£"#,##0'),
        (D("75000.5"), "money", '"£"#,##0.00'),
        (D(90), "percentage", '0"%"'),
        (D("85.5"), "percentage", '0.0"%"'),
        (D(1250), "count", "#,##0"),
        (D("13.14"), "average", "#,##0.##"),
        (None, "count", "#,##0"),
    ],
)
def test_excel_format_shows_decimals_only_where_the_value_has_them(value, measure, code):
    assert f.excel_format(value, measure) == code


# --- dates and date-times ------------------------------------------------------------------------


def test_dates():
    assert f.long_date(date(2026, 12, 2)) == "2 December 2026"
    assert f.long_date(date(2022, 10, 1)) == "1 October 2022"
    assert f.short_date(date(2026, 12, 2)) == "02/12/2026"
    assert f.short_date(date(2027, 3, 31)) == "31/03/2027"
    assert f.month(date(2026, 12, 2)) == "December 2026"
    for shown in (f.long_date, f.short_date, f.month, f.long_datetime, f.short_datetime):
        assert shown(None) == ""
        assert shown("") == ""


def test_a_date_is_shown_as_a_date_by_the_datetime_helpers():
    assert f.long_datetime(date(2026, 12, 2)) == "2 December 2026"
    assert f.short_datetime(date(2026, 12, 2)) == "02/12/2026"


def test_winter_moments_are_gmt():
    moment = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
    assert f.long_datetime(moment) == "2 December 2026, 23:30"
    assert f.short_datetime(moment) == "02/12/2026 23:30"
    assert f.long_date(moment) == "2 December 2026"


def test_summer_moments_are_bst_and_can_fall_on_the_next_day():
    moment = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 00:30 BST on 1 July
    assert f.long_datetime(moment) == "1 July 2026, 00:30"
    assert f.short_datetime(moment) == "01/07/2026 00:30"
    assert f.long_date(moment) == "1 July 2026"
    assert f.short_date(moment) == "01/07/2026"
    assert f.month(moment) == "July 2026"


def test_clocks_changing():
    # 29 March 2026: clocks go forward at 01:00 GMT; 25 October 2026: back at 01:00 GMT.
    assert f.short_datetime(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == "29/03/2026 00:59"
    assert f.short_datetime(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "29/03/2026 02:00"
    assert f.short_datetime(datetime(2026, 10, 25, 0, 59, tzinfo=UTC)) == "25/10/2026 01:59"
    assert f.short_datetime(datetime(2026, 10, 25, 1, 0, tzinfo=UTC)) == "25/10/2026 01:00"


def test_a_naive_moment_is_taken_as_local():
    assert f.short_datetime(datetime(2026, 6, 30, 23, 30)) == "30/06/2026 23:30"


# --- people and file sizes -----------------------------------------------------------------------


def _user(first="", last="", username="jdoe"):
    return SimpleNamespace(username=username, get_full_name=lambda: f"{first} {last}".strip())


def test_person():
    assert f.person(_user("Jane", "Doe")) == "Jane Doe"
    assert f.person(_user()) == "jdoe"
    assert f.person(None) == ""
    assert f.person(_user("Jane", "Doe"), with_username=True) == "Jane Doe (jdoe)"
    assert f.person(_user(), with_username=True) == "jdoe"
    assert f.person(None, with_username=True) == ""


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1024, "1.0 KB"),
        (1536, "1.5 KB"),
        (1024 * 1024 - 1, "1,024.0 KB"),  # as Django's filesizeformat
        (1024 * 1024, "1.0 MB"),
        (5 * 1024**3, "5.0 GB"),
        (2 * 1024**5, "2.0 PB"),
        (2048 * 1024**5, "2,048.0 PB"),
        (-1536, "-1.5 KB"),
    ],
)
def test_file_size(n, text):
    assert f.file_size(n) == text
