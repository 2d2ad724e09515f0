"""A return's state, defined once: every page, export, pack and reminder asks ``return_state``.

The states, from a quarter's start to its return's acceptance:

- **Not due**: the quarter has not ended, and no return has been started.
- **Due**: the quarter has ended and the due date has not passed (the due date itself
  included), and no return has been started.
- **Overdue**: the due date has passed and no return has been started.
- **Draft**: a return has been started but not submitted, and the due date has not passed.
- **Overdue (draft)**: a draft whose due date has passed. It is overdue first (what matters to
  whoever reads the list), a draft second; so it reads "Overdue (draft)", not "Draft, overdue".
- **Submitted**: submitted on or before the due date, waiting for review.
- **Submitted late**: submitted after the due date, waiting for review.
- **Queried**: sent back by a commissioner; the provider may change it and resubmit.
- **Accepted**: accepted by a commissioner.

Late and overdue are two ideas, never one word for both:

- *Overdue*: due but not submitted, and the due date has passed (what the KPI rules call
  missing). A queried return is not overdue: it was submitted.
- *Late*: submitted after the due date. Submitting on the due date itself is on time. The
  product says so wherever the return appears, including once it is queried or accepted (as a
  mark beside the state: "Submitted late"). Lateness is that of the *first* submission:
  resubmitting after a query does not make a return late, nor an on-time one late. Because
  ``submitted_at`` is overwritten on resubmission, the first submission's lateness is recorded
  on the return (``Return.is_late``, set with ``submitted_late``) and passed in here.

Pure: nothing here reads the database or the clock, so the rules are tested without either
(``tests/test_return_state.py``). ``state_of`` reads a return object (or None) and its period,
turning ``submitted_at`` into a local day with Django's time zone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime


class State(enum.Enum):
    NOT_DUE = "not_due"
    DUE = "due"
    OVERDUE = "overdue"
    DRAFT = "draft"
    OVERDUE_DRAFT = "overdue_draft"
    SUBMITTED = "submitted"
    SUBMITTED_LATE = "submitted_late"
    QUERIED = "queried"
    ACCEPTED = "accepted"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    State.NOT_DUE: "Not due",
    State.DUE: "Due",
    State.OVERDUE: "Overdue",
    State.DRAFT: "Draft",
    State.OVERDUE_DRAFT: "Overdue (draft)",
    State.SUBMITTED: "Submitted",
    State.SUBMITTED_LATE: "Submitted late",
    State.QUERIED: "Queried",
    State.ACCEPTED: "Accepted",
}

#: The words for a return submitted after its due date, wherever it is shown.
LATE = LABELS[State.SUBMITTED_LATE]

NOT_SUBMITTED = frozenset(
    {State.NOT_DUE, State.DUE, State.OVERDUE, State.DRAFT, State.OVERDUE_DRAFT}
)
OVERDUE = frozenset({State.OVERDUE, State.OVERDUE_DRAFT})


def submitted_late(submitted_on: date, due: date) -> bool:
    """Submitted after the due date. Submitting on the due date itself is on time."""
    return submitted_on > due


def is_overdue_on(today: date, due: date) -> bool:
    """The due date has passed: the day after it, not the day itself."""
    return today > due


@dataclass(frozen=True)
class ReturnState:
    """Where a return (or a quarter with no return) stands on a day."""

    state: State
    late: bool = False  # first submitted after the due date

    @property
    def label(self) -> str:
        return self.state.label

    @property
    def is_submitted(self) -> bool:
        return self.state not in NOT_SUBMITTED

    @property
    def is_overdue(self) -> bool:
        return self.state in OVERDUE

    @property
    def is_late(self) -> bool:
        return self.late

    @property
    def is_problem(self) -> bool:
        """Overdue or submitted late: shown in red, listed in the pack's late/missing list."""
        return self.is_overdue or self.is_late

    @property
    def late_text(self) -> str:
        """ "Submitted late" for a return submitted after its due date, else nothing."""
        return LATE if self.late else ""

    @property
    def late_mark(self) -> str:
        """Shown beside the label when the label does not already say the return was late."""
        return self.late_text if self.state is not State.SUBMITTED_LATE else ""

    @property
    def timeliness(self) -> str:
        """One phrase about the deadline: the pack's note beside each return's state."""
        if self.late:
            return LATE
        if self.is_overdue:
            return "Not submitted by the due date"
        if self.state is State.NOT_DUE:
            return "Quarter not ended"
        if not self.is_submitted:
            return "Not yet submitted"
        return "On time"

    def __str__(self) -> str:
        return f"{self.label}, {LATE.lower()}" if self.late_mark else self.label


def return_state(
    *,
    status: str | None,
    quarter_end: date,
    due: date,
    today: date,
    submitted_on: date | None = None,
    first_submitted_late: bool | None = None,
) -> ReturnState:
    """The state of a return on ``today``.

    ``status`` is the return's status ("draft", "submitted", "queried", "accepted"), or None
    when no return has been started. ``submitted_on`` is the (local) day it was last submitted.
    ``first_submitted_late`` is the lateness recorded at the first submission
    (``Return.is_late``); when not given it is worked out from ``submitted_on``.
    """
    if status is None or status == "draft":
        overdue = is_overdue_on(today, due)
        if status == "draft":
            return ReturnState(State.OVERDUE_DRAFT if overdue else State.DRAFT)
        if overdue:
            return ReturnState(State.OVERDUE)
        return ReturnState(State.DUE if today > quarter_end else State.NOT_DUE)
    if first_submitted_late is None:
        if submitted_on is None:
            raise ValueError(f"A {status} return has a submission date.")
        first_submitted_late = submitted_late(submitted_on, due)
    late = bool(first_submitted_late)
    if status == "submitted":
        return ReturnState(State.SUBMITTED_LATE if late else State.SUBMITTED, late)
    if status == "queried":
        return ReturnState(State.QUERIED, late)
    if status == "accepted":
        return ReturnState(State.ACCEPTED, late)
    raise ValueError(f"Unknown return status {status!r}.")


def _day(when: date | datetime | None) -> date | None:
    if isinstance(when, datetime):
        from django.utils import timezone

        return timezone.localdate(when)
    return when


def state_of(ret, period, today: date) -> ReturnState:
    """The state of ``ret`` (a Return, or None when none was started) for ``period``."""
    if ret is None or ret.pk is None:
        return return_state(status=None, quarter_end=period.end, due=period.due_date, today=today)
    return return_state(
        status=ret.status,
        quarter_end=period.end,
        due=period.due_date,
        today=today,
        submitted_on=_day(ret.submitted_at),
        first_submitted_late=ret.is_late if ret.status != "draft" else None,
    )
