"""A return's state, at both sides of every boundary, without a database (reports/state.py)."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from reports.state import LATE, ReturnState, State, return_state, state_of, submitted_late

END = date(2022, 12, 31)  # Y1Q1 ends
DUE = date(2023, 1, 23)  # and is due 15 working days later
BEFORE_END, AFTER_END = date(2022, 12, 30), date(2023, 1, 1)
DAY_BEFORE, DAY_AFTER = date(2023, 1, 22), date(2023, 1, 24)


def state(status, today, submitted_on=None, first_late=None) -> ReturnState:
    return return_state(
        status=status,
        quarter_end=END,
        due=DUE,
        today=today,
        submitted_on=submitted_on,
        first_submitted_late=first_late,
    )


@pytest.mark.parametrize(
    ("status", "today", "submitted_on", "expected", "label"),
    [
        # No return started: not due until the quarter ends, then due, then overdue.
        (None, BEFORE_END, None, State.NOT_DUE, "Not due"),
        (None, END, None, State.NOT_DUE, "Not due"),
        (None, AFTER_END, None, State.DUE, "Due"),
        (None, DAY_BEFORE, None, State.DUE, "Due"),
        (None, DUE, None, State.DUE, "Due"),  # the due date itself: still due
        (None, DAY_AFTER, None, State.OVERDUE, "Overdue"),
        # A draft: a draft until the due date, overdue the day after.
        ("draft", BEFORE_END, None, State.DRAFT, "Draft"),
        ("draft", DUE, None, State.DRAFT, "Draft"),
        ("draft", DAY_AFTER, None, State.OVERDUE_DRAFT, "Overdue (draft)"),
        # Submitted: on time up to and including the due date, late after it, whenever viewed.
        ("submitted", DAY_BEFORE, DAY_BEFORE, State.SUBMITTED, "Submitted"),
        ("submitted", DUE, DUE, State.SUBMITTED, "Submitted"),
        ("submitted", DAY_AFTER, DUE, State.SUBMITTED, "Submitted"),
        ("submitted", DAY_AFTER, DAY_AFTER, State.SUBMITTED_LATE, "Submitted late"),
        ("submitted", date(2024, 1, 1), DAY_AFTER, State.SUBMITTED_LATE, "Submitted late"),
        # Queried and accepted returns are never overdue.
        ("queried", DAY_AFTER, DUE, State.QUERIED, "Queried"),
        ("accepted", DAY_AFTER, DUE, State.ACCEPTED, "Accepted"),
    ],
)
def test_state_at_each_boundary(status, today, submitted_on, expected, label):
    st = state(status, today, submitted_on)
    assert st.state is expected
    assert st.label == label


@pytest.mark.parametrize(
    ("submitted_on", "late"), [(DAY_BEFORE, False), (DUE, False), (DAY_AFTER, True)]
)
def test_submitted_on_the_due_date_is_on_time(submitted_on, late):
    assert submitted_late(submitted_on, DUE) is late
    assert state("submitted", DAY_AFTER, submitted_on).is_late is late


@pytest.mark.parametrize(
    ("status", "today", "submitted_on", "overdue", "late", "submitted"),
    [
        (None, DUE, None, False, False, False),
        (None, DAY_AFTER, None, True, False, False),
        ("draft", DUE, None, False, False, False),
        ("draft", DAY_AFTER, None, True, False, False),
        ("submitted", DAY_AFTER, DUE, False, False, True),
        ("submitted", DAY_AFTER, DAY_AFTER, False, True, True),
        ("queried", DAY_AFTER, DAY_AFTER, False, True, True),
        ("accepted", DAY_AFTER, DAY_AFTER, False, True, True),
    ],
)
def test_overdue_and_late_are_two_ideas(status, today, submitted_on, overdue, late, submitted):
    st = state(status, today, submitted_on)
    assert (st.is_overdue, st.is_late, st.is_submitted) == (overdue, late, submitted)
    assert st.is_problem is (overdue or late)


def test_late_is_shown_beside_a_queried_or_accepted_return_and_never_twice():
    assert state("accepted", DAY_AFTER, DAY_AFTER).late_mark == LATE == "Submitted late"
    assert str(state("accepted", DAY_AFTER, DAY_AFTER)) == "Accepted, submitted late"
    assert str(state("queried", DAY_AFTER, DAY_AFTER)) == "Queried, submitted late"
    assert state("submitted", DAY_AFTER, DAY_AFTER).late_mark == ""  # the label says it
    assert str(state("submitted", DAY_AFTER, DAY_AFTER)) == "Submitted late"
    assert state("accepted", DAY_AFTER, DUE).late_mark == ""


def test_the_first_submissions_lateness_wins_over_a_resubmission():
    # Submitted on time, queried, resubmitted after the due date: not late.
    assert state("submitted", DAY_AFTER, DAY_AFTER, first_late=False).state is State.SUBMITTED
    # Submitted late, queried, resubmitted: still late.
    assert state("accepted", DAY_AFTER, DAY_AFTER, first_late=True).is_late


@pytest.mark.parametrize(
    ("status", "today", "submitted_on", "timeliness"),
    [
        (None, END, None, "Quarter not ended"),
        (None, DUE, None, "Not yet submitted"),
        ("draft", DUE, None, "Not yet submitted"),
        (None, DAY_AFTER, None, "Not submitted by the due date"),
        ("draft", DAY_AFTER, None, "Not submitted by the due date"),
        ("accepted", DAY_AFTER, DUE, "On time"),
        ("accepted", DAY_AFTER, DAY_AFTER, "Submitted late"),
    ],
)
def test_timeliness(status, today, submitted_on, timeliness):
    assert state(status, today, submitted_on).timeliness == timeliness


def test_a_submitted_return_needs_its_submission_date():
    with pytest.raises(ValueError):
        state("submitted", DUE)
    with pytest.raises(ValueError):
        state("withdrawn", DUE, DUE)


def test_state_of_reads_a_return_and_its_period():
    period = SimpleNamespace(end=END, due_date=DUE)
    assert state_of(None, period, DAY_AFTER).state is State.OVERDUE
    unsaved = SimpleNamespace(pk=None, status="draft", submitted_at=None, is_late=False)
    assert state_of(unsaved, period, DUE).state is State.DUE
    draft = SimpleNamespace(pk=1, status="draft", submitted_at=None, is_late=False)
    assert state_of(draft, period, DAY_AFTER).state is State.OVERDUE_DRAFT
    late = SimpleNamespace(
        pk=1, status="accepted", submitted_at=datetime(2023, 1, 24, 9, tzinfo=UTC), is_late=True
    )
    assert state_of(late, period, DAY_AFTER).late_mark == LATE
