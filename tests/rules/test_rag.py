from decimal import Decimal

import pytest

from psis.rag import (
    DEFAULT_TOLERANCE,
    Basis,
    Direction,
    Judgement,
    Polarity,
    Rag,
    Trend,
    basis,
    direction,
    forecast,
    judge,
    judge_months,
    percent_of_target,
    ratio,
    run_rate_needed,
    trend,
    trend_shown,
)

D = Decimal
HIGHER = Polarity.HIGHER
LOWER = Polarity.LOWER
INFINITY = D("Infinity")


# --- enums ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rag", "word", "is_exception"),
    [
        (Rag.GREEN, "Green", False),
        (Rag.AMBER, "Amber", True),
        (Rag.RED, "Red", True),
        (Rag.MISSING, "Missing", True),
        (Rag.NO_TARGET, "No target", False),
        (Rag.NOT_DUE, "Not due", False),
        (Rag.EVIDENCE, "Evidence", False),
    ],
)
def test_rag_words_and_exceptions(rag, word, is_exception):
    assert rag.word == word
    assert rag.is_exception is is_exception
    assert Rag(rag.value) is rag


@pytest.mark.parametrize(
    ("value", "arrow"),
    [(Direction.ROSE, "↑"), (Direction.SAME, "→"), (Direction.FELL, "↓"), (Direction.NONE, "")],
)
def test_direction_arrows(value, arrow):
    assert value.arrow == arrow


@pytest.mark.parametrize(
    ("value", "word"),
    [
        (Trend.BETTER, "Better"),
        (Trend.SAME, "Same"),
        (Trend.WORSE, "Worse"),
        (Trend.NONE, "No trend"),
    ],
)
def test_trend_words(value, word):
    assert value.word == word


def test_enum_values_are_stable():
    assert [p.value for p in Polarity] == ["higher", "lower"]
    assert [r.value for r in Rag] == [
        "green",
        "amber",
        "red",
        "missing",
        "no_target",
        "not_due",
        "evidence",
    ]
    assert [t.value for t in Trend] == ["better", "same", "worse", "none"]
    assert D("0.10") == DEFAULT_TOLERANCE


# --- thresholds, higher is better ----------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "expected", "rag", "value"),
    [
        (D(1251), D(1250), Rag.GREEN, D("1.0008")),
        (D(1250), D(1250), Rag.GREEN, D(1)),
        (D("1249.875"), D(1250), Rag.AMBER, D("0.9999")),
        (D(1125), D(1250), Rag.AMBER, D("0.9")),
        (D("1124.875"), D(1250), Rag.RED, D("0.8999")),
        (D(0), D(1250), Rag.RED, D(0)),
        (1250, 1250, Rag.GREEN, D(1)),
        (D(90), D(90), Rag.GREEN, D(1)),  # a percentage threshold
        (D("89.99"), D(90), Rag.AMBER, D("0.9998888888888888888888888889")),
        (D(81), D(90), Rag.AMBER, D("0.9")),
        (D("80.99"), D(90), Rag.RED, D("0.8998888888888888888888888889")),
    ],
)
def test_judge_higher_both_sides_of_each_threshold(actual, expected, rag, value):
    judgement = judge(actual, expected)
    assert judgement.rag is rag
    assert judgement.ratio == value
    assert judgement.polarity is HIGHER
    assert judgement.tolerance == D("0.10")


def test_judge_keeps_its_inputs_as_decimals():
    judgement = judge(1130, 1250)
    assert judgement == Judgement(
        rag=Rag.AMBER,
        ratio=D("0.904"),
        actual=D(1130),
        expected=D(1250),
        tolerance=D("0.10"),
        polarity=HIGHER,
        explanation="1,130 against target 1,250: 90% → Amber (tolerance 10%)",
    )
    assert isinstance(judgement.actual, Decimal)


def test_judgement_is_frozen():
    judgement = judge(D(1), D(1))
    with pytest.raises(AttributeError):
        judgement.rag = Rag.RED  # type: ignore[misc]


@pytest.mark.parametrize(
    ("actual", "expected", "explanation"),
    [
        (D(1250), D(1250), "1,250 against target 1,250: 100% → Green (tolerance 10%)"),
        (D(6000), D(5000), "6,000 against target 5,000: 120% → Green (tolerance 10%)"),
        (D(1000), D(3750), "1,000 against target 3,750: 26% → Red (tolerance 10%)"),
        # Percentages round down to a whole per cent, so a shortfall never shows as 100%.
        (D("1249.875"), D(1250), "1,249.88 against target 1,250: 99% → Amber (tolerance 10%)"),
    ],
)
def test_judge_explanations(actual, expected, explanation):
    assert judge(actual, expected).explanation == explanation


