"""Contract exit (everything held for a contract as one ZIP) and evidence retention (purge)."""

import csv
import hashlib
import io
import os
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from exits import archive as exit_archive
from exits import tasks as exit_tasks
from exits.models import ExitArchive
from meetings.models import Action, Meeting, MeetingPack
from reports.models import Attachment, BreakdownFigure, Figure, Return, ReturnComment
from tests.builders import LONDON, period_of

FORMULA = '=HYPERLINK("http://example.com/x","click")'
OLD_EVIDENCE = b"%PDF-1.7 old case study \x00\x01\x02 bytes"
NEW_EVIDENCE = b"PK\x03\x04 a recent evidence file"
PDF = b"%PDF-1.7 final pack"
XLSX = b"PK\x03\x04 final pack workbook"
FIXED_MEMBERS = {
    "README.txt",
    "manifest.csv",
    "contract.csv",
    "pathways.csv",
    "kpi_catalogue.csv",
    "returns.csv",
    "returns.xlsx",
    "figures.csv",
    "figures.xlsx",
    "breakdown_counts.csv",
    "figure_history.csv",
    "review_thread.csv",
    "results.csv",
    "rag_overrides.csv",
    "meetings.csv",
    "actions.csv",
    "evidence.csv",
}
OLD_PATH = "evidence/AC/Y1Q1/passwd case study.pdf"
PDF_PATH = "packs/PSIS-2022-23-Q3-contract-meeting-pack-final.pdf"
XLSX_PATH = "packs/PSIS-2022-23-Q3-contract-meeting-pack-final.xlsx"


pytestmark = pytest.mark.usefixtures("media")


def save(obj, user, reason):
    obj._history_user = user
    obj._change_reason = reason
    obj.save()


def attach(figure, name, content, user):
    attachment = Attachment(
        figure=figure, name=name, size=len(content), content_type="application/pdf",
        uploaded_by=user,
    )  # fmt: skip
    attachment.file.save(name, ContentFile(content), save=False)
    save(attachment, user, "Evidence attached")
    return attachment


def submitted(period):
    return datetime.combine(period.due_date - timedelta(days=1), datetime.min.time(), LONDON)


@pytest.fixture
def world(cast):
    """Y1Q1 returns of both pathways (submitted; one figure corrected; old evidence), a recent
    return with fresh evidence, a review thread, a meeting with an action and a final pack."""
    q1 = period_of(cast.contract, 1, 1)
    spa = Return.objects.create(
        pathway=cast.spa, period=q1, status=Return.Status.ACCEPTED, submitted_at=submitted(q1),
        submitted_by=cast.lead, reviewed_at=submitted(q1) + timedelta(days=3),
        reviewed_by=cast.commissioner, commentary=FORMULA,
    )  # fmt: skip
    count = Figure(ret=spa, kpi=cast.kpis["SPA-01"], value=Decimal(100))
    save(count, cast.lead, "Draft saved")
    count.value = Decimal(120)
    save(count, cast.lead, "Corrected count")
    save(Figure(ret=spa, kpi=cast.kpis["SPA-02"], value=Decimal("75000.50")), cast.lead, "Saved")
    breakdown = Figure(ret=spa, kpi=cast.kpis["SPA-04"], value=Decimal(50))
    save(breakdown, cast.lead, "Saved")
    for category, n in zip(cast.kpis["SPA-04"].categories.all(), (30, 20), strict=True):
        save(BreakdownFigure(figure=breakdown, category=category, count=n), cast.lead, "Saved")

    carers = Return.objects.create(
        pathway=cast.carers, period=q1, status=Return.Status.SUBMITTED,
        submitted_at=submitted(q1), submitted_by=cast.partner, is_late=True,
    )  # fmt: skip
    evidence = Figure(ret=carers, kpi=cast.kpis["AC-02"], narrative="A carer found respite.")
    save(evidence, cast.partner, "Saved")
    old = attach(evidence, "../../etc/passwd case study.pdf", OLD_EVIDENCE, cast.partner)
    ReturnComment.objects.create(
        ret=carers, kind="query", text="@SUM(1+1) where is the map?", author=cast.commissioner
    )
    ReturnComment.objects.create(ret=carers, kind="answer", text="Attached.", author=cast.partner)

    current = cast.contract.quarter_of(timezone.localdate())
    recent_period = period_of(cast.contract, current.year, current.quarter)
    recent = Return.objects.create(pathway=cast.carers, period=recent_period)
    recent_figure = Figure(ret=recent, kpi=cast.kpis["AC-02"], narrative="This quarter's map.")
    save(recent_figure, cast.partner, "Saved")
    new = attach(recent_figure, "map.pdf", NEW_EVIDENCE, cast.partner)

    meeting = Meeting.objects.create(contract=cast.contract, period=q1, date=date(2023, 2, 1))
    Action.objects.create(
        contract=cast.contract, raised_at=meeting, description="-1 chase the SPA data",
        owner_organisation=cast.lead.organisation, due_date=date(2023, 3, 1),
    )  # fmt: skip
    pack = MeetingPack(
        contract=cast.contract, period=q1, status="final", job_status="done",
        finalised_at=timezone.now(), finalised_by=cast.commissioner,
        pdf_sha256=hashlib.sha256(PDF).hexdigest(), xlsx_sha256=hashlib.sha256(XLSX).hexdigest(),
    )  # fmt: skip
    pack.pdf.save(pack.filename("pdf"), ContentFile(PDF), save=False)
    pack.xlsx.save(pack.filename("xlsx"), ContentFile(XLSX), save=False)
    pack.save()
    draft = MeetingPack(
        contract=cast.contract, period=period_of(cast.contract, 1, 2), job_status="done"
    )
    draft.pdf.save(draft.filename("pdf"), ContentFile(b"%PDF draft"), save=False)
    draft.save()
    return {
        "old": old,
        "new": new,
        "new_path": f"evidence/AC/{recent_period.short_label}/map.pdf",
        "pack": pack,
        "count": count,
    }


