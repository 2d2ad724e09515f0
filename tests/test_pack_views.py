"""Generating, finalising and downloading meeting packs: the background job, access and freezing."""

import hashlib
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from meetings import pack, tasks
from meetings.models import MeetingPack
from reports.models import Figure
from tests.builders import DATABASE, make_meetings, make_returns, pdf_text, period_of
from tests.builders import meeting_url as url

pytestmark = pytest.mark.usefixtures("media", "immediate_tasks")


@pytest.fixture
def quarter(cast):
    make_returns(cast)
    make_meetings(cast)
    return period_of(cast.contract, 1, 2)


def generate(client, period, capture):
    with capture(execute=True):
        return client.post(url("pack_generate"), {"period": period.pk})


@pytest.fixture
def draft(cast, quarter, client_for, django_capture_on_commit_callbacks):
    response = generate(client_for(cast.commissioner), quarter, django_capture_on_commit_callbacks)
    pack_ = MeetingPack.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("pack", pack_.pk)
    return pack_


@pytest.fixture
def final(cast, draft, client, django_capture_on_commit_callbacks):
    client.force_login(cast.commissioner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("pack_finalise", draft.pk))
    final = MeetingPack.objects.get(status=MeetingPack.Status.FINAL)
    assert response["Location"] == url("pack", final.pk)
    client.logout()
    return final


class TestGenerate:
    def test_commissioner_generates_a_draft_in_the_background(self, cast, draft, client_for):
        assert draft.job_status == MeetingPack.JobStatus.DONE
        assert draft.progress == 100
        assert draft.generated_by == cast.commissioner
        assert draft.task_id
        client = client_for(cast.commissioner)
        page = client.get(url("pack", draft.pk)).content.decode()
        assert "PSIS-2022-23-Q4-contract-meeting-pack-draft.pdf" in page
        assert "Finalise the Year 1 Q2 pack" in page
        response = client.get(url("pack_download", draft.pk, "pdf"))
        assert response["Content-Type"] == "application/pdf"
        assert (
            response["Content-Disposition"]
            == 'attachment; filename="PSIS-2022-23-Q4-contract-meeting-pack-draft.pdf"'
        )
        assert "DRAFT" in pdf_text(response.content)
        xlsx = client.get(url("pack_download", draft.pk, "xlsx"))
        assert load_workbook(io.BytesIO(xlsx.content)).sheetnames[0] == "Summary"

    def test_the_form_offers_the_latest_quarter_with_returns(self, cast, quarter, client_for):
        response = client_for(cast.commissioner).get(url("list"))
        assert response.context["form"]["period"].value() == period_of(cast.contract, 1, 3).pk

    def test_status_endpoint(self, cast, draft, client_for):
        status = json.loads(client_for(cast.commissioner).get(url("pack_status", draft.pk)).content)
        assert status["finished"] and status["ready"] and status["progress"] == 100
        assert status["page"] == url("pack", draft.pk)

    def test_a_new_draft_replaces_the_old_one(self, cast, draft, client_for, settings):
        client = client_for(cast.commissioner)
        old_file = settings.MEDIA_ROOT / draft.pdf.name
        assert old_file.exists()
        tasks.pack_generate(contract=cast.contract, period=draft.period, user=cast.commissioner)
        # outside a real commit the job waits; run it as the worker would
        newest = MeetingPack.objects.latest("pk")
        assert tasks.run_pack_job(newest.pk) == "done"
        assert list(MeetingPack.objects.values_list("pk", flat=True)) == [newest.pk]
        assert not old_file.exists()
        assert client.get(url("pack", draft.pk)).status_code == 404

    def test_one_job_per_quarter_at_once(self, cast, quarter):
        tasks.pack_generate(contract=cast.contract, period=quarter, user=cast.commissioner)
        with pytest.raises(ValidationError, match="already being generated"):
            tasks.pack_generate(contract=cast.contract, period=quarter, user=cast.commissioner)
        with pytest.raises(IntegrityError), transaction.atomic():
            MeetingPack.objects.create(contract=cast.contract, period=quarter)
        assert MeetingPack.objects.count() == 1

    @pytest.mark.parametrize("who", ["officer", "lead", "partner"])
    def test_only_commissioners_generate(self, cast, quarter, client_for, who):
        response = client_for(getattr(cast, who)).post(url("pack_generate"), {"period": quarter.pk})
        assert response.status_code == 403
        with pytest.raises(PermissionDenied):
            tasks.pack_generate(contract=cast.contract, period=quarter, user=getattr(cast, who))
        assert not MeetingPack.objects.exists()

    def test_a_failed_build_says_so(self, cast, quarter, monkeypatch):
        def broken(*args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(tasks, "build_pack", broken)
        made = tasks.pack_generate(contract=cast.contract, period=quarter, user=cast.commissioner)
        assert tasks.run_pack_job(made.pk) == "failed"
        made.refresh_from_db()
        assert made.job_status == MeetingPack.JobStatus.FAILED
        assert "could not be built" in made.message
        assert not made.pdf

    # The worker closes database connections, which a test wrapped in a transaction cannot take.
    @pytest.mark.django_db(transaction=True)
    def test_queued_in_the_database_and_run_by_the_worker(self, cast, quarter, settings):
        settings.TASKS = DATABASE
        made = tasks.pack_generate(contract=cast.contract, period=quarter, user=cast.commissioner)
        made.refresh_from_db()
        assert made.job_status == MeetingPack.JobStatus.QUEUED and made.task_id
        call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())
        made.refresh_from_db()
        assert made.job_status == MeetingPack.JobStatus.DONE and made.pdf


