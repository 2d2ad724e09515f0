from datetime import date
from decimal import Decimal

import pytest

from psis.periods import (
    Quarter,
    add_working_days,
    add_years,
    contract_year_bounds,
    due_date,
    england_bank_holidays,
    extension_decision_due,
    financial_quarter,
    financial_year_label,
    initial_term_end,
    parse_quarter_label,
    quarter_by_index,
    quarter_by_number,
    quarter_of,
    quarters_between,
    weeks_in,
)

PSIS = date(2022, 10, 1)


# --- quarters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "short_label"),
    [
        (date(2022, 10, 1), "Y1Q1"),
        (date(2022, 12, 31), "Y1Q1"),
        (date(2023, 1, 1), "Y1Q2"),
        (date(2023, 3, 31), "Y1Q2"),
        (date(2023, 4, 1), "Y1Q3"),
        (date(2023, 6, 30), "Y1Q3"),
        (date(2023, 7, 1), "Y1Q4"),
        (date(2023, 9, 30), "Y1Q4"),
        (date(2023, 10, 1), "Y2Q1"),
        (date(2023, 12, 31), "Y2Q1"),
        (date(2024, 1, 1), "Y2Q2"),
        (date(2024, 2, 29), "Y2Q2"),
        (date(2024, 9, 30), "Y2Q4"),
        (date(2024, 10, 1), "Y3Q1"),
        (date(2027, 9, 30), "Y5Q4"),
        (date(2027, 10, 1), "Y6Q1"),
    ],
)
def test_quarter_of_both_sides_of_each_boundary(day, short_label):
    assert quarter_of(PSIS, day).short_label == short_label


def test_quarter_of_first_quarter_in_full():
    q = quarter_of(PSIS, date(2022, 11, 15))
    assert q == Quarter(year=1, quarter=1, start=date(2022, 10, 1), end=date(2022, 12, 31))
    assert q.label == "Year 1 Q1"
    assert str(q) == "Year 1 Q1"
    assert q.short_label == "Y1Q1"
    assert q.index == 0
    assert q.months == (date(2022, 10, 1), date(2022, 11, 1), date(2022, 12, 1))
    assert q.fy_label == "2022/23 Q3"
    assert q.fy_slug == "2022-23-Q3"


def test_quarter_of_before_start_is_an_error():
    with pytest.raises(ValueError, match="before the contract starts on 1 October 2022"):
        quarter_of(PSIS, date(2022, 9, 30))


@pytest.mark.parametrize("start", [date(2022, 10, 2), date(2022, 10, 31)])
def test_start_not_on_the_first_is_an_error(start):
    with pytest.raises(ValueError, match="1st of a month"):
        quarter_of(start, date(2023, 1, 1))
    with pytest.raises(ValueError, match="1st of a month"):
        quarter_by_index(start, 0)


@pytest.mark.parametrize(
    ("year", "quarter", "start", "end", "fy_label", "fy_slug"),
    [
        (1, 1, date(2022, 10, 1), date(2022, 12, 31), "2022/23 Q3", "2022-23-Q3"),
        (1, 2, date(2023, 1, 1), date(2023, 3, 31), "2022/23 Q4", "2022-23-Q4"),
        (1, 3, date(2023, 4, 1), date(2023, 6, 30), "2023/24 Q1", "2023-24-Q1"),
        (1, 4, date(2023, 7, 1), date(2023, 9, 30), "2023/24 Q2", "2023-24-Q2"),
        (2, 1, date(2023, 10, 1), date(2023, 12, 31), "2023/24 Q3", "2023-24-Q3"),
        (2, 2, date(2024, 1, 1), date(2024, 3, 31), "2023/24 Q4", "2023-24-Q4"),
        (2, 3, date(2024, 4, 1), date(2024, 6, 30), "2024/25 Q1", "2024-25-Q1"),
        (5, 4, date(2027, 7, 1), date(2027, 9, 30), "2027/28 Q2", "2027-28-Q2"),
        (78, 2, date(2100, 1, 1), date(2100, 3, 31), "2099/00 Q4", "2099-00-Q4"),
    ],
)
def test_quarter_by_number(year, quarter, start, end, fy_label, fy_slug):
    q = quarter_by_number(PSIS, year, quarter)
    assert (q.year, q.quarter, q.start, q.end) == (year, quarter, start, end)
    assert q.fy_label == fy_label
    assert q.fy_slug == fy_slug
    assert q.index == (year - 1) * 4 + quarter - 1
    assert quarter_by_index(PSIS, q.index) == q


