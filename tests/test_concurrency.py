"""Two people, or two clicks, at once: real parallel requests through the pages.

tests/test_returns_flow.py already covers, one request after the other: a stale save refused with
what changed (``test_a_stale_save_is_refused_and_says_what_changed``), submitting twice in a row
(``test_double_submit_submits_once``), a stale save of a return submitted meanwhile; and, on
PostgreSQL only, two saves at once through the service (``test_two_people_saving_at_once_...``).
Here the requests run in parallel threads through the test client, and the row lock is held a
little longer than usual so that the second request certainly arrives while the first holds it.

SQLite: the suite's SQLite test database lives in memory with a shared cache, where a second
writer is told "database table is locked" at once instead of waiting (SQLite's busy timeout does
not apply to shared-cache locks). Production SQLite is a file in WAL mode with IMMEDIATE
transactions (psis/settings.py), so on SQLite these tests run against a file copy of the test
database, opened with those same options. Nothing is skipped on either database.
"""

import re
import sqlite3
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from contracts.models import ReportingPeriod, User
from meetings import tasks
from meetings.models import MeetingPack
from performance.models import RagOverride
from reports import workflow
from reports.models import Figure, Return, ReturnComment
from tests.builders import DATABASE, flashed, signed_in, spa_data

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("media", "immediate_tasks"),
]

HOLD = 0.4  # seconds a row lock is held for, so that the other request arrives meanwhile


@pytest.fixture(scope="module", autouse=True)
def file_database(django_db_setup, django_db_blocker, tmp_path_factory):
    """On SQLite, a file copy of the in-memory test database for this module (see above)."""
    if connection.vendor != "sqlite":
        yield
        return
    with django_db_blocker.unblock():
        connection.ensure_connection()
        memory = connection.connection
        path = tmp_path_factory.mktemp("concurrency") / "test.sqlite3"
        copy = sqlite3.connect(path)
        memory.backup(copy)
        copy.close()
        name = connection.settings_dict["NAME"]
        # Detach without closing: closing the last connection would destroy the memory database.
        connection.connection = None
        connection.settings_dict["NAME"] = str(path)  # new connections, in any thread, use it
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict["NAME"] = name
            connection.connection = memory


@pytest.fixture
def held_lock(monkeypatch):
    """Every write to a return holds its row lock for HOLD seconds."""
    original = workflow._lock

    def hold(ret):
        locked = original(ret)
        time.sleep(HOLD)
        return locked

    monkeypatch.setattr(workflow, "_lock", hold)


def together(*calls):
    """Run the calls in parallel threads, released at the same moment; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = []

    def run(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except BaseException as exc:  # reported in the test's thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request never finished"
    if errors:
        raise errors[0]
    return results


def same_browser(client: Client) -> Client:
    """A second client sharing the first one's session: two clicks in one browser."""
    twin = Client()
    twin.cookies = client.cookies
    return twin