def export(contract) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    exit_archive.contract_exit_archive(contract, stream=buffer, generated_by="Cara Commissioner")
    buffer.seek(0)
    return zipfile.ZipFile(buffer)


def read_csv(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))


# --- the archive ---------------------------------------------------------------------------------


def test_the_zip_holds_every_member_and_the_manifest_checks_out(cast, world):
    archive = export(cast.contract)
    names = set(archive.namelist())
    assert names == FIXED_MEMBERS | {OLD_PATH, world["new_path"], PDF_PATH, XLSX_PATH}
    assert archive.testzip() is None

    manifest = read_csv(archive, "manifest.csv")
    assert {row["Path"] for row in manifest} == names - {"manifest.csv"}
    for row in manifest:
        content = archive.read(row["Path"])
        assert int(row["Bytes"]) == len(content)
        assert row["SHA-256"] == hashlib.sha256(content).hexdigest()
        assert row["Contract"] == "PSIS"
        assert row["Generated by"] == "Cara Commissioner"
        assert row["Generated at (UK time)"].endswith(("GMT", "BST"))
    readme = archive.read("README.txt").decode()
    for name in FIXED_MEMBERS - {"README.txt"}:
        assert name.split(".")[0] in readme


def test_returns_are_one_row_each_with_uk_dates_and_people(cast, world):
    rows = read_csv(export(cast.contract), "returns.csv")
    assert [(r["Pathway code"], r["Contract quarter"]) for r in rows] == [
        ("SPA", "Year 1 Q1"),
        ("AC", "Year 1 Q1"),
        ("AC", rows[2]["Contract quarter"]),
    ]
    spa, carers = rows[0], rows[1]
    q1 = period_of(cast.contract, 1, 1)
    assert spa["Financial-year quarter"] == "2022/23 Q3"
    assert spa["Status"] == "Accepted"
    assert spa["Submitted at"] == f"{q1.due_date - timedelta(days=1):%d/%m/%Y} 00:00"
    assert spa["Submitted by"] == "Lena Lead (lead)"
    assert spa["Reviewed by"] == "Cara Commissioner (commissioner)"
    assert spa["Due date"] == f"{q1.due_date:%d/%m/%Y}"
    assert (spa["Late"], carers["Late"]) == ("No", "Yes")


def test_a_formula_in_commentary_is_neutralised(cast, world):
    archive = export(cast.contract)
    assert read_csv(archive, "returns.csv")[0]["Commentary"] == "'" + FORMULA
    assert read_csv(archive, "review_thread.csv")[0]["Text"] == "'@SUM(1+1) where is the map?"
    assert read_csv(archive, "actions.csv")[0]["Description"] == "'-1 chase the SPA data"
    sheet = load_workbook(io.BytesIO(archive.read("returns.xlsx")))["Returns"]
    headers = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=headers.index("Commentary") + 1)
    assert cell.data_type == "s"
    assert cell.value == FORMULA