@pytest.mark.parametrize(("year", "quarter"), [(0, 1), (-1, 1), (1, 0), (1, 5)])
def test_quarter_by_number_out_of_range(year, quarter):
    with pytest.raises(ValueError):
        quarter_by_number(PSIS, year, quarter)


def test_quarter_by_index_negative():
    with pytest.raises(ValueError):
        quarter_by_index(PSIS, -1)


def test_quarter_index_counts_every_quarter_since_start():
    for index in range(24):
        q = quarter_by_index(PSIS, index)
        assert q.index == index
        assert quarter_of(PSIS, q.start) == q
        assert quarter_of(PSIS, q.end) == q


def test_quarters_tile_the_calendar_without_gaps():
    previous = quarter_by_index(PSIS, 0)
    for index in range(1, 40):
        q = quarter_by_index(PSIS, index)
        assert (q.start - previous.end).days == 1
        previous = q


def test_quarters_order_by_time():
    assert quarter_by_number(PSIS, 1, 4) < quarter_by_number(PSIS, 2, 1)
    assert max(quarter_by_index(PSIS, i) for i in (3, 7, 5)).index == 7


@pytest.mark.parametrize(
    ("start", "day", "short_label", "q_start", "q_end", "fy_label"),
    [
        # Starts that do not line up with calendar quarters.
        (
            date(2023, 2, 1),
            date(2023, 4, 30),
            "Y1Q1",
            date(2023, 2, 1),
            date(2023, 4, 30),
            "2022/23 Q4",
        ),
        (
            date(2023, 2, 1),
            date(2023, 5, 1),
            "Y1Q2",
            date(2023, 5, 1),
            date(2023, 7, 31),
            "2023/24 Q1",
        ),
        (
            date(2022, 11, 1),
            date(2022, 11, 1),
            "Y1Q1",
            date(2022, 11, 1),
            date(2023, 1, 31),
            "2022/23 Q3",
        ),
        (
            date(2022, 12, 1),
            date(2023, 2, 28),
            "Y1Q1",
            date(2022, 12, 1),
            date(2023, 2, 28),
            "2022/23 Q4",
        ),
        (
            date(2023, 12, 1),
            date(2024, 2, 29),
            "Y1Q1",
            date(2023, 12, 1),
            date(2024, 2, 29),
            "2023/24 Q4",
        ),
        (
            date(2023, 12, 1),
            date(2024, 12, 1),
            "Y2Q1",
            date(2024, 12, 1),
            date(2025, 2, 28),
            "2024/25 Q4",
        ),
        (
            date(2024, 4, 1),
            date(2025, 3, 31),
            "Y1Q4",
            date(2025, 1, 1),
            date(2025, 3, 31),
            "2024/25 Q4",
        ),
    ],
)
def test_quarters_for_other_start_dates(start, day, short_label, q_start, q_end, fy_label):
    q = quarter_of(start, day)
    assert (q.short_label, q.start, q.end, q.fy_label) == (short_label, q_start, q_end, fy_label)


def test_quarters_between_is_inclusive():
    first = quarter_by_number(PSIS, 1, 3)
    last = quarter_by_number(PSIS, 2, 2)
    assert [q.short_label for q in quarters_between(PSIS, first, last)] == [
        "Y1Q3",
        "Y1Q4",
        "Y2Q1",
        "Y2Q2",
    ]
    assert quarters_between(PSIS, first, first) == [first]
    assert quarters_between(PSIS, last, first) == []


# --- labels --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "short_label"),
    [
        ("Y1Q1", "Y1Q1"),
        ("y1q1", "Y1Q1"),
        ("Year 1 Q1", "Y1Q1"),
        ("  year   1   q 4 ", "Y1Q4"),
        ("YEAR 2 Q3", "Y2Q3"),
        ("Y 10 Q 2", "Y10Q2"),
        ("Year 3 Quarter 2", "Y3Q2"),
        ("2022/23 Q3", "Y1Q1"),
        ("2022-23-Q3", "Y1Q1"),
        ("2022/23 q4", "Y1Q2"),
        (" 2023/24  Q1 ", "Y1Q3"),
        ("2023-24-q2", "Y1Q4"),
        ("2023/2024 Q3", "Y2Q1"),
        ("FY2023/24 Q4", "Y2Q2"),
        ("2023-24 Q4", "Y2Q2"),
    ],
)
def test_parse_quarter_label(label, short_label):
    assert parse_quarter_label(PSIS, label).short_label == short_label


