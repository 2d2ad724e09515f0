"""Edges of the return page and what it feeds: exports, evidence files, retention, answering
queries. Each test is named after what it proves."""

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from psis.exports import Sheet, csv_bytes, looks_like_formula, neutralise, xlsx_bytes
from reports.file_types import content_matches
from reports.models import Attachment, Return
from tests.builders import ac_data, text
from tests.builders import post_return as post


@pytest.fixture
def as_user(db):
    """A separate signed-in client per user."""

    def sign_in(user):
        client = Client()
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# ---- Formula prefixes in every width -----------------------------------------------------------

FULLWIDTH_PAYLOADS = [
    '＝HYPERLINK("http://evil.example/","Click")',
    "＋cmd|' /C calc'!A0",
    "－2＋3",
    "＠SUM(1+1)",
    "﹦1+1",  # small equals sign (NFKC: "=")
    "  =1+1",  # leading spaces
    "\u3000＝1+1",  # ideographic space then fullwidth equals
    "\n=1+1",
    "\u00a0+1",
]


@pytest.mark.parametrize("payload", FULLWIDTH_PAYLOADS)
def test_a_fullwidth_or_indented_formula_prefix_is_neutralised(payload):
    assert looks_like_formula(payload)
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize("text", ["Fine", "2023 review", "", "   ", "a=b", "£5", "’quoted"])
def test_ordinary_text_is_left_alone_by_the_formula_check(text):
    assert neutralise(text) == text


def test_csv_export_neutralises_fullwidth_and_indented_prefixes():
    content = csv_bytes(["Heading"], [[p] for p in FULLWIDTH_PAYLOADS])
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    cells = [row[0] for row in rows[1:]]
    assert cells == ["'" + p for p in FULLWIDTH_PAYLOADS]


def test_xlsx_export_keeps_fullwidth_and_indented_prefixes_as_plain_text():
    content = xlsx_bytes([Sheet("S", ["Heading"], [[p] for p in FULLWIDTH_PAYLOADS])])
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    cells = [row[0] for row in ws.iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in cells)
    assert [c.value.replace("\r", "\n") for c in cells] == [
        p.replace("\r", "\n") for p in FULLWIDTH_PAYLOADS
    ]


# ---- Evidence files are checked by content, not only by name -----------------------------------


def docx_bytes(folder="word/") -> bytes:
    """The smallest zip Word's format needs to be recognised: its content types and a body."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(f"{folder}document.xml", '<?xml version="1.0"?><document/>')
    return buffer.getvalue()


def odt_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 8
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"


@pytest.mark.parametrize(
    "name,content",
    [
        ("report.pdf", PDF),
        ("map.png", PNG),
        ("photo.jpg", JPEG),
        ("photo.JPEG", JPEG),
        ("case study.docx", docx_bytes()),
        ("figures.xlsx", docx_bytes("xl/")),
        ("notes.odt", odt_bytes()),
        ("letter.rtf", b"{\\rtf1\\ansi Hello}"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
        ("notes.txt", "Plain notes, £5 and café.\n".encode()),
        ("data.csv", b"month,count\nApril,12\n"),
    ],
)
def test_evidence_whose_content_matches_its_name_is_accepted(name, content):
    assert content_matches(io.BytesIO(content), Path(name).suffix)


@pytest.mark.parametrize(
    "name,content",
    [
        ("report.pdf", EXE),  # a program renamed
        ("report.pdf", HTML),  # a web page renamed
        ("map.png", PDF),
        ("photo.jpg", PNG),
        ("case study.docx", docx_bytes("xl/")),  # a spreadsheet renamed
        ("case study.docx", b"PK\x03\x04 not really a zip"),
        ("case study.docx", HTML),
        ("notes.odt", docx_bytes()),
        ("old.doc", EXE),
        ("notes.txt", HTML),
        ("notes.txt", EXE),
        ("data.csv", PNG),
    ],
)
def test_evidence_whose_content_does_not_match_its_name_is_refused(name, content):
    assert not content_matches(io.BytesIO(content), Path(name).suffix)


@pytest.mark.parametrize("content", [EXE, HTML])
def test_a_fake_pdf_is_refused_on_the_return_page_naming_the_file(cast, as_user, media, content):
    document = SimpleUploadedFile("case study.pdf", content, "application/pdf")
    response = post(
        as_user(cast.partner), cast, pathway="AC", **ac_data(**{"AC-02__files": document})
    )
    assert response.status_code == 400
    assert "case study.pdf is not really a .pdf file" in text(response)
    assert not Attachment.objects.exists() and not Return.objects.exists()


def test_a_real_docx_is_attached_on_the_return_page(cast, as_user, media):
    document = SimpleUploadedFile("case study.docx", docx_bytes())
    response = post(
        as_user(cast.partner), cast, pathway="AC", **ac_data(**{"AC-02__files": document})
    )
    assert response.status_code == 302
    assert Attachment.objects.get().name == "case study.docx"


# ---- A save too large to read -----------------------------------------------------------------


def pdfs(n: int) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(f"doc {i}.pdf", PDF, "application/pdf") for i in range(n)]


@pytest.fixture
def draft(cast, as_user, media):
    """A saved draft of the carers' return: AC-01 is 150."""
    client = as_user(cast.partner)
    assert post(client, cast, pathway="AC", **ac_data()).status_code == 302
    ret = Return.objects.get(pathway=cast.carers)
    return ret


