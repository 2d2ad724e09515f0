"""Reading ids and choices from URLs and forms: one place, so that no input makes a 500.

Every view reads a query or form parameter that names an object id or a choice through these
functions. Malformed input (not ASCII digits, out of bounds, not one of the choices, too long)
raises ``BadParameter``, which Django answers with *400 Bad Request* (it is a
``SuspiciousOperation``); a well-formed id of an object the user may not see is the access
helpers' 404. Quarters are read by ``ReportingPeriod.objects.by_label`` (404 when unknown).

Only ASCII digits are digits here: ``str.isdigit`` and ``int`` accept "²", "٣" and "２", which
no link or form of the app ever sends.
"""

import re
from collections.abc import Collection

from django import forms
from django.core.exceptions import SuspiciousOperation, ValidationError

# Database ids are positive and fit a 64-bit signed integer (SQLite and PostgreSQL bigint).
MAX_ID = 2**63 - 1
# No id, choice or quarter label the app makes is longer; longer input is refused unread.
MAX_LENGTH = 100

_ASCII_INT = re.compile(r"-?[0-9]+", re.ASCII)


class BadParameter(SuspiciousOperation):
    """A query or form parameter that no page of the app sends: answered with 400."""


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise BadParameter(f"{name}: expected text.")
    if len(value) > MAX_LENGTH:
        raise BadParameter(f"{name}: longer than {MAX_LENGTH} characters.")
    return value.strip()


def integer(value: object, name: str = "value", *, low: int = 1, high: int = MAX_ID) -> int:
    """``value`` as an int from ASCII digits (an optional leading minus), within low..high."""
    text = _text(value, name)
    if not _ASCII_INT.fullmatch(text):
        raise BadParameter(f"{name}: not a whole number.")
    number = int(text)
    if not low <= number <= high:
        raise BadParameter(f"{name}: must be from {low} to {high}.")
    return number


def object_id(value: object, name: str = "id") -> int:
    """A database id (1 or more, and not too big for the database)."""
    return integer(value, name, low=1, high=MAX_ID)


def optional_id(value: object, name: str = "id") -> int | None:
    """None for a missing or empty parameter, else ``object_id``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return object_id(value, name)


def choice(value: object, choices: Collection[str], name: str = "value") -> str:
    """``value`` if it is one of ``choices`` (exactly), else BadParameter."""
    text = _text(value, name)
    if text not in choices:
        raise BadParameter(f"{name}: not one of {', '.join(sorted(choices))}.")
    return text


def optional_choice(value: object, choices: Collection[str], name: str = "value") -> str | None:
    """None for a missing or empty parameter, else ``choice``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return choice(value, choices, name)


# --- form fields: the same rule for ids and numbers typed into or posted by a form -------------


def _refuse_non_ascii(field: forms.Field, value, code: str) -> None:
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if not _ASCII_INT.fullmatch(text) or not -MAX_ID <= int(text) <= MAX_ID:
            raise ValidationError(
                field.error_messages[code], code=code, params={"value": value[:MAX_LENGTH]}
            )


class IdChoiceField(forms.ModelChoiceField):
    """A model choice posted as its id: ASCII digits within the database's bounds, else the
    field's "Select a valid choice" (Django would read "٣" as 3 and pass a huge one on)."""

    def to_python(self, value):
        _refuse_non_ascii(self, value, "invalid_choice")
        return super().to_python(value)


class WholeNumberField(forms.IntegerField):
    """An IntegerField of ASCII digits only, and no bigger than a database integer."""

    def to_python(self, value):
        _refuse_non_ascii(self, value, "invalid")
        return super().to_python(value)
