from decimal import Decimal

import pytest

from psis.targets import (
    TargetPeriod,
    annual_equivalent,
    explain_ytd,
    is_cumulative,
    quarter_target,
    to_decimal,
    ytd_target,
)

D = Decimal
Q1_WEEKS = D(92) / D(7)  # 1 Oct – 31 Dec 2022
YEAR_WEEKS = D(365) / D(7)  # 1 Oct 2022 – 30 Sep 2023


@pytest.mark.parametrize(
    ("target", "period", "expected"),
    [
        (D(5000), TargetPeriod.ANNUAL, D(1250)),
        (5000, TargetPeriod.ANNUAL, D(1250)),
        (D(365), TargetPeriod.ANNUAL, D("91.25")),
        (D(75000), TargetPeriod.QUARTERLY, D(75000)),
        (D(60), TargetPeriod.QUARTERLY, D(60)),
        (D(18), TargetPeriod.MONTHLY, D(54)),
        (D(1), TargetPeriod.MONTHLY, D(3)),
        (D(90), TargetPeriod.NONE, D(90)),
        (D("6.5"), TargetPeriod.NONE, D("6.5")),
        (D(0), TargetPeriod.ANNUAL, D(0)),
    ],
)
def test_quarter_target(target, period, expected):
    result = quarter_target(target, period)
    assert isinstance(result, Decimal)
    assert result == expected


def test_quarter_target_weekly_uses_weeks_in_the_quarter():
    result = quarter_target(D(310), TargetPeriod.WEEKLY, weeks=Q1_WEEKS)
    assert result == D(310) * Q1_WEEKS
    assert result.quantize(D("0.01")) == D("4074.29")
    assert quarter_target(D(310), TargetPeriod.WEEKLY, weeks=13) == D(4030)


def test_quarter_target_weekly_without_weeks_is_an_error():
    with pytest.raises(ValueError, match="weeks"):
        quarter_target(D(310), TargetPeriod.WEEKLY)


def test_quarter_target_ignores_weeks_for_other_periods():
    assert quarter_target(D(5000), TargetPeriod.ANNUAL, weeks=Q1_WEEKS) == D(1250)


@pytest.mark.parametrize("period", list(TargetPeriod))
def test_quarter_target_unstated_or_missing_target_is_none(period):
    assert quarter_target(None, period, weeks=Q1_WEEKS) is None
    assert quarter_target(D(5), TargetPeriod.UNSTATED) is None


@pytest.mark.parametrize(
    ("period", "target", "by_quarter"),
    [
        (TargetPeriod.ANNUAL, D(5000), [D(1250), D(2500), D(3750), D(5000)]),
        (TargetPeriod.ANNUAL, D(150), [D("37.5"), D(75), D("112.5"), D(150)]),
        (TargetPeriod.ANNUAL, D(1), [D("0.25"), D("0.5"), D("0.75"), D(1)]),
        (TargetPeriod.QUARTERLY, D(75000), [D(75000), D(150000), D(225000), D(300000)]),
        (TargetPeriod.MONTHLY, D(18), [D(54), D(108), D(162), D(216)]),
        (TargetPeriod.NONE, D(90), [D(90), D(90), D(90), D(90)]),
    ],
)
def test_ytd_target_every_quarter(period, target, by_quarter):
    for quarters, expected in enumerate(by_quarter, start=1):
        assert ytd_target(target, period, quarters=quarters) == expected


@pytest.mark.parametrize("quarters", [1, 2, 3, 4])
def test_ytd_target_unstated_is_none(quarters):
    assert ytd_target(D(5000), TargetPeriod.UNSTATED, quarters=quarters) is None
    assert ytd_target(None, TargetPeriod.ANNUAL, quarters=quarters) is None


@pytest.mark.parametrize(
    ("quarters", "days"),
    [(1, 92), (2, 182), (3, 273), (4, 365)],  # 1 Oct 2022 to the end of each quarter
)
def test_ytd_target_weekly_uses_weeks_from_the_start_of_the_year(quarters, days):
    weeks = D(days) / D(7)
    assert ytd_target(D(310), TargetPeriod.WEEKLY, quarters=quarters, weeks=weeks) == D(310) * weeks


def test_ytd_target_weekly_for_q1_equals_the_quarter_target():
    assert ytd_target(D(310), TargetPeriod.WEEKLY, quarters=1, weeks=Q1_WEEKS) == quarter_target(
        D(310), TargetPeriod.WEEKLY, weeks=Q1_WEEKS
    )


def test_ytd_target_weekly_without_weeks_is_an_error():
    with pytest.raises(ValueError, match="weeks"):
        ytd_target(D(310), TargetPeriod.WEEKLY, quarters=2)


