"""The return's life through its pages: draft, submit, query, answer, resubmit, accept."""

import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from contracts.models import ReportingPeriod
from kpis.models import Kpi
from reports import contents, validation, workflow
from reports.models import Attachment, Figure, Return, ReturnComment
from tests.builders import LONDON, ac_data, fig, period, save_draft, spa_data, text, version_of
from tests.builders import post_return as post
from tests.builders import return_url as url


def figure(cast, code, quarter=(1, 1)):
    return Figure.objects.get(
        kpi=cast.kpis[code], ret__period__year=quarter[0], ret__period__quarter=quarter[1]
    )


def the_return(cast, pathway="spa", quarter=(1, 1)):
    return Return.objects.get(
        pathway=getattr(cast, pathway), period__year=quarter[0], period__quarter=quarter[1]
    )


# ---- The page ---------------------------------------------------------------------------------


def test_the_page_asks_for_each_kpi_in_its_shape(cast, as_user):
    response = as_user(cast.lead).get(url())
    assert response.status_code == 200
    html = text(response)
    first, second = cast.kpis["SPA-04"].categories.all()
    for field in [
        "SPA-01__value",
        "SPA-02__value",
        "SPA-03__numerator",
        "SPA-03__denominator",
        f"SPA-04__cat_{first.pk}",
        f"SPA-04__cat_{second.pk}",
        "SPA-04__total",
        "SPA-01__explanation",
        "commentary",
    ]:
        assert f'id="id_{field}"' in html, field
    assert "Number of people who self-refer" in html
    assert "1,250 this quarter (annual target 5,000)" in html  # target pro-rated
    assert "£75,000 this quarter" in html
    assert "Amount in pounds (£)" in html
    assert "Unique service users" in html and "Repeat engagement" in html
    assert 'name="version" value="0"' in html
    assert '<span class="badge text-bg-danger">Overdue</span>' in html  # not started, past due
    assert "23 January 2023" in html  # due date, UK style


def test_evidence_asks_for_narrative_documents_and_consent(cast, as_user):
    html = text(as_user(cast.partner).get(url(pathway="AC")))
    assert 'id="id_AC-02__narrative"' in html
    assert 'id="id_AC-02__files"' in html and 'enctype="multipart/form-data"' in html
    assert 'id="id_AC-02__consent"' in html
    assert "consented to it being shared" in html


def test_monthly_minimums_ask_for_each_month(cast, as_user):
    kpi = cast.kpis["SPA-01"]
    kpi.target_period = "monthly"
    kpi.save()
    html = text(as_user(cast.lead).get(url()))
    for month, label in [(1, "October 2022"), (2, "November 2022"), (3, "December 2022")]:
        assert f'id="id_SPA-01__month_{month}"' in html
        assert label in html
    assert 'id="id_SPA-01__value"' not in html
    assert "5,000 a month (15,000 this quarter)" in html


def test_annual_kpis_are_asked_only_in_the_last_quarter_of_the_year(cast, as_user):
    kpi = cast.kpis["SPA-02"]
    kpi.frequency = "annual"
    kpi.save()
    client = as_user(cast.lead)
    assert 'id="id_SPA-02__value"' not in text(client.get(url()))
    assert 'id="id_SPA-02__value"' in text(client.get(url(quarter="Y1Q4")))


def test_an_average_asks_for_its_cases(cast, as_user):
    kpi = cast.kpis["SPA-01"]
    kpi.measure = "average"
    kpi.target_period = "none"
    kpi.save()
    html = text(as_user(cast.lead).get(url()))
    assert 'id="id_SPA-01__value"' in html and 'id="id_SPA-01__cases"' in html


# ---- Draft ------------------------------------------------------------------------------------


def test_a_partial_draft_saves(cast, as_user):
    response = post(as_user(cast.lead), cast, **{"SPA-01__value": "1,250"})
    assert response.status_code == 302
    ret = the_return(cast)
    assert ret.status == Return.Status.DRAFT
    assert figure(cast, "SPA-01").value == Decimal(1250)
    assert not Figure.objects.filter(kpi=cast.kpis["SPA-02"]).exists()
    assert ret.version == 2


