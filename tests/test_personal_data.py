"""Spotting personal data in narrative: pure text rules, no database."""

import pytest

from reports.personal_data import (
    EMAIL,
    NHS_NUMBER,
    PHONE,
    POSTCODE,
    describe,
    find_personal_data,
    is_valid_nhs_number,
)


@pytest.mark.parametrize(
    "text", ["9434765919", "943 476 5919", "943-476-5919", "4010232137", "401 023 2137"]
)
def test_valid_nhs_numbers_pass_the_modulus_11_check(text):
    assert is_valid_nhs_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "9434765918",  # wrong check digit
        "943 476 5918",
        "943476591",  # nine digits
        "94347659190",  # eleven digits
        "943476591X",
        "",
        "1234567890",  # check digit would be 10: never valid
    ],
)
def test_invalid_nhs_numbers_fail(text):
    assert not is_valid_nhs_number(text)


def kinds(text):
    return [f.kind for f in find_personal_data(text)]


def test_finds_a_valid_nhs_number_with_or_without_spaces():
    assert kinds("Client 943 476 5919 was seen") == [NHS_NUMBER]
    assert kinds("Client 9434765919 was seen") == [NHS_NUMBER]


def test_ignores_ten_digits_that_are_not_a_valid_nhs_number():
    assert kinds("Reference 943 476 5918 on file") == []


def test_ignores_amounts_and_ordinary_figures():
    text = "We generated £1,234,567 for 5000 people in Q3 2022 (Year 1 Q1, Y1Q1); 90% were seen."
    assert kinds(text) == []


@pytest.mark.parametrize("email", ["jo.bloggs@example.org", "first+tag@nhs.net", "A_B@x.co.uk"])
def test_finds_email_addresses(email):
    assert kinds(f"Contact {email} for details") == [EMAIL]


@pytest.mark.parametrize(
    "phone",
    ["020 7946 0958", "07700 900123", "+44 20 7946 0958", "(020) 7946 0958", "01689 123456"],
)
def test_finds_uk_phone_numbers(phone):
    assert kinds(f"Call {phone} today") == [PHONE]


@pytest.mark.parametrize("postcode", ["BR1 3AA", "SE26 6JD", "br6 0ny", "W1A 1AA", "EC1A 1BB"])
def test_finds_postcodes(postcode):
    assert kinds(f"Lives at {postcode} near the park") == [POSTCODE]


def test_does_not_mistake_quarter_labels_or_dates_for_postcodes():
    assert kinds("In Q3 2022 and Y2Q1 we met on 01/10/2022 at 10am") == []


def test_reports_everything_found_in_order_and_describes_it():
    found = find_personal_data("Mr X (jo@example.org, 07700 900123) of BR1 3AA, NHS 943 476 5919")
    assert [f.kind for f in found] == [EMAIL, PHONE, POSTCODE, NHS_NUMBER]
    assert (
        describe(found[:2])
        == "an email address (jo@example.org) and a UK phone number (07700 900123)"
    )


def test_empty_text_has_nothing():
    assert find_personal_data("") == []


@pytest.mark.parametrize(
    "text",
    [
        "Client 943 476 5919, seen twice",
        "Client (9434765919) seen",
        "Client was 9434765919.",
        "Client 943-476-5919; seen",
    ],
)
def test_an_nhs_number_followed_or_wrapped_by_punctuation_is_still_found(text):
    assert NHS_NUMBER in kinds(text)


@pytest.mark.parametrize("text", ["£9434765919", "9434765919.50", "9434765919,123", "0.9434765919"])
def test_ten_digits_inside_an_amount_or_a_longer_number_are_not_an_nhs_number(text):
    assert kinds(text) == []
