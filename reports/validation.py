"""Checking a return's figures: parsing what was typed and the rules a submission must meet.

Pure: no Django, no database. Every input is addressed by a field name (``SPA-01__numerator``),
shared by the browser form (where it becomes the element id ``id_SPA-01__numerator``) and the
Excel template (where it maps to a sheet and cell), so a problem can point at what to fix.
Messages are plain English and say what to do. Each problem also says what kind of problem it
is (``Kind``); whatever the code does about a problem (which box it opens, how it is listed)
hangs on that kind, never on the message's wording.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from psis import formatting
from reports import personal_data

# Measures, as kpis.models.Measure stores them.
COUNT = "count"
MONEY = "money"
PERCENTAGE = "percentage"
AVERAGE = "average"
BREAKDOWN = "breakdown"
EVIDENCE = "evidence"

# Kinds of input.
WHOLE = "whole"
POUNDS = "pounds"
DECIMAL = "decimal"
TEXT = "text"
TICK = "tick"

LARGEST = 999_999_999
# The longest commentary, explanation, evidence or reason kept: about 1,500 words, well past any
# real quarter's commentary, and what the Excel template's own cell validation allows.
TEXT_LIMIT = 10_000
MOVE_THRESHOLD = Decimal("0.5")

COMMENTARY = "commentary"
COMMENTARY_PD_CONFIRM = "commentary__pd_confirm"
COMMENTARY_PD_REASON = "commentary__pd_reason"
CHANGE_REASON = "change_reason"

WHOLE_MESSAGE = "Enter a whole number of 0 or more"
POUNDS_MESSAGE = "Enter an amount in pounds of 0 or more, like 1250 or 1250.50"
DECIMAL_MESSAGE = "Enter a number of 0 or more, like 6 or 6.5"
TOO_LARGE_MESSAGE = f"Enter a number no larger than {formatting.number(LARGEST)}"
CONSENT_MESSAGE = (
    "Tick to confirm that anyone described has consented and the evidence is anonymised"
)
EVIDENCE_MESSAGE = "Describe the evidence or attach a document"
PD_REASON_MESSAGE = "Say why the personal data is needed"
CHANGE_REASON_MESSAGE = "Say why you are changing figures that were already submitted"
PD_HINT = "tick the box below and say why it is needed"
PERSONAL_DATA_MESSAGE = "This looks like it contains {found}. Remove it, or {hint}"
CASES_MESSAGE = "An average needs at least 1 case. Enter how many cases the average is over"
DIGITS_MESSAGE = "Use the digits 0–9 to type this number"


def too_long_message(length: int) -> str:
    limit, has = formatting.number(TEXT_LIMIT), formatting.number(length)
    return f"Shorten this to {limit} characters or fewer (it has {has})"


_TRUE = {"on", "yes", "y", "true", "1", "x", "✓", "✔"}
_FALSE = {"", "off", "no", "n", "false", "0"}


def field_name(code: str, part: str) -> str:
    return f"{code}__{part}"


@dataclass(frozen=True)
class Part:
    """One input of a KPI: its key in the field name, its label and what it accepts."""

    key: str
    label: str
    kind: str
    required: bool = True


@dataclass(frozen=True)
class KpiSpec:
    """What a return asks for one KPI, read from its definition."""

    code: str
    measure: str
    monthly: bool = False
    has_total: bool = False
    categories: tuple[tuple[str, str], ...] = ()  # (key, name); the key goes in field names
    months: tuple[str, str, str] = ("Month 1", "Month 2", "Month 3")

    def parts(self) -> list[Part]:
        """The figure's inputs, in the order they are shown (explanation not included)."""
        match self.measure:
            case _ if self.monthly:
                return [Part(f"month_{i}", m, WHOLE) for i, m in enumerate(self.months, 1)]
            case "count":
                return [Part("value", "Number", WHOLE)]
            case "money":
                return [Part("value", "Amount in pounds (£)", POUNDS)]
            case "percentage":
                return [
                    Part("numerator", "Numerator", WHOLE),
                    Part("denominator", "Denominator", WHOLE),
                ]
            case "average":
                return [
                    Part("value", "Average", DECIMAL),
                    Part("cases", "Number of cases the average is over", WHOLE),
                ]
            case "breakdown":
                parts = [Part(f"cat_{key}", name, WHOLE) for key, name in self.categories]
                if self.has_total or not self.categories:
                    parts.append(Part("total", "Total", WHOLE))
                return parts
            case "evidence":
                return [
                    Part("narrative", "Evidence", TEXT),
                    Part("consent", CONSENT_LABEL, TICK),
                ]
        raise ValueError(f"Unknown measure {self.measure!r}")

    def field(self, part: str) -> str:
        return field_name(self.code, part)


