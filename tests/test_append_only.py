"""Submitted data is append-only: a return once submitted, its figures, category counts, review
thread and evidence are never deleted (admin or shell); the admin cannot rewrite who submitted
or reviewed it and when; an administrator's correction of a figure says why and is recorded as
one; the database refuses a figure of another pathway's KPI; comments, meetings, actions and RAG
overrides keep a history of who changed what."""

import csv
import html
import io
import zipfile
from decimal import Decimal
from importlib import import_module

import pytest
from django.contrib import admin
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse

from contracts.models import ReportingPeriod
from exits.archive import HISTORY_HEADERS, contract_exit_archive, history_rows, person
from kpis.models import Kpi
from meetings.models import Action, Meeting
from performance import services
from performance.models import RagOverride
from reports import contents, validation, workflow
from reports.admin import ADMIN_CORRECTION
from reports.models import (
    Attachment,
    BreakdownFigure,
    Figure,
    Return,
    ReturnComment,
    SubmittedDataProtected,
)
from tests.builders import spa_data
from tests.cast import _user

RETURN_URL = "/contracts/PSIS/returns/SPA/Y1Q1/"


def _period(contract, year=1, quarter=1):
    return ReportingPeriod.objects.get(contract=contract, year=year, quarter=quarter)


def _draft(cast, **changes) -> Return:
    ret = Return(pathway=cast.spa, period=_period(cast.contract), version=0)
    data = validation.parse_return(contents.return_specs(ret)[1], spa_data(cast, **changes))
    return workflow.return_save_draft(ret=ret, user=cast.lead, data=data, version=0)


def _submitted(cast) -> Return:
    return workflow.return_submit(ret=_draft(cast), user=cast.lead)


def _with_attachment(ret: Return, user) -> Attachment:
    figure = ret.figures.get(kpi__code="SPA-01")
    return Attachment.objects.create(
        figure=figure, file="returns/evidence.pdf", name="evidence.pdf", size=10, uploaded_by=user
    )


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response) -> str:
    return html.unescape(response.content.decode())


# ---- 1. Nothing submitted is deleted ------------------------------------------------------------


def test_a_submitted_return_cannot_be_deleted_on_the_admin_delete_page(cast):
    ret = _submitted(cast)
    admin_client = _signed_in(cast.admin)

    page = admin_client.get(reverse("admin:reports_return_delete", args=[ret.pk]))
    posted = admin_client.post(
        reverse("admin:reports_return_delete", args=[ret.pk]), {"post": "yes"}
    )

    assert (page.status_code, posted.status_code) == (403, 403)
    assert Return.objects.filter(pk=ret.pk).exists()
    change = _text(admin_client.get(reverse("admin:reports_return_change", args=[ret.pk])))
    assert "deletelink" not in change


