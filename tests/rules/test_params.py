"""psis.params: ids and choices read from URLs and forms, ASCII digits only, within bounds."""

import pytest

from psis import params
from psis.params import BadParameter


@pytest.mark.parametrize(
    "text,number", [("1", 1), (" 42 ", 42), (str(params.MAX_ID), params.MAX_ID)]
)
def test_an_id_is_ascii_digits_within_bounds(text, number):
    assert params.object_id(text) == number


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "0",
        "-1",
        "+1",
        "1.0",
        "1e3",
        "²",
        "٣٠٠",
        "２",
        "1\x00",
        "x",
        "9" * 30,
        str(params.MAX_ID + 1),
        "1" * 5000,
        None,
        7,
    ],
)
def test_anything_else_is_a_bad_parameter(text):
    with pytest.raises(BadParameter):
        params.object_id(text)


def test_integer_bounds_are_inclusive():
    assert params.integer("-1", low=-1, high=1) == -1
    assert params.integer("1", low=-1, high=1) == 1
    with pytest.raises(BadParameter):
        params.integer("2", low=-1, high=1)


def test_optional_id_is_none_when_missing_or_empty():
    assert params.optional_id(None) is None
    assert params.optional_id("") is None
    assert params.optional_id("  ") is None
    assert params.optional_id("7") == 7
    with pytest.raises(BadParameter):
        params.optional_id("²")


def test_a_choice_is_one_of_the_choices_exactly():
    assert params.choice("csv", ("csv", "xlsx")) == "csv"
    assert params.optional_choice("", ("csv",)) is None
    assert params.optional_choice(None, ("csv",)) is None
    for bad in ("CSV", "pdf", "csv\x00", "ｃｓｖ", "x" * 5000):
        with pytest.raises(BadParameter):
            params.choice(bad, ("csv", "xlsx"))


def test_a_bad_parameter_is_answered_with_400():
    from django.core.exceptions import SuspiciousOperation

    # Django answers every SuspiciousOperation raised by a view with 400 Bad Request.
    assert issubclass(BadParameter, SuspiciousOperation)


def test_a_whole_number_field_takes_ascii_digits_only():
    from django.core.exceptions import ValidationError

    field = params.WholeNumberField(min_value=0)
    assert field.clean(" 3 ") == 3
    for bad in ("٣", "２", "²", "9" * 30, "1\x00"):
        with pytest.raises(ValidationError):
            field.clean(bad)