CONSENT_LABEL = (
    "I confirm that anyone described in this evidence consented to it being shared, "
    "and that it is anonymised"
)


@dataclass
class FigureValues:
    """One KPI's parsed figure. None means left blank."""

    value: Decimal | None = None
    numerator: int | None = None
    denominator: int | None = None
    cases: int | None = None
    months: tuple[int | None, int | None, int | None] = (None, None, None)
    categories: dict[str, int | None] = field(default_factory=dict)
    total: int | None = None
    narrative: str = ""
    explanation: str = ""
    consent: bool = False
    pd_reason: str = ""


class Kind(enum.StrEnum):
    """What kind of problem a Problem is. Decisions test this, never the message."""

    REQUIRED = "required"  # a figure, or the evidence, a submission needs is blank
    NOT_A_NUMBER = "not_a_number"  # typed text that is not a number of the asked shape
    NOT_YES_OR_NO = "not_yes_or_no"  # a tick that reads as neither yes nor no
    OUT_OF_RANGE = "out_of_range"  # too large, or an average over no cases
    TOO_LONG = "too_long"  # free text over TEXT_LIMIT
    NUMERATOR_OVER_DENOMINATOR = "numerator_over_denominator"
    BREAKDOWN_TOTAL = "breakdown_total"  # categories do not add up to the stated total
    CONSENT_NEEDED = "consent_needed"  # evidence without the consent tick
    PERSONAL_DATA = "personal_data"  # personal data found, neither removed nor confirmed
    PERSONAL_DATA_REASON = "personal_data_reason"  # confirmed without saying why
    EXPLANATION_NEEDED = "explanation_needed"  # a figure moved too far, unexplained
    CHANGE_REASON_NEEDED = "change_reason_needed"  # submitted figures changed without a reason
    ANSWER_NEEDED = "answer_needed"  # a query not yet answered
    COMMENT_NEEDED = "comment_needed"  # a query with nothing said
    NOT_IN_RETURN = "not_in_return"  # a KPI that is not this return's
    NOTHING_ENTERED = "nothing_entered"  # submitting a return never saved

    @property
    def names_its_field(self) -> bool:
        """The message starts with the field's own label ("Numerator (34) is larger than
        denominator (30)"), so a list of problems need not name the field twice."""
        return self is Kind.NUMERATOR_OVER_DENOMINATOR


@dataclass(frozen=True)
class Problem:
    field: str
    message: str
    code: str = ""  # the KPI's code, or "" for the return as a whole
    kind: Kind = field(kw_only=True)

    def __str__(self):
        return f"{self.code}: {self.message}" if self.code else self.message


@dataclass
class Parsed:
    figures: dict[str, FigureValues]
    commentary: str
    commentary_pd_reason: str
    change_reason: str
    problems: list[Problem]


# ---- Reading typed values -------------------------------------------------------------------


class InvalidInput(Exception):
    def __init__(self, message: str, kind: Kind = Kind.NOT_A_NUMBER):
        self.message = message
        self.kind = kind


def _clean_number(text: str, *, allow_pound: bool) -> str:
    """What was typed without grouping and the pound sign. Only the ASCII digits 0-9 are
    numbers: other scripts' digits ("٣٠٠", fullwidth "３００") are refused with their own
    message rather than read (Python's int() and Decimal() would accept them)."""
    text = str(text).strip().replace(",", "").replace(" ", "").replace("\u00a0", "")
    if allow_pound and text.startswith("£"):
        text = text[1:]
    if any(ch.isdigit() and not ("0" <= ch <= "9") for ch in text):
        raise InvalidInput(DIGITS_MESSAGE)
    return text


