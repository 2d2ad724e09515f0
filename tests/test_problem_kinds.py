"""Behaviour hangs on a problem's kind (reports.validation.Kind), never on its wording."""

import html

import pytest
from django.test import Client

from reports import validation
from reports.forms import ReturnForm
from reports.validation import Kind, KpiSpec, Problem

NARRATIVE_WITH_NHS_NUMBER = "Mrs B (NHS 943 476 5919) now gets Carer's Allowance."


@pytest.fixture
def partner(cast):
    client = Client()
    client.force_login(cast.partner)
    return client


def post(client, **changes) -> str:
    data = {
        "version": "0",
        "action": "save",
        "AC-01__value": "150",
        "AC-02__narrative": "A carer was helped to apply for Carer's Allowance.",
        "AC-02__consent": "on",
        **changes,
    }
    response = client.post("/contracts/PSIS/returns/AC/Y1Q1/", data)
    assert response.status_code == 400
    return html.unescape(response.content.decode())


def box_open(page: str, prefix: str) -> bool:
    """The personal-data box (its confirm tick) is on the page for this KPI or commentary."""
    return f'id="id_{prefix}__pd_confirm"' in page


def test_the_box_opens_for_personal_data_whatever_the_message_says(partner, monkeypatch):
    monkeypatch.setattr(validation, "PERSONAL_DATA_MESSAGE", "Look again at this ({found})")
    page = post(partner, **{"AC-02__narrative": NARRATIVE_WITH_NHS_NUMBER})
    assert "Look again at this (an NHS number (943 476 5919))" in page
    assert "looks like" not in page
    assert box_open(page, "AC-02") and not box_open(page, "AC-01")


def test_the_commentary_box_opens_for_personal_data_whatever_the_message_says(partner, monkeypatch):
    monkeypatch.setattr(validation, "PERSONAL_DATA_MESSAGE", "Look again at this ({found})")
    page = post(partner, commentary="Ring 020 7946 0958")
    assert "Look again at this" in page and "looks like" not in page
    assert box_open(page, "commentary") and not box_open(page, "AC-02")


def test_another_problem_that_mentions_personal_data_opens_no_box(partner, monkeypatch):
    message = "Enter a whole number; this looks like it contains personal data"
    monkeypatch.setattr(validation, "WHOLE_MESSAGE", message)
    page = post(partner, **{"AC-01__value": "abc"})
    assert message in page  # a NOT_A_NUMBER problem, worded like a personal-data one
    assert not box_open(page, "AC-01") and not box_open(page, "AC-02")


def test_a_too_long_commentary_opens_no_personal_data_box(partner, monkeypatch):
    monkeypatch.setattr(validation, "TEXT_LIMIT", 20)
    monkeypatch.setattr(
        validation, "too_long_message", lambda n: f"Too long for personal data ({n})"
    )
    page = post(partner, commentary="A quarter with more than twenty characters")
    assert "Too long for personal data" in page
    assert not box_open(page, "commentary")


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ({"C-1__value": "abc"}, Kind.NOT_A_NUMBER),
        ({"C-1__value": "9999999999"}, Kind.OUT_OF_RANGE),
        ({"C-1__value": "1", "commentary": "Email a@b.org"}, Kind.PERSONAL_DATA),
        (
            {"C-1__value": "1", "commentary": "Email a@b.org", "commentary__pd_confirm": "on"},
            Kind.PERSONAL_DATA_REASON,
        ),
    ],
)
def test_each_problem_says_its_kind(raw, kind):
    parsed = validation.parse_return([KpiSpec("C-1", "count")], raw)
    assert [p.kind for p in parsed.problems] == [kind]


def test_the_summary_does_not_name_a_field_twice_when_its_kind_says_the_message_does():
    spec = KpiSpec("P-1", "percentage")
    form = ReturnForm({"version": "0"}, specs=[spec])
    form.is_valid()
    form.add_problem(Problem("P-1__numerator", "Some words", "P-1", kind=Kind.REQUIRED))
    form.add_problem(
        Problem(
            "P-1__numerator", "Numerator (3) is bigger", "P-1", kind=Kind.NUMERATOR_OVER_DENOMINATOR
        )
    )
    messages = [m for _, m in form.error_summary()]
    assert messages == ["P-1 Numerator: Some words", "P-1: Numerator (3) is bigger"]
    assert form.kinds("P-1__numerator") == {Kind.REQUIRED, Kind.NUMERATOR_OVER_DENOMINATOR}
