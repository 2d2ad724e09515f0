"""Builders shared by the test modules: form data, returns and figures, meetings, the demo's ids
for the access matrix, and small readers of what the pages answer (text, messages, PDFs, axe).

The cast (organisations, contracts, people and KPIs) is in tests/cast.py; fixtures are in
tests/conftest.py (and tests/browser/conftest.py for the browser's own). A test module imports
from these, never from another test module.
"""

import html
import shutil
import subprocess
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contracts.models import Contract, ReportingPeriod, User
from demo.seed import seed_demo
from exits.models import ExitArchive
from meetings import tasks
from meetings.models import Action, Meeting, MeetingPack
from performance.models import RagOverride
from reports import contents, validation, workflow
from reports.models import Attachment, BreakdownFigure, Figure, Return
from tests.cast import Cast

LONDON = ZoneInfo("Europe/London")
LATER = date(2030, 1, 1)  # long after every due date
# Background tasks run in the request (IMMEDIATE) or wait for a worker the test plays (DATABASE).
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
# WCAG 2.0, 2.1 and 2.2, levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


# ---- Pages, signed-in clients, and what the pages answer -----------------------------------------


def meeting_url(name, *args):
    """A page of PSIS's meetings and packs: meeting_url("pack", pack.pk)."""
    return reverse(f"meetings:{name}", args=["PSIS", *args])


def signed_in(user) -> Client:
    """A client of its own, signed in as the user."""
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def pdf_text(content: bytes, *, layout: bool = False) -> str:
    """The PDF's text: in reading order with spaces normalised, or laid out as on the page."""
    mode = "-layout" if layout else "-raw"
    done = subprocess.run(  # noqa: S603 (a fixed local tool)
        [PDFTOTEXT, mode, "-", "-"], input=content, capture_output=True, check=True
    )
    text = done.stdout.decode()
    return text if layout else " ".join(text.split())


