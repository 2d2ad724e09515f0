"""Deadlines: returns due on the home page, and email reminders sent once."""

import html
import re
from datetime import date, datetime, time
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from contracts.models import User
from reports import workflow
from reports.models import ReminderSent
from tests.builders import LONDON, ac_data, save_draft, spa_data


def page(user, monkeypatch, today):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today)
    client = Client()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def make(cast, pathway, year, quarter, status, *, on=None):
    """A return in ``status`` (submitted on ``on``, a date, if given)."""
    period = cast.contract.periods.get(year=year, quarter=quarter)
    user = cast.lead
    raw = ac_data() if pathway == cast.carers else spa_data(cast)
    ret = save_draft(pathway, period, user, raw)
    if status == "draft":
        return ret
    now = datetime.combine(on or period.due_date, time(12), tzinfo=LONDON)
    ret = workflow.return_submit(ret=ret, user=user, now=now)
    if status == "queried":
        ret = workflow.return_query(ret=ret, user=cast.commissioner, comment="Check")
    if status == "accepted":
        ret = workflow.return_accept(ret=ret, user=cast.commissioner)
    return ret


# ---- Home page ---------------------------------------------------------------------------------


def test_provider_home_lists_returns_due_with_dates_and_states(cast, monkeypatch):
    make(cast, cast.spa, 1, 1, "accepted")  # older and done: not listed
    make(cast, cast.spa, 1, 2, "queried")
    make(cast, cast.spa, 1, 3, "accepted")
    make(cast, cast.carers, 1, 3, "submitted", on=date(2023, 7, 25))
    make(cast, cast.carers, 1, 2, "draft")
    text = page(cast.lead, monkeypatch, date(2023, 7, 30))
    assert "Quarterly returns due" in text
    rows = text[text.index("Quarterly returns due") :]
    assert rows.count("<tr>") == 6  # header + 5 returns
    assert "(2023/24 Q1)" in rows and "(2022/23 Q3)" in rows
    cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", rows))
    for state in ["Accepted", "Submitted late", "Queried", "Overdue (draft)"]:
        assert state in cells, state
    assert '<span class="badge text-bg-danger">Overdue</span>' in rows  # AC Y1Q1, not started
    assert "23/01/2023" in rows  # due dates, UK style
    assert 'href="/contracts/PSIS/returns/AC/Y1Q1/">Start' in rows
    assert 'href="/contracts/PSIS/returns/AC/Y1Q2/">Continue' in rows
    assert 'href="/contracts/PSIS/returns/SPA/Y1Q3/">View' in rows


def test_not_yet_due_is_not_late(cast, monkeypatch):
    text = page(cast.lead, monkeypatch, date(2023, 1, 20))
    rows = text[text.index("Quarterly returns due") :]
    assert rows.count("<td>Due</td>") == 2  # the quarter has ended; the due date has not passed
    assert "Overdue" not in rows and "Submitted late" not in rows


def test_a_partner_sees_only_its_own_pathways_returns(cast, monkeypatch):
    text = page(cast.partner, monkeypatch, date(2023, 1, 24))
    rows = text[text.index("Quarterly returns due") :]
    assert "Adult Carers" in rows and "Single Point of Access" not in rows


def test_nothing_due_before_the_first_quarter_ends(cast, monkeypatch):
    text = page(cast.outsider, monkeypatch, date(2023, 5, 1))
    assert "No returns are due." in text


def test_commissioners_and_officers_see_returns_waiting_for_review(cast, monkeypatch):
    make(cast, cast.spa, 1, 1, "submitted")
    text = page(cast.commissioner, monkeypatch, date(2023, 2, 1))
    assert "Returns waiting for review" in text
    assert 'href="/contracts/PSIS/returns/SPA/Y1Q1/review/">Review' in text
    text = page(cast.officer, monkeypatch, date(2023, 2, 1))
    assert 'href="/contracts/PSIS/returns/SPA/Y1Q1/">View' in text
    assert "Quarterly returns due" not in text


def test_contract_page_links_to_the_returns(cast):
    client = Client()
    client.force_login(cast.officer)
    text = client.get("/contracts/PSIS/").content.decode()
    assert 'href="/contracts/PSIS/returns/"' in text


# ---- Reminders ---------------------------------------------------------------------------------


def remind(*args):
    out, err = StringIO(), StringIO()
    call_command("send_return_reminders", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_reminds_before_the_due_date_once(cast):
    output = remind("--today", "2023-01-20", "--days", "5")
    assert len(mail.outbox) == 2
    by_recipient = {tuple(m.to): m for m in mail.outbox}
    lead = by_recipient[("lead@example.org",)]
    assert lead.subject == "PSIS Monitor: quarterly returns 1 due soon"
    assert (
        "PSIS Single Point of Access, Year 1 Q1 (2022/23 Q3): due 23 January 2023 (in 3 days)"
        in lead.body
    )
    assert "/contracts/PSIS/returns/SPA/Y1Q1/" in lead.body
    assert "Adult Carers" in by_recipient[("partner@example.org",)].body
    assert "2 email(s) sent" in output
    assert ReminderSent.objects.filter(kind="due_soon").count() == 2
    # The next day's run sends nothing new.
    assert "No reminders to send" in remind("--today", "2023-01-21", "--days", "5")
    assert len(mail.outbox) == 2


def test_not_yet_within_the_window(cast):
    assert "No reminders to send" in remind("--today", "2023-01-17", "--days", "5")
    assert mail.outbox == []


def test_reminds_again_once_overdue_and_not_for_submitted_returns(cast):
    make(cast, cast.carers, 1, 1, "submitted")
    remind("--today", "2023-01-20")
    assert [m.to for m in mail.outbox] == [["lead@example.org"]]
    remind("--today", "2023-01-24")
    assert len(mail.outbox) == 2
    overdue = mail.outbox[1]
    assert overdue.subject == "PSIS Monitor: quarterly returns 1 overdue"
    assert "was due 23 January 2023; not started." in overdue.body
    remind("--today", "2023-01-25")
    assert len(mail.outbox) == 2


def test_a_draft_is_still_reminded(cast):
    make(cast, cast.spa, 1, 1, "draft")
    remind("--today", "2023-01-23", "--days", "0", "--base-url", "https://psis.example.org/")
    (message,) = [m for m in mail.outbox if m.to == ["lead@example.org"]]
    assert "due today, 23 January 2023; a draft, not submitted." in message.body
    assert "https://psis.example.org/contracts/PSIS/returns/SPA/Y1Q1/" in message.body


def test_dry_run_sends_and_records_nothing(cast):
    output = remind("--today", "2023-01-20", "--dry-run")
    assert "Would send to lead@example.org" in output
    assert mail.outbox == [] and not ReminderSent.objects.exists()


def test_an_organisation_with_nobody_to_email_is_reported_and_tried_again_later(cast):
    User.objects.filter(organisation=cast.partner.organisation).update(email="")
    output = remind("--today", "2023-01-20")
    assert "Carers Bromley: 1 reminder(s) not sent" in output
    assert not ReminderSent.objects.filter(pathway=cast.carers).exists()


def test_days_must_not_be_negative(cast):
    with pytest.raises(Exception, match="--days must be 0 or more"):
        remind("--days", "-1")