def test_figures_have_every_field_money_as_numbers_and_breakdown_counts(cast, world):
    archive = export(cast.contract)
    figures = {r["KPI code"]: r for r in read_csv(archive, "figures.csv")}
    assert figures["SPA-01"]["Value (count, pounds, average or stated total)"] == "120"
    assert figures["SPA-02"]["Value (count, pounds, average or stated total)"] == "75000.50"
    assert (
        figures["SPA-04"]["Breakdown counts"] == "Unique service users: 30; Repeat engagement: 20"
    )
    assert figures["AC-02"]["Evidence files"] == "1"
    counts = read_csv(archive, "breakdown_counts.csv")
    assert [(r["Category"], r["Count"]) for r in counts] == [
        ("Unique service users", "30"),
        ("Repeat engagement", "20"),
    ]
    book = load_workbook(io.BytesIO(archive.read("figures.xlsx")))
    assert book.sheetnames == ["Figures", "Breakdown counts"]
    headers = [c.value for c in book["Figures"][1]]
    money = [r for r in book["Figures"].iter_rows(min_row=2, values_only=True) if r[5] == "SPA-02"]
    assert money[0][headers.index("Value (count, pounds, average or stated total)")] == 75000.5


def test_a_figures_history_appears_with_who_when_and_why(cast, world):
    rows = read_csv(export(cast.contract), "figure_history.csv")
    spa01 = [r for r in rows if r["Record"] == "Figure" and r["KPI code"] == "SPA-01"]
    assert [(r["Change"], r["Value"], r["Change reason"], r["Who"]) for r in spa01] == [
        ("Created", "100", "Draft saved", "Lena Lead (lead)"),
        ("Changed", "120", "Corrected count", "Lena Lead (lead)"),
    ]
    assert spa01[0]["Contract quarter"] == "Year 1 Q1"
    assert spa01[0]["When"][2] == "/" and spa01[0]["When"][5] == "/"
    kinds = {r["Record"] for r in rows}
    assert kinds == {"Return", "Figure", "Category count", "Evidence file"}
    counts = [r for r in rows if r["Record"] == "Category count"]
    assert {(r["Category"], r["Count"]) for r in counts} == {
        ("Unique service users", "30"),
        ("Repeat engagement", "20"),
    }
    when = [datetime.strptime(r["When"], "%d/%m/%Y %H:%M") for r in rows]
    assert when == sorted(when)


def test_an_evidence_file_is_included_byte_for_byte_under_a_safe_name(cast, world):
    archive = export(cast.contract)
    assert archive.read(OLD_PATH) == OLD_EVIDENCE
    assert not any(".." in name or name.startswith("/") for name in archive.namelist())
    index = {r["Original file name"]: r for r in read_csv(archive, "evidence.csv")}
    assert index["../../etc/passwd case study.pdf"]["File in this archive"] == OLD_PATH
    assert index["../../etc/passwd case study.pdf"]["Status"] == "Included"
    # The recent file is in the current quarter's folder.
    assert index["map.pdf"]["File in this archive"] == world["new_path"]
    assert archive.read(world["new_path"]) == NEW_EVIDENCE


def test_files_compressed_already_are_stored_and_the_rest_deflated(cast, world):
    """Deflating PDFs, images and Office files again costs time and saves nothing."""
    archive = export(cast.contract)
    kinds = {info.filename: info.compress_type for info in archive.infolist()}
    assert kinds[OLD_PATH] == zipfile.ZIP_STORED  # a PDF
    assert all(kind == zipfile.ZIP_STORED for name, kind in kinds.items() if "packs/" in name)
    assert kinds["returns.csv"] == kinds["manifest.csv"] == zipfile.ZIP_DEFLATED
    assert archive.testzip() is None  # every member reads back with its CRC


def test_a_final_pack_is_included_and_matches_its_checksum(cast, world):
    archive = export(cast.contract)
    assert hashlib.sha256(archive.read(PDF_PATH)).hexdigest() == world["pack"].pdf_sha256
    assert hashlib.sha256(archive.read(XLSX_PATH)).hexdigest() == world["pack"].xlsx_sha256
    assert not any("draft" in name for name in archive.namelist())