@pytest.mark.parametrize("index", range(12))
def test_labels_round_trip(index):
    q = quarter_by_index(PSIS, index)
    for label in (q.label, q.short_label, q.fy_label, q.fy_slug):
        assert parse_quarter_label(PSIS, label) == q


@pytest.mark.parametrize(
    "start", [date(2022, 11, 1), date(2022, 12, 1), date(2023, 2, 1), date(2024, 4, 1)]
)
def test_fy_labels_round_trip_for_unaligned_starts(start):
    quarters = [quarter_by_index(start, i) for i in range(12)]
    assert len({q.fy_label for q in quarters}) == 12
    for q in quarters:
        assert parse_quarter_label(start, q.fy_label) == q
        assert parse_quarter_label(start, q.fy_slug) == q


@pytest.mark.parametrize(
    "label", ["", "Q1", "Year one Q1", "2022 Q3", "22/23 Q3", "Y1", "2022/23", "Y1Q1 extra"]
)
def test_unreadable_labels_list_the_accepted_forms(label):
    with pytest.raises(ValueError, match="Could not read the quarter") as raised:
        parse_quarter_label(PSIS, label)
    message = str(raised.value)
    for form in ("Y1Q1", "Year 1 Q1", "2022/23 Q3", "2022-23-Q3"):
        assert form in message


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("Y0Q1", "Contract year must be 1 or more"),
        ("Y1Q5", "Quarter must be 1, 2, 3 or 4"),
        ("2022/23 Q5", "Quarter must be 1, 2, 3 or 4"),
        ("2022/24 Q1", "second year must follow the first"),
        ("2022/2024 Q1", "second year must follow the first"),
        ("2022/23 Q2", "before the contract starts on 1 October 2022"),
        ("2021-22-Q4", "before the contract starts"),
    ],
)
def test_readable_but_invalid_labels(label, message):
    with pytest.raises(ValueError, match=message):
        parse_quarter_label(PSIS, label)


@pytest.mark.parametrize(
    "label",
    [
        "Y999999999999999999999Q1",
        "Y99999Q1",
        "Y" + "9" * 5000 + "Q1",
        "Y1Q999999999999999999999",
        "Y\u0661Q1",
        "Y1Q\u0661",
        "\u0662\u0660\u0662\u0662/23 Q3",
        "Y-1Q1",
        "Y1Q-1",
        "Y1Q1\x00",
        "\x00",
        " ",
    ],
)
def test_any_other_string_is_a_value_error(label):
    """Huge numbers and non-ASCII digits are refused as ValueError, never OverflowError."""
    with pytest.raises(ValueError):
        parse_quarter_label(PSIS, label)


# --- financial year ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "label", "quarter"),
    [
        (date(2022, 3, 31), "2021/22", 4),
        (date(2022, 4, 1), "2022/23", 1),
        (date(2022, 6, 30), "2022/23", 1),
        (date(2022, 7, 1), "2022/23", 2),
        (date(2022, 9, 30), "2022/23", 2),
        (date(2022, 10, 1), "2022/23", 3),
        (date(2022, 12, 31), "2022/23", 3),
        (date(2023, 1, 1), "2022/23", 4),
        (date(2023, 3, 31), "2022/23", 4),
        (date(2023, 4, 1), "2023/24", 1),
        (date(2024, 1, 15), "2023/24", 4),
        (date(2024, 3, 31), "2023/24", 4),
        (date(2099, 12, 31), "2099/00", 3),
    ],
)
def test_financial_year(day, label, quarter):
    assert financial_year_label(day) == label
    assert financial_quarter(day) == quarter