def resaved_by_libreoffice(source: Path, tmp_path: Path) -> Path:
    """The workbook as LibreOffice saves it again, headless, with a profile of its own."""
    out = tmp_path / "out"
    subprocess.run(  # noqa: S603
        [
            shutil.which("libreoffice"),
            f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out / source.name


def assert_accessible(page, name: str | None = None):
    """axe-core finds no WCAG 2.2 A/AA violation on the page (and keep a screenshot to look at)."""
    from axe_playwright_python.sync_playwright import Axe  # browser tests only

    if name:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    violations = results.response["violations"]
    assert not violations, results.generate_report()


# ---- Forms, as the pages post them ---------------------------------------------------------------


def spa_data(cast: Cast, **changes) -> dict:
    """A complete, valid Single Point of Access return form; changes=None drops a field."""
    first, second = cast.kpis["SPA-04"].categories.all()
    data = {
        "SPA-01__value": "1,250",
        "SPA-02__value": "£75,000.50",
        "SPA-03__numerator": "3",
        "SPA-03__denominator": "40",
        f"SPA-04__cat_{first.pk}": "200",
        f"SPA-04__cat_{second.pk}": "12",
        "SPA-04__total": "212",
        "commentary": "A steady quarter.",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def ac_data(**changes) -> dict:
    """A complete, valid Adult Carers return form; changes=None drops a field."""
    data = {
        "AC-01__value": "150",
        "AC-02__narrative": "A carer was helped to apply for Carer's Allowance.",
        "AC-02__consent": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def action_form(cast, **changes) -> dict:
    """The form for a new action on the action log, owned by the lead provider."""
    data = {
        "description": "Review the figures",
        "owner_organisation": cast.contract.lead_provider.pk,
        "owner_person": "Contract Manager",
        "due_date": "2023-03-01",
        "status": "open",
        "kpi": "",
    }
    data.update(changes)
    return data


def save_draft(pathway, period, user, raw: dict, **kwargs) -> Return:
    """A new return's draft, parsed and saved through the services as its page does."""
    ret = Return(pathway=pathway, period=period, version=0)
    data = validation.parse_return(contents.return_specs(ret)[1], raw)
    return workflow.return_save_draft(ret=ret, user=user, data=data, version=0, **kwargs)


# ---- The return page, as its form posts -------------------------------------------------------


def return_url(name="", pathway="SPA", quarter="Y1Q1"):
    """A PSIS return page of the cast: return_url("review/", pathway="AC")."""
    base = f"/contracts/PSIS/returns/{pathway}/{quarter}/"
    return base + name


def version_of(cast, pathway="spa", quarter=(1, 1)):
    ret = Return.objects.filter(
        pathway=getattr(cast, pathway), period__year=quarter[0], period__quarter=quarter[1]
    ).first()
    return ret.version if ret else 0


def post_return(client, cast, action="save", pathway="SPA", quarter="Y1Q1", **data):
    """Post the return page's form, carrying the version the page would show."""
    version = version_of(
        cast, "spa" if pathway == "SPA" else "carers", (int(quarter[1]), int(quarter[3]))
    )
    payload = {"version": str(version), "action": action, **data}
    return client.post(return_url(pathway=pathway, quarter=quarter), payload)


# ---- Quarters, returns and figures, straight into the database -----------------------------------


def period_of(contract, year, quarter):
    return ReportingPeriod.objects.get(contract=contract, year=year, quarter=quarter)


def period(cast, year=1, quarter=1, contract=None):
    return period_of(contract or cast.contract, year, quarter)


def ret(pathway, p, status="accepted"):
    """A return for the pathway and quarter (submitted on its due date unless a draft)."""
    submitted_at = None
    if status != "draft":
        submitted_at = timezone.make_aware(datetime.combine(p.due_date, datetime.min.time()))
    obj, _ = Return.objects.get_or_create(
        pathway=pathway, period=p, defaults={"status": status, "submitted_at": submitted_at}
    )
    return obj


def fig(cast, kpi, year, quarter, status="accepted", **values):
    kpi = cast.kpis[kpi] if isinstance(kpi, str) else kpi
    r = ret(kpi.pathway, period(cast, year, quarter), status)
    return Figure.objects.create(ret=r, kpi=kpi, **values)


# (year, quarter) -> KPI code -> figure fields. SPA-01 is green year to date, SPA-02 (£75,000 a
# quarter, judged on the year to date) falls from amber (140,000 of 150,000) to red (200,000 of
# 225,000), AC-01 is amber year to date.
FIGURES = {
    (1, 1): {"SPA-01": 1300, "SPA-02": 70000, "AC-01": 140},
    (1, 2): {"SPA-01": 1300, "SPA-02": 70000, "AC-01": 140},
    (1, 3): {"SPA-01": 1300, "SPA-02": 60000, "AC-01": 140},
}


def make_returns(cast, quarters=((1, 1), (1, 2), (1, 3)), *, commentary=""):
    """Accepted returns of both PSIS pathways of the cast, one per quarter."""
    for year, quarter in quarters:
        period = period_of(cast.contract, year, quarter)
        submitted = datetime.combine(period.due_date - timedelta(days=2), datetime.min.time())
        for pathway in (cast.spa, cast.carers):
            ret = Return.objects.create(
                pathway=pathway,
                period=period,
                status=Return.Status.ACCEPTED,
                submitted_at=submitted.replace(tzinfo=LONDON),
                commentary=commentary or f"{pathway.name} commentary for {period.label}.",
            )
            for code, kpi in cast.kpis.items():
                if kpi.pathway_id != pathway.pk:
                    continue
                figure = Figure(ret=ret, kpi=kpi)
                value = FIGURES[(year, quarter)].get(code)
                if value is not None:
                    figure.value = Decimal(value)
                if code == "SPA-02" and quarter == 3:
                    figure.explanation = "Income fell while the advice post was vacant."
                if code == "SPA-03":
                    figure.numerator, figure.denominator = 5, 100
                if code == "SPA-04":
                    figure.value = Decimal(50)
                if code == "AC-02":
                    figure.narrative = f"Case study for {period.label}: a carer found respite."
                    figure.rating = Figure.Rating.GREEN
                figure.save()
                if code == "SPA-04":
                    for category, count in zip(kpi.categories.all(), (30, 20), strict=True):
                        BreakdownFigure.objects.create(
                            figure=figure, category=category, count=count
                        )


# ---- Meetings ------------------------------------------------------------------------------------


def make_meetings(cast):
    """Meetings for Y1Q1 and Y1Q2: one action still open, one done at the second meeting."""
    first = Meeting.objects.create(
        contract=cast.contract, period=period_of(cast.contract, 1, 1), date=date(2023, 2, 1)
    )
    second = Meeting.objects.create(
        contract=cast.contract, period=period_of(cast.contract, 1, 2), date=date(2023, 5, 3)
    )
    Action.objects.create(
        contract=cast.contract,
        raised_at=first,
        description="Carried action: review the income maximisation figures",
        owner_organisation=cast.contract.lead_provider,
        owner_person="Contract Manager",
        due_date=date(2023, 3, 31),
        kpi=cast.kpis["SPA-02"],
    )
    Action.objects.create(
        contract=cast.contract,
        raised_at=first,
        description="Finished action: share the referral route",
        owner_organisation=cast.contract.lead_commissioner,
        due_date=date(2023, 3, 1),
        status=Action.Status.DONE,
        closed_at=datetime(2023, 5, 3, 11, tzinfo=LONDON),
    )
    Action.objects.create(
        contract=cast.contract,
        raised_at=first,
        description="Long closed action",
        owner_organisation=cast.contract.lead_commissioner,
        due_date=date(2023, 2, 20),
        status=Action.Status.DONE,
        closed_at=datetime(2023, 2, 20, 11, tzinfo=LONDON),
    )
    return first, second


# ---- The demo, for the access matrix -------------------------------------------------------------


def _attach(ret_pathway: str, quarter: tuple[int, int], uploader: User) -> Attachment:
    figure = (
        Figure.objects.filter(
            ret__pathway__contract__reference="PSIS",
            ret__pathway__code=ret_pathway,
            ret__period__year=quarter[0],
            ret__period__quarter=quarter[1],
            kpi__measure="evidence",
        )
        .order_by("kpi__order", "pk")
        .first()
    )
    return Attachment.objects.create(
        figure=figure,
        file=ContentFile(b"%PDF-1.7 evidence", name="evidence.pdf"),
        name="evidence.pdf",
        size=17,
        content_type="application/pdf",
        uploaded_by=uploader,
    )


def _pack(contract: Contract, year: int, quarter: int, status: str, user: User) -> MeetingPack:
    """A ready pack with small files: rendering the demo's would take ~10 s a pack."""
    pdf, xlsx = b"%PDF-1.7 a small pack", b"PK a small workbook"
    now = timezone.now()
    pack = MeetingPack(
        contract=contract,
        period=contract.periods.get(year=year, quarter=quarter),
        status=status,
        job_status=MeetingPack.JobStatus.DONE,
        progress=100,
        requested_by=user,
        started_at=now - timedelta(minutes=1),
        generated_at=now,
        generated_by=user,
    )
    pack.pdf.save(pack.filename("pdf"), ContentFile(pdf), save=False)
    pack.xlsx.save(pack.filename("xlsx"), ContentFile(xlsx), save=False)
    if status == MeetingPack.Status.FINAL:
        pack.pdf_sha256, pack.xlsx_sha256 = tasks.sha256(pdf), tasks.sha256(xlsx)
        pack.finalised_at, pack.finalised_by = now, user
    pack.save()
    return pack


def _exit_archive(contract: Contract, user: User) -> ExitArchive:
    """A finished contract-exit ZIP (a small stand-in: the demo's would take seconds)."""
    content = b"PK\x05\x06" + bytes(18)  # an empty ZIP
    job = ExitArchive(
        contract=contract,
        requested_by=user,
        job_status=ExitArchive.JobStatus.DONE,
        progress=100,
        filename="PSIS-contract-exit.zip",
        size=len(content),
        sha256=tasks.sha256(content),
        finished_at=timezone.now(),
    )
    job.file.save(job.filename, ContentFile(content), save=False)
    job.save()
    return job


def demo_ids() -> dict[str, int]:
    """Seed the demo, add what it lacks (documents, packs), and name the ids the table uses."""
    seed_demo()
    psis = Contract.objects.get(reference="PSIS")
    commissioner = User.objects.get(username="commissioner")
    meeting = Meeting.objects.get(contract=psis, period__year=2, period__quarter=3)
    return {
        "spa_attachment": _attach("SPA", (2, 4), User.objects.get(username="lead")).pk,
        "ac_attachment": _attach("AC", (2, 4), User.objects.get(username="partner")).pk,
        "meeting": meeting.pk,
        "action": Action.objects.filter(raised_at=meeting).order_by("pk").first().pk,
        "override": RagOverride.objects.active().get(kpi__code="KEY-01").pk,
        "draft_pack": _pack(psis, 2, 4, MeetingPack.Status.DRAFT, commissioner).pk,
        "final_pack": _pack(psis, 2, 3, MeetingPack.Status.FINAL, commissioner).pk,
        "exit_archive": _exit_archive(psis, commissioner).pk,
    }
