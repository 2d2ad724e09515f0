"""Return validation: every message, on both sides of each rule. Pure: no database."""

from decimal import Decimal

import pytest

from reports import validation as v
from reports.validation import FigureValues, KpiSpec

COUNT = KpiSpec("C-1", "count")
MONEY = KpiSpec("M-1", "money")
PCT = KpiSpec("P-1", "percentage")
AVG = KpiSpec("A-1", "average")
MONTHLY = KpiSpec(
    "MO-1", "count", monthly=True, months=("October 2022", "November 2022", "December 2022")
)
BREAKDOWN = KpiSpec("B-1", "breakdown", has_total=True, categories=(("1", "Phone"), ("2", "Email")))
OPEN_BREAKDOWN = KpiSpec("B-2", "breakdown", categories=(("3", "North"), ("4", "South")))
EVIDENCE = KpiSpec("E-1", "evidence")
ALL = [COUNT, MONEY, PCT, AVG, MONTHLY, BREAKDOWN, OPEN_BREAKDOWN, EVIDENCE]


def parse(raw, specs=ALL, **kw):
    return v.parse_return(specs, raw, **kw)


def messages(problems):
    return {(p.field, p.message) for p in problems}


# ---- Parsing what was typed ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [("0", 0), ("1250", 1250), ("1,250", 1250), (" 12 ", 12), ("12.0", 12), ("", None)],
)
def test_whole_numbers_accepted(text, expected):
    assert v.parse_whole(text) == expected


@pytest.mark.parametrize("text", ["-1", "1.5", "abc", "1e3", "12 people", "£5"])
def test_whole_number_refused_in_plain_english(text):
    result = parse({"C-1__value": text}, [COUNT])
    assert messages(result.problems) == {("C-1__value", "Enter a whole number of 0 or more")}


@pytest.mark.parametrize(
    "spec,part,text",
    [
        (COUNT, "value", "٣٠٠"),  # Arabic-Indic digits
        (COUNT, "value", "３００"),  # fullwidth digits
        (MONEY, "value", "£１,２５０"),
        (AVG, "value", "６.５"),
        (PCT, "numerator", "१२"),  # Devanagari digits
        (MONTHLY, "month_1", "3０0"),  # one fullwidth digit among ASCII ones
    ],
)
def test_only_the_ascii_digits_0_to_9_are_read_as_a_number(spec, part, text):
    result = parse({spec.field(part): text}, [spec])
    assert [(p.field, p.message, p.kind) for p in result.problems] == [
        (spec.field(part), "Use the digits 0–9 to type this number", v.Kind.NOT_A_NUMBER)
    ]
    figure = result.figures[spec.code]
    assert figure.value is None and figure.numerator is None and figure.months[0] is None


def test_largest_number_boundary():
    assert v.parse_whole("999,999,999") == 999_999_999
    result = parse({"C-1__value": "1000000000"}, [COUNT])
    assert messages(result.problems) == {
        ("C-1__value", "Enter a number no larger than 999,999,999")
    }


@pytest.mark.parametrize(
    "text,expected",
    [("£1,250.50", Decimal("1250.50")), ("75000", Decimal("75000")), ("0.5", Decimal("0.50"))],
)
def test_pounds_accepted(text, expected):
    assert parse({"M-1__value": text}, [MONEY]).figures["M-1"].value == expected


@pytest.mark.parametrize("text", ["-5", "five pounds", "£x", "1.2.3"])
def test_pounds_refused(text):
    result = parse({"M-1__value": text}, [MONEY])
    assert messages(result.problems) == {("M-1__value", v.POUNDS_MESSAGE)}
    assert v.POUNDS_MESSAGE == "Enter an amount in pounds of 0 or more, like 1250 or 1250.50"


def test_pence_beyond_two_places_refused():
    result = parse({"M-1__value": "10.505"}, [MONEY])
    assert messages(result.problems) == {
        ("M-1__value", "Enter pounds and pence, with no more than 2 decimal places")
    }


def test_average_decimal_rules():
    ok = parse({"A-1__value": "6.5", "A-1__cases": "20"}, [AVG])
    assert ok.problems == [] and ok.figures["A-1"].value == Decimal("6.50")
    bad = parse({"A-1__value": "six", "A-1__cases": "2.5"}, [AVG])
    assert messages(bad.problems) == {
        ("A-1__value", "Enter a number of 0 or more, like 6 or 6.5"),
        ("A-1__cases", "Enter a whole number of 0 or more"),
    }
    places = parse({"A-1__value": "6.123"}, [AVG])
    assert messages(places.problems) == {
        ("A-1__value", "Enter a number with no more than 2 decimal places")
    }