# --- contract years and term ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "first", "last"),
    [
        (1, date(2022, 10, 1), date(2023, 9, 30)),
        (2, date(2023, 10, 1), date(2024, 9, 30)),
        (5, date(2026, 10, 1), date(2027, 9, 30)),
        (7, date(2028, 10, 1), date(2029, 9, 30)),
    ],
)
def test_contract_year_bounds(year, first, last):
    assert contract_year_bounds(PSIS, year) == (first, last)
    assert quarter_by_number(PSIS, year, 1).start == first
    assert quarter_by_number(PSIS, year, 4).end == last


def test_contract_year_zero_is_an_error():
    with pytest.raises(ValueError):
        contract_year_bounds(PSIS, 0)


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2022, 10, 1), 5, date(2027, 10, 1)),
        (date(2024, 2, 29), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2024, 2, 29), -1, date(2023, 2, 28)),
        (date(2023, 2, 28), 1, date(2024, 2, 28)),
        (date(2023, 3, 1), 1, date(2024, 3, 1)),
        (date(2022, 10, 1), 0, date(2022, 10, 1)),
    ],
)
def test_add_years(day, years, expected):
    assert add_years(day, years) == expected


def test_contract_years_starting_on_a_leap_day_stay_contiguous():
    start = date(2024, 2, 29)
    assert contract_year_bounds(start, 1) == (date(2024, 2, 29), date(2025, 2, 27))
    assert contract_year_bounds(start, 2) == (date(2025, 2, 28), date(2026, 2, 27))


@pytest.mark.parametrize(
    ("start", "years", "end"),
    [
        (PSIS, 5, date(2027, 9, 30)),
        (PSIS, 7, date(2029, 9, 30)),
        (date(2023, 1, 1), 1, date(2023, 12, 31)),
        (date(2023, 3, 1), 1, date(2024, 2, 29)),
    ],
)
def test_initial_term_end(start, years, end):
    assert initial_term_end(start, years) == end


@pytest.mark.parametrize(
    ("notice_months", "due"),
    [
        (0, date(2027, 9, 30)),
        (1, date(2027, 8, 31)),
        (3, date(2027, 6, 30)),
        (6, date(2027, 3, 31)),
        (7, date(2027, 2, 28)),
        (12, date(2026, 9, 30)),
    ],
)
def test_extension_decision_due(notice_months, due):
    assert extension_decision_due(PSIS, 5, notice_months) == due


def test_extension_decision_due_leaves_whole_months_before_a_month_end_term():
    # Term 1 Mar 2023 – 29 Feb 2024: 1 month's notice must be given by 31 Jan 2024.
    assert extension_decision_due(date(2023, 3, 1), 1, 1) == date(2024, 1, 31)


def test_extension_decision_negative_notice_is_an_error():
    with pytest.raises(ValueError):
        extension_decision_due(PSIS, 5, -1)


# --- working days and due dates ------------------------------------------------------------


def test_england_bank_holidays_come_from_the_holidays_package():
    days = england_bank_holidays([2022, 2023])
    assert isinstance(days, frozenset)
    for day in (
        date(2022, 12, 26),  # Boxing Day
        date(2022, 12, 27),  # Christmas Day (substitute)
        date(2023, 1, 2),  # New Year's Day (substitute)
        date(2023, 4, 7),  # Good Friday
        date(2023, 4, 10),  # Easter Monday
        date(2023, 5, 8),  # Coronation
    ):
        assert day in days
    assert date(2023, 3, 17) not in days  # St Patrick's Day is Northern Ireland only
    assert date(2023, 1, 3) not in days  # 2 January is a Scottish holiday


def test_england_bank_holidays_only_for_the_years_asked():
    days = england_bank_holidays([2023])
    assert all(day.year == 2023 for day in days)
    assert england_bank_holidays([]) == frozenset()


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2023, 1, 9), 1, date(2023, 1, 10)),  # Mon → Tue
        (date(2023, 1, 13), 1, date(2023, 1, 16)),  # Fri → Mon
        (date(2023, 1, 14), 1, date(2023, 1, 16)),  # Sat → Mon
        (date(2023, 1, 15), 1, date(2023, 1, 16)),  # Sun → Mon
        (date(2023, 1, 9), 5, date(2023, 1, 16)),
        (date(2022, 12, 23), 1, date(2022, 12, 28)),  # Christmas weekend, 26 and 27 Dec
        (date(2022, 12, 30), 1, date(2023, 1, 3)),  # New Year weekend, 2 Jan
        (date(2023, 4, 6), 1, date(2023, 4, 11)),  # Good Friday and Easter Monday
    ],
)
def test_add_working_days(day, n, expected):
    holidays = england_bank_holidays([2022, 2023])
    assert add_working_days(day, n, holidays) == expected