def test_a_damaged_final_pack_stops_the_export(cast, world, settings):
    (settings.MEDIA_ROOT / world["pack"].pdf.name).write_bytes(b"%PDF-1.7 something else")
    with pytest.raises(exit_archive.ExitArchiveError, match="does not match the checksum"):
        exit_archive.contract_exit_archive(cast.contract, stream=io.BytesIO())


def test_the_other_contracts_records_stay_out(cast, world):
    other = Return.objects.create(
        pathway=cast.other_pathway, period=cast.other_contract.periods.first()
    )
    Figure.objects.create(ret=other, kpi=cast.kpis["OP-01"], value=Decimal(7))
    archive = export(cast.contract)
    for name in ("returns.csv", "figures.csv", "figure_history.csv"):
        assert "OP-01" not in archive.read(name).decode() and "OP" not in {
            r.get("Pathway code") for r in read_csv(archive, name)
        }


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\evil.exe", "evil.exe"),
        ("..", "file"),
        ("", "file"),
        (".hidden", "hidden"),
        ("CON.txt", "_CON.txt"),
        ("résumé final.PDF", "resume final.PDF"),
        ("a<b>c:d|e?.docx", "a_b_c_d_e.docx"),
        ("x" * 300 + ".pdf", "x" * 96 + ".pdf"),
    ],
)
def test_safe_filename(name, safe):
    assert exit_archive.safe_filename(name) == safe


# --- the page, the background job and its download ----------------------------------------------

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = IMMEDIATE


def exit_url():
    return reverse("contract_exit", args=["PSIS"])


def job_url(job, name="contract_exit_job"):
    return reverse(name, args=["PSIS", job.pk])


def make(client, capture) -> tuple:
    """POST the exit form, running the queued task when the request commits."""
    with capture(execute=True):
        response = client.post(exit_url())
    return response, ExitArchive.objects.order_by("-pk").first()


def stuck_job(cast, minutes=120) -> ExitArchive:
    return ExitArchive.objects.create(
        contract=cast.contract,
        requested_by=cast.commissioner,
        job_status=ExitArchive.JobStatus.RUNNING,
        started_at=timezone.now() - timedelta(minutes=minutes),
        progress=40,
        message="Copying evidence files (1 of 2)",
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [("commissioner", 200), ("officer", 403), ("lead", 403), ("partner", 403), ("outsider", 404)],
)
def test_only_the_contracts_commissioners_may_export(cast, world, client_for, who, status):
    job = stuck_job(cast, minutes=1)
    client = client_for(cast.users()[who])
    assert client.get(exit_url()).status_code == status
    for name in ("contract_exit_job", "contract_exit_job_status"):
        assert client.get(job_url(job, name)).status_code == status
    if who != "commissioner":
        assert client.post(exit_url()).status_code == status
        assert client.get(job_url(job, "contract_exit_job_download")).status_code == status
    assert ExitArchive.objects.count() == 1