def test_numerator_larger_than_denominator_is_refused_even_in_a_draft():
    result = parse({"P-1__numerator": "34", "P-1__denominator": "30"}, [PCT])
    assert messages(result.problems) == {
        ("P-1__numerator", "Numerator (34) is larger than denominator (30)")
    }


def test_numerator_equal_to_denominator_is_fine():
    assert parse({"P-1__numerator": "30", "P-1__denominator": "30"}, [PCT]).problems == []


def test_tick_values():
    assert parse({"E-1__consent": "Yes"}, [EVIDENCE]).figures["E-1"].consent is True
    assert parse({"E-1__consent": True}, [EVIDENCE]).figures["E-1"].consent is True
    assert parse({"E-1__consent": "No"}, [EVIDENCE]).figures["E-1"].consent is False
    result = parse({"E-1__consent": "maybe"}, [EVIDENCE])
    assert messages(result.problems) == {("E-1__consent", "Enter Yes or No")}


def test_a_partial_draft_is_fine():
    result = parse({"C-1__value": "5"})
    assert result.problems == []
    assert result.figures["C-1"].value == 5
    assert result.figures["M-1"].value is None


def test_monthly_and_breakdown_values_are_read():
    result = parse(
        {
            "MO-1__month_1": "1",
            "MO-1__month_2": "2",
            "MO-1__month_3": "3",
            "B-1__cat_1": "4",
            "B-1__cat_2": "",
            "B-1__total": "9",
        }
    )
    assert result.figures["MO-1"].months == (1, 2, 3)
    assert result.figures["B-1"].categories == {"1": 4, "2": None}
    assert result.figures["B-1"].total == 9


# ---- Personal data ----------------------------------------------------------------------------


def test_personal_data_in_narrative_must_be_removed_or_confirmed():
    result = parse({"E-1__narrative": "Mrs B (jo@example.org) was helped"}, [EVIDENCE])
    assert messages(result.problems) == {
        (
            "E-1__narrative",
            "This looks like it contains an email address (jo@example.org). Remove it, or tick "
            "the box below and say why it is needed",
        )
    }


def test_confirming_personal_data_needs_a_reason():
    raw = {"E-1__narrative": "Call 07700 900123", "E-1__pd_confirm": "on"}
    assert messages(parse(raw, [EVIDENCE]).problems) == {
        ("E-1__pd_reason", "Say why the personal data is needed")
    }
    raw["E-1__pd_reason"] = "The carer asked us to publish the helpline"
    result = parse(raw, [EVIDENCE])
    assert result.problems == []
    assert result.figures["E-1"].pd_reason == "The carer asked us to publish the helpline"


def test_personal_data_in_an_explanation_and_in_the_commentary():
    raw = {"C-1__explanation": "See NHS 943 476 5919", "commentary": "Office at BR1 3AA"}
    assert {p.field for p in parse(raw, [COUNT]).problems} == {"C-1__explanation", "commentary"}


def test_a_reason_already_stored_is_not_asked_again():
    raw = {"commentary": "Office at BR1 3AA"}
    result = parse(raw, [COUNT], stored_pd_reasons={"commentary": "It is our public office"})
    assert result.problems == []
    assert result.commentary_pd_reason == "It is our public office"


def test_no_personal_data_clears_the_reason():
    result = parse({"commentary": "A good quarter", "commentary__pd_reason": "old"}, [COUNT])
    assert result.problems == [] and result.commentary_pd_reason == ""


# ---- Submission -------------------------------------------------------------------------------

COMPLETE = {
    "C-1__value": "10",
    "M-1__value": "100",
    "P-1__numerator": "3",
    "P-1__denominator": "4",
    "A-1__value": "6",
    "A-1__cases": "5",
    "MO-1__month_1": "1",
    "MO-1__month_2": "2",
    "MO-1__month_3": "3",
    "B-1__cat_1": "200",
    "B-1__cat_2": "12",
    "B-1__total": "212",
    "B-2__cat_3": "1",
    "B-2__cat_4": "1",
    "E-1__narrative": "A case study",
    "E-1__consent": "on",
}


def check(raw, **kw):
    return v.check_submission(ALL, parse(raw).figures, **kw)


def test_a_complete_return_has_no_problems():
    assert check(COMPLETE) == []


