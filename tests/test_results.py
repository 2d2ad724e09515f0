"""The performance results service: every RAG rule as the service applies it, YTD arithmetic by
shape, forecast and run-rate, month-by-month judgement, overrides, downloads and query counts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from demo.overrides import seed_demo_overrides
from kpis.models import Kpi, KpiCategory, KpiTarget
from performance import results, services
from performance.models import RagOverride
from psis.rag import Basis, Rag, Trend
from reports.models import BreakdownFigure, Figure
from tests.builders import LATER, fig, period, ret

D = Decimal


def kpi(pathway, code, measure="count", target=None, period="annual", **extra):
    made = Kpi.objects.create(
        pathway=pathway,
        code=code,
        section="Test",
        description=extra.pop("description", f"KPI {code}"),
        measure=measure,
        target_status=extra.pop("target_status", "set" if target is not None else "none"),
        target_period=extra.pop("target_period", period if target is not None else "none"),
        **extra,
    )
    if target is not None:
        KpiTarget.objects.create(kpi=made, from_year=1, value=D(target))
    return made


def result(cast, code_or_kpi, year, quarter, today=LATER):
    k = cast.kpis[code_or_kpi] if isinstance(code_or_kpi, str) else code_or_kpi
    res = results.contract_results(cast.contract, period(cast, year, quarter), today=today)
    return next(r for r in res.results if r.kpi.pk == k.pk)


# --- RAG thresholds, both sides, as the service applies them -------------------------------------


@pytest.mark.parametrize(
    ("ytd", "rag"),
    [
        (1250, Rag.GREEN),  # ratio 1.0
        (1249, Rag.AMBER),  # just under
        (1125, Rag.AMBER),  # 0.9 exactly: the tolerance's edge
        (1124, Rag.RED),  # just under the tolerance
    ],
)
def test_annual_count_is_judged_ytd_against_pro_rata_target(cast, ytd, rag):
    fig(cast, "SPA-01", 1, 1, value=D(ytd))
    r = result(cast, "SPA-01", 1, 1)
    assert r.rag == rag
    assert r.ytd_target == D(1250)
    assert r.quarter_target == D(1250)
    assert r.annual_target == D(5000)


def _shape(cast, shape):
    """A KPI of SPA in one of the shapes, and the figure fields that report ``value``."""
    match shape:
        case "money quarterly":
            return cast.kpis["SPA-02"], lambda v: {"value": v}
        case "percentage":
            k = kpi(cast.spa, "SPA-80", "percentage", target=90, period="none")
            return k, lambda v: {"numerator": int(v * 10), "denominator": 1000}
        case "average":
            k = kpi(cast.spa, "SPA-81", "average", target=6, period="none")
            return k, lambda v: {"value": v, "cases": 10}
        case "weekly":
            return kpi(cast.spa, "SPA-82", target=10, period="weekly"), lambda v: {"value": v}
        case "annual frequency":
            k = kpi(cast.spa, "SPA-83", target=365, frequency="annual")
            return k, lambda v: {"value": v}


@pytest.mark.parametrize(
    ("shape", "quarter", "value", "rag"),
    [
        ("money quarterly", 1, D(75000), Rag.GREEN),
        ("money quarterly", 1, D("74999.99"), Rag.AMBER),
        ("money quarterly", 1, D(67500), Rag.AMBER),
        ("money quarterly", 1, D("67499.99"), Rag.RED),
        ("percentage", 1, D(90), Rag.GREEN),
        ("percentage", 1, D("89.9"), Rag.AMBER),
        ("percentage", 1, D(81), Rag.AMBER),
        ("percentage", 1, D("80.9"), Rag.RED),
        ("average", 1, D(6), Rag.GREEN),
        ("average", 1, D("5.99"), Rag.AMBER),
        ("average", 1, D("5.4"), Rag.AMBER),
        ("average", 1, D("5.39"), Rag.RED),
        # 10 a week × 92 days / 7 = 131.43 in Year 1 Q1; 90% of it is 118.29
        ("weekly", 1, D(132), Rag.GREEN),
        ("weekly", 1, D(131), Rag.AMBER),
        ("weekly", 1, D(119), Rag.AMBER),
        ("weekly", 1, D(118), Rag.RED),
        ("annual frequency", 4, D(365), Rag.GREEN),
        ("annual frequency", 4, D(364), Rag.AMBER),
        ("annual frequency", 4, D("328.5"), Rag.AMBER),
        ("annual frequency", 4, D(328), Rag.RED),
    ],
)
def test_every_shape_at_both_sides_of_each_threshold(cast, shape, quarter, value, rag):
    k, fields = _shape(cast, shape)
    fig(cast, k, 1, quarter, **fields(value))
    r = result(cast, k, 1, quarter)
    assert r.rag == rag, r.explanation


def test_explanation_states_the_rule_and_the_numbers(cast):
    fig(cast, "SPA-01", 1, 1, value=D(1130))
    r = result(cast, "SPA-01", 1, 1)
    assert r.explanation.startswith(
        "YTD 1,130 against pro-rata target 1,250 (annual 5,000 × 3/12): 90% → Amber, tolerance 10%"
    )
    assert r.percent_of_target == D("90.4")
    assert r.percent_shown == "90%"
    assert r.rag_source == "rule"


def test_headline_is_ytd_and_the_quarter_is_shown_beside_it(cast):
    fig(cast, "SPA-01", 1, 1, value=D(2000))
    fig(cast, "SPA-01", 1, 2, value=D(600))  # quarter alone: 48% of 1,250
    r = result(cast, "SPA-01", 1, 2)
    assert r.actual == D(600)
    assert r.ytd_actual == D(2600)
    assert r.ytd_target == D(2500)
    assert r.rag == Rag.GREEN  # year to date
    assert r.quarter_rag == Rag.RED  # the quarter alone
    assert "Quarter 600 against target 1,250: 48% → Red" in r.quarter_explanation


def test_ytd_restarts_each_contract_year(cast):
    for q in (1, 2, 3, 4):
        fig(cast, "SPA-01", 1, q, value=D(1300))
    fig(cast, "SPA-01", 2, 1, value=D(1000))
    r = result(cast, "SPA-01", 2, 1)
    assert r.ytd_actual == D(1000)
    assert r.rag == Rag.RED


def test_target_in_force_for_the_contract_year(cast):
    KpiTarget.objects.create(kpi=cast.kpis["SPA-01"], from_year=2, value=D(6000))
    fig(cast, "SPA-01", 2, 1, value=D(1400))
    r = result(cast, "SPA-01", 2, 1)
    assert r.ytd_target == D(1500)
    assert r.annual_target == D(6000)
    assert r.rag == Rag.AMBER


@pytest.mark.parametrize(
    ("numerator", "rag"),
    [
        (10, Rag.GREEN),  # 10% against a maximum of 10%: ratio 1
        (11, Rag.AMBER),  # 10/11 = 0.909
        (12, Rag.RED),  # 10/12 = 0.833
    ],
)
def test_lower_is_better_percentage_inverts_the_ratio(cast, numerator, rag):
    unanswered = kpi(cast.spa, "SPA-90", "percentage", target=10, period="none", polarity="lower")
    fig(cast, unanswered, 1, 1, numerator=numerator, denominator=100)
    r = result(cast, unanswered, 1, 1)
    assert r.rag == rag
    assert "maximum 10%" in r.explanation


def test_lower_is_better_tolerance_edge(cast):
    # Lower is better: ratio = maximum / actual, so 0.9 exactly needs an actual of 11.11...%.
    unanswered = kpi(cast.spa, "SPA-90", "percentage", target=10, period="none", polarity="lower")
    fig(cast, unanswered, 1, 1, numerator=1000, denominator=9000)  # 11.11%: ratio 0.9 exactly
    assert result(cast, unanswered, 1, 1).rag == Rag.AMBER
    fig(cast, unanswered, 1, 2, numerator=1, denominator=1)  # YTD 1,001 of 9,001: ratio < 0.9
    assert result(cast, unanswered, 1, 2).rag == Rag.RED


# --- YTD arithmetic by shape --------------------------------------------------------------------


def test_percentage_ytd_is_sum_over_sum_not_an_average_of_percentages(cast):
    seen = kpi(cast.spa, "SPA-91", "percentage", target=90, period="none")
    fig(cast, seen, 1, 1, numerator=1, denominator=1)  # 100%
    fig(cast, seen, 1, 2, numerator=80, denominator=100)  # 80%
    r = result(cast, seen, 1, 2)
    assert r.actual == D(80)
    assert r.ytd_actual == D(8100) / D(101)  # 80.2%, not (100 + 80) / 2 = 90%
    assert r.rag == Rag.RED  # 80.2 / 90 = 0.891
    assert "YTD 80.2% (81 of 101) against target 90%" in r.explanation


def test_average_ytd_is_weighted_by_cases(cast):
    length = kpi(cast.spa, "SPA-92", "average", target=6, period="none")
    fig(cast, length, 1, 1, value=D(10), cases=1)
    fig(cast, length, 1, 2, value=D(4), cases=9)
    r = result(cast, length, 1, 2)
    assert r.ytd_actual == D("4.6")  # (10×1 + 4×9) / 10, not (10 + 4) / 2 = 7
    assert r.rag == Rag.RED
    assert "weighted over 10 cases" in r.explanation


def test_money_sums_in_pence_exactly(cast):
    fig(cast, "SPA-02", 1, 1, value=D("0.10"))
    fig(cast, "SPA-02", 1, 2, value=D("0.20"))
    r = result(cast, "SPA-02", 1, 2)
    assert r.ytd_actual == D("0.30")


def test_breakdown_uses_its_total_else_the_sum_of_its_categories(cast):
    enquiries = cast.kpis["SPA-04"]
    unique, repeat = KpiCategory.objects.filter(kpi=enquiries).order_by("order")
    with_total = fig(cast, enquiries, 1, 1, value=D(50))
    BreakdownFigure.objects.create(figure=with_total, category=unique, count=30)
    BreakdownFigure.objects.create(figure=with_total, category=repeat, count=20)
    without = fig(cast, enquiries, 1, 2)
    BreakdownFigure.objects.create(figure=without, category=unique, count=7)
    BreakdownFigure.objects.create(figure=without, category=repeat, count=5)
    r1, r2 = result(cast, enquiries, 1, 1), result(cast, enquiries, 1, 2)
    assert r1.actual == D(50)
    assert r2.actual == D(12)
    assert r2.ytd_actual == D(62)
    assert r2.categories == (("Unique service users", 7), ("Repeat engagement", 5))
    assert r2.rag == Rag.NO_TARGET


@pytest.mark.parametrize(
    ("second", "rag"),
    [(D(70000), Rag.GREEN), (D("69999.99"), Rag.AMBER)],  # YTD 150,000 is the YTD target
)
def test_quarterly_money_target_is_judged_on_the_year_to_date(cast, second, rag):
    """ "£75,000 (quarterly)": £80,000 then £70,000 is on target for the year so far."""
    fig(cast, "SPA-02", 1, 1, value=D(80000))
    fig(cast, "SPA-02", 1, 2, value=second)
    r = result(cast, "SPA-02", 1, 2)
    assert r.basis == Basis.YEAR_TO_DATE and r.headline_is_ytd
    assert r.quarter_target == D(75000)
    assert r.ytd_target == D(150000)
    assert r.rag == rag, r.explanation
    assert r.quarter_rag == Rag.AMBER  # the quarter alone, shown beside it: 70,000 / 75,000
    assert r.explanation.startswith("YTD £")
    assert "against pro-rata target £150,000" in r.explanation


@pytest.mark.parametrize(
    ("second", "rag"),
    [(D(100), Rag.GREEN), (D(99), Rag.AMBER), (D(90), Rag.AMBER), (D(89), Rag.RED)],
)
def test_a_level_is_never_summed_nor_pro_rated(cast, second, rag):
    """ "Number of carers on register during quarter | 100" (DR-04): a level, not a flow."""
    register = kpi(cast.spa, "SPA-87", target=100, period="none", ytd="latest")
    fig(cast, register, 1, 1, value=D(200))
    fig(cast, register, 1, 2, value=second)
    r = result(cast, register, 1, 2)
    assert r.ytd_actual == second  # the latest, not 200 + second
    assert r.quarter_target == r.ytd_target == r.annual_target == D(100)
    assert r.rag == rag, r.explanation
    assert r.forecast is None and r.run_rate_needed is None


def test_a_register_total_takes_the_latest_reported_value(cast):
    """AC-04-like: 200 then 221 is 221 year to date, not 421; a quarter left unreported does not
    make it partial, and the next year starts afresh."""
    members = kpi(cast.spa, "SPA-88", ytd="latest")
    flow = kpi(cast.spa, "SPA-89")
    for k in (members, flow):
        fig(cast, k, 1, 1, value=D(200))
        fig(cast, k, 1, 2, value=D(221))
    assert result(cast, members, 1, 2).ytd_actual == D(221)
    assert result(cast, flow, 1, 2).ytd_actual == D(421)  # a flow is still summed
    fig(cast, members, 1, 4, value=D(240))  # Q3 not reported: the latest is still the latest
    r = result(cast, members, 1, 4)
    assert r.ytd_actual == D(240) and r.missing_quarters == ()
    assert "YTD is partial" not in r.explanation
    fig(cast, members, 2, 1, value=D(230))
    assert result(cast, members, 2, 1).ytd_actual == D(230)


def test_a_rate_or_average_cannot_be_a_level(cast):
    rate = kpi(cast.spa, "SPA-90", "percentage", target=90, period="none", ytd="latest")
    with pytest.raises(ValidationError, match="can be a level"):
        rate.full_clean()


def test_each_month_can_be_chosen_only_where_the_return_asks_for_months(cast):
    monthly = kpi(cast.spa, "SPA-85", target=18, period="monthly", judged_on="months")
    monthly.full_clean()
    quarterly = kpi(cast.spa, "SPA-86", target=60, period="quarterly", judged_on="months")
    with pytest.raises(ValidationError, match="Each month applies only"):
        quarterly.full_clean()


@pytest.mark.parametrize(("second", "rag"), [(D(60), Rag.GREEN), (D(59), Rag.AMBER)])
def test_minimum_each_quarter_is_judged_on_the_quarter(cast, second, rag):
    """ "A minimum of 60 ... each quarter": a strong first quarter does not carry a weak one."""
    each = kpi(cast.spa, "SPA-84", target=60, period="quarterly", judged_on="quarter")
    fig(cast, each, 1, 1, value=D(100))
    fig(cast, each, 1, 2, value=second)  # YTD 160 or 159, well over the YTD target of 120
    r = result(cast, each, 1, 2)
    assert r.basis == Basis.QUARTER
    assert r.rag == rag == r.quarter_rag, r.explanation
    assert r.ytd_target == D(120)
    assert r.explanation.startswith(f"Quarter {second}")


def test_weekly_target_is_pro_rated_by_weeks(cast):
    hours = kpi(cast.spa, "SPA-93", target=310, period="weekly")
    p = period(cast, 1, 1)  # 1 Oct to 31 Dec 2022: 92 days
    fig(cast, hours, 1, 1, value=D(4074))
    r = result(cast, hours, 1, 1)
    assert r.quarter_target == D(310) * (D(92) / D(7))  # 4,074.29
    assert p.end - p.start == timedelta(days=91)
    assert r.rag == Rag.AMBER


# --- month by month -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("months", "rag"),
    [
        ((18, 18, 18), Rag.GREEN),  # every month met
        ((25, 25, 17), Rag.AMBER),  # 17/18 = 0.944 in one month
        ((30, 30, 16), Rag.RED),  # 16/18 = 0.889: red though the quarter's sum (76) beats 54
    ],
)
def test_monthly_minimum_is_judged_month_by_month(cast, months, rag):
    new_users = kpi(cast.spa, "SPA-94", target=18, period="monthly")
    m1, m2, m3 = (D(m) for m in months)
    fig(cast, new_users, 1, 1, value=m1 + m2 + m3, month_1=m1, month_2=m2, month_3=m3)
    r = result(cast, new_users, 1, 1)
    assert r.rag == rag
    assert r.months == (m1, m2, m3)
    assert "months met the monthly target of 18" in r.explanation


def test_monthly_minimum_with_a_month_unreported_is_missing(cast):
    new_users = kpi(cast.spa, "SPA-94", target=18, period="monthly")
    fig(cast, new_users, 1, 1, value=D(36), month_1=D(18), month_2=D(18))
    assert result(cast, new_users, 1, 1).rag == Rag.MISSING


def test_minimum_in_each_category_is_judged_category_by_category(cast):
    sessions = kpi(cast.spa, "SPA-95", "breakdown", target=1, period="monthly")
    places = [
        KpiCategory.objects.create(kpi=sessions, name=n, order=i) for i, n in enumerate("ABC")
    ]
    f = fig(cast, sessions, 1, 1)
    for place, count in zip(places, (5, 3, 2), strict=True):
        BreakdownFigure.objects.create(figure=f, category=place, count=count)
    r = result(cast, sessions, 1, 1)
    assert r.quarter_target == D(3)
    assert r.rag == Rag.RED  # C: 2 of 3
    assert "A 5, B 3, C 2: 2 of 3 met the target 3 each; lowest C 2" in r.explanation
    assert r.forecast is None


# --- forecast and run-rate ----------------------------------------------------------------------


def test_forecast_and_run_rate_for_a_cumulative_target(cast):
    fig(cast, "SPA-01", 1, 1, value=D(900))
    fig(cast, "SPA-01", 1, 2, value=D(1100))
    r = result(cast, "SPA-01", 1, 2)
    assert r.forecast == D(4000)  # 2,000 × 4 / 2
    assert r.run_rate_needed == D(1500)  # (5,000 − 2,000) / 2 quarters left
    assert "Year-end forecast 4,000 against 5,000; 1,500 a quarter needed" in r.explanation


def test_run_rate_is_zero_once_met_and_none_at_year_end(cast):
    fig(cast, "SPA-01", 1, 1, value=D(5200))
    assert result(cast, "SPA-01", 1, 1).run_rate_needed == D(0)
    for q in (2, 3, 4):
        fig(cast, "SPA-01", 1, q, value=D(10))
    r = result(cast, "SPA-01", 1, 4)
    assert r.forecast == D(5230)
    assert r.run_rate_needed is None


def test_no_forecast_for_rates(cast):
    seen = kpi(cast.spa, "SPA-91", "percentage", target=90, period="none")
    fig(cast, seen, 1, 1, numerator=9, denominator=10)
    r = result(cast, seen, 1, 1)
    assert r.forecast is None and r.run_rate_needed is None


# --- due, missing, awaiting, not due ----------------------------------------------------------


def test_not_submitted_after_the_due_date_is_missing(cast):
    p = period(cast, 1, 1)
    r = result(cast, "SPA-01", 1, 1, today=p.due_date + timedelta(days=1))
    assert r.rag == Rag.MISSING
    assert r.is_exception
    assert "not submitted by" in r.explanation


def test_before_the_due_date_it_is_awaiting_not_missing(cast):
    p = period(cast, 1, 1)
    r = result(cast, "SPA-01", 1, 1, today=p.due_date)  # the due date itself: still on time
    assert r.rag == Rag.NOT_DUE
    assert r.awaiting
    assert r.rag_word == "Awaiting return"
    assert not r.is_exception


def test_a_draft_return_does_not_count(cast):
    fig(cast, "SPA-01", 1, 1, status="draft", value=D(9999))
    r = result(cast, "SPA-01", 1, 1)
    assert r.rag == Rag.MISSING
    assert r.actual is None


@pytest.mark.parametrize("status", ["submitted", "queried", "accepted"])
def test_submitted_queried_and_accepted_returns_count(cast, status):
    fig(cast, "SPA-01", 1, 1, status=status, value=D(1300))
    assert result(cast, "SPA-01", 1, 1).rag == Rag.GREEN


def test_submitted_return_without_the_figure_is_missing(cast):
    fig(cast, "SPA-02", 1, 1, value=D(80000))  # SPA's return is submitted, SPA-01 left out
    r = result(cast, "SPA-01", 1, 1)
    assert r.rag == Rag.MISSING
    assert "not reported in the submitted return" in r.explanation


def test_partial_ytd_says_which_quarter_is_missing(cast):
    fig(cast, "SPA-01", 1, 1, value=D(1300))
    fig(cast, "SPA-02", 1, 2, value=D(80000))
    fig(cast, "SPA-01", 1, 3, value=D(1300))
    r = result(cast, "SPA-01", 1, 3)
    assert r.ytd_actual == D(2600)
    assert r.missing_quarters == ("Year 1 Q2",)
    assert "not reported in Year 1 Q2" in r.explanation


def test_annual_kpi_is_due_only_in_the_fourth_quarter(cast):
    annual = kpi(cast.spa, "SPA-96", target=365, frequency="annual")
    fig(cast, annual, 1, 4, value=D(400))
    q1, q4 = result(cast, annual, 1, 1), result(cast, annual, 1, 4)
    assert not q1.due and q1.rag == Rag.NOT_DUE and not q1.awaiting
    assert q4.due and q4.rag == Rag.GREEN
    assert q4.quarter_target == D(365)
    assert q4.explanation.startswith("Year 400 against target 365: 109% → Green")


def test_no_target_is_not_rated_but_monitored(cast):
    fig(cast, "SPA-03", 1, 1, numerator=5, denominator=100)
    r = result(cast, "SPA-03", 1, 1)
    assert r.rag == Rag.NO_TARGET
    assert r.actual == D(5)
    assert "monitoring only" in r.explanation


def test_to_be_agreed_says_so(cast):
    tba = kpi(cast.spa, "SPA-97", target_status="to_be_agreed", target_period="unstated")
    fig(cast, tba, 1, 1, value=D(3))
    r = result(cast, tba, 1, 1)
    assert r.rag == Rag.NO_TARGET
    assert "to be agreed with commissioners" in r.explanation


@pytest.mark.parametrize(
    ("rating", "rag"), [("green", Rag.GREEN), ("red", Rag.RED), ("", Rag.EVIDENCE)]
)
def test_evidence_takes_the_commissioners_rating(cast, rating, rag):
    fig(cast, "AC-02", 1, 1, narrative="Case study", rating=rating)
    r = result(cast, "AC-02", 1, 1)
    assert r.rag == rag
    assert r.narrative == "Case study"


# --- trend, history, changes --------------------------------------------------------------------


def test_trend_follows_polarity(cast):
    fig(cast, "SPA-03", 1, 1, numerator=10, denominator=100)
    fig(cast, "SPA-03", 1, 2, numerator=5, denominator=100)  # fewer unanswered: better
    fig(cast, "SPA-01", 1, 1, value=D(10))
    fig(cast, "SPA-01", 1, 2, value=D(5))
    assert result(cast, "SPA-03", 1, 2).trend == Trend.BETTER
    assert result(cast, "SPA-03", 1, 2).trend_shown == "↓ Better"  # fell, lower is better
    assert result(cast, "SPA-01", 1, 2).trend == Trend.WORSE
    assert result(cast, "SPA-01", 1, 2).trend_shown == "↓ Worse"
    assert result(cast, "SPA-01", 1, 1).trend == Trend.NONE  # nothing before


def test_history_holds_the_last_eight_quarters_oldest_first(cast):
    for i in range(10):
        fig(cast, "SPA-02", 1 + i // 4, 1 + i % 4, value=D(1000 + i))
    r = result(cast, "SPA-02", 3, 2)
    assert [p.short_label for p, _ in r.history] == [
        "Y1Q3",
        "Y1Q4",
        "Y2Q1",
        "Y2Q2",
        "Y2Q3",
        "Y2Q4",
        "Y3Q1",
        "Y3Q2",
    ]
    assert r.history[-1][1] == D(1009)


def test_changes_list_kpis_that_moved_band(cast):
    fig(cast, "SPA-02", 1, 1, value=D(80000))  # green
    fig(cast, "SPA-02", 1, 2, value=D(10000))  # red
    fig(cast, "SPA-01", 1, 1, value=D(1300))
    fig(cast, "SPA-01", 1, 2, value=D(1300))  # green both times
    res = results.contract_results(cast.contract, period(cast, 1, 2), today=LATER)
    moved = {(r.kpi.code, before, r.rag) for r, before in res.changes}
    assert ("SPA-02", Rag.GREEN, Rag.RED) in moved
    assert not any(code == "SPA-01" for code, _, _ in moved)
    assert res.previous_period == period(cast, 1, 1)


def test_contract_results_counts_exceptions_and_returns(cast):
    fig(cast, "SPA-01", 1, 1, value=D(100))  # red
    res = results.contract_results(cast.contract, period(cast, 1, 1), today=LATER)
    assert [p.code for p, _ in res.by_pathway] == ["SPA", "AC"]
    assert res.rag_counts["pathways"]["SPA"]["red"] == 1
    assert res.rag_counts["pathways"]["AC"]["missing"] == 2  # AC-01 and AC-02
    assert res.rag_counts["overall"]["red"] == 1
    assert {r.kpi.code for r in res.exceptions} >= {"SPA-01", "AC-01"}
    spa, ac = res.returns
    assert spa.status == "accepted" and not spa.state.is_overdue
    assert ac.status == "not_started" and ac.state.is_overdue


def test_cross_cutting_pathway_comes_first(cast):
    from pathways.models import Pathway

    key = Pathway.objects.create(
        contract=cast.contract,
        code="KEY",
        name="Key outcomes",
        provider=cast.spa.provider,
        is_cross_cutting=True,
        order=99,
    )
    kpi(key, "KEY-01", target=10)
    res = results.contract_results(cast.contract, period(cast, 1, 1), today=LATER)
    assert res.by_pathway[0][0] == key


def test_partner_sees_only_its_pathways_and_oba_filter(cast):
    from pathways.access import pathways_for

    res = results.contract_results(
        cast.contract,
        period(cast, 1, 1),
        pathways=pathways_for(cast.partner, cast.contract),
        today=LATER,
    )
    assert [p.code for p, _ in res.by_pathway] == ["AC"]
    kpi(cast.spa, "SPA-98", oba_class="better_off")
    res = results.contract_results(
        cast.contract, period(cast, 1, 1), oba_class="better_off", today=LATER
    )
    assert [r.kpi.code for r in res.results] == ["SPA-98"]


# --- overrides ----------------------------------------------------------------------------------


def test_override_replaces_the_rag_and_says_who_when_and_why(cast):
    fig(cast, "SPA-01", 1, 1, value=D(100))
    p = period(cast, 1, 1)
    override = services.rag_override_create(
        kpi=cast.kpis["SPA-01"],
        period=p,
        rag="amber",
        reason="Vacancy now filled",
        user=cast.commissioner,
    )
    r = result(cast, "SPA-01", 1, 1)
    assert r.rag == Rag.AMBER
    assert r.rule_rag == Rag.RED
    assert r.rag_source == "override"
    assert r.override == override
    assert r.explanation.startswith("Overridden to Amber by Cara Commissioner on ")
    assert "Vacancy now filled" in r.explanation
    assert "The rule gave Red" in r.explanation
    assert result(cast, "SPA-01", 1, 2).rag_source == "rule"  # only that quarter


def test_withdrawn_override_restores_the_rule_and_is_kept(cast):
    fig(cast, "SPA-01", 1, 1, value=D(100))
    p = period(cast, 1, 1)
    override = services.rag_override_create(
        kpi=cast.kpis["SPA-01"], period=p, rag="green", reason="x", user=cast.commissioner
    )
    services.rag_override_withdraw(override=override, user=cast.commissioner)
    override.refresh_from_db()
    assert override.withdrawn_by == cast.commissioner and override.withdrawn_at
    assert result(cast, "SPA-01", 1, 1).rag == Rag.RED
    with pytest.raises(ValidationError):
        services.rag_override_withdraw(override=override, user=cast.commissioner)
    # A new one may then be made for the same quarter.
    services.rag_override_create(
        kpi=cast.kpis["SPA-01"], period=p, rag="amber", reason="y", user=cast.commissioner
    )
    assert RagOverride.objects.filter(kpi=cast.kpis["SPA-01"]).count() == 2


@pytest.mark.parametrize("who", ["officer", "lead", "partner", "outsider"])
def test_only_the_contracts_commissioners_may_override(cast, who):
    with pytest.raises(PermissionDenied):
        services.rag_override_create(
            kpi=cast.kpis["SPA-01"],
            period=period(cast, 1, 1),
            rag="green",
            reason="x",
            user=getattr(cast, who),
        )


def test_override_needs_a_reason_and_a_band_and_only_one_at_a_time(cast):
    args = {"kpi": cast.kpis["SPA-01"], "period": period(cast, 1, 1), "user": cast.commissioner}
    with pytest.raises(ValidationError):
        services.rag_override_create(rag="green", reason="  ", **args)
    with pytest.raises(ValidationError):
        services.rag_override_create(rag="missing", reason="x", **args)
    services.rag_override_create(rag="green", reason="x", **args)
    with pytest.raises(ValidationError):
        services.rag_override_create(rag="red", reason="x", **args)
    other = period(cast, 1, 1, contract=cast.other_contract)
    with pytest.raises(ValidationError):
        services.rag_override_create(
            kpi=cast.kpis["SPA-01"], period=other, rag="red", reason="x", user=cast.commissioner
        )


def test_kpi_history_shows_overrides_per_quarter(cast):
    fig(cast, "SPA-01", 1, 1, value=D(100))
    services.rag_override_create(
        kpi=cast.kpis["SPA-01"],
        period=period(cast, 1, 1),
        rag="green",
        reason="x",
        user=cast.commissioner,
    )
    k = Kpi.objects.with_targets().get(pk=cast.kpis["SPA-01"].pk)
    history = results.kpi_history(k, upto_period=period(cast, 2, 1), today=LATER)
    assert [r.period.short_label for r in history][:2] == ["Y1Q1", "Y1Q2"]
    assert len(history) == 5
    assert history[0].rag == Rag.GREEN and history[0].rag_source == "override"


def test_demo_override(cast):
    fig(cast, "SPA-01", 1, 1, value=D(100))  # red
    override = seed_demo_overrides(cast.contract)
    assert override.rag == "amber" and override.reason
    assert seed_demo_overrides(cast.contract).pk != override.pk  # repeatable
    assert RagOverride.objects.count() == 1


# --- rows, downloads, the command ---------------------------------------------------------------


def test_result_rows_one_per_kpi_with_both_quarter_labels(cast):
    fig(cast, "SPA-01", 1, 1, value=D(1130))
    res = results.contract_results(cast.contract, period(cast, 1, 1), today=LATER)
    rows = list(results.result_rows(res.results))
    assert len(rows) == len(res.results) == 6
    row = dict(zip(results.RESULT_HEADERS, rows[0], strict=True))
    assert row["KPI code"] == "SPA-01"
    assert row["Contract quarter"] == "Year 1 Q1"
    assert row["Financial-year quarter"] == "2022/23 Q3"
    assert row["Actual"] == D(1130)
    assert row["YTD target"] == D(1250)
    assert row["% of target"] == D("90.4")
    assert row["RAG"] == "Amber"
    assert row["RAG source"] == "rule"
    assert row["Trend"] == "No trend"
    assert results.results_filename(cast.contract, period(cast, 1, 1), "performance", "csv") == (
        "PSIS-2022-23-Q3-performance.csv"
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_results_command(cast, tmp_path, fmt):
    fig(cast, "SPA-01", 1, 1, value=D(1130))
    out = tmp_path / f"results.{fmt}"
    call_command(
        "export_results", "PSIS", "--quarter", "2022/23 Q3", "--format", fmt, "--output", str(out)
    )
    data = out.read_bytes()
    if fmt == "csv":
        text = data.decode("utf-8-sig")
        assert text.splitlines()[0].startswith("Pathway,KPI code,Description")
        assert "SPA-01" in text and "Year 1 Q1" in text and "Amber" in text
    else:
        assert data[:2] == b"PK"


def test_export_results_command_refuses_bad_input(cast):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No contract"):
        call_command("export_results", "NOPE", "--quarter", "Y1Q1")
    with pytest.raises(CommandError, match="Could not read"):
        call_command("export_results", "PSIS", "--quarter", "soon")
    with pytest.raises(CommandError, match="outside"):
        call_command("export_results", "PSIS", "--quarter", "Y9Q1")


# --- query count --------------------------------------------------------------------------------


def _grow(cast, extra_kpis: int, years: int):
    """More KPIs with figures in more quarters, and another contract's data, all at once."""
    made = [kpi(cast.spa, f"SPA-X{i}", target=100 + i) for i in range(extra_kpis)]
    for y in range(1, years + 1):
        for q in (1, 2, 3, 4):
            r = ret(cast.spa, period(cast, y, q))
            Figure.objects.bulk_create(Figure(ret=r, kpi=k, value=D(30)) for k in made)
    other = ret(cast.other_pathway, period(cast, 1, 1, contract=cast.other_contract))
    Figure.objects.create(ret=other, kpi=cast.kpis["OP-01"], value=D(1))


def _queries(cast, django_assert_max_num_queries):
    p = period(cast, 2, 2)
    periods = results.contract_periods(cast.contract)
    # Queries: pathways; KPIs; their targets; their categories; returns in the window;
    # figures; breakdown counts; overrides. (Quarters are passed in.)
    with django_assert_max_num_queries(8) as captured:
        results.contract_results(cast.contract, p, all_periods=periods, today=LATER)
    return len(captured.captured_queries)


def test_query_count_does_not_grow_with_kpis_quarters_or_contracts(
    cast, django_assert_max_num_queries
):
    fig(cast, "SPA-04", 2, 2, value=D(1))  # so that the breakdown query runs in both
    small = _queries(cast, django_assert_max_num_queries)
    _grow(cast, extra_kpis=25, years=2)
    large = _queries(cast, django_assert_max_num_queries)
    assert small == large == 8


def test_not_rated_is_no_target_evidence_not_due_and_awaiting_for_overview_and_pack_alike():
    counts = {**dict.fromkeys((r.value for r in Rag), 1), "awaiting": 1}
    assert results.not_rated(counts) == 4  # never green, amber, red or missing
    assert results.not_rated({"green": 3}) == 0