def test_a_draft_with_a_typo_saves_nothing_and_says_what_is_wrong(cast, as_user):
    response = post(
        as_user(cast.lead), cast, **{"SPA-01__value": "12 people", "SPA-02__value": "5"}
    )
    assert response.status_code == 400
    html = text(response)
    assert 'href="#id_SPA-01__value"' in html
    assert "SPA-01 Number: Enter a whole number of 0 or more" in html
    assert "12 people" in html  # what was typed is kept
    assert not Return.objects.exists()


def test_numerator_over_denominator_is_refused(cast, as_user):
    response = post(
        as_user(cast.lead),
        cast,
        **spa_data(cast, **{"SPA-03__numerator": "34", "SPA-03__denominator": "30"}),
    )
    assert response.status_code == 400
    assert "SPA-03: Numerator (34) is larger than denominator (30)" in text(response)
    assert not Return.objects.exists()


# ---- Submit -----------------------------------------------------------------------------------


def test_submit_lists_every_problem_with_a_link_and_keeps_the_draft(cast, as_user):
    response = post(as_user(cast.lead), cast, "submit", **{"SPA-01__value": "1250"})
    assert response.status_code == 400
    html = text(response)
    assert "saved as a draft, but the return cannot be submitted yet" in html
    assert 'id="error-summary"' in html
    assert (
        '<a href="#id_SPA-02__value" class="alert-link">'
        "SPA-02 Amount in pounds (£): Enter the amount in pounds</a>" in html
    )
    assert 'href="#id_SPA-03__numerator"' in html and 'href="#id_SPA-04__total"' in html
    ret = the_return(cast)
    assert ret.status == Return.Status.DRAFT and figure(cast, "SPA-01").value == 1250
    assert f'name="version" value="{ret.version}"' in html


def test_categories_must_add_up_to_the_total(cast, as_user):
    response = post(
        as_user(cast.lead), cast, "submit", **spa_data(cast, **{"SPA-04__total": "220"})
    )
    assert response.status_code == 400
    assert "SPA-04 Total: Categories add up to 212 but the total is 220" in text(response)
    assert the_return(cast).status == Return.Status.DRAFT


def test_a_complete_return_submits_locks_and_records_who_and_when(cast, as_user):
    client = as_user(cast.lead)
    response = post(client, cast, "submit", **spa_data(cast))
    assert response.status_code == 302
    ret = the_return(cast)
    assert ret.status == Return.Status.SUBMITTED
    assert ret.submitted_by == cast.lead and ret.submitted_at is not None
    assert ret.is_late  # Y1Q1 was due on 23 January 2023
    assert figure(cast, "SPA-02").value == Decimal("75000.50")
    assert figure(cast, "SPA-03").numerator == 3 and figure(cast, "SPA-03").denominator == 40
    assert sorted(figure(cast, "SPA-04").breakdown.values_list("count", flat=True)) == [12, 200]
    assert figure(cast, "SPA-04").value == 212
    page = text(client.get(url()))
    assert "Submitted late" in page and 'id="return-form"' not in page
    # Locked: a save is turned away and changes nothing.
    response = post(client, cast, **spa_data(cast, **{"SPA-01__value": "9"}))
    assert response.status_code == 302
    assert figure(cast, "SPA-01").value == 1250


# One case per test: a submitted return cannot be deleted to try the next day.
@pytest.mark.parametrize("day, late", [(date(2023, 1, 23), False), (date(2023, 1, 24), True)])
def test_late_is_after_the_due_date_not_on_it(cast, day, late):
    period = ReportingPeriod.objects.get(contract=cast.contract, year=1, quarter=1)
    assert period.due_date == date(2023, 1, 23)
    ret = save_draft(cast.spa, period, cast.lead, spa_data(cast))
    now = datetime(day.year, day.month, day.day, 23, 30, tzinfo=LONDON)
    assert workflow.return_submit(ret=ret, user=cast.lead, now=now).is_late is late