def test_an_empty_return_lists_every_missing_figure():
    assert messages(check({})) == {
        ("C-1__value", "Enter the number"),
        ("M-1__value", "Enter the amount in pounds"),
        ("P-1__numerator", "Enter the numerator"),
        ("P-1__denominator", "Enter the denominator"),
        ("A-1__value", "Enter the average"),
        ("A-1__cases", "Enter the number of cases the average is over"),
        ("MO-1__month_1", "Enter the figure for October 2022"),
        ("MO-1__month_2", "Enter the figure for November 2022"),
        ("MO-1__month_3", "Enter the figure for December 2022"),
        ("B-1__cat_1", "Enter the number for Phone"),
        ("B-1__cat_2", "Enter the number for Email"),
        ("B-1__total", "Enter the total"),
        ("B-2__cat_3", "Enter the number for North"),
        ("B-2__cat_4", "Enter the number for South"),
        ("E-1__narrative", "Describe the evidence or attach a document"),
        ("E-1__consent", v.CONSENT_MESSAGE),
    }


def test_categories_must_add_up_to_the_stated_total():
    raw = {**COMPLETE, "B-1__total": "220"}
    assert messages(check(raw)) == {("B-1__total", "Categories add up to 212 but the total is 220")}


def test_a_breakdown_with_no_stated_total_needs_no_sum():
    assert check({**COMPLETE, "B-2__cat_3": "1000"}) == []


def test_evidence_may_be_a_document_alone_but_needs_the_consent_tick():
    raw = {**COMPLETE, "E-1__narrative": "", "E-1__consent": ""}
    assert messages(check(raw, attachments={"E-1": 1})) == {
        (
            "E-1__consent",
            "Tick to confirm that anyone described has consented and the evidence is anonymised",
        )
    }


def test_an_average_over_no_cases():
    raw = {**COMPLETE, "A-1__cases": "0"}
    assert messages(check(raw)) == {("A-1__cases", v.CASES_MESSAGE)}
    assert check({**raw, "A-1__value": "0"}) == []


# ---- More than 50% against the last return ------------------------------------------------------


@pytest.mark.parametrize("now,needs", [("150", False), ("151", True), ("50", False), ("49", True)])
def test_a_move_of_more_than_half_needs_an_explanation(now, needs):
    problems = check({**COMPLETE, "C-1__value": now}, previous={"C-1": Decimal(100)})
    assert bool(problems) is needs
    if needs:
        (problem,) = problems
        assert problem.field == "C-1__explanation"
        assert problem.message.startswith(f"This figure changed by {abs(int(now) - 100)}% since")
        assert problem.message.endswith(f"(100 to {now}). Explain why before submitting")


def test_an_explanation_satisfies_the_move_rule():
    raw = {**COMPLETE, "C-1__value": "300", "C-1__explanation": "A new outreach worker started"}
    assert check(raw, previous={"C-1": Decimal(100)}) == []


def test_a_rise_from_zero_needs_an_explanation_and_zero_to_zero_does_not():
    problems = check({**COMPLETE, "M-1__value": "100"}, previous={"M-1": Decimal(0)})
    assert messages(problems) == {
        (
            "M-1__explanation",
            "This figure rose from 0 to £100 since the last return. Explain why before submitting",
        )
    }
    assert check({**COMPLETE, "M-1__value": "0"}, previous={"M-1": Decimal(0)}) == []


def test_percentages_move_by_their_rate_and_monthly_by_their_sum():
    previous = {"P-1": Decimal(25), "MO-1": Decimal(6)}
    # 3/4 = 75% against 25%: +200%. Months 1+2+3 = 6 against 6: no move.
    assert messages(check(COMPLETE, previous=previous)) == {
        (
            "P-1__explanation",
            "This figure changed by 200% since the last return (25% to 75%). "
            "Explain why before submitting",
        )
    }


def test_headline_of_each_shape():
    figures = parse(COMPLETE).figures
    assert v.headline(MONTHLY, figures["MO-1"]) == 6
    assert v.headline(PCT, figures["P-1"]) == 75
    assert v.headline(BREAKDOWN, figures["B-1"]) == 212
    assert v.headline(OPEN_BREAKDOWN, figures["B-2"]) == 2
    assert v.headline(EVIDENCE, figures["E-1"]) is None
    assert v.headline(PCT, FigureValues(numerator=0, denominator=0)) is None


def test_problems_read_with_their_kpi_code():
    assert (
        str(v.Problem("C-1__value", "Enter the number", "C-1", kind=v.Kind.REQUIRED))
        == "C-1: Enter the number"
    )