class TestReaper:
    def test_stuck_jobs_are_marked_failed(self, cast, quarter):
        now = timezone.now()
        running = MeetingPack.objects.create(
            contract=cast.contract,
            period=quarter,
            job_status=MeetingPack.JobStatus.RUNNING,
            started_at=now - timedelta(minutes=30),
        )
        assert tasks.reap_stuck_packs(running_minutes=15) == 1
        running.refresh_from_db()
        assert running.job_status == MeetingPack.JobStatus.FAILED
        assert "more than 15 minutes" in running.message
        # a reaped job that finishes late does not come back to life
        assert tasks.run_pack_job(running.pk) == "skipped"

    def test_recent_jobs_are_left_alone(self, cast, quarter):
        MeetingPack.objects.create(
            contract=cast.contract,
            period=quarter,
            job_status=MeetingPack.JobStatus.RUNNING,
            started_at=timezone.now() - timedelta(minutes=2),
        )
        assert tasks.reap_stuck_packs(running_minutes=15) == 0

    def test_unclaimed_jobs_point_at_the_worker(self, cast, quarter, client_for):
        made = MeetingPack.objects.create(contract=cast.contract, period=quarter)
        MeetingPack.objects.filter(pk=made.pk).update(
            requested_at=timezone.now() - timedelta(hours=3)
        )
        call_command("reap_stuck_jobs", stdout=io.StringIO())
        status = json.loads(client_for(cast.commissioner).get(url("pack_status", made.pk)).content)
        assert status["job_status"] == "failed"
        assert "db_worker" in status["message"]

    def test_reading_pages_never_changes_a_stuck_job(self, cast, quarter, client_for):
        """Stuck jobs are reaped by the worker and the command, never by a GET."""
        made = MeetingPack.objects.create(
            contract=cast.contract,
            period=quarter,
            job_status=MeetingPack.JobStatus.RUNNING,
            started_at=timezone.now() - timedelta(hours=3),
        )
        before = MeetingPack.objects.filter(pk=made.pk).values().get()
        client = client_for(cast.commissioner)
        for page in (url("list"), url("pack", made.pk), url("pack_status", made.pk)):
            assert client.get(page).status_code == 200
        assert MeetingPack.objects.filter(pk=made.pk).values().get() == before
        call_command("reap_stuck_jobs", stdout=io.StringIO())
        made.refresh_from_db()
        assert made.job_status == MeetingPack.JobStatus.FAILED

    def test_a_new_request_reaps_a_stuck_job_first(self, cast, quarter, settings):
        settings.TASKS = DATABASE
        stuck = MeetingPack.objects.create(
            contract=cast.contract,
            period=quarter,
            job_status=MeetingPack.JobStatus.RUNNING,
            started_at=timezone.now() - timedelta(hours=3),
        )
        made = tasks.pack_generate(contract=cast.contract, period=quarter, user=cast.commissioner)
        stuck.refresh_from_db()
        assert stuck.job_status == MeetingPack.JobStatus.FAILED and made.pk != stuck.pk