def parse_whole(text: str) -> int | None:
    """A whole number of 0 or more ("1,250" is fine); None for blank."""
    cleaned = _clean_number(text, allow_pound=False)
    if cleaned == "":
        return None
    if not re.fullmatch(r"[0-9]+(\.0*)?", cleaned):
        raise InvalidInput(WHOLE_MESSAGE)
    number = int(Decimal(cleaned))
    if number > LARGEST:
        raise InvalidInput(TOO_LARGE_MESSAGE, Kind.OUT_OF_RANGE)
    return number


def _parse_decimal(text: str, *, pounds: bool) -> Decimal | None:
    cleaned = _clean_number(text, allow_pound=pounds)
    if cleaned == "":
        return None
    message = POUNDS_MESSAGE if pounds else DECIMAL_MESSAGE
    if not re.fullmatch(r"[0-9]+(\.[0-9]*)?|\.[0-9]+", cleaned):
        raise InvalidInput(message)
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput(message) from None
    if number != number.quantize(Decimal("0.01")):
        raise InvalidInput(
            "Enter pounds and pence, with no more than 2 decimal places"
            if pounds
            else "Enter a number with no more than 2 decimal places"
        )
    if number > LARGEST:
        raise InvalidInput(TOO_LARGE_MESSAGE, Kind.OUT_OF_RANGE)
    return number.quantize(Decimal("0.01")) if number != number.to_integral() else number


def parse_pounds(text: str) -> Decimal | None:
    return _parse_decimal(text, pounds=True)


def parse_decimal(text: str) -> Decimal | None:
    return _parse_decimal(text, pounds=False)


def parse_tick(value) -> bool:
    text = str(value if value is not None else "").strip().lower()
    if text in _TRUE or value is True:
        return True
    if text in _FALSE or value is False:
        return False
    raise InvalidInput("Enter Yes or No", Kind.NOT_YES_OR_NO)


def _text(raw: Mapping[str, object], name: str) -> str:
    value = raw.get(name)
    return "" if value is None else str(value).strip()


def _long_text(raw: Mapping[str, object], name: str, code: str, problems: list[Problem]) -> str:
    """Free text (commentary, explanation, evidence, a reason): refused, never cut, when it is
    longer than TEXT_LIMIT."""
    text = _text(raw, name)
    if len(text) > TEXT_LIMIT:
        problems.append(Problem(name, too_long_message(len(text)), code, kind=Kind.TOO_LONG))
    return text


_PARSERS = {WHOLE: parse_whole, POUNDS: parse_pounds, DECIMAL: parse_decimal}


def _personal_data_problems(
    raw: Mapping[str, object],
    texts: Iterable[tuple[str, str]],
    confirm_field: str,
    reason_field: str,
    code: str,
    stored_reason: str,
    hint: str,
) -> tuple[str, list[Problem]]:
    """Personal data in ``texts`` must be removed or confirmed with a reason."""
    reason = _text(raw, reason_field)
    try:
        confirmed = parse_tick(raw.get(confirm_field))
    except InvalidInput:
        confirmed = False
    found = False
    problems = []
    for name, text in texts:
        findings = personal_data.find_personal_data(text)
        if not findings:
            continue
        found = True
        if not confirmed and not stored_reason:
            problems.append(
                Problem(
                    name,
                    PERSONAL_DATA_MESSAGE.format(found=personal_data.describe(findings), hint=hint),
                    code,
                    kind=Kind.PERSONAL_DATA,
                )
            )
    if not found:
        return "", []
    if confirmed and not reason:
        problems.append(
            Problem(reason_field, PD_REASON_MESSAGE, code, kind=Kind.PERSONAL_DATA_REASON)
        )
    if len(reason) > TEXT_LIMIT:
        problems.append(
            Problem(reason_field, too_long_message(len(reason)), code, kind=Kind.TOO_LONG)
        )
    return (reason or stored_reason), problems