def test_anonymous_is_sent_to_sign_in(client, cast):
    for url in (exit_url(), job_url(stuck_job(cast), "contract_exit_job_download")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_another_contracts_job_is_not_found(cast, world, client_for):
    job = ExitArchive.objects.create(contract=cast.other_contract, job_status="failed")
    client = client_for(cast.commissioner)
    for name in ("contract_exit_job", "contract_exit_job_status", "contract_exit_job_download"):
        assert client.get(job_url(job, name)).status_code == 404


def test_the_page_shows_what_will_be_exported(cast, world, client_for):
    response = client_for(cast.commissioner).get(exit_url())
    contents = response.context["contents"]
    assert (contents.returns, contents.figures, contents.evidence_files) == (3, 5, 2)
    assert (contents.final_packs, contents.meetings, contents.actions) == (1, 1, 1)
    assert contents.review_comments == 2
    page = response.content.decode()
    assert "Make the ZIP file" in page
    assert "1 October 2022" in page  # the first quarter's start, as a long UK date
    assert f"PSIS-contract-exit-{timezone.localdate():%Y-%m-%d}.zip" in page
    assert "None yet." in page


# The worker closes database connections, which a test wrapped in a transaction cannot take.
@pytest.mark.django_db(transaction=True)
def test_posting_only_queues_the_job_and_redirects_to_its_page(
    cast, world, client_for, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE  # nothing runs until the worker takes it
    response, job = make(client_for(cast.commissioner), django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == job_url(job)
    job.refresh_from_db()
    assert job.job_status == ExitArchive.JobStatus.QUEUED and job.task_id
    assert job.requested_by == cast.commissioner and not job.file
    page = client_for(cast.commissioner).get(job_url(job)).content.decode()
    assert "Queued" in page and "check progress" in page and "job-progress.js" in page
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())
    job.refresh_from_db()
    assert job.job_status == ExitArchive.JobStatus.DONE and job.file


def test_the_job_builds_the_zip_and_the_download_serves_it(
    cast, world, client_for, django_capture_on_commit_callbacks
):
    client = client_for(cast.commissioner)
    _, job = make(client, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.job_status == ExitArchive.JobStatus.DONE and job.progress == 100
    assert job.finished_at and job.filename == (
        f"PSIS-contract-exit-{timezone.localdate():%Y-%m-%d}.zip"
    )
    assert job.file.name.startswith("contract-exits/PSIS/")
    stored = job.file.open("rb").read()
    assert job.size == len(stored) and job.sha256 == hashlib.sha256(stored).hexdigest()

    status = client.get(job_url(job, "contract_exit_job_status")).json()
    assert status["finished"] and status["ready"] and status["progress"] == 100
    page = client.get(job_url(job)).content.decode()
    assert "Download the ZIP file" in page and job.sha256 in page
    assert "job-progress.js" not in page

    response = client.get(job_url(job, "contract_exit_job_download"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{job.filename}"'
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Checksum-SHA256"] == job.sha256
    content = b"".join(response.streaming_content)
    assert content == stored
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert OLD_PATH in archive.namelist()
    by = read_csv(archive, "manifest.csv")[0]["Generated by"]
    assert by == "Cara Commissioner (commissioner)"
    assert "psis_download" not in response.cookies


def test_the_media_url_does_not_serve_the_zip(
    cast, world, client_for, django_capture_on_commit_callbacks
):
    client = client_for(cast.commissioner)
    _, job = make(client, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert client.get(f"/media/{job.file.name}").status_code == 404


def test_progress_is_reported_as_the_archive_is_written(cast, world):
    seen = []
    exit_archive.contract_exit_archive(
        cast.contract, stream=io.BytesIO(), progress=lambda p, m: seen.append((p, m))
    )
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[0] < 10 and percents[-1] == 100
    assert any("evidence files (1 of 2)" in m for _, m in seen)


def test_the_job_records_progress_while_running(cast, world, monkeypatch):
    job = ExitArchive.objects.create(contract=cast.contract, requested_by=cast.commissioner)
    seen = []
    made = exit_archive.contract_exit_archive

    def watching(*args, progress, **kwargs):
        def report(percent, message):
            progress(percent, message)
            seen.append(ExitArchive.objects.values_list("progress", "message").get(pk=job.pk))

        return made(*args, progress=report, **kwargs)

    monkeypatch.setattr(exit_archive, "contract_exit_archive", watching)
    assert exit_tasks.run_exit_job(job.pk) == "done"
    assert (2, "Checking and copying the final meeting packs") in seen
    assert max(p for p, _ in seen) == 99  # 100 only once the file is stored


def test_a_damaged_pack_fails_the_job_and_its_page_says_why(
    cast, world, client_for, settings, django_capture_on_commit_callbacks
):
    (settings.MEDIA_ROOT / world["pack"].xlsx.name).write_bytes(b"changed")
    client = client_for(cast.commissioner)
    response, job = make(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.job_status == ExitArchive.JobStatus.FAILED and not job.file
    page = client.get(job_url(job)).content.decode()
    assert "Failed" in page and "does not match the checksum" in page
    assert "Make the ZIP file again" in page and "Download the ZIP file" not in page
    assert client.get(job_url(job, "contract_exit_job_download")).status_code == 404
    assert list((settings.MEDIA_ROOT).glob("contract-exits/**/*.zip")) == []


def test_an_unexpected_error_fails_the_job_with_a_message(cast, world, client_for, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(exit_archive, "contract_exit_archive", broken)
    job = ExitArchive.objects.create(contract=cast.contract, requested_by=cast.commissioner)
    assert exit_tasks.run_exit_job(job.pk) == "failed"
    page = client_for(cast.commissioner).get(job_url(job)).content.decode()
    assert "The ZIP file could not be made (RuntimeError). Try again." in page


def test_one_job_at_a_time_per_contract(
    cast, world, client_for, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE
    client = client_for(cast.commissioner)
    _, first = make(client, django_capture_on_commit_callbacks)
    response, latest = make(client, django_capture_on_commit_callbacks)
    assert latest == first  # no second job
    assert response["Location"] == job_url(first)
    assert "already being made" in client.get(job_url(first)).content.decode()
    page = client.get(exit_url()).content.decode()
    assert "see its progress" in page and "<button" not in page.split("Make the ZIP file")[1][:300]
    with pytest.raises(IntegrityError), transaction.atomic():
        ExitArchive.objects.create(contract=cast.contract)
    ExitArchive.objects.create(contract=cast.other_contract)  # another contract may


def test_only_the_latest_few_archives_are_kept(
    cast, world, client_for, settings, django_capture_on_commit_callbacks
):
    settings.EXIT_ARCHIVES_KEPT = 2
    client = client_for(cast.commissioner)
    jobs = [make(client, django_capture_on_commit_callbacks)[1] for _ in range(3)]
    files = [job.file.name for job in ExitArchive.objects.filter(pk__in=[j.pk for j in jobs])]
    kept = list(ExitArchive.objects.order_by("pk").values_list("pk", flat=True))
    assert kept == [jobs[1].pk, jobs[2].pk]
    assert len(list(settings.MEDIA_ROOT.glob("contract-exits/PSIS/*.zip"))) == len(files) == 2
    page = client.get(exit_url()).content.decode()
    assert page.count("Download<span") == 2 and "The latest 2 ZIP files" in page


# --- stuck jobs ----------------------------------------------------------------------------------


def test_reading_pages_never_changes_a_stuck_job(cast, world, client_for):
    job = stuck_job(cast)
    before = ExitArchive.objects.filter(pk=job.pk).values().get()
    client = client_for(cast.commissioner)
    for url in (exit_url(), job_url(job), job_url(job, "contract_exit_job_status")):
        assert client.get(url).status_code == 200
    assert client.get(job_url(job, "contract_exit_job_status")).json()["job_status"] == "running"
    assert ExitArchive.objects.filter(pk=job.pk).values().get() == before
    call_command("reap_stuck_jobs", stdout=io.StringIO())
    job.refresh_from_db()
    assert job.job_status == ExitArchive.JobStatus.FAILED


def test_the_command_reaps_stuck_packs_and_archives(cast, world):
    stuck = stuck_job(cast)
    queued_pack = MeetingPack.objects.create(
        contract=cast.contract, period=period_of(cast.contract, 1, 3)
    )
    MeetingPack.objects.filter(pk=queued_pack.pk).update(
        requested_at=timezone.now() - timedelta(hours=3)
    )
    recent = ExitArchive.objects.create(
        contract=cast.other_contract,
        job_status=ExitArchive.JobStatus.RUNNING,
        started_at=timezone.now() - timedelta(minutes=5),
    )
    out = io.StringIO()
    call_command("reap_stuck_jobs", stdout=out)
    assert "1 meeting packs, 1 contract exit archives" in out.getvalue()
    stuck.refresh_from_db()
    queued_pack.refresh_from_db()
    recent.refresh_from_db()
    assert stuck.job_status == "failed" and "more than 60 minutes" in stuck.message
    assert queued_pack.job_status == "failed" and "db_worker" in queued_pack.message
    assert recent.job_status == "running"
    # a reaped job that finishes late does not come back to life
    assert exit_tasks.run_exit_job(stuck.pk) == "skipped"
    out = io.StringIO()
    call_command("reap_stuck_jobs", stdout=out)
    assert "0 meeting packs, 0 contract exit archives" in out.getvalue()


# The worker closes database connections, which a test wrapped in a transaction cannot take.
@pytest.mark.django_db(transaction=True)
def test_a_new_request_reaps_a_stuck_job_first(
    cast, world, client_for, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE
    stuck = stuck_job(cast)
    response, job = make(client_for(cast.commissioner), django_capture_on_commit_callbacks)
    assert job != stuck and response["Location"] == job_url(job)
    stuck.refresh_from_db()
    job.refresh_from_db()
    assert stuck.job_status == "failed" and job.job_status == "queued"
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())
    job.refresh_from_db()
    assert job.job_status == "done"
    # Once a newer archive is made, the failure before it is cleared away.
    assert not ExitArchive.objects.filter(pk=stuck.pk).exists()


def test_the_page_without_script_offers_a_check_progress_link(cast, world, client_for):
    job = stuck_job(cast, minutes=1)
    page = client_for(cast.commissioner).get(job_url(job)).content.decode()
    assert f'href="{job_url(job)}">check progress</a>' in page
    assert 'role="status"' in page and "40% done" in page


@pytest.mark.parametrize(
    ("who", "shown"), [("commissioner", True), ("officer", False), ("lead", False)]
)
def test_the_contract_page_links_to_the_exit_for_commissioners_only(cast, client_for, who, shown):
    page = client_for(cast.users()[who]).get(reverse("contract_detail", args=["PSIS"]))
    assert (exit_url() in page.content.decode()) is shown


def test_the_command_writes_the_zip(cast, world, tmp_path):
    out = tmp_path / "exit.zip"
    stdout = io.StringIO()
    call_command("export_contract", "PSIS", "--output", str(out), stdout=stdout)
    archive = zipfile.ZipFile(out)
    assert archive.read(OLD_PATH) == OLD_EVIDENCE
    assert "Wrote" in stdout.getvalue() and "1 final meeting packs" in stdout.getvalue()
    assert read_csv(archive, "manifest.csv")[0]["Generated by"].startswith("export_contract")


def test_the_command_leaves_no_file_when_a_pack_is_damaged(cast, world, tmp_path, settings):
    (settings.MEDIA_ROOT / world["pack"].pdf.name).write_bytes(b"changed")
    with pytest.raises(CommandError, match="does not match the checksum"):
        call_command("export_contract", "PSIS", "--output", str(tmp_path / "exit.zip"))
    assert list(tmp_path.glob("*exit.zip*")) == []


def test_the_command_refuses_an_unknown_contract(cast):
    with pytest.raises(CommandError, match="No contract"):
        call_command("export_contract", "NOPE")


# --- retention -----------------------------------------------------------------------------------


def purge(*args) -> str:
    out = io.StringIO()
    call_command("purge_evidence", *args, stdout=out)
    return out.getvalue()


def figure_state():
    return (
        list(Figure.objects.order_by("pk").values()),
        list(BreakdownFigure.objects.order_by("pk").values()),
        Figure.history.count(),
        BreakdownFigure.history.count(),
        Return.history.count(),
    )


def test_purge_lists_without_deleting(cast, world):
    old = world["old"]
    listed = purge("--older-than-days", "365")
    assert "../../etc/passwd case study.pdf" in listed
    assert "map.pdf" not in listed
    assert "PSIS AC Y1Q1 (2022/23 Q3, ended 31/12/2022) AC-02" in listed
    assert f"{len(OLD_EVIDENCE)} bytes" in listed
    assert "Nothing was deleted" in listed
    old.refresh_from_db()
    assert old.purged_at is None and default_storage.exists(old.file.name)


def test_purge_with_confirm_deletes_only_old_files_and_keeps_figures(cast, world):
    old, new = world["old"], world["new"]
    stored = old.file.name
    before = figure_state()
    done = purge("--older-than-days", "365", "--confirm")
    assert "Purged 1 evidence files" in done

    old.refresh_from_db()
    assert not default_storage.exists(stored)
    assert old.file.name == "" and old.purged_at is not None
    assert (old.name, old.size) == ("../../etc/passwd case study.pdf", len(OLD_EVIDENCE))
    last = old.history.first()
    assert last.purged_at == old.purged_at
    assert last.history_change_reason.startswith("Purged: quarter ended over 365 days ago")
    new.refresh_from_db()
    assert new.purged_at is None and default_storage.open(new.file.name).read() == NEW_EVIDENCE
    assert figure_state() == before

    assert "No evidence files older than 365 days" in purge("--older-than-days", "365", "--confirm")

    # The exit archive still records the purged file, without it.
    archive = export(cast.contract)
    assert OLD_PATH not in archive.namelist()
    index = {r["Original file name"]: r for r in read_csv(archive, "evidence.csv")}
    assert index["../../etc/passwd case study.pdf"]["Status"].startswith("Purged")
    assert index["../../etc/passwd case study.pdf"]["File in this archive"] == ""


def test_purge_is_counted_from_the_quarters_end(cast, world):
    q1_end = period_of(cast.contract, 1, 1).end
    age = (timezone.localdate() - q1_end).days
    assert "passwd" not in purge("--older-than-days", str(age))  # exactly that old: kept
    assert "passwd" in purge("--older-than-days", str(age - 1))


def test_purge_reads_the_retention_period_from_settings(cast, world, settings):
    settings.EVIDENCE_RETENTION_DAYS = 100 * 365
    assert "No evidence files older than 36500 days" in purge("--confirm")
    settings.EVIDENCE_RETENTION_DAYS = 365
    assert "passwd" in purge()


def test_purge_can_be_limited_to_one_contract(cast, world):
    assert "No evidence files" in purge("--older-than-days", "365", "--contract", "OTHER")
    assert "passwd" in purge("--older-than-days", "365", "--contract", "PSIS")
    with pytest.raises(CommandError, match="No contract"):
        purge("--contract", "NOPE")
    with pytest.raises(CommandError, match="1 or more"):
        purge("--older-than-days", "0")


def test_a_purged_document_says_so_and_cannot_be_downloaded(cast, world, client):
    old = world["old"]
    purge("--older-than-days", "365", "--confirm")
    ret = old.figure.ret
    client.force_login(cast.commissioner)
    base = f"/contracts/PSIS/returns/{ret.pathway.code}/{ret.period.short_label}/"
    page = client.get(base)
    assert "removed under the retention policy" in page.content.decode()
    assert client.get(f"{base}documents/{old.pk}/").status_code == 404


def remove(attachment, user):
    """As the provider's correction of a queried return removes a document: the row goes (its
    history keeps who removed it and why), the file stays."""
    ret = Return.objects.get(pk=attachment.figure.ret_id)
    Return.objects.filter(pk=ret.pk).update(
        status=Return.Status.QUERIED, submitted_at=ret.submitted_at or timezone.now()
    )
    fresh = Attachment.objects.select_related("figure__ret").get(pk=attachment.pk)
    fresh.delete(by=user, reason="Replaced the case study")


def age_file(name: str, days: int) -> None:
    stamp = (timezone.now() - timedelta(days=days)).timestamp()
    os.utime(default_storage.path(name), (stamp, stamp))


def test_a_file_removed_after_submission_is_purged_once_its_quarter_is_past_retention(cast, world):
    old, new = world["old"], world["new"]
    old_path, new_path = old.file.name, new.file.name
    remove(old, cast.partner)
    remove(new, cast.partner)
    assert default_storage.exists(old_path) and default_storage.exists(new_path)

    listed = purge("--older-than-days", "365")
    assert "removed from returns" in listed
    assert "PSIS AC Y1Q1 (2022/23 Q3, ended 31/12/2022) AC-02, removed from the return" in listed
    assert "../../etc/passwd case study.pdf" in listed and "map.pdf" not in listed
    assert default_storage.exists(old_path)
    assert "No evidence files" in purge("--older-than-days", "365", "--contract", "OTHER")

    assert "Purged 1 evidence files" in purge("--older-than-days", "365", "--confirm")
    assert not default_storage.exists(old_path)
    assert default_storage.exists(new_path)  # its quarter is recent: kept
    assert Attachment.history.filter(history_type="-", file=old_path).exists()  # the record
    assert "No evidence files" in purge("--older-than-days", "365", "--confirm")


def test_a_file_no_attachment_ever_held_is_purged_once_a_day_old(cast, world):
    stray = default_storage.save("returns/stray.pdf", ContentFile(b"%PDF-1.4 never saved"))
    uploading = default_storage.save("returns/uploading.pdf", ContentFile(b"%PDF-1.4 now"))
    age_file(stray, 2)
    live = world["new"].file.name
    age_file(live, 400)

    listed = purge("--older-than-days", "365")
    assert f"{stray}, " in listed and "no attachment record holds it" in listed
    assert uploading not in listed and live not in listed
    assert stray not in purge("--older-than-days", "365", "--contract", "PSIS")

    purge("--older-than-days", "365", "--confirm")
    assert not default_storage.exists(stray)
    assert default_storage.exists(uploading)  # may be an upload being saved right now
    assert default_storage.exists(live)  # a live attachment's file is never an orphan
    world["new"].refresh_from_db()
    assert world["new"].purged_at is None