def test_double_submit_submits_once(cast, as_user):
    client = as_user(cast.lead)
    version = version_of(cast)
    payload = {"version": str(version), "action": "submit", **spa_data(cast)}
    first = client.post(url(), payload)
    second = client.post(url(), payload)
    assert first.status_code == second.status_code == 302
    ret = the_return(cast)
    submissions = ret.history.filter(status="submitted", history_change_reason="Submitted")
    assert submissions.count() == 1
    follow = client.get(url())
    assert ret.status == Return.Status.SUBMITTED
    assert follow.status_code == 200
    with pytest.raises(workflow.ReturnLocked, match="already submitted"):
        workflow.return_submit(ret=ret, user=cast.lead)


def test_a_stale_save_is_refused_and_says_what_changed(cast, as_user):
    client = as_user(cast.lead)
    post(client, cast, **{"SPA-01__value": "100"})
    seen = version_of(cast)
    # Someone else saves first...
    post(client, cast, **{"SPA-01__value": "120", "SPA-02__value": "500"})
    # ...then this save, from the page loaded at the earlier version, must not overwrite it.
    response = client.post(url(), {"version": str(seen), "action": "save", "SPA-01__value": "999"})
    assert response.status_code == 409
    html = text(response)
    assert "Someone else saved this return after you opened it" in html
    assert "Lena Lead changed SPA-01" in html and "figure: 100 → 120" in html
    assert figure(cast, "SPA-01").value == 120
    assert f'name="version" value="{version_of(cast)}"' in html
    assert 'value="999"' in html  # what this user typed is still in the form


def test_a_figure_moving_more_than_half_needs_an_explanation(cast, as_user):
    client = as_user(cast.lead)
    post(client, cast, "submit", **spa_data(cast, **{"SPA-01__value": "100"}))
    workflow.return_accept(ret=the_return(cast), user=cast.commissioner)
    data = spa_data(cast, **{"SPA-01__value": "151"})
    response = post(client, cast, "submit", quarter="Y1Q2", **data)
    assert response.status_code == 400
    assert (
        "SPA-01 Explanation: This figure changed by 51% since the last return (100 to 151). "
        "Explain why before submitting" in text(response)
    )
    data["SPA-01__explanation"] = "A second worker joined the team in November."
    response = post(client, cast, "submit", quarter="Y1Q2", **data)
    assert response.status_code == 302
    assert the_return(cast, quarter=(1, 2)).status == Return.Status.SUBMITTED
    # The page shows last quarter's figure and which quarter it is; the first has none.
    page = text(client.get(url(quarter="Y1Q2")))
    assert "Last return" in page and "100 (Year 1 Q1)" in page
    assert "No earlier figure" in text(client.get(url(quarter="Y1Q1")))
    assert "No figure" not in text(client.get(url(quarter="Y1Q1")))


def test_last_return_of_an_annual_kpi_is_last_years_and_says_so(cast):
    yearly = Kpi.objects.create(
        pathway=cast.spa,
        code="SPA-70",
        section="Test",
        description="Reported once a year",
        measure="count",
        frequency="annual",
    )
    fig(cast, yearly, 1, 4, value=Decimal(1250))
    year_2_q4 = period(cast, 2, 4)
    spec = contents.spec_for(yearly, year_2_q4)
    before = contents.previous_figures(cast.spa, year_2_q4, [yearly]).get("SPA-70")
    assert contents.last_return(yearly, spec, before) == "1,250 (Year 1 Q4)"
    year_1_q4 = period(cast, 1, 4)
    before = contents.previous_figures(cast.spa, year_1_q4, [yearly]).get("SPA-70")
    assert contents.last_return(yearly, spec, before) == "No earlier figure"


# ---- Review, history --------------------------------------------------------------------------


