"""Contract meetings and their action log: carry-forward, constraints, pages and access."""

from datetime import date, datetime

import pytest
from django.db import IntegrityError, transaction

from meetings.models import Action, Meeting
from tests.builders import LONDON, action_form, period_of
from tests.builders import meeting_url as url


def _meeting(contract, year, quarter, day):
    return Meeting.objects.create(
        contract=contract, period=period_of(contract, year, quarter), date=day
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


class TestPages:
    @pytest.mark.parametrize("who", ["commissioner", "officer", "lead", "partner", "admin"])
    def test_every_party_reads_meetings_and_actions(self, cast, meetings, client_for, who):
        first, _, third = meetings
        _action(first, "Carried <b>forward</b>", kpi=cast.kpis["SPA-01"])
        client = client_for(getattr(cast, who))
        listing = client.get(url("list")).content.decode()
        assert "Contract meetings and packs" in listing
        assert "Carried &lt;b&gt;forward&lt;/b&gt;" in listing  # escaped
        detail = client.get(url("detail", third.pk)).content.decode()
        assert "Carried forward from earlier meetings (1)" in detail
        assert "Carried &lt;b&gt;forward&lt;/b&gt;" in detail
        editing = url("edit", third.pk) in detail
        assert editing == (who == "commissioner")

    def test_outsiders_get_not_found(self, cast, meetings, client_for):
        client = client_for(cast.outsider)
        for path in (url("list"), url("detail", meetings[0].pk), url("create")):
            assert client.get(path).status_code == 404

    def test_a_meeting_of_another_contract_is_not_found(self, cast, client_for):
        theirs = _meeting(cast.other_contract, 1, 1, date(2023, 7, 1))
        client = client_for(cast.commissioner)
        assert client.get(url("detail", theirs.pk)).status_code == 404

    @pytest.mark.parametrize("who", ["officer", "lead", "partner"])
    def test_only_commissioners_change_them(self, cast, meetings, client_for, who):
        first = meetings[0]
        action = _action(first, "Someone else's")
        client = client_for(getattr(cast, who))
        assert client.get(url("create")).status_code == 403
        assert client.post(url("edit", first.pk), {"notes": "x"}).status_code == 403
        assert client.post(url("action_create", first.pk), {}).status_code == 403
        assert client.post(url("action_edit", action.pk), {}).status_code == 403

    def test_commissioner_records_a_meeting(self, cast, client_for):
        client = client_for(cast.commissioner)
        period = period_of(cast.contract, 1, 2)
        response = client.post(
            url("create"),
            {"period": period.pk, "date": "2023-05-03", "attendees": "Chair\nProvider"},
        )
        meeting = Meeting.objects.get()
        assert response["Location"] == url("detail", meeting.pk)
        assert meeting.contract == cast.contract and meeting.period == period

    def test_one_meeting_a_quarter_says_so(self, cast, meetings, client_for):
        response = client_for(cast.commissioner).post(
            url("create"), {"period": meetings[0].period.pk, "date": "2023-02-08"}
        )
        assert response.status_code == 200
        page = response.content.decode()
        assert "There is a problem" in page and 'aria-invalid="true"' in page
        assert Meeting.objects.count() == 3

    def test_closing_an_action_records_when_and_reopening_clears_it(
        self, cast, meetings, client_for
    ):
        first = meetings[0]
        client = client_for(cast.commissioner)
        form = action_form(cast, kpi=cast.kpis["SPA-01"].pk)
        response = client.post(url("action_create", first.pk), form)
        assert response["Location"] == url("detail", first.pk)
        action = Action.objects.get()
        assert action.raised_at == first and action.contract == cast.contract
        assert action.closed_at is None

        client.post(url("action_edit", action.pk), {**form, "status": "done"})
        action.refresh_from_db()
        assert action.status == "done" and action.closed_at is not None

        client.post(url("action_edit", action.pk), {**form, "status": "open"})
        action.refresh_from_db()
        assert action.closed_at is None

    def test_the_add_action_form_sent_twice_adds_one_action(self, cast, meetings, client_for):
        """A double click on "Save the action" posts the same form, with its one-time key, twice."""
        first = meetings[0]
        client = client_for(cast.commissioner)
        page = client.get(url("action_create", first.pk))
        key = page.context["form"]["submission"].value()
        assert f'name="submission" value="{key}"' in page.content.decode()
        form = {
            "description": "Chase the missing figures",
            "owner_organisation": cast.contract.lead_provider.pk,
            "due_date": "2023-03-01",
            "status": "open",
            "submission": key,
        }
        assert client.post(url("action_create", first.pk), form).status_code == 302
        again = client.post(url("action_create", first.pk), form, follow=True)
        assert again.redirect_chain[-1][0] == url("detail", first.pk)
        assert "already added" in again.content.decode()
        assert Action.objects.filter(description="Chase the missing figures").count() == 1
        # A fresh form (a new key) adds the same words as a second action, on purpose.
        fresh = client.get(url("action_create", first.pk)).context["form"]["submission"].value()
        assert fresh != key
        client.post(url("action_create", first.pk), {**form, "submission": fresh})
        assert Action.objects.filter(description="Chase the missing figures").count() == 2

    def test_an_action_key_is_stored_once(self, meetings):
        made = _action(meetings[0], "Once")
        made.submission = "6b8a6f9e-8d3c-4c1e-9a55-0d9b1f7c2a10"
        made.save()
        twin = _action(meetings[0], "Twice")
        twin.submission = made.submission
        with pytest.raises(IntegrityError), transaction.atomic():
            twin.save()

    def test_action_choices_belong_to_the_contract(self, cast, meetings, client_for):
        client = client_for(cast.commissioner)
        form = {
            "description": "Elsewhere",
            "owner_organisation": cast.other_contract.lead_provider.pk,
            "due_date": "2023-03-01",
            "status": "open",
            "kpi": cast.kpis["OP-01"].pk,
        }
        response = client.post(url("action_create", meetings[0].pk), form)
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert set(errors) == {"owner_organisation", "kpi"}
        assert not Action.objects.exists()