def test_judge_explanation_with_units():
    money = judge(D(70000), D(75000), unit="£")
    assert money.explanation == "£70,000 against target £75,000: 93% → Amber (tolerance 10%)"
    hours = judge(D(4100), D(4030), unit="hours")
    assert hours.explanation == (
        "4,100 hours against target 4,030 hours: 101% → Green (tolerance 10%)"
    )


# --- thresholds, lower is better -----------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "maximum", "rag"),
    [
        (D(9), D(10), Rag.GREEN),
        (D(10), D(10), Rag.GREEN),
        (D("10.001"), D(10), Rag.AMBER),  # 10 / 10.001 = 0.9999
        (D("11.11"), D(10), Rag.AMBER),  # 10 / 11.11 = 0.90009
        (D("11.12"), D(10), Rag.RED),  # 10 / 11.12 = 0.89928
        (D(10), D(9), Rag.AMBER),  # 9 / 10 = 0.9 exactly
        (D("10.0001"), D(9), Rag.RED),  # 9 / 10.0001 = 0.89999
        (D(12), D(10), Rag.RED),
    ],
)
def test_judge_lower_both_sides_of_each_threshold(actual, maximum, rag):
    assert judge(actual, maximum, polarity=LOWER).rag is rag


def test_judge_lower_ratios():
    assert judge(D(10), D(9), polarity=LOWER).ratio == D("0.9")
    assert judge(D(10), D(10), polarity=LOWER).ratio == D(1)
    assert judge(D(8), D(10), polarity=LOWER).ratio == D("1.25")


def test_judge_lower_explanation():
    judgement = judge(D(12), D(10), polarity=LOWER, unit="%")
    assert judgement.explanation == "12% against maximum 10%: 83% → Red (tolerance 10%)"
    assert judge(D(9), D(10), polarity=LOWER, unit="%").explanation == (
        "9% against maximum 10%: 111% → Green (tolerance 10%)"
    )


# --- custom tolerance ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "tolerance", "rag"),
    [
        (D(100), D("0.05"), Rag.GREEN),
        (D("99.99"), D("0.05"), Rag.AMBER),
        (D(95), D("0.05"), Rag.AMBER),
        (D("94.99"), D("0.05"), Rag.RED),
        (D(100), D(0), Rag.GREEN),
        (D("99.99"), D(0), Rag.RED),
        (D(0), D(1), Rag.AMBER),
        (D(-1), D(1), Rag.RED),
        (D(90), D("0.10"), Rag.AMBER),
        (D("89.99"), D("0.10"), Rag.RED),
    ],
)
def test_judge_custom_tolerance(actual, tolerance, rag):
    assert judge(actual, D(100), tolerance=tolerance).rag is rag


@pytest.mark.parametrize(
    ("actual", "tolerance", "rag"),
    [
        (D("105.26"), D("0.05"), Rag.AMBER),  # 100 / 105.26 = 0.95002
        (D("105.27"), D("0.05"), Rag.RED),  # 100 / 105.27 = 0.94994
        (D("100.01"), D(0), Rag.RED),
    ],
)
def test_judge_lower_custom_tolerance(actual, tolerance, rag):
    assert judge(actual, D(100), polarity=LOWER, tolerance=tolerance).rag is rag


def test_percent_at_the_amber_red_boundary_is_shown_truthfully():
    assert "89% → Red" in judge(D("89.99"), D(100)).explanation
    assert "90% → Amber" in judge(D(90), D(100)).explanation


def test_tolerance_shown_in_explanation():
    assert judge(D(95), D(100), tolerance=D("0.05")).explanation.endswith("(tolerance 5%)")
    assert judge(D(95), D(100), tolerance=D("0.025")).explanation.endswith("(tolerance 2.5%)")
    assert judge(D(95), D(100), tolerance=0).explanation.endswith("(tolerance 0%)")


@pytest.mark.parametrize("tolerance", [D("-0.01"), D("1.01"), D(10)])
def test_tolerance_out_of_range(tolerance):
    with pytest.raises(ValueError, match="Tolerance"):
        judge(D(1), D(1), tolerance=tolerance)


def test_float_tolerance_is_refused():
    with pytest.raises(TypeError):
        judge(D(1), D(1), tolerance=0.1)  # type: ignore[arg-type]


# --- not due, no target, missing -----------------------------------------------------------