def test_draft_submit_query_answer_resubmit_accept_keeps_history(cast, as_user):
    lead = as_user(cast.lead)
    post(lead, cast, **spa_data(cast, **{"SPA-01__value": "1200"}))
    post(lead, cast, "submit", **spa_data(cast))
    # The commissioner queries SPA-01.
    reviewer = as_user(cast.commissioner)
    assert reviewer.get(url("review/")).status_code == 200
    response = reviewer.post(
        url("review/"),
        {"action": "query", "query-kpi": "SPA-01", "query-comment": "1,250 looks high: check?"},
    )
    assert response.status_code == 302
    ret = the_return(cast)
    assert ret.status == Return.Status.QUERIED and ret.reviewed_by == cast.commissioner
    query = ret.comments.get()
    assert query.kind == "query" and query.kpi == cast.kpis["SPA-01"]
    # The provider sees the query and the form again, with a reason box.
    client = as_user(cast.lead)
    page = text(client.get(url()))
    assert "1,250 looks high: check?" in page
    assert 'id="id_change_reason"' in page and 'id="id_answer"' in page
    # Changing a figure needs a reason; resubmitting needs an answer.
    response = post(client, cast, "submit", **spa_data(cast, **{"SPA-01__value": "1,150"}))
    assert response.status_code == 400
    assert "Say why you are changing figures that were already submitted" in text(response)
    assert figure(cast, "SPA-01").value == 1250
    response = post(
        client,
        cast,
        "submit",
        **spa_data(cast, **{"SPA-01__value": "1,150", "change_reason": "Duplicates removed"}),
    )
    assert response.status_code == 400
    assert "Answer the commissioner's query before resubmitting" in text(response)
    assert figure(cast, "SPA-01").value == 1150  # saved as a draft meanwhile
    response = post(
        client,
        cast,
        "submit",
        **spa_data(cast, **{"SPA-01__value": "1,150", "answer": "We removed 100 duplicates."}),
    )
    assert response.status_code == 302
    ret.refresh_from_db()
    assert ret.status == Return.Status.SUBMITTED and ret.is_late
    assert [c.kind for c in ret.comments.all()] == ["query", "answer"]
    # Accepted, with a comment.
    response = reviewer.post(url("review/"), {"action": "accept", "accept-comment": "Thanks"})
    assert response.status_code == 302
    ret.refresh_from_db()
    assert ret.status == Return.Status.ACCEPTED
    assert ret.comments.last().kind == ReturnComment.Kind.ACCEPTANCE
    # History keeps every earlier value of SPA-01, who changed it, when and why.
    records = list(figure(cast, "SPA-01").history.order_by("history_date"))
    assert [r.value for r in records] == [1200, 1250, 1150]
    assert records[-1].history_user == cast.lead
    assert records[-1].history_change_reason == "Duplicates removed"
    statuses = []
    for record in ret.history.order_by("history_date"):
        if not statuses or statuses[-1] != record.status:
            statuses.append(record.status)
    assert statuses == ["draft", "submitted", "queried", "submitted", "accepted"]
    # ...and the history page shows it.
    page = text(client.get(url("history/")))
    assert "1,250 → 1,150" in page and "Duplicates removed" in page
    assert "Lena Lead" in page and "Cara Commissioner" in page
    # The thread stays on the return.
    review_page = text(reviewer.get(url("review/")))
    assert (
        "We removed 100 duplicates." in review_page
        and "This return has been accepted" in review_page
    )


def test_a_query_needs_a_comment_and_only_a_submitted_return_can_be_reviewed(cast, as_user):
    lead = as_user(cast.lead)
    post(lead, cast, **spa_data(cast))
    reviewer = as_user(cast.commissioner)
    response = reviewer.post(url("review/"), {"action": "accept"})
    assert response.status_code == 302  # a draft cannot be accepted: nothing changes
    assert the_return(cast).status == Return.Status.DRAFT
    post(as_user(cast.lead), cast, "submit", **spa_data(cast))
    response = reviewer.post(url("review/"), {"action": "query", "query-comment": ""})
    assert response.status_code == 400
    assert the_return(cast).status == Return.Status.SUBMITTED


def test_a_whole_return_query(cast, as_user):
    post(as_user(cast.lead), cast, "submit", **spa_data(cast))
    ret = workflow.return_query(ret=the_return(cast), user=cast.commissioner, comment="Commentary?")
    assert ret.comments.get().kpi is None
    assert "about the whole return" in text(as_user(cast.lead).get(url()))