def test_add_working_days_uses_only_the_holidays_given():
    assert add_working_days(date(2022, 12, 23), 1, frozenset()) == date(2022, 12, 26)
    assert add_working_days(date(2023, 1, 9), 1, {date(2023, 1, 10)}) == date(2023, 1, 11)


@pytest.mark.parametrize("n", [0, -1])
def test_add_working_days_needs_at_least_one(n):
    with pytest.raises(ValueError):
        add_working_days(date(2023, 1, 9), n, frozenset())


@pytest.mark.parametrize(
    ("year", "quarter", "due"),
    [
        # Quarter ends Sat 31 Dec 2022; Mon 2 Jan 2023 is a bank holiday, so the 15 working days
        # are 3–6, 9–13, 16–20 and 23 January.
        (1, 1, date(2023, 1, 23)),
        # Ends Fri 31 Mar 2023; Good Friday 7 Apr and Easter Monday 10 Apr are skipped:
        # 3–6, 11–14, 17–21, 24–25 April.
        (1, 2, date(2023, 4, 25)),
        # Ends Fri 30 Jun 2023; no holidays: 3–7, 10–14, 17–21 July.
        (1, 3, date(2023, 7, 21)),
        # Ends Sat 30 Sep 2023: 2–6, 9–13, 16–20 October.
        (1, 4, date(2023, 10, 20)),
        # Ends Sun 31 Dec 2023; Mon 1 Jan 2024 is a bank holiday: 2–5, 8–12, 15–19, 22 January.
        (2, 1, date(2024, 1, 22)),
        # Ends Sun 31 Mar 2024; Easter Monday is 1 Apr 2024: 2–5, 8–12, 15–19, 22 April.
        (2, 2, date(2024, 4, 22)),
    ],
)
def test_due_date_default_fifteen_working_days(year, quarter, due):
    assert due_date(quarter_by_number(PSIS, year, quarter)) == due


def test_due_date_with_fewer_days_across_christmas():
    # A quarter ending Fri 23 Dec 2022: 24–27 Dec are weekend and bank holidays.
    q = Quarter(year=1, quarter=1, start=date(2022, 9, 24), end=date(2022, 12, 23))
    assert due_date(q, working_days=1) == date(2022, 12, 28)
    assert due_date(q, working_days=5) == date(2023, 1, 4)


def test_due_date_with_explicit_holidays():
    q = quarter_by_number(PSIS, 1, 1)
    assert due_date(q, holidays=frozenset()) == date(2023, 1, 20)
    assert due_date(q, working_days=10, holidays=frozenset()) == date(2023, 1, 13)
    assert due_date(q, working_days=10) == date(2023, 1, 16)


def test_due_date_with_many_working_days_still_knows_later_holidays():
    # 300 working days from 31 Dec 2022 lands in 2024, past 2023's and early 2024's holidays.
    q = quarter_by_number(PSIS, 1, 1)
    holidays = england_bank_holidays(range(2022, 2026))
    assert due_date(q, working_days=300) == add_working_days(q.end, 300, holidays)


# --- weeks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "weeks"),
    [
        (date(2022, 10, 1), date(2022, 12, 31), Decimal(92) / Decimal(7)),
        (date(2023, 1, 1), date(2023, 3, 31), Decimal(90) / Decimal(7)),
        (date(2024, 1, 1), date(2024, 3, 31), Decimal(13)),
        (date(2022, 10, 1), date(2023, 9, 30), Decimal(365) / Decimal(7)),
        (date(2023, 10, 1), date(2024, 9, 30), Decimal(366) / Decimal(7)),
        (date(2023, 1, 2), date(2023, 1, 8), Decimal(1)),
        (date(2023, 1, 2), date(2023, 1, 2), Decimal(1) / Decimal(7)),
    ],
)
def test_weeks_in(start, end, weeks):
    result = weeks_in(start, end)
    assert isinstance(result, Decimal)
    assert result == weeks


def test_weeks_in_backwards_is_an_error():
    with pytest.raises(ValueError):
        weeks_in(date(2023, 1, 2), date(2023, 1, 1))