def test_not_due_comes_first():
    for actual in (None, D(5)):
        for expected in (None, D(10)):
            judgement = judge(actual, expected, due=False)
            assert judgement.rag is Rag.NOT_DUE
            assert judgement.ratio is None
    assert judge(None, D(10), due=False).explanation == "Not due for this period"


def test_no_target():
    assert judge(D(40), None).rag is Rag.NO_TARGET
    assert judge(D(40), D(50), has_target=False).rag is Rag.NO_TARGET
    assert judge(None, None).rag is Rag.NO_TARGET
    judgement = judge(D(1234), None)
    assert judgement.ratio is None
    assert judgement.explanation == "1,234 reported; no target set, so not rated"
    assert judge(None, None).explanation == "No target set, so not rated"


def test_missing_when_due_and_not_reported():
    judgement = judge(None, D(1250))
    assert judgement.rag is Rag.MISSING
    assert judgement.rag.is_exception
    assert judgement.ratio is None
    assert judgement.actual is None
    assert judgement.explanation == "Due but not reported (target 1,250) → Missing"
    assert judge(None, D(10), polarity=LOWER, unit="%").explanation == (
        "Due but not reported (maximum 10%) → Missing"
    )


# --- zero and edge figures -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "expected", "polarity", "value"),
    [
        (D(0), D(0), HIGHER, D(1)),
        (D(5), D(0), HIGHER, D(1)),
        (D(-1), D(0), HIGHER, D(0)),
        (D(0), D(10), LOWER, INFINITY),
        (D(0), D(0), LOWER, D(1)),
        (D(1), D(0), LOWER, D(0)),
        (D(-1), D(10), LOWER, INFINITY),
        (None, D(10), HIGHER, None),
        (D(10), None, LOWER, None),
    ],
)
def test_ratio_edge_cases(actual, expected, polarity, value):
    assert ratio(actual, expected, polarity) == value


def test_zero_expected_is_met_by_anything_not_negative():
    assert judge(D(0), D(0)).rag is Rag.GREEN
    assert judge(D(3), D(0)).rag is Rag.GREEN
    assert judge(D(-1), D(0)).rag is Rag.RED


def test_lower_polarity_zero_actual_is_green():
    judgement = judge(D(0), D(10), polarity=LOWER, unit="%")
    assert judgement.rag is Rag.GREEN
    assert judgement.ratio == INFINITY
    assert judgement.explanation == (
        "0% against maximum 10%: within the maximum → Green (tolerance 10%)"
    )
    assert judge(D(0), D(0), polarity=LOWER).rag is Rag.GREEN
    assert judge(D(1), D(0), polarity=LOWER).rag is Rag.RED


def test_negative_target_is_an_error():
    with pytest.raises(ValueError, match="negative"):
        ratio(D(1), D(-1), HIGHER)
    with pytest.raises(ValueError, match="negative"):
        judge(D(1), D(-1), polarity=LOWER)


@pytest.mark.parametrize(
    ("actual", "expected", "polarity", "percent"),
    [
        (D(1130), D(1250), HIGHER, D("90.4")),
        (D(1250), D(1250), HIGHER, D(100)),
        (D(8), D(10), LOWER, D(125)),
        (D(0), D(10), LOWER, None),
        (None, D(10), HIGHER, None),
        (D(10), None, HIGHER, None),
    ],
)
def test_percent_of_target(actual, expected, polarity, percent):
    assert percent_of_target(actual, expected, polarity) == percent


# --- month by month ------------------------------------------------------------------------


def test_judge_months_all_met():
    judgement = judge_months([D(20), D(18), D(25)], D(18))
    assert judgement.rag is Rag.GREEN
    assert judgement.ratio == D(1)
    assert judgement.actual == D(18)
    assert judgement.expected == D(18)
    assert judgement.explanation == "20, 18, 25: 3 of 3 months met the monthly target of 18 → Green"


def test_judge_months_one_amber_month():
    judgement = judge_months([20, 17, 18], 18)
    assert judgement.rag is Rag.AMBER
    assert judgement.actual == D(17)
    assert judgement.ratio == D(17) / D(18)
    assert judgement.explanation == (
        "20, 17, 18: 2 of 3 months met the monthly target of 18; lowest 17 (94%) → Amber "
        "(tolerance 10%)"
    )


def test_judge_months_worst_month_decides():
    assert judge_months([D(20), D(17), D(16)], D(18)).rag is Rag.RED
    assert judge_months([D(16), D(17), D(20)], D(18)).actual == D(16)
    # 18 × 0.9 = 16.2: both sides of the amber threshold in a single month.
    assert judge_months([D("16.2"), D(30), D(30)], D(18)).rag is Rag.AMBER
    assert judge_months([D("16.19"), D(30), D(30)], D(18)).rag is Rag.RED