# ---- Evidence, documents and personal data -----------------------------------------------------


def test_partner_submits_evidence_with_a_document(cast, as_user, media):
    client = as_user(cast.partner)
    document = SimpleUploadedFile("case study.pdf", b"%PDF-1.4 case study", "application/pdf")
    response = post(client, cast, "submit", pathway="AC", **ac_data(**{"AC-02__files": document}))
    assert response.status_code == 302
    ret = the_return(cast, "carers")
    assert ret.status == Return.Status.SUBMITTED
    attachment = Attachment.objects.get()
    assert attachment.name == "case study.pdf" and attachment.uploaded_by == cast.partner
    assert "case study" not in attachment.file.name  # stored under a random name
    assert figure(cast, "AC-02").consent_confirmed
    # Anyone party to the contract can read it, through the checked view only.
    download = as_user(cast.commissioner).get(url(f"documents/{attachment.pk}/", "AC"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 case study"
    assert 'attachment; filename="case study.pdf"' in download["Content-Disposition"]


def test_evidence_needs_consent_and_a_narrative_or_document(cast, as_user):
    response = post(
        as_user(cast.partner),
        cast,
        "submit",
        pathway="AC",
        **ac_data(**{"AC-02__narrative": None, "AC-02__consent": None}),
    )
    html = text(response)
    assert "AC-02 Evidence: Describe the evidence or attach a document" in html
    assert (
        "AC-02 Consent: Tick to confirm that anyone described has consented and the evidence "
        "is anonymised" in html
    )


@pytest.mark.parametrize(
    "name,size,message",
    [
        ("virus.exe", 10, "virus.exe is not a type of file we accept"),
        ("big.pdf", 10 * 1024 * 1024 + 1, "big.pdf is larger than 10 MB"),
    ],
)
def test_documents_are_checked_for_type_and_size(cast, as_user, media, name, size, message):
    document = SimpleUploadedFile(name, b"x" * size)
    response = post(
        as_user(cast.partner), cast, pathway="AC", **ac_data(**{"AC-02__files": document})
    )
    assert response.status_code == 400
    assert message in text(response)
    assert not Attachment.objects.exists() and not Return.objects.exists()


def test_a_refused_save_says_which_chosen_documents_to_choose_again(cast, as_user, media):
    """A browser never refills a file input, so the page names what was not attached."""
    client = as_user(cast.partner)
    post(client, cast, pathway="AC", **ac_data())
    seen = str(version_of(cast, "carers"))
    post(client, cast, pathway="AC", **ac_data(**{"AC-01__value": "170"}))  # someone else
    document = SimpleUploadedFile("case study.pdf", b"%PDF-1.4 case study", "application/pdf")
    stale = post(client, cast, pathway="AC", **ac_data(version=seen, **{"AC-02__files": document}))
    assert stale.status_code == 409
    page = text(stale)
    assert "Choose your documents again" in page
    assert "AC-02</a>: case study.pdf" in page and 'href="#id_AC-02__files"' in page
    assert not Attachment.objects.exists()
    # A save refused for a problem in the form says the same.
    document.seek(0)
    invalid = post(
        client,
        cast,
        pathway="AC",
        **ac_data(**{"AC-01__value": "lots", "AC-02__files": document}),
    )
    assert invalid.status_code == 400
    assert "AC-02</a>: case study.pdf" in text(invalid)
    assert not Attachment.objects.exists()
    # Nothing chosen, nothing said.
    assert "Choose your documents again" not in text(
        post(client, cast, pathway="AC", **ac_data(**{"AC-01__value": "lots"}))
    )


def test_a_document_can_be_removed_from_a_draft(cast, as_user, media):
    client = as_user(cast.partner)
    document = SimpleUploadedFile("map.png", b"\x89PNG", "image/png")
    post(client, cast, pathway="AC", **ac_data(**{"AC-02__files": document}))
    attachment = Attachment.objects.get()
    stored = attachment.file.name
    post(client, cast, pathway="AC", **ac_data(**{f"remove_{attachment.pk}": "on"}))
    assert not Attachment.objects.exists()
    assert not attachment.file.storage.exists(stored)
    assert Attachment.history.filter(history_type="-").count() == 1


def test_personal_data_must_be_removed_or_confirmed_with_a_reason(cast, as_user):
    client = as_user(cast.partner)
    narrative = "Mrs B (NHS 943 476 5919) now gets Carer's Allowance."
    response = post(client, cast, pathway="AC", **ac_data(**{"AC-02__narrative": narrative}))
    assert response.status_code == 400
    html = text(response)
    assert "This looks like it contains an NHS number (943 476 5919)" in html
    assert not Return.objects.exists()
    response = post(
        client,
        cast,
        pathway="AC",
        **ac_data(**{"AC-02__narrative": narrative, "AC-02__pd_confirm": "on"}),
    )
    assert "AC-02 reason for personal data: Say why the personal data is needed" in text(response)
    response = post(
        client,
        cast,
        pathway="AC",
        **ac_data(
            **{
                "AC-02__narrative": narrative,
                "AC-02__pd_confirm": "on",
                "AC-02__pd_reason": "The commissioner asked to trace this case",
            }
        ),
    )
    assert response.status_code == 302
    assert figure(cast, "AC-02").personal_data_reason == "The commissioner asked to trace this case"


def test_personal_data_in_the_commentary(cast, as_user):
    client = as_user(cast.lead)
    response = post(client, cast, **{"commentary": "Ring 020 7946 0958 or write to a@b.org"})
    assert response.status_code == 400
    assert (
        "Commentary: This looks like it contains a UK phone number (020 7946 0958) and an email "
        "address (a@b.org)" in text(response)
    )
    assert not Return.objects.exists()
    response = post(client, cast, **{"commentary": "Nothing personal", "SPA-01__value": "1"})
    assert response.status_code == 302


def test_reminder_states_on_the_return_list(cast, as_user):
    post(as_user(cast.lead), cast, **spa_data(cast))
    html = text(as_user(cast.commissioner).get("/contracts/PSIS/returns/?quarter=Y1Q1"))
    cells = re.sub(r"<[^>]+>", "", html)
    assert "Overdue (draft)" in cells and "Overdue" in cells.replace("Overdue (draft)", "")
    assert timezone.localdate() > date(2023, 1, 23)


def test_a_stale_save_of_a_return_submitted_meanwhile_is_turned_away(cast, as_user):
    client = as_user(cast.lead)
    post(client, cast, **spa_data(cast))
    seen = version_of(cast)
    post(as_user(cast.lead), cast, "submit", **spa_data(cast))
    response = client.post(url(), {"version": str(seen), "action": "save", "SPA-01__value": "1"})
    assert response.status_code == 302
    assert figure(cast, "SPA-01").value == 1250
    assert the_return(cast).status == Return.Status.SUBMITTED


def test_the_commissioner_rates_evidence_on_acceptance(cast, as_user):
    post(as_user(cast.partner), cast, "submit", pathway="AC", **ac_data())
    reviewer = as_user(cast.commissioner)
    page = text(reviewer.get(url("review/", "AC")))
    assert 'id="id_accept-rating_AC-02"' in page
    response = reviewer.post(
        url("review/", "AC"), {"action": "accept", "accept-rating_AC-02": "green"}
    )
    assert response.status_code == 302
    assert figure(cast, "AC-02").rating == "green"
    assert "Green" in text(reviewer.get(url(pathway="AC")))
    record = figure(cast, "AC-02").history.first()
    assert record.history_user == cast.commissioner
    assert record.history_change_reason == "Rated on review"


def test_officers_read_the_return_but_get_no_form(cast, as_user):
    post(as_user(cast.lead), cast, **spa_data(cast))
    page = text(as_user(cast.officer).get(url()))
    assert "1,250" in page and 'id="return-form"' not in page
    assert "Review this return" not in page


@pytest.mark.django_db(transaction=True)
def test_two_people_saving_at_once_one_wins_and_the_other_is_told(cast):
    """Real concurrency needs a database with row locks: PostgreSQL (set DATABASE_URL)."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency is checked on PostgreSQL (set DATABASE_URL)")
    period = ReportingPeriod.objects.get(contract=cast.contract, year=1, quarter=1)
    ret = Return(pathway=cast.spa, period=period, version=0)
    specs = contents.return_specs(ret)[1]
    ret = workflow.return_save_draft(
        ret=ret, user=cast.lead, data=validation.parse_return(specs, spa_data(cast)), version=0
    )
    outcomes = []
    barrier = threading.Barrier(2)

    def save(value):
        data = validation.parse_return(specs, spa_data(cast, **{"SPA-01__value": value}))
        barrier.wait()
        try:
            workflow.return_save_draft(
                ret=Return.objects.get(pk=ret.pk), user=cast.lead, data=data, version=ret.version
            )
            outcomes.append("saved")
        except workflow.StaleReturn:
            outcomes.append("stale")
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(v,)) for v in ("111", "222")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["saved", "stale"]
    assert the_return(cast).version == ret.version + 1


def test_the_return_page_does_not_query_per_kpi(cast, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kpis.models import Kpi, KpiCategory

    client = as_user(cast.lead)
    post(client, cast, "submit", **spa_data(cast))
    workflow.return_query(ret=the_return(cast), user=cast.commissioner, comment="Check")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url()).status_code == 200
        return len(queries)

    before = count()
    for i, measure in enumerate(["count", "money", "percentage", "average", "breakdown"]):
        kpi = Kpi.objects.create(
            pathway=cast.spa, code=f"SPA-1{i}", section="More", description="More", measure=measure
        )
        if measure == "breakdown":
            KpiCategory.objects.create(kpi=kpi, name="One")
    assert count() == before
    assert before < 40, before  # session, user, access checks, the return, KPIs, figures, thread


def test_a_change_reason_longer_than_history_keeps_is_refused_not_cut(cast, as_user):
    client = as_user(cast.lead)
    post(client, cast, "submit", **spa_data(cast))
    workflow.return_query(ret=the_return(cast), user=cast.commissioner, comment="Check")
    response = post(
        client, cast, **spa_data(cast, **{"SPA-01__value": "1", "change_reason": "x" * 101})
    )
    assert response.status_code == 400
    assert "Ensure this value has at most 100 characters (it has 101)." in text(response)
    assert figure(cast, "SPA-01").value == 1250


def _queried_evidence_return(cast, as_user, media):
    client = as_user(cast.partner)
    document = SimpleUploadedFile("case study.pdf", b"%PDF-1.4\n%case study\n", "application/pdf")
    post(client, cast, "submit", pathway="AC", **ac_data(**{"AC-02__files": document}))
    workflow.return_query(
        ret=the_return(cast, "carers"), user=cast.commissioner, comment="Which month?"
    )
    return client


def test_answering_a_query_with_unchanged_figures_and_files_needs_no_change_reason(
    cast, as_user, media
):
    client = _queried_evidence_return(cast, as_user, media)
    response = post(client, cast, "submit", pathway="AC", **ac_data(answer="It was in November."))
    assert response.status_code == 302, text(response)
    ret = the_return(cast, "carers")
    assert ret.status == Return.Status.SUBMITTED
    assert [c.kind for c in ret.comments.all()] == ["query", "answer"]
    assert Attachment.objects.count() == 1


def test_answering_a_query_that_adds_or_removes_a_file_still_needs_a_change_reason(
    cast, as_user, media
):
    client = _queried_evidence_return(cast, as_user, media)
    kept = Attachment.objects.get()
    extra = SimpleUploadedFile("more.pdf", b"%PDF-1.4\n%more\n", "application/pdf")
    for change in ({"AC-02__files": extra}, {f"remove_{kept.pk}": "on"}):
        response = post(client, cast, pathway="AC", **ac_data(answer="Updated.", **change))
        assert response.status_code == 400
        assert CHANGE_REASON_TEXT in text(response)
        assert list(Attachment.objects.all()) == [kept]
        extra.seek(0)


CHANGE_REASON_TEXT = "Say why you are changing figures that were already submitted"
