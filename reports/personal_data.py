"""Spotting what identifies a person in free text: NHS numbers, email addresses, UK phone numbers
and postcodes.

Pure text rules: no Django. Returns are aggregate figures, so commentary and case studies should not
name anyone; what is found here is shown to the provider, who removes it or says why it is needed.
"""

import re
from dataclasses import dataclass

NHS_NUMBER = "an NHS number"
EMAIL = "an email address"
PHONE = "a UK phone number"
POSTCODE = "a postcode"

# Ten digits, optionally grouped 3-3-4 by spaces or hyphens, not part of a longer number or an
# amount ("£9434765919", "1,9434765919", "9434765919.50"). Punctuation that merely ends a number
# ("943 476 5919," "(9434765919)" "9434765919.") does not hide it.
_NHS = re.compile(r"(?<![\d£])(?<!\d[.,])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d|[.,]\d)")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# +44 or 0, then 9 or 10 more digits, spaced, hyphenated or bracketed as people write them.
_PHONE = re.compile(r"(?<![\d+])(?:\+44\s?\(?0?\)?\s?|\(?0)\d(?:[\s-]?\)?\s?\d){8,9}(?!\d)")
# The UK postcode format: outward code (e.g. BR1, SE26, W1A) then inward code (e.g. 3AA).
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str

    def __str__(self):
        return f"{self.kind} ({self.text})"


def is_valid_nhs_number(text: str) -> bool:
    """Ten digits (spaces and hyphens ignored) whose last digit is the modulus 11 check digit."""
    digits = re.sub(r"[ -]", "", text)
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(digits[9])


def find_personal_data(text: str) -> list[Finding]:
    """Everything in ``text`` that looks like it identifies a person, in the order found."""
    if not text:
        return []
    findings: list[tuple[int, Finding]] = []
    taken: list[tuple[int, int]] = []

    def add(match: re.Match, kind: str) -> None:
        start, end = match.span()
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            return
        taken.append((start, end))
        findings.append((start, Finding(kind, match.group(0).strip())))

    for match in _EMAIL.finditer(text):
        add(match, EMAIL)
    for match in _NHS.finditer(text):
        if is_valid_nhs_number(match.group(0)):
            add(match, NHS_NUMBER)
    for match in _PHONE.finditer(text):
        add(match, PHONE)
    for match in _POSTCODE.finditer(text):
        add(match, POSTCODE)
    return [finding for _, finding in sorted(findings, key=lambda pair: pair[0])]


def describe(findings: list[Finding]) -> str:
    """ "an email address (a@b.org) and a postcode (BR1 3AA)" """
    parts = [str(f) for f in findings]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