def test_judge_months_one_missing():
    judgement = judge_months([D(20), None, D(25)], D(18))
    assert judgement.rag is Rag.MISSING
    assert judgement.ratio is None
    assert judgement.explanation == ("1 of 3 months not reported (monthly target of 18) → Missing")
    assert judge_months([None, None, None], D(18)).rag is Rag.MISSING


def test_judge_months_missing_beats_red():
    assert judge_months([D(0), None, D(0)], D(18)).rag is Rag.MISSING


def test_judge_months_lower_polarity():
    judgement = judge_months([D(8), D(11), D(10)], D(10), polarity=LOWER)
    assert judgement.rag is Rag.AMBER
    assert judgement.actual == D(11)
    assert judgement.explanation == (
        "8, 11, 10: 2 of 3 months met the monthly maximum of 10; highest 11 (90%) → Amber "
        "(tolerance 10%)"
    )


def test_judge_months_custom_tolerance():
    assert judge_months([D(18), D(17), D(18)], D(18), tolerance=D(0)).rag is Rag.RED
    assert judge_months([D(18), D(18), D(18)], D(18), tolerance=D(0)).rag is Rag.GREEN


def test_judge_months_not_due_and_no_target():
    assert judge_months([None, None, None], D(18), due=False).rag is Rag.NOT_DUE
    assert judge_months([D(1), D(2), D(3)], None).rag is Rag.NO_TARGET


def test_judge_months_needs_months():
    with pytest.raises(ValueError):
        judge_months([], D(18))


# --- trend ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "previous", "polarity", "expected"),
    [
        (D(120), D(100), HIGHER, Trend.BETTER),
        (D(100), D(100), HIGHER, Trend.SAME),
        (D("99.9"), D(100), HIGHER, Trend.WORSE),
        (D(12), D(10), LOWER, Trend.WORSE),
        (D(10), D(10), LOWER, Trend.SAME),
        (D(8), D(10), LOWER, Trend.BETTER),
        (D("100.00"), 100, HIGHER, Trend.SAME),
        (None, D(10), HIGHER, Trend.NONE),
        (D(10), None, LOWER, Trend.NONE),
        (None, None, HIGHER, Trend.NONE),
    ],
)
def test_trend(current, previous, polarity, expected):
    assert trend(current, previous, polarity) is expected


@pytest.mark.parametrize(
    ("current", "previous", "polarity", "shown"),
    [
        # The arrow is the value's direction; the word is better or worse given the polarity.
        (D(11), D(10), HIGHER, "↑ Better"),
        (D(10), D(10), HIGHER, "→ Same"),
        (D(9), D(10), HIGHER, "↓ Worse"),
        (D(11), D(10), LOWER, "↑ Worse"),
        (D(10), D(10), LOWER, "→ Same"),
        (D(9), D(10), LOWER, "↓ Better"),
        (D("10.01"), D(10), LOWER, "↑ Worse"),
        (D("9.99"), D(10), LOWER, "↓ Better"),
        (None, D(10), LOWER, ""),
        (D(10), None, HIGHER, ""),
    ],
)
def test_trend_shown_arrow_is_direction_word_is_polarity(current, previous, polarity, shown):
    moved = direction(current, previous)
    assert trend_shown(moved, trend(current, previous, polarity)) == shown


def test_lower_polarity_falling_figure_points_down_and_reads_better():
    assert direction(D(5), D(10)) is Direction.FELL
    assert trend(D(5), D(10), LOWER) is Trend.BETTER
    assert trend(D(5), D(10), HIGHER) is Trend.WORSE


# --- forecast and run rate -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("ytd", "quarters", "expected"),
    [
        (D(1130), 1, D(4520)),
        (D(2500), 2, D(5000)),
        (D(3750), 3, D(5000)),
        (D(1000), 3, D(4000) / D(3)),
        (D(4800), 4, D(4800)),
        (0, 2, D(0)),
    ],
)
def test_forecast(ytd, quarters, expected):
    assert forecast(ytd, quarters) == expected


@pytest.mark.parametrize(
    ("annual", "ytd", "quarters", "expected"),
    [
        (D(5000), D(1130), 1, D(1290)),
        (D(5000), D(2000), 2, D(1500)),
        (D(5000), D(3000), 3, D(2000)),
        (D(5000), D(5000), 3, D(0)),
        (D(5000), D(6000), 2, D(0)),
        (D(5000), D(1000), 4, None),
        (D(5000), D(6000), 4, None),
        (D(365), D(100), 2, D("132.5")),
    ],
)
def test_run_rate_needed(annual, ytd, quarters, expected):
    assert run_rate_needed(annual, ytd, quarters) == expected


