"""The issued meeting pack passes a PDF/UA-1 structure check, as downloaded by a reader.

test_pack.py checks the tagging flags of a built pack; this follows a final pack from the
commissioner's "Generate" and "Finalise" through the background job to the officer's download,
and reads its structure tree: tables with header cells that their data cells point to.
"""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from meetings import tasks
from meetings.models import MeetingPack
from tests.builders import make_meetings, make_returns, period_of


def _resolve(node):
    return node.get_object() if isinstance(node, IndirectObject) else node


def _elements(node, parents=()):
    """(structure element, its ancestors' types) for every element under node, depth first."""
    node = _resolve(node)
    if isinstance(node, ArrayObject):
        for kid in node:
            yield from _elements(kid, parents)
    elif isinstance(node, DictionaryObject) and node.get("/Type") != "/OBJR":
        kind = node.get("/S")
        if kind is not None:
            yield node, parents
        if "/K" in node:
            yield from _elements(node["/K"], (*parents, kind) if kind else parents)


def pdfua_problems(content: bytes) -> list[str]:
    """What stops the PDF from passing a PDF/UA-1 structure check (empty when it passes)."""
    reader = PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    problems = []
    if not root.get("/MarkInfo", {}).get("/Marked"):
        problems.append("not marked as tagged (/MarkInfo /Marked)")
    if not str(root.get("/Lang", "")).strip():
        problems.append("no document language (/Lang)")
    info_title = (reader.metadata or {}).get("/Title")
    xmp = reader.xmp_metadata
    xmp_title = (xmp.dc_title or {}).get("x-default") if xmp else None
    if not (info_title or xmp_title):
        problems.append("no document title in /Info or XMP")
    if not root.get("/ViewerPreferences", {}).get("/DisplayDocTitle"):
        problems.append("viewers are not told to show the title (/DisplayDocTitle)")
    metadata = root.get("/Metadata")
    if metadata is None or b"pdfuaid:part" not in _resolve(metadata).get_data():
        problems.append("XMP does not declare PDF/UA (pdfuaid:part)")
    for number, page in enumerate(reader.pages, start=1):
        if page.get("/Annots") and page.get("/Tabs") != "/S":
            problems.append(f"page {number} has links but no structure tab order (/Tabs /S)")
    if "/StructTreeRoot" not in root:
        return [*problems, "no structure tree (/StructTreeRoot)"]

    elements = list(_elements(root["/StructTreeRoot"]))
    kinds = [str(e.get("/S")) for e, _ in elements]
    tables = kinds.count("/Table")
    if not tables:
        problems.append("no /Table in the structure tree")
    header_ids = set()
    for element, parents in elements:
        kind = element.get("/S")
        if kind in ("/TH", "/TD", "/TR") and "/Table" not in parents:
            problems.append(f"{kind} outside a /Table")
        if kind == "/TH":
            scope = _resolve(element.get("/A", DictionaryObject())).get("/Scope")
            if "/ID" not in element and scope is None:
                problems.append("a /TH with neither /ID (for /Headers) nor /Scope")
            if "/ID" in element:
                header_ids.add(str(element["/ID"]))
        if kind == "/Figure" and not element.get("/Alt"):
            problems.append("a /Figure without /Alt text")
    if "/TH" not in kinds:
        problems.append("no /TH header cells in any table")
    for element, _ in elements:
        if element.get("/S") == "/TD":
            headers = _resolve(element.get("/A", DictionaryObject())).get("/Headers", [])
            unknown = [str(h) for h in headers if str(h) not in header_ids]
            if unknown:
                problems.append(f"a /TD points at headers that do not exist: {unknown}")
    if "/H1" not in kinds:
        problems.append("no /H1 heading")
    return problems


@pytest.mark.django_db
def test_the_issued_pack_passes_a_pdfua_structure_check(
    cast, client, media, immediate_tasks, django_capture_on_commit_callbacks
):
    make_returns(cast)
    make_meetings(cast)
    with django_capture_on_commit_callbacks(execute=True):
        draft = tasks.pack_generate(
            contract=cast.contract, period=period_of(cast.contract, 1, 3), user=cast.commissioner
        )
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        final = tasks.pack_finalise(draft=draft, user=cast.commissioner)
    final.refresh_from_db()
    assert final.status == MeetingPack.Status.FINAL and final.is_ready

    client.force_login(cast.officer)
    response = client.get(reverse("meetings:pack_download", args=["PSIS", final.pk, "pdf"]))
    assert response.status_code == 200
    content = response.content
    assert pdfua_problems(content) == []

    reader = PdfReader(io.BytesIO(content))
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    assert reader.metadata.title == "PSIS contract meeting pack, Year 1 Q3 (2023/24 Q1)"
    elements = [e for e, _ in _elements(reader.trailer["/Root"]["/StructTreeRoot"])]
    kinds = [str(e.get("/S")) for e in elements]
    assert kinds.count("/Table") >= 5  # summary, key outcomes, pathways, exceptions, action log
    assert kinds.count("/TH") >= 20
    # Data cells name their header cells, so a screen reader announces them.
    cells = [e for e in elements if e.get("/S") == "/TD"]
    named = [e for e in cells if _resolve(e.get("/A", DictionaryObject())).get("/Headers")]
    assert len(named) >= len(cells) * 0.9


def test_the_check_finds_what_is_missing():
    """An untagged PDF fails on every count that does not need a structure tree."""
    from pypdf import PdfWriter

    out = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.write(out)
    problems = pdfua_problems(out.getvalue())
    assert "not marked as tagged (/MarkInfo /Marked)" in problems
    assert "no document language (/Lang)" in problems
    assert "no document title in /Info or XMP" in problems
    assert "no structure tree (/StructTreeRoot)" in problems


def test_the_check_wants_header_cells_in_tables():
    """Tagged as the pack is (WeasyPrint, PDF/UA-1), but the table has no <th>."""
    from weasyprint import HTML

    from meetings.pack_pdf import PDF_OPTIONS

    html = (
        '<html lang="en-GB"><head><title>No headers</title></head><body><h1>Figures</h1>'
        "<table><tr><td>SPA-01</td><td>1,300</td></tr></table></body></html>"
    )
    problems = pdfua_problems(HTML(string=html).write_pdf(**PDF_OPTIONS))
    assert problems == ["no /TH header cells in any table"]
