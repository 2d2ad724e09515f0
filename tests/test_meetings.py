"""Contract meetings and their action log: carry-forward, constraints, pages and access."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from contracts.models import Action, Meeting, ReportingPeriod

LONDON = ZoneInfo("Europe/London")


def _period(contract, year, quarter):
    return ReportingPeriod.objects.get(contract=contract, year=year, quarter=quarter)


def _meeting(contract, year, quarter, day):
    return Meeting.objects.create(
        contract=contract, period=_period(contract, year, quarter), date=day
    )


def _action(meeting, text, *, status="open", closed=None, owner=None, kpi=None):
    return Action.objects.create(
        contract=meeting.contract,
        raised_at=meeting,
        description=text,
        owner_organisation=owner or meeting.contract.lead_provider,
        due_date=meeting.date.replace(day=28),
        status=status,
        closed_at=closed,
        kpi=kpi,
    )


@pytest.fixture
def meetings(cast):
    c = cast.contract
    return [
        _meeting(c, 1, 1, date(2023, 2, 1)),
        _meeting(c, 1, 2, date(2023, 5, 3)),
        _meeting(c, 1, 3, date(2023, 8, 2)),
    ]


class TestCarryForward:
    def test_open_actions_show_on_every_later_meeting(self, meetings):
        first, second, third = meetings
        still_open = _action(first, "Still open")
        assert list(Action.objects.for_meeting(first)) == [still_open]
        assert list(Action.objects.carried_forward_to(second)) == [still_open]
        assert list(Action.objects.carried_forward_to(third)) == [still_open]

    def test_closed_actions_stop_after_the_meeting_they_were_closed_by(self, meetings):
        first, second, third = meetings
        closed = datetime(2023, 5, 3, 11, 0, tzinfo=LONDON)  # at the second meeting
        done = _action(first, "Done at the second meeting", status="done", closed=closed)
        assert list(Action.objects.carried_forward_to(second)) == [done]
        assert list(Action.objects.carried_forward_to(third)) == []

    def test_actions_of_later_meetings_do_not_show_earlier(self, meetings):
        first, second, _ = meetings
        _action(second, "Raised later")
        assert list(Action.objects.for_meeting(first)) == []

    def test_another_contracts_actions_never_show(self, cast, meetings):
        other = _meeting(cast.other_contract, 1, 1, date(2023, 7, 1))
        _action(other, "Elsewhere")
        assert list(Action.objects.for_meeting(meetings[2])) == []


class TestConstraints:
    def test_one_meeting_per_quarter(self, cast, meetings):
        with pytest.raises(IntegrityError), transaction.atomic():
            _meeting(cast.contract, 1, 1, date(2023, 2, 8))

    def test_done_action_needs_a_closing_time(self, meetings):
        with pytest.raises(IntegrityError), transaction.atomic():
            _action(meetings[0], "Done without a time", status="done")

    def test_open_action_has_no_closing_time(self, meetings):
        closed = datetime(2023, 5, 3, 11, 0, tzinfo=LONDON)
        with pytest.raises(IntegrityError), transaction.atomic():
            _action(meetings[0], "Open yet closed", closed=closed)