def page_version(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return re.search(r'name="version" value="(\d+)"', response.content.decode()).group(1)


RETURN = "/contracts/PSIS/returns/SPA/Y1Q1/"


def spa01():
    return Figure.objects.get(kpi__code="SPA-01", ret__pathway__code="SPA")


# ---- Two people editing the same draft ---------------------------------------------------------


def test_two_people_saving_one_draft_at_once_the_second_is_refused_and_told_what_changed(
    cast, held_lock
):
    lead = signed_in(cast.lead)
    first_draft = spa_data(cast, **{"SPA-01__value": "100"})
    assert lead.post(RETURN, {"version": "0", "action": "save", **first_draft}).status_code == 302
    colleague = User.objects.create_user(
        username="colleague",
        role="provider",
        organisation=cast.lead.organisation,
        first_name="Cole",
        last_name="Colleague",
    )
    other = signed_in(colleague)
    # Both open the page at the same version...
    seen = page_version(lead, RETURN)
    assert page_version(other, RETURN) == seen
    figure_records = spa01().history.count()
    return_records = Return.history.count()
    typed = {"lead": "120", "colleague": "999"}
    posts = {
        "lead": spa_data(cast, **{"SPA-01__value": typed["lead"], "SPA-02__value": "500"}),
        "colleague": spa_data(
            cast, **{"SPA-01__value": typed["colleague"], "commentary": "Busier than we said."}
        ),
    }
    # ...and save at the same moment.
    lead_response, other_response = together(
        lambda: lead.post(RETURN, {"version": seen, "action": "save", **posts["lead"]}),
        lambda: other.post(RETURN, {"version": seen, "action": "save", **posts["colleague"]}),
    )
    statuses = {"lead": lead_response.status_code, "colleague": other_response.status_code}
    assert sorted(statuses.values()) == [302, 409]
    winner = "lead" if statuses["lead"] == 302 else "colleague"
    loser_response = other_response if winner == "lead" else lead_response
    names = {"lead": "Lena Lead", "colleague": "Cole Colleague"}

    # The first save is intact: its figures, one new version, one new history record each.
    ret = Return.objects.get()
    assert ret.version == int(seen) + 1
    assert spa01().value == int(typed[winner])
    assert spa01().history.count() == figure_records + 1
    assert Return.history.count() == return_records + 1
    if winner == "lead":
        assert Figure.objects.get(kpi__code="SPA-02").value == 500
        assert ret.commentary == "A steady quarter."
    else:
        assert Figure.objects.get(kpi__code="SPA-02").value == Decimal("75000.50")
        assert ret.commentary == "Busier than we said."

    # The second is told, and shown what changed, with its own typing kept in the form.
    page = loser_response.content.decode()
    assert "Someone else saved this return after you opened it" in page
    assert f"{names[winner]} changed SPA-01" in page
    assert f"figure: 100 → {typed[winner]}" in page
    loser = "colleague" if winner == "lead" else "lead"
    assert f'value="{typed[loser]}"' in page
    assert f'name="version" value="{ret.version}"' in page  # saving again is a choice now


# ---- Double-clicking submit ---------------------------------------------------------------------


@pytest.mark.parametrize("unsaved", [False, True], ids=["saved-first", "with-unsaved-changes"])
def test_double_clicking_submit_submits_once(cast, held_lock, unsaved):
    lead = signed_in(cast.lead)
    assert (
        lead.post(RETURN, {"version": "0", "action": "save", **spa_data(cast)}).status_code == 302
    )
    seen = page_version(lead, RETURN)
    payload = {"version": seen, "action": "submit", **spa_data(cast)}
    if unsaved:
        payload["SPA-01__value"] = "1300"
    second_click = same_browser(lead)
    first, second = together(
        lambda: lead.post(RETURN, payload), lambda: second_click.post(RETURN, payload)
    )
    ret = Return.objects.get()
    assert ret.status == Return.Status.SUBMITTED and ret.submitted_by == cast.lead
    submissions = Return.history.filter(status=Return.Status.SUBMITTED)
    assert submissions.filter(history_change_reason="Submitted").count() == 1
    assert set(submissions.values_list("submitted_at", flat=True)) == {ret.submitted_at}
    assert spa01().value == (1300 if unsaved else 1250)
    # Neither click is told of a conflict or of changes lost: the other click made them.
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == RETURN
    said = sorted(flashed(first) + flashed(second))
    assert len(said) == 2
    assert said[0] == "Return submitted. It is now locked; the commissioners will review it."
    assert said[1].startswith("This return was already submitted on ") and "Lena Lead" in said[1]


def test_double_clicking_resubmit_with_an_answer_sends_the_answer_once(cast, held_lock):
    lead = signed_in(cast.lead)
    submit = {"action": "submit", **spa_data(cast)}
    assert lead.post(RETURN, {"version": "0", **submit}).status_code == 302
    reviewer = signed_in(cast.commissioner)
    query = {"action": "query", "query-comment": "Check SPA-01"}
    assert reviewer.post(RETURN + "review/", query).status_code == 302
    payload = {"version": page_version(lead, RETURN), **submit, "answer": "Duplicates removed."}
    twin = same_browser(lead)
    first, second = together(lambda: lead.post(RETURN, payload), lambda: twin.post(RETURN, payload))
    assert first.status_code == second.status_code == 302
    ret = Return.objects.get()
    assert ret.status == Return.Status.SUBMITTED
    thread = list(ret.comments.values_list("kind", "text"))
    assert thread == [("query", "Check SPA-01"), ("answer", "Duplicates removed.")]
    resubmissions = Return.history.filter(history_change_reason="Resubmitted after a query")
    assert resubmissions.count() == 1


# ---- Generating the same pack twice at once -----------------------------------------------------


def make_quarter(cast):
    """Y1Q1 returns of both pathways, submitted through the pages."""
    period = ReportingPeriod.objects.get(contract=cast.contract, year=1, quarter=1)
    assert (
        signed_in(cast.lead)
        .post(RETURN, {"version": "0", "action": "submit", **spa_data(cast)})
        .status_code
        == 302
    )
    return period


@pytest.fixture
def slow_check(monkeypatch):
    """The check for a final pack takes a while, so both requests pass it before either
    inserts: the database's constraint has to catch the second."""
    original = tasks._final_exists

    def slow(contract, period):
        found = original(contract, period)
        time.sleep(HOLD)
        return found

    monkeypatch.setattr(tasks, "_final_exists", slow)


def test_generating_the_same_pack_twice_at_once_makes_one(cast, settings, slow_check):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DATABASE  # queued for the worker, so both requests overlap the job
    period = make_quarter(cast)
    url = reverse("meetings:pack_generate", args=["PSIS"])
    one = signed_in(cast.commissioner)
    two = signed_in(
        User.objects.create_user(
            username="second", role="commissioner", organisation=cast.commissioner.organisation
        )
    )
    first, second = together(
        lambda: one.post(url, {"period": period.pk}), lambda: two.post(url, {"period": period.pk})
    )
    pack = MeetingPack.objects.get()
    assert pack.job_status == MeetingPack.JobStatus.QUEUED
    assert DBTaskResult.objects.count() == 1
    locations = sorted([first["Location"], second["Location"]])
    assert locations == sorted(
        [
            reverse("meetings:pack", args=["PSIS", pack.pk]),
            reverse("meetings:list", args=["PSIS"]),
        ]
    )
    said = flashed(first) + flashed(second)
    assert said == [f"A pack for {period.label} is already being generated; wait for it to finish."]


def test_finalising_twice_at_once_issues_one_final_pack(cast, settings, slow_check):
    period = make_quarter(cast)
    commissioner = signed_in(cast.commissioner)
    response = commissioner.post(
        reverse("meetings:pack_generate", args=["PSIS"]), {"period": period.pk}
    )
    draft = MeetingPack.objects.get()
    assert response.status_code == 302 and draft.is_ready, draft.message
    settings.TASKS = DATABASE
    url = reverse("meetings:pack_finalise", args=["PSIS", draft.pk])
    twin = same_browser(commissioner)
    first, second = together(lambda: commissioner.post(url), lambda: twin.post(url))
    finals = MeetingPack.objects.filter(status=MeetingPack.Status.FINAL)
    assert finals.count() == 1
    said = flashed(first) + flashed(second)
    assert len(said) == 1 and (
        "already being generated" in said[0] or "already final" in said[0]
    ), said


# ---- Other double submissions -------------------------------------------------------------------


def test_accept_and_query_at_once_one_wins_and_the_other_is_told(cast, held_lock):
    make_quarter(cast)
    review = RETURN + "review/"
    one = signed_in(cast.commissioner)
    two = signed_in(
        User.objects.create_user(
            username="second", role="commissioner", organisation=cast.commissioner.organisation
        )
    )
    accepted, queried = together(
        lambda: one.post(review, {"action": "accept", "accept-comment": "Thanks"}),
        lambda: two.post(review, {"action": "query", "query-comment": "Check SPA-01"}),
    )
    ret = Return.objects.get()
    assert ret.status in (Return.Status.ACCEPTED, Return.Status.QUERIED)
    kinds = list(ReturnComment.objects.values_list("kind", flat=True))
    assert kinds == (["acceptance"] if ret.status == Return.Status.ACCEPTED else ["query"])
    said = flashed(accepted) + flashed(queried)
    if ret.status == Return.Status.ACCEPTED:
        assert said == [
            "Return accepted.",
            "Only a submitted return can be queried; this one is accepted.",
        ]
    else:
        assert said == [
            "Only a submitted return can be accepted; this one is queried.",
            "Query sent. The return is unlocked for the provider to answer and resubmit.",
        ]


def test_two_overrides_of_one_rag_at_once_keep_one(cast):
    url = reverse("rag_override_create", args=["PSIS", "SPA-01"])
    one = signed_in(cast.commissioner)
    two = same_browser(one)
    first, second = together(
        lambda: one.post(url, {"quarter": "Y1Q1", "rag": "green", "reason": "First"}),
        lambda: two.post(url, {"quarter": "Y1Q1", "rag": "red", "reason": "Second"}),
    )
    assert RagOverride.objects.count() == 1
    assert sorted([first.status_code, second.status_code]) == [302, 400]
    refused = first if first.status_code == 400 else second
    assert "This KPI already has an override for this quarter" in refused.content.decode()


def test_recording_one_meeting_twice_at_once_keeps_one(cast):
    from meetings.models import Meeting

    period = ReportingPeriod.objects.get(contract=cast.contract, year=1, quarter=2)
    url = reverse("meetings:create", args=["PSIS"])
    one = signed_in(cast.commissioner)
    two = same_browser(one)
    data = {"period": period.pk, "date": "2023-05-03", "attendees": "Chair"}
    first, second = together(lambda: one.post(url, data), lambda: two.post(url, data))
    assert Meeting.objects.count() == 1
    assert sorted([first.status_code, second.status_code]) == [200, 302]
    refused = first if first.status_code == 200 else second
    page = refused.content.decode()
    assert "There is a problem" in page
    assert (
        "This quarter already has a meeting." in page
        or "That choice is not one of the available choices." in page
    )


def test_double_clicking_add_action_adds_one(cast):
    from meetings.models import Action, Meeting

    period = ReportingPeriod.objects.get(contract=cast.contract, year=1, quarter=2)
    meeting = Meeting.objects.create(contract=cast.contract, period=period, date="2023-05-03")
    url = reverse("meetings:action_create", args=["PSIS", meeting.pk])
    one = signed_in(cast.commissioner)
    two = same_browser(one)
    key = one.get(url).context["form"]["submission"].value()
    data = {
        "description": "Chase the missing figures",
        "owner_organisation": cast.contract.lead_provider.pk,
        "due_date": "2023-06-01",
        "status": "open",
        "submission": key,
    }
    first, second = together(lambda: one.post(url, data), lambda: two.post(url, data))
    assert Action.objects.count() == 1
    assert [first.status_code, second.status_code] == [302, 302]
    said = flashed(first) + flashed(second)
    assert "Action added to the log." in said
    assert "This action was already added; it is in the log once." in said