def test_a_submitted_return_cannot_be_deleted_by_the_admin_bulk_delete_action(cast):
    ret = _submitted(cast)

    response = _signed_in(cast.admin).post(
        reverse("admin:reports_return_changelist"),
        {"action": "delete_selected", "_selected_action": [ret.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert Return.objects.filter(pk=ret.pk).exists()
    assert ret.figures.count() == 4


def test_a_submitted_returns_figure_cannot_be_deleted_in_the_admin(cast):
    figure = _submitted(cast).figures.get(kpi__code="SPA-04")
    admin_client = _signed_in(cast.admin)

    single = admin_client.post(
        reverse("admin:reports_figure_delete", args=[figure.pk]), {"post": "yes"}
    )
    bulk = admin_client.post(
        reverse("admin:reports_figure_changelist"),
        {"action": "delete_selected", "_selected_action": [figure.pk], "post": "yes"},
    )

    assert (single.status_code, bulk.status_code) == (403, 403)
    assert Figure.objects.filter(pk=figure.pk).exists()
    assert figure.breakdown.count() == 2
    # Nor its category counts, on the figure's page.
    change = admin_client.get(reverse("admin:reports_figure_change", args=[figure.pk]))
    assert not change.context["inline_admin_formsets"][0].formset.can_delete


def test_a_submitted_return_and_everything_in_it_cannot_be_deleted_through_the_orm(cast):
    ret = workflow.return_query(ret=_submitted(cast), user=cast.commissioner, comment="Check?")
    attachment = _with_attachment(ret, cast.lead)
    figure = ret.figures.get(kpi__code="SPA-04")
    count = figure.breakdown.first()
    comment = ret.comments.get()

    attempts = [
        ret.delete,
        Return.objects.filter(pk=ret.pk).delete,
        Return.objects.all().delete,
        figure.delete,
        ret.figures.all().delete,
        Figure.objects.filter(ret=ret).delete,
        count.delete,
        BreakdownFigure.objects.filter(figure=figure).delete,
        attachment.delete,
        Attachment.objects.all().delete,
        comment.delete,
        ReturnComment.objects.filter(ret=ret).delete,
    ]
    for attempt in attempts:
        with (
            pytest.raises(SubmittedDataProtected, match="Submitted data cannot be deleted"),
            transaction.atomic(),
        ):
            attempt()

    assert Return.objects.filter(pk=ret.pk).exists()
    assert (Figure.objects.filter(ret=ret).count(), BreakdownFigure.objects.count()) == (4, 2)
    assert (Attachment.objects.count(), ReturnComment.objects.count()) == (1, 1)


def test_a_return_whose_history_shows_it_was_submitted_cannot_be_deleted(cast):
    """Even if someone reset its status and submission time behind the history's back."""
    ret = _submitted(cast)
    Return.objects.filter(pk=ret.pk).update(status="draft", submitted_at=None, submitted_by=None)
    ret.refresh_from_db()

    with pytest.raises(SubmittedDataProtected):
        ret.delete()
    with pytest.raises(SubmittedDataProtected):
        Return.objects.filter(pk=ret.pk).delete()


def test_the_contract_pathway_quarter_and_kpi_of_a_submitted_return_cannot_be_deleted(cast):
    """Cascades stop at the return: its pathway, quarter and KPIs are PROTECTed."""
    ret = _submitted(cast)

    for doomed in [cast.contract, cast.spa, ret.period, cast.kpis["SPA-01"]]:
        with pytest.raises(ProtectedError), transaction.atomic():
            doomed.delete()

    assert Figure.objects.filter(ret=ret).count() == 4


def test_a_never_submitted_draft_can_be_deleted_through_the_orm(cast):
    ret = _draft(cast)
    _with_attachment(ret, cast.lead)

    ret.delete()

    assert not Return.objects.exists() and not Figure.objects.exists()
    assert not Attachment.objects.exists()


def test_a_never_submitted_draft_can_be_deleted_in_the_admin(cast):
    ret = _draft(cast)

    response = _signed_in(cast.admin).post(
        reverse("admin:reports_return_changelist"),
        {"action": "delete_selected", "_selected_action": [ret.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Return.objects.exists()


def test_a_deleted_drafts_documents_leave_no_file_on_disk(
    cast, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    ret = _draft(cast)
    attachment = Attachment(
        figure=ret.figures.get(kpi__code="SPA-01"), name="notes.pdf", size=4, uploaded_by=cast.lead
    )
    attachment.file.save("notes.pdf", ContentFile(b"%PDF"), save=True)
    stored = tmp_path / attachment.file.name
    assert stored.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = _signed_in(cast.admin).post(
            reverse("admin:reports_return_changelist"),
            {"action": "delete_selected", "_selected_action": [ret.pk], "post": "yes"},
        )

    assert response.status_code == 302
    assert not Attachment.objects.exists() and not stored.exists()


def test_a_submitted_documents_file_stays_when_a_queried_correction_removes_it(
    cast, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    ret = _draft(cast)
    attachment = Attachment(
        figure=ret.figures.get(kpi__code="SPA-01"), name="notes.pdf", size=4, uploaded_by=cast.lead
    )
    attachment.file.save("notes.pdf", ContentFile(b"%PDF"), save=True)
    ret = workflow.return_submit(ret=ret, user=cast.lead)
    ret = workflow.return_query(ret=ret, user=cast.commissioner, comment="Wrong document?")
    data = validation.parse_return(
        contents.return_specs(ret)[1], spa_data(cast, change_reason="Wrong document")
    )

    with django_capture_on_commit_callbacks(execute=True):
        workflow.return_save_draft(
            ret=ret,
            user=cast.lead,
            data=data,
            version=ret.version,
            uploads=workflow.Uploads(remove=[attachment.pk]),
        )

    assert not Attachment.objects.exists()
    assert (tmp_path / attachment.file.name).exists()
    removed = Attachment.history.get(history_type="-")
    assert (removed.history_user, removed.history_change_reason) == (cast.lead, "Wrong document")


def test_a_queried_returns_correction_may_remove_a_count_recording_who_and_why(cast):
    """The one removal allowed once submitted: the provider's own correction of a queried
    return, through the workflow, which records who removed it and why."""
    ret = workflow.return_query(ret=_submitted(cast), user=cast.commissioner, comment="Check?")
    first, second = cast.kpis["SPA-04"].categories.all()
    data = validation.parse_return(
        contents.return_specs(ret)[1],
        spa_data(
            cast,
            **{
                f"SPA-04__cat_{second.pk}": "",
                f"SPA-04__cat_{first.pk}": "212",
                "change_reason": "Repeat engagement counted twice",
            },
        ),
    )
    workflow.return_save_draft(ret=ret, user=cast.lead, data=data, version=ret.version)

    removed = BreakdownFigure.history.get(category=second, history_type="-")
    assert removed.history_user == cast.lead
    assert removed.history_change_reason == "Repeat engagement counted twice"
    # Without the workflow's who and why, the remaining count stays.
    with pytest.raises(SubmittedDataProtected):
        BreakdownFigure.objects.get(category=first).delete()


# ---- 2. The admin: facts read-only, corrections with a reason -----------------------------------


def _admin_form_data(response) -> dict:
    """What the admin's change form would post back as it stands (form and inline formsets)."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
        forms.extend(formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value not in (None, False):
                data[form.add_prefix(name)] = value
    return data


def test_submission_and_review_facts_are_read_only_in_the_admin(cast):
    ret = workflow.return_accept(ret=_submitted(cast), user=cast.commissioner)
    before = Return.objects.values(
        "status",
        "submitted_at",
        "submitted_by",
        "is_late",
        "reviewed_at",
        "reviewed_by",
        "pathway",
        "period",
    ).get(pk=ret.pk)
    admin_client = _signed_in(cast.admin)
    change = reverse("admin:reports_return_change", args=[ret.pk])
    data = _admin_form_data(admin_client.get(change))

    response = admin_client.post(
        change,
        {
            **data,
            "status": "draft",
            "submitted_by": cast.commissioner.pk,
            "submitted_at_0": "01/07/2024",
            "submitted_at_1": "09:00:00",
            "is_late": "on",
            "reviewed_by": cast.officer.pk,
            "reviewed_at_0": "01/07/2024",
            "reviewed_at_1": "09:00:00",
            "version": "99",
            "pathway": cast.carers.pk,
            "period": _period(cast.contract, 2, 1).pk,
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    ret.refresh_from_db()
    after = Return.objects.values(*before).get(pk=ret.pk)
    assert after == before
    assert ret.submitted_by == cast.lead and ret.version != 99
    assert "submitted 01/07/2024" not in _text(_signed_in(cast.commissioner).get(RETURN_URL))


def test_a_return_cannot_be_reverted_to_an_earlier_version_in_the_admin(cast):
    """Reverting would write back an earlier status and submission facts."""
    ret = workflow.return_accept(ret=_submitted(cast), user=cast.commissioner)
    draft = ret.history.filter(status="draft").earliest("history_date")
    url = reverse("admin:reports_return_simple_history", args=[ret.pk, draft.history_id])
    admin_client = _signed_in(cast.admin)

    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"commentary": "x", "_save": "Save"})

    assert response.status_code == 403
    ret.refresh_from_db()
    assert (ret.status, ret.submitted_by) == (Return.Status.ACCEPTED, cast.lead)


def _correction(cast, figure, **changes) -> dict:
    admin_client = _signed_in(cast.admin)
    change = reverse("admin:reports_figure_change", args=[figure.pk])
    data = _admin_form_data(admin_client.get(change))
    data.update(changes, _save="Save")
    return admin_client.post(change, data)


def test_an_administrators_correction_of_a_figure_requires_a_reason(cast):
    figure = _submitted(cast).figures.get(kpi__code="SPA-01")

    response = _correction(cast, figure, value="1300")

    assert response.status_code == 200
    assert "correction_reason" in response.context["adminform"].form.errors
    figure.refresh_from_db()
    assert figure.value == 1250


def test_a_figures_return_and_kpi_are_read_only_once_saved(cast):
    figure = _submitted(cast).figures.get(kpi__code="SPA-01")
    other = Return.objects.create(pathway=cast.spa, period=_period(cast.contract, 1, 2))

    response = _correction(
        cast, figure, ret=other.pk, kpi=cast.kpis["SPA-02"].pk, correction_reason="Moved"
    )

    assert response.status_code == 302
    figure.refresh_from_db()
    assert (figure.ret_id, figure.kpi.code) != (other.pk, "SPA-02")
    assert figure.kpi.code == "SPA-01"


def test_an_administrators_correction_shows_in_the_return_history_and_the_exit_archive(cast):
    ret = workflow.return_accept(ret=_submitted(cast), user=cast.commissioner)
    figure = ret.figures.get(kpi__code="SPA-01")

    response = _correction(
        cast, figure, value="1300", correction_reason="Provider's typo, confirmed by email"
    )

    assert response.status_code == 302
    label = f"{ADMIN_CORRECTION}: Provider's typo, confirmed by email"
    latest = figure.history.first()
    assert (latest.value, latest.history_user) == (Decimal(1300), cast.admin)
    assert latest.history_change_reason == label
    page = _text(_signed_in(cast.commissioner).get(RETURN_URL + "history/"))
    assert "figure: 1,250 → 1,300" in page
    assert label in page and str(cast.admin) in page
    rows = [dict(zip(HISTORY_HEADERS, row, strict=True)) for row in history_rows(cast.contract)]
    corrections = [r for r in rows if r["Change reason"] == label]
    assert len(corrections) == 1
    row = corrections[0]
    assert (row["Who"], row["KPI code"], row["Change"]) == (person(cast.admin), "SPA-01", "Changed")


def test_the_exit_archives_figure_history_csv_carries_the_correction(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ret = workflow.return_accept(ret=_submitted(cast), user=cast.commissioner)
    _correction(cast, ret.figures.get(kpi__code="SPA-01"), value="1300", correction_reason="Typo")

    buffer = io.BytesIO()
    contract_exit_archive(cast.contract, stream=buffer)
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as archive:
        name = next(n for n in archive.namelist() if n.endswith("figure_history.csv"))
        text = archive.read(name).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert any(
        r["Change reason"] == f"{ADMIN_CORRECTION}: Typo" and r["Who"] == person(cast.admin)
        for r in rows
    )


# ---- 3. The database refuses a figure of another pathway's KPI ----------------------------------


def _refused(write):
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_the_database_refuses_moving_a_figure_to_another_pathways_return(cast):
    figure = _submitted(cast).figures.get(kpi__code="SPA-01")
    elsewhere = Return.objects.create(
        pathway=cast.other_pathway, period=_period(cast.other_contract)
    )
    carers = Return.objects.create(pathway=cast.carers, period=_period(cast.contract))

    _refused(lambda: Figure.objects.filter(pk=figure.pk).update(ret=elsewhere))
    _refused(lambda: Figure.objects.filter(pk=figure.pk).update(ret=carers))
    _refused(lambda: Figure.objects.filter(pk=figure.pk).update(kpi=cast.kpis["AC-01"]))
    _refused(lambda: Figure.objects.create(ret=carers, kpi=cast.kpis["SPA-01"]))
    # Nor can the return or the KPI be moved away from the figures.
    _refused(lambda: Return.objects.filter(pk=figure.ret_id).update(pathway=cast.carers))
    _refused(lambda: Kpi.objects.filter(pk=figure.kpi_id).update(pathway=cast.carers))

    figure.refresh_from_db()
    assert (figure.ret.pathway, figure.kpi.pathway) == (cast.spa, cast.spa)
    # A figure of the return's own pathway is fine.
    Figure.objects.create(ret=carers, kpi=cast.kpis["AC-01"], value=1)


def test_the_admin_says_a_figures_kpi_must_be_of_its_returns_pathway(cast):
    ret = _submitted(cast)

    response = _signed_in(cast.admin).post(
        reverse("admin:reports_figure_add"),
        {
            "ret": ret.pk,
            "kpi": cast.kpis["OP-01"].pk,
            "value": "1",
            "correction_reason": "Missing figure",
            "breakdown-TOTAL_FORMS": "0",
            "breakdown-INITIAL_FORMS": "0",
            "_save": "Save",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["kpi"] == [
        "Choose a KPI of the return's pathway."
    ]
    assert ret.figures.count() == 4


def test_the_figure_pathway_triggers_exist_in_the_migrated_database(db):
    """On SQLite a later migration that rebuilds one of these tables drops its triggers."""
    migration = import_module("reports.migrations.0005_figure_kpi_of_return_pathway")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        names = {row[0] for row in cursor.fetchall()}
    assert migration.TRIGGERS[connection.vendor] <= names


# ---- 4. Comments, meetings, actions and overrides keep who changed what -------------------------


def _last_history(obj):
    return type(obj).history.filter(id=obj.pk).order_by("-history_date", "-history_id").first()


def test_every_comment_write_records_its_author_in_history(cast):
    ret = workflow.return_query(ret=_submitted(cast), user=cast.commissioner, comment="Check?")
    answer = workflow.return_answer(ret=ret, user=cast.lead, text="Checked.")
    data = validation.parse_return(contents.return_specs(ret)[1], spa_data(cast))
    workflow.return_save_draft(
        ret=ret, user=cast.lead, data=data, version=ret.version, answer="And again."
    )
    ret = workflow.return_submit(ret=ret, user=cast.lead)
    workflow.return_accept(ret=ret, user=cast.commissioner, comment="Thanks")

    comments = list(ret.comments.order_by("pk"))
    assert [c.kind for c in comments] == ["query", "answer", "answer", "acceptance"]
    assert answer == comments[1]
    records = [_last_history(c) for c in comments]
    assert [r.history_user for r in records] == [
        cast.commissioner,
        cast.lead,
        cast.lead,
        cast.commissioner,
    ]
    assert records[0].text == "Check?" and records[0].history_type == "+"


def test_comments_made_on_the_pages_record_their_author_in_history(cast):
    lead, reviewer = _signed_in(cast.lead), _signed_in(cast.commissioner)
    _submitted(cast)
    reviewer.post(
        RETURN_URL + "review/",
        {"action": "query", "query-kpi": "SPA-01", "query-comment": "Looks high"},
    )
    ret = Return.objects.get()
    lead.post(
        RETURN_URL,
        {"version": str(ret.version), "action": "submit", "answer": "Right", **spa_data(cast)},
    )
    reviewer.post(RETURN_URL + "review/", {"action": "accept", "accept-comment": "Thanks"})

    comments = list(ReturnComment.objects.order_by("pk"))
    assert [c.kind for c in comments] == ["query", "answer", "acceptance"]
    assert [_last_history(c).history_user for c in comments] == [
        cast.commissioner,
        cast.lead,
        cast.commissioner,
    ]


def test_meeting_and_action_writes_on_the_pages_record_who_in_history(cast):
    client = _signed_in(cast.commissioner)

    def meetings_url(name, *args):
        return reverse(f"meetings:{name}", args=["PSIS", *args])

    period = _period(cast.contract, 1, 2)
    client.post(meetings_url("create"), {"period": period.pk, "date": "2023-05-03"})
    meeting = Meeting.objects.get()
    client.post(
        meetings_url("edit", meeting.pk),
        {"period": period.pk, "date": "2023-05-04", "notes": "Moved a day"},
    )
    form = {
        "description": "Review the figures",
        "owner_organisation": cast.contract.lead_provider.pk,
        "due_date": "2023-06-01",
        "status": "open",
    }
    client.post(meetings_url("action_create", meeting.pk), form)
    action = Action.objects.get()
    client.post(meetings_url("action_edit", action.pk), {**form, "status": "done"})

    meeting_records = list(meeting.history.order_by("history_date"))
    action_records = list(action.history.order_by("history_date"))
    assert [(r.history_type, str(r.date)) for r in meeting_records] == [
        ("+", "2023-05-03"),
        ("~", "2023-05-04"),
    ]
    assert [(r.history_type, r.status) for r in action_records] == [("+", "open"), ("~", "done")]
    assert {r.history_user for r in meeting_records + action_records} == {cast.commissioner}


def test_override_writes_by_the_service_record_who_in_history(cast):
    colleague = _user("colleague", "commissioner", cast.commissioner.organisation, "Col", "League")
    override = services.rag_override_create(
        kpi=cast.kpis["SPA-01"],
        period=_period(cast.contract),
        rag="amber",
        reason="Data lag",
        user=cast.commissioner,
    )
    services.rag_override_withdraw(override=override, user=colleague)

    records = list(override.history.order_by("history_date"))
    assert [(r.history_type, r.withdrawn_at is None, r.history_user) for r in records] == [
        ("+", True, cast.commissioner),
        ("~", False, colleague),
    ]


def test_override_writes_on_the_pages_record_who_in_history(cast):
    client = _signed_in(cast.commissioner)
    client.post(
        reverse("rag_override_create", args=["PSIS", "SPA-01"]),
        {"rag": "green", "reason": "Seasonal dip", "quarter": "Y1Q1"},
    )
    override = RagOverride.objects.get()
    client.post(reverse("rag_override_withdraw", args=["PSIS", "SPA-01", override.pk]))

    records = list(override.history.order_by("history_date"))
    assert [r.history_type for r in records] == ["+", "~"]
    assert {r.history_user for r in records} == {cast.commissioner}


def test_the_admin_offers_no_way_to_write_comments_meetings_actions_or_overrides(db):
    """Their only write paths are the services and pages tested above."""
    for model in (ReturnComment, Meeting, Action, RagOverride):
        assert not admin.site.is_registered(model), model