def parse_return(
    specs: Iterable[KpiSpec],
    raw: Mapping[str, object],
    *,
    stored_pd_reasons: Mapping[str, str] | None = None,
    pd_hint: str = PD_HINT,
) -> Parsed:
    """Read every field of a return and report what cannot be saved even as a draft.

    ``raw`` maps field names to what was typed (strings, or numbers from a spreadsheet).
    ``stored_pd_reasons`` holds reasons already given for personal data (by KPI code, and
    "commentary" for the return's commentary), so a confirmed text is not asked about again.
    """
    stored = stored_pd_reasons or {}
    problems: list[Problem] = []
    figures: dict[str, FigureValues] = {}
    for spec in specs:
        values = FigureValues()
        parsed: dict[str, object] = {}
        for part in spec.parts():
            name = spec.field(part.key)
            try:
                if part.kind == TEXT:
                    parsed[part.key] = _long_text(raw, name, spec.code, problems)
                elif part.kind == TICK:
                    parsed[part.key] = parse_tick(raw.get(name))
                else:
                    parsed[part.key] = _PARSERS[part.kind](raw.get(name) or "")
            except InvalidInput as invalid:
                problems.append(Problem(name, invalid.message, spec.code, kind=invalid.kind))
                parsed[part.key] = None
        values.explanation = _long_text(raw, spec.field("explanation"), spec.code, problems)
        values.narrative = parsed.get("narrative") or ""
        values.consent = bool(parsed.get("consent"))
        if spec.monthly:
            values.months = tuple(parsed[f"month_{i}"] for i in (1, 2, 3))
        elif spec.measure == BREAKDOWN:
            values.categories = {key: parsed[f"cat_{key}"] for key, _ in spec.categories}
            values.total = parsed.get("total")
        else:
            value = parsed.get("value")
            values.value = Decimal(value) if isinstance(value, int) else value
            values.numerator = parsed.get("numerator")
            values.denominator = parsed.get("denominator")
            values.cases = parsed.get("cases")
        if (
            values.numerator is not None
            and values.denominator is not None
            and values.numerator > values.denominator
        ):
            problems.append(
                Problem(
                    spec.field("numerator"),
                    f"Numerator ({formatting.number(values.numerator)}) is larger than denominator "
                    f"({formatting.number(values.denominator)})",
                    spec.code,
                    kind=Kind.NUMERATOR_OVER_DENOMINATOR,
                )
            )
        values.pd_reason, pd_problems = _personal_data_problems(
            raw,
            [
                (spec.field("narrative"), values.narrative),
                (spec.field("explanation"), values.explanation),
            ],
            spec.field("pd_confirm"),
            spec.field("pd_reason"),
            spec.code,
            stored.get(spec.code, ""),
            pd_hint,
        )
        problems.extend(pd_problems)
        figures[spec.code] = values
    commentary = _long_text(raw, COMMENTARY, "", problems)
    commentary_reason, pd_problems = _personal_data_problems(
        raw,
        [(COMMENTARY, commentary)],
        COMMENTARY_PD_CONFIRM,
        COMMENTARY_PD_REASON,
        "",
        stored.get(COMMENTARY, ""),
        pd_hint,
    )
    problems.extend(pd_problems)
    return Parsed(
        figures=figures,
        commentary=commentary,
        commentary_pd_reason=commentary_reason,
        change_reason=_text(raw, CHANGE_REASON),
        problems=problems,
    )


# ---- What a submission needs ----------------------------------------------------------------


def headline(spec: KpiSpec, values: FigureValues) -> Decimal | None:
    """The one number a figure is judged and trended by (None if incomplete or evidence)."""
    if spec.measure == EVIDENCE:
        return None
    if spec.monthly:
        if any(m is None for m in values.months):
            return None
        return Decimal(sum(values.months))
    if spec.measure == PERCENTAGE:
        if values.numerator is None or not values.denominator:
            return None
        return Decimal(values.numerator) * 100 / Decimal(values.denominator)
    if spec.measure == BREAKDOWN:
        if values.total is not None:
            return Decimal(values.total)
        counts = list(values.categories.values())
        if not counts or any(c is None for c in counts):
            return None
        return Decimal(sum(counts))
    return values.value