@pytest.mark.parametrize("quarters", [0, 5, -1])
@pytest.mark.parametrize("period", list(TargetPeriod))
def test_ytd_target_quarters_out_of_range(period, quarters):
    with pytest.raises(ValueError, match="1, 2, 3 or 4"):
        ytd_target(D(100), period, quarters=quarters, weeks=D(1))


@pytest.mark.parametrize("period", [p for p in TargetPeriod if p != TargetPeriod.WEEKLY])
def test_ytd_target_q1_matches_quarter_target(period):
    assert ytd_target(D(4000), period, quarters=1) == quarter_target(D(4000), period)


@pytest.mark.parametrize(
    ("target", "period", "expected"),
    [
        (D(5000), TargetPeriod.ANNUAL, D(5000)),
        (D(75000), TargetPeriod.QUARTERLY, D(300000)),
        (D(18), TargetPeriod.MONTHLY, D(216)),
        (D(90), TargetPeriod.NONE, D(90)),
        (D(90), TargetPeriod.UNSTATED, None),
        (None, TargetPeriod.ANNUAL, None),
    ],
)
def test_annual_equivalent(target, period, expected):
    assert annual_equivalent(target, period) == expected


def test_annual_equivalent_weekly():
    assert annual_equivalent(D(310), TargetPeriod.WEEKLY, weeks_in_year=YEAR_WEEKS) == (
        D(310) * YEAR_WEEKS
    )
    assert annual_equivalent(D(310), TargetPeriod.WEEKLY, weeks_in_year=52) == D(16120)
    with pytest.raises(ValueError, match="weeks"):
        annual_equivalent(D(310), TargetPeriod.WEEKLY)


@pytest.mark.parametrize(
    ("period", "cumulative"),
    [
        (TargetPeriod.ANNUAL, True),
        (TargetPeriod.QUARTERLY, True),
        (TargetPeriod.MONTHLY, True),
        (TargetPeriod.WEEKLY, True),
        (TargetPeriod.NONE, False),
        (TargetPeriod.UNSTATED, False),
    ],
)
def test_is_cumulative(period, cumulative):
    assert is_cumulative(period) is cumulative


def test_target_period_values():
    assert [p.value for p in TargetPeriod] == [
        "annual",
        "quarterly",
        "monthly",
        "weekly",
        "none",
        "unstated",
    ]
    assert TargetPeriod("annual") is TargetPeriod.ANNUAL


@pytest.mark.parametrize(
    ("target", "period", "quarters", "text"),
    [
        (D(5000), TargetPeriod.ANNUAL, 3, "annual 5,000 × 3/4"),
        (D(5000), TargetPeriod.ANNUAL, 4, "annual 5,000 × 4/4"),
        (5000, TargetPeriod.ANNUAL, 1, "annual 5,000 × 1/4"),
        (D("5000.0"), TargetPeriod.ANNUAL, 2, "annual 5,000 × 2/4"),
        (D(75000), TargetPeriod.QUARTERLY, 1, "quarterly 75,000 × 1 quarter"),
        (D(75000), TargetPeriod.QUARTERLY, 2, "quarterly 75,000 × 2 quarters"),
        (D(18), TargetPeriod.MONTHLY, 3, "monthly 18 × 9 months"),
        (D(90), TargetPeriod.NONE, 2, "90 (not pro-rated)"),
        (D("6.50"), TargetPeriod.NONE, 2, "6.5 (not pro-rated)"),
        (D(90), TargetPeriod.UNSTATED, 2, "no target stated"),
        (None, TargetPeriod.ANNUAL, 2, "no target stated"),
        (D(310), TargetPeriod.WEEKLY, 1, "weekly 310 × weeks to date"),
    ],
)
def test_explain_ytd(target, period, quarters, text):
    assert explain_ytd(target, period, quarters) == text


def test_explain_ytd_weekly_with_weeks():
    assert explain_ytd(D(310), TargetPeriod.WEEKLY, 1, weeks=Q1_WEEKS) == (
        "weekly 310 × 13.14 weeks"
    )
    assert explain_ytd(D(310), TargetPeriod.WEEKLY, 1, weeks=13) == "weekly 310 × 13 weeks"


@pytest.mark.parametrize("quarters", [0, 5])
def test_explain_ytd_quarters_out_of_range(quarters):
    with pytest.raises(ValueError):
        explain_ytd(D(5000), TargetPeriod.ANNUAL, quarters)


@pytest.mark.parametrize("bad", [1.5, "5000", True])
def test_floats_strings_and_bools_are_refused(bad):
    with pytest.raises(TypeError):
        to_decimal(bad)
    with pytest.raises(TypeError):
        quarter_target(bad, TargetPeriod.ANNUAL)


def test_nan_is_refused():
    with pytest.raises(ValueError):
        to_decimal(D("NaN"))