def draft_untouched(draft):
    ret = Return.objects.get(pk=draft.pk)
    figure = ret.figures.get(kpi__code="AC-01")
    return ret.version == draft.version and figure.value == 150 and not Attachment.objects.exists()


def csrf_client(user):
    """A client that checks CSRF tokens as a browser's post is checked."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_a_save_with_more_files_than_can_be_read_gets_the_page_saying_nothing_was_saved(
    cast, draft
):
    response = post(
        csrf_client(cast.partner),
        cast,
        pathway="AC",
        **ac_data(**{"AC-01__value": "999", "AC-02__files": pdfs(120)}),
    )
    assert response.status_code == 413
    page = text(response)
    assert "Nothing was saved: this save was too large to read" in page
    assert "more than 100 documents. Attach at most 20 documents in one save" in page
    assert 'id="id_AC-01__value"' in page  # the return page, to carry on with
    assert draft_untouched(draft)


def test_a_save_with_more_text_than_can_be_read_gets_the_page_saying_nothing_was_saved(cast, draft):
    response = post(
        csrf_client(cast.partner),
        cast,
        pathway="AC",
        **ac_data(**{"AC-01__value": "999", "commentary": "x" * (11 * 1024 * 1024)}),
    )
    assert response.status_code == 413
    page = text(response)
    assert "Nothing was saved" in page and "more than 10 MB of typed text" in page
    assert "at most 10,000 characters" in page
    assert draft_untouched(draft)


def test_an_oversized_post_from_someone_signed_out_is_refused_as_before(cast, draft):
    client = Client(enforce_csrf_checks=True)
    response = post(client, cast, pathway="AC", **ac_data(**{"AC-02__files": pdfs(120)}))
    assert response.status_code in (302, 403)
    assert draft_untouched(draft)


def test_three_mb_of_commentary_is_refused_with_everything_typed_shown_again(cast, as_user, draft):
    commentary = "Our quarter in full. " + "x" * (3 * 1024 * 1024)
    response = post(
        as_user(cast.partner),
        cast,
        pathway="AC",
        **ac_data(**{"AC-01__value": "175", "commentary": commentary}),
    )
    assert response.status_code == 400
    page = text(response)
    assert "Shorten this to 10,000 characters or fewer (it has 3,145,749)" in page
    assert 'value="175"' in page and "Our quarter in full. xxxx" in page
    assert draft_untouched(draft)


def test_more_documents_than_one_save_takes_are_refused_with_everything_typed_shown_again(
    cast, as_user, draft
):
    response = post(
        as_user(cast.partner),
        cast,
        pathway="AC",
        **ac_data(**{"AC-01__value": "175", "AC-02__files": pdfs(25)}),
    )
    assert response.status_code == 400
    page = text(response)
    assert "Attach at most 20 documents in one save (you chose 25)" in page
    assert 'value="175"' in page
    assert draft_untouched(draft)