@pytest.mark.parametrize("quarters", [0, 5])
def test_forecast_and_run_rate_need_quarters_1_to_4(quarters):
    with pytest.raises(ValueError):
        forecast(D(100), quarters)
    with pytest.raises(ValueError):
        run_rate_needed(D(100), D(50), quarters)


# --- what the headline is judged on ----------------------------------------------------------

QUARTERLY_COUNT = {
    "measure": "count",
    "frequency": "quarterly",
    "target_period": "quarterly",
    "rated": True,
    "asks_each_month": False,
    "has_total": False,
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # evidence is rated by the commissioner, whatever else is said of it
        ({"measure": "evidence"}, Basis.RATING),
        ({"measure": "evidence", "rated": False, "frequency": "annual"}, Basis.RATING),
        # no rule-set target: not rated, even when reported annually
        ({"rated": False}, Basis.NONE),
        ({"rated": False, "frequency": "annual", "target_period": "annual"}, Basis.NONE),
        # reported annually: the year, even for a percentage
        ({"frequency": "annual"}, Basis.YEAR),
        ({"frequency": "annual", "measure": "percentage", "target_period": "none"}, Basis.YEAR),
        # a rate or an average: the year to date, whatever the target period
        ({"measure": "percentage", "target_period": "none"}, Basis.YEAR_TO_DATE),
        ({"measure": "average", "target_period": "quarterly"}, Basis.YEAR_TO_DATE),
        # a target per year or per week: the year to date
        ({"target_period": "annual"}, Basis.YEAR_TO_DATE),
        ({"target_period": "weekly"}, Basis.YEAR_TO_DATE),
        ({"measure": "money", "target_period": "annual"}, Basis.YEAR_TO_DATE),
        # a monthly minimum asked month by month: each month
        ({"target_period": "monthly", "asks_each_month": True}, Basis.EACH_MONTH),
        # a breakdown with a monthly minimum and no total: each category
        ({"measure": "breakdown", "target_period": "monthly"}, Basis.EACH_CATEGORY),
        # ... but with a total, or not a breakdown, or not asked each month: the quarter
        ({"measure": "breakdown", "target_period": "monthly", "has_total": True}, Basis.QUARTER),
        ({"target_period": "monthly"}, Basis.QUARTER),
        # a quarterly target on a count, money or breakdown: the year to date (quarter beside it)
        ({}, Basis.YEAR_TO_DATE),
        ({"measure": "money"}, Basis.YEAR_TO_DATE),
        ({"measure": "breakdown", "target_period": "quarterly"}, Basis.YEAR_TO_DATE),
        # a level not pro-rated: the quarter
        ({"target_period": "none"}, Basis.QUARTER),
        # an administrator's choice: "a minimum of N each quarter" is set to the quarter
        ({"judged_on": "quarter"}, Basis.QUARTER),
        ({"judged_on": "quarter", "measure": "money"}, Basis.QUARTER),
        ({"judged_on": "quarter", "measure": "percentage"}, Basis.QUARTER),
        ({"judged_on": "ytd", "target_period": "none"}, Basis.YEAR_TO_DATE),
        (
            {"judged_on": "ytd", "target_period": "monthly", "asks_each_month": True},
            Basis.YEAR_TO_DATE,
        ),
        (
            {"judged_on": "months", "target_period": "monthly", "asks_each_month": True},
            Basis.EACH_MONTH,
        ),
        # ... each month only where the return asks for each month: else automatic
        ({"judged_on": "months"}, Basis.YEAR_TO_DATE),
        ({"judged_on": "auto"}, Basis.YEAR_TO_DATE),
        # ... but never over evidence, no target, or an annual return
        ({"judged_on": "quarter", "measure": "evidence"}, Basis.RATING),
        ({"judged_on": "quarter", "rated": False}, Basis.NONE),
        ({"judged_on": "quarter", "frequency": "annual"}, Basis.YEAR),
    ],
)
def test_basis_at_each_branch(changes, expected):
    assert basis(**(QUARTERLY_COUNT | changes)) is expected


def test_basis_values_and_labels():
    assert [b.value for b in Basis] == [
        "ytd",
        "quarter",
        "months",
        "categories",
        "year",
        "rating",
        "none",
    ]
    assert Basis.YEAR_TO_DATE.label == "Year to date"
    assert all(b.label for b in Basis)