class TestFinal:
    def test_finalising_freezes_the_files(self, cast, final, client_for, settings):
        assert final.job_status == MeetingPack.JobStatus.DONE
        assert final.finalised_by == cast.commissioner and final.finalised_at
        stored = (settings.MEDIA_ROOT / final.pdf.name).read_bytes()
        assert final.pdf_sha256 == hashlib.sha256(stored).hexdigest()
        client = client_for(cast.officer)
        first = client.get(url("pack_download", final.pk, "pdf"))
        assert (
            first["Content-Disposition"]
            == 'attachment; filename="PSIS-2022-23-Q4-contract-meeting-pack-final.pdf"'
        )
        assert "FINAL" in pdf_text(first.content)

        figure = Figure.objects.get(ret__period=final.period, kpi=cast.kpis["SPA-01"])
        figure.value = Decimal(999)
        figure._change_reason = "Corrected after the meeting"
        figure.save()

        again = client.get(url("pack_download", final.pk, "pdf"))
        assert again.content == first.content
        assert hashlib.sha256(again.content).hexdigest() == final.pdf_sha256
        assert again["X-Checksum-SHA256"] == final.pdf_sha256
        xlsx = client.get(url("pack_download", final.pk, "xlsx")).content
        assert hashlib.sha256(xlsx).hexdigest() == final.xlsx_sha256

    def test_a_tampered_file_is_not_served(self, cast, final, client_for, settings):
        (settings.MEDIA_ROOT / final.pdf.name).write_bytes(b"%PDF-1.7 something else")
        response = client_for(cast.lead).get(url("pack_download", final.pk, "pdf"))
        assert response.status_code == 500
        assert b"checksum" in response.content

    def test_a_final_quarter_is_not_generated_again(self, cast, final):
        with pytest.raises(ValidationError, match="already final"):
            tasks.pack_generate(contract=cast.contract, period=final.period, user=cast.commissioner)
        draft = MeetingPack.objects.get(status=MeetingPack.Status.DRAFT)
        with pytest.raises(ValidationError, match="already final"):
            tasks.pack_finalise(draft=draft, user=cast.commissioner)
        with pytest.raises(IntegrityError), transaction.atomic():
            MeetingPack.objects.create(
                contract=cast.contract, period=final.period, status="final", job_status="done"
            )

    def test_later_corrections_are_amendments_in_the_next_pack(self, cast, final):
        figure = Figure.objects.get(ret__period=final.period, kpi=cast.kpis["SPA-01"])
        figure.value = Decimal(1250)
        figure._change_reason = "Duplicate referrals removed"
        figure._history_user = cast.lead
        figure.save()
        untouched = Figure.objects.get(ret__period=final.period, kpi=cast.kpis["AC-01"])
        untouched.save()  # saved, but no value changed: not an amendment
        data = pack.build_pack_data(cast.contract, period_of(cast.contract, 1, 3))
        assert [(a.kpi_code, a.change, a.reason, a.changed_by) for a in data.amendments] == [
            ("SPA-01", "figure 1,300 → 1,250", "Duplicate referrals removed", "Lena Lead")
        ]
        assert data.previous_final == final
        html = pack.render_html(data)
        assert "Amendments to earlier quarters" in html


def stored_pack(cast, status):
    """A ready pack with small stand-in files: access does not depend on what they hold."""
    period = period_of(cast.contract, 1, 2)
    made = MeetingPack(
        contract=cast.contract,
        period=period,
        status=status,
        job_status=MeetingPack.JobStatus.DONE,
        progress=100,
        generated_at=timezone.now(),
    )
    pdf, xlsx = b"%PDF-1.7 " + status.encode(), b"PK " + status.encode()
    made.pdf.save(made.filename("pdf"), ContentFile(pdf), save=False)
    made.xlsx.save(made.filename("xlsx"), ContentFile(xlsx), save=False)
    if status == MeetingPack.Status.FINAL:
        made.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        made.xlsx_sha256 = hashlib.sha256(xlsx).hexdigest()
        made.finalised_at = timezone.now()
    made.save()
    return made


class TestAccess:
    @pytest.fixture
    def draft(self, cast):
        return stored_pack(cast, MeetingPack.Status.DRAFT)

    @pytest.fixture
    def final(self, cast):
        return stored_pack(cast, MeetingPack.Status.FINAL)

    @pytest.mark.parametrize("who", ["officer", "lead", "partner"])
    def test_drafts_are_for_commissioners_only(self, cast, draft, client_for, who):
        client = client_for(getattr(cast, who))
        for response in (
            client.get(url("pack", draft.pk)),
            client.get(url("pack_status", draft.pk)),
            client.get(url("pack_download", draft.pk, "pdf")),
        ):
            assert response.status_code == 403
        assert client.post(url("pack_finalise", draft.pk)).status_code == 403
        listing = client.get(url("list")).content.decode()
        assert url("pack", draft.pk) not in listing

    @pytest.mark.parametrize("who", ["officer", "lead", "partner", "commissioner"])
    def test_every_party_downloads_the_final_pack(self, cast, final, client_for, who):
        client = client_for(getattr(cast, who))
        assert client.get(url("pack_download", final.pk, "pdf")).status_code == 200
        assert url("pack", final.pk) in client.get(url("list")).content.decode()

    def test_a_final_pack_still_being_built_is_not_listed_for_readers(self, cast, client_for):
        building = MeetingPack.objects.create(
            contract=cast.contract, period=period_of(cast.contract, 1, 2), status="final"
        )
        listing = client_for(cast.officer).get(url("list")).content.decode()
        assert url("pack", building.pk) not in listing
        assert "No final packs yet." in listing

    def test_another_organisation_gets_not_found(self, cast, final, client_for):
        client = client_for(cast.outsider)
        for path in (
            url("list"),
            url("pack", final.pk),
            url("pack_status", final.pk),
            url("pack_download", final.pk, "pdf"),
            url("pack_download", final.pk, "xlsx"),
        ):
            assert client.get(path).status_code == 404, path

    def test_a_pack_of_another_contract_is_not_found_under_this_one(self, cast, final, client_for):
        other = cast.other_contract
        period = period_of(other, 1, 1)
        theirs = MeetingPack.objects.create(contract=other, period=period)
        client = client_for(cast.commissioner)
        assert client.get(url("pack", theirs.pk)).status_code == 404
        assert client.get(reverse("meetings:pack", args=["OTHER", final.pk])).status_code == 404

    def test_unknown_format_is_not_found(self, cast, final, client_for):
        response = client_for(cast.officer).get(url("pack_download", final.pk, "docx"))
        assert response.status_code == 404