def moved_too_far(previous: Decimal | None, current: Decimal | None) -> Decimal | None:
    """The relative move when it is more than 50% (a rise from 0 counts), else None."""
    if previous is None or current is None:
        return None
    if previous == 0:
        return Decimal("Infinity") if current != 0 else None
    move = abs(current - previous) / previous
    return move if move > MOVE_THRESHOLD else None


def check_submission(
    specs: Iterable[KpiSpec],
    figures: Mapping[str, FigureValues],
    *,
    previous: Mapping[str, Decimal | None] | None = None,
    attachments: Mapping[str, int] | None = None,
) -> list[Problem]:
    """Everything a return needs before it can be submitted, beyond what a draft needs."""
    previous = previous or {}
    attachments = attachments or {}
    problems: list[Problem] = []
    for spec in specs:
        values = figures.get(spec.code) or FigureValues()

        def need(part: str, message: str, value, spec=spec) -> None:
            if value is None:
                problems.append(Problem(spec.field(part), message, spec.code, kind=Kind.REQUIRED))

        if spec.measure == EVIDENCE:
            if not values.narrative and not attachments.get(spec.code):
                problems.append(
                    Problem(
                        spec.field("narrative"), EVIDENCE_MESSAGE, spec.code, kind=Kind.REQUIRED
                    )
                )
            if not values.consent:
                problems.append(
                    Problem(
                        spec.field("consent"), CONSENT_MESSAGE, spec.code, kind=Kind.CONSENT_NEEDED
                    )
                )
            continue
        if spec.monthly:
            for i, (label, month) in enumerate(zip(spec.months, values.months, strict=True), 1):
                need(f"month_{i}", f"Enter the figure for {label}", month)
        elif spec.measure == PERCENTAGE:
            need("numerator", "Enter the numerator", values.numerator)
            need("denominator", "Enter the denominator", values.denominator)
        elif spec.measure == AVERAGE:
            need("value", "Enter the average", values.value)
            need("cases", "Enter the number of cases the average is over", values.cases)
            if values.cases == 0 and values.value:
                problems.append(
                    Problem(spec.field("cases"), CASES_MESSAGE, spec.code, kind=Kind.OUT_OF_RANGE)
                )
        elif spec.measure == BREAKDOWN:
            for key, name in spec.categories:
                need(f"cat_{key}", f"Enter the number for {name}", values.categories.get(key))
            if spec.has_total or not spec.categories:
                need("total", "Enter the total", values.total)
            counts = [values.categories.get(key) for key, _ in spec.categories]
            if (
                spec.has_total
                and spec.categories
                and values.total is not None
                and all(c is not None for c in counts)
                and sum(counts) != values.total
            ):
                problems.append(
                    Problem(
                        spec.field("total"),
                        f"Categories add up to {formatting.number(sum(counts))} but the total "
                        f"is {formatting.number(values.total)}",
                        spec.code,
                        kind=Kind.BREAKDOWN_TOTAL,
                    )
                )
        elif spec.measure == MONEY:
            need("value", "Enter the amount in pounds", values.value)
        else:
            need("value", "Enter the number", values.value)

        current = headline(spec, values)
        before = previous.get(spec.code)
        move = moved_too_far(before, current)
        if move is not None and not values.explanation:
            was, now = (formatting.figure(v, spec.measure) for v in (before, current))
            if move.is_infinite():
                change = f"rose from 0 to {now} since the last return"
            else:
                change = (
                    f"changed by {formatting.percent(move * 100)} since the last return "
                    f"({was} to {now})"
                )
            problems.append(
                Problem(
                    spec.field("explanation"),
                    f"This figure {change}. Explain why before submitting",
                    spec.code,
                    kind=Kind.EXPLANATION_NEEDED,
                )
            )
    return problems
