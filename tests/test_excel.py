"""The Excel template: what it holds, the round trip, and every refusal."""

import io
import random
import shutil
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from reports import contents, excel, validation, workflow
from reports.models import BreakdownFigure, Figure, Return
from tests.builders import fig, resaved_by_libreoffice, text

PAGE = "/contracts/PSIS/returns/SPA/Y1Q1/"
SHEET = "SPA Single Point of Access"


@pytest.fixture
def lead(cast):
    client = Client()
    client.force_login(cast.lead)
    return client


def download(client, page=PAGE) -> bytes:
    response = client.get(page + "template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == excel.XLSX_CONTENT_TYPE
    return b"".join(response) if response.streaming else response.content


def rows_by_field(ws):
    return {
        ws[f"G{r}"].value: r for r in range(excel.FIRST_ROW, ws.max_row + 1) if ws[f"G{r}"].value
    }


def fill(content: bytes, values: dict, sheet=SHEET) -> bytes:
    """Type values into the input cells, as a person would in Excel."""
    wb = openpyxl.load_workbook(io.BytesIO(content))
    ws = wb[sheet]
    where = rows_by_field(ws)
    for field, value in values.items():
        cell = ws[f"F{where[field]}"]
        if isinstance(value, str) and value.startswith("'"):
            # Excel's leading apostrophe: text, even if it looks like a formula.
            cell.value = value[1:]
            cell.data_type = "s"
        else:
            cell.value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def spa_values(cast):
    first, second = cast.kpis["SPA-04"].categories.all()
    return {
        "SPA-01__value": 1250,
        "SPA-02__value": 75000.5,
        "SPA-03__numerator": 3,
        "SPA-03__denominator": "40",  # typed as text: still fine
        f"SPA-04__cat_{first.pk}": 200,
        f"SPA-04__cat_{second.pk}": 12,
        "SPA-04__total": 212,
        "SPA-01__explanation": "Busier than usual after the winter campaign.",
        "commentary": '\'=HYPERLINK("http://evil") is just text here',
    }


def upload(client, content: bytes, name="return.xlsx", page=PAGE, **extra):
    ret = Return.objects.filter(pathway__code=page.split("/")[4]).first()
    data = {"file": SimpleUploadedFile(name, content), "version": str(ret.version if ret else 0)}
    data.update(extra)
    return client.post(page + "upload/", data)


def snapshot():
    """Everything the draft holds, to prove a failed upload changed nothing."""
    return (
        list(Return.objects.values()),
        list(Figure.objects.order_by("pk").values()),
        list(BreakdownFigure.objects.order_by("pk").values()),
        Figure.history.count(),
        Return.history.count(),
    )


def assert_figures(cast):
    first, second = cast.kpis["SPA-04"].categories.all()
    ret = Return.objects.get(pathway=cast.spa)
    assert ret.status == Return.Status.DRAFT
    figures = {f.kpi.code: f for f in ret.figures.select_related("kpi")}
    assert figures["SPA-01"].value == Decimal(1250)
    assert figures["SPA-01"].explanation == "Busier than usual after the winter campaign."
    assert figures["SPA-02"].value == Decimal("75000.50")
    assert (figures["SPA-03"].numerator, figures["SPA-03"].denominator) == (3, 40)
    counts = dict(figures["SPA-04"].breakdown.values_list("category_id", "count"))
    assert counts == {first.pk: 200, second.pk: 12}
    assert figures["SPA-04"].value == 212
    assert ret.commentary == '=HYPERLINK("http://evil") is just text here'


# ---- The template -----------------------------------------------------------------------------


def test_the_template_has_instructions_a_pathway_sheet_and_a_hidden_stamp(cast, lead):
    wb = openpyxl.load_workbook(io.BytesIO(download(lead)))
    assert wb.sheetnames == ["Instructions", SHEET, "PSIS template"]
    assert wb["PSIS template"].sheet_state == "hidden"
    stamp = {row[0]: row[1] for row in wb["PSIS template"].iter_rows(values_only=True)}
    assert stamp == {
        "format": excel.FORMAT,
        "contract": "PSIS",
        "pathway": "SPA",
        "quarter": "Y1Q1",
    }
    instructions = " ".join(str(c.value) for c in wb["Instructions"]["A"] if c.value)
    assert "23 January 2023" in instructions and "formulas are refused" in instructions
    ws = wb[SHEET]
    assert ws.protection.sheet
    assert ws.column_dimensions["G"].hidden and ws.column_dimensions["H"].hidden
    where = rows_by_field(ws)
    first, second = cast.kpis["SPA-04"].categories.all()
    assert list(where) == [
        "SPA-01__value",
        "SPA-01__explanation",
        "SPA-02__value",
        "SPA-02__explanation",
        "SPA-03__numerator",
        "SPA-03__denominator",
        "SPA-03__explanation",
        f"SPA-04__cat_{first.pk}",
        f"SPA-04__cat_{second.pk}",
        "SPA-04__total",
        "SPA-04__explanation",
        "commentary",
    ]
    row = where["SPA-01__value"]
    assert ws[f"A{row}"].value == "SPA-01"
    assert ws[f"B{row}"].value == "Number of people who self-refer"
    assert ws[f"D{row}"].value == "1,250 this quarter (annual target 5,000)"
    assert ws[f"H{row}"].value == "PSIS|SPA|Y1Q1"
    # Labels locked, inputs open.
    assert ws[f"B{row}"].protection.locked and not ws[f"F{row}"].protection.locked
    # Excel checks what is typed, by shape.
    kinds = {}
    for dv in ws.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            for (r,) in [(cell_range.min_row,)]:
                kinds[r] = dv.type
    assert kinds[where["SPA-01__value"]] == "whole"
    assert kinds[where["SPA-02__value"]] == "decimal"
    assert kinds[where["SPA-01__explanation"]] == "textLength"


def test_the_template_holds_what_is_already_in_the_draft_as_safe_text(cast, lead):
    content = fill(download(lead), spa_values(cast))
    assert upload(lead, content).status_code == 302
    ws = openpyxl.load_workbook(io.BytesIO(download(lead)))[SHEET]
    where = rows_by_field(ws)
    assert ws[f"F{where['SPA-01__value']}"].value == 1250
    commentary = ws[f"F{where['commentary']}"]
    assert commentary.data_type == "s"  # a string, never a live formula
    assert commentary.value.startswith("=HYPERLINK")


def test_last_return_names_its_quarter_or_says_there_is_none(cast, lead):
    def last_of(content: bytes, field: str):
        ws = openpyxl.load_workbook(io.BytesIO(content))[SHEET]
        return ws[f"E{rows_by_field(ws)[field]}"].value

    assert last_of(download(lead), "SPA-01__value") == "No earlier figure"
    fig(cast, "SPA-01", 1, 1, value=Decimal(1250))
    fig(cast, "SPA-02", 1, 1, value=Decimal("75000.50"))
    second = download(lead, page=PAGE.replace("Y1Q1", "Y1Q2"))
    assert last_of(second, "SPA-01__value") == "1,250 (Year 1 Q1)"
    assert last_of(second, "SPA-02__value") == "£75,000.50 (Year 1 Q1)"


def test_evidence_rows_ask_for_narrative_and_consent(cast):
    client = Client()
    client.force_login(cast.partner)
    ws = openpyxl.load_workbook(io.BytesIO(download(client, "/contracts/PSIS/returns/AC/Y1Q1/")))[
        "AC Adult Carers"
    ]
    where = rows_by_field(ws)
    assert "AC-02__narrative" in where and "AC-02__consent" in where
    consent = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert consent and consent[0].formula1 == '"Yes,No"'


# ---- Round trip ---------------------------------------------------------------------------------


def test_an_upload_puts_every_figure_in_the_draft(cast, lead):
    response = upload(lead, fill(download(lead), spa_values(cast)))
    assert response.status_code == 302
    assert_figures(cast)
    history = Figure.objects.get(kpi__code="SPA-01").history.first()
    assert history.history_change_reason == "Uploaded from return.xlsx"
    assert history.history_user == cast.lead
    # ...and the provider then submits on the page.
    page = text(lead.get(PAGE))
    assert "The spreadsheet's figures are in the draft" in page
    ret = Return.objects.get()
    response = lead.post(
        PAGE,
        {
            "version": ret.version,
            "action": "submit",
            **contents.stored_raw(ret, contents.return_specs(ret)[1]),
        },
    )
    assert response.status_code == 302
    assert Return.objects.get().status == Return.Status.SUBMITTED


def test_sorting_rows_by_hand_does_not_misfile_a_figure(cast, lead):
    content = fill(download(lead), spa_values(cast))
    wb = openpyxl.load_workbook(io.BytesIO(content))
    ws = wb[SHEET]
    first, last = excel.FIRST_ROW, ws.max_row
    rows = [[ws.cell(r, c).value for c in range(1, 9)] for r in range(first, last + 1)]
    random.Random(3).shuffle(rows)
    for r, values in enumerate(rows, start=first):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(r, c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # moved text stays text
    out = io.BytesIO()
    wb.save(out)
    assert upload(lead, out.getvalue()).status_code == 302
    assert_figures(cast)


@pytest.mark.skipif(
    not shutil.which("libreoffice"), reason="LibreOffice is not installed (libreoffice not on PATH)"
)
def test_a_file_resaved_by_libreoffice_imports_the_same(cast, lead, tmp_path):
    source = tmp_path / "in" / "return.xlsx"
    source.parent.mkdir()
    source.write_bytes(fill(download(lead), spa_values(cast)))
    resaved = resaved_by_libreoffice(source, tmp_path).read_bytes()
    assert resaved != source.read_bytes()
    response = upload(lead, resaved)
    assert response.status_code == 302, text(response)
    assert_figures(cast)


# ---- Problems: listed with sheet and cell, and nothing saved -------------------------------------


def test_a_failed_upload_lists_each_problem_and_leaves_the_draft_exactly_as_it_was(cast, lead):
    assert upload(lead, fill(download(lead), spa_values(cast))).status_code == 302
    before = snapshot()
    template = download(lead)
    bad = fill(
        template,
        {
            "SPA-01__value": "lots",
            "SPA-02__value": -5,
            "SPA-03__numerator": 50,
            "SPA-03__denominator": 40,
            "commentary": "Email me at x@y.org",
        },
    )
    response = upload(lead, bad)
    assert response.status_code == 400
    page = text(response)
    where = rows_by_field(openpyxl.load_workbook(io.BytesIO(template))[SHEET])
    assert (
        f"Sheet ‘{SHEET}’, cell F{where['SPA-01__value']}: "
        "SPA-01 Number: Enter a whole number of 0 or more" in page
    )
    assert (
        f"cell F{where['SPA-02__value']}: SPA-02 Amount in pounds (£): {validation.POUNDS_MESSAGE}"
        in page
    )
    assert (
        f"cell F{where['SPA-03__numerator']}: "
        "SPA-03 Numerator: Numerator (50) is larger than denominator (40)" in page
    )
    assert (
        f"cell F{where['commentary']}: Commentary: This looks like it contains an email "
        "address (x@y.org). Remove it, or confirm why it is needed on the return page" in page
    )
    assert "Nothing was saved" in page
    assert snapshot() == before


def test_a_formula_is_an_error_and_its_cached_result_is_never_used(cast, lead):
    before = snapshot()
    response = upload(lead, fill(download(lead), {"SPA-01__value": "=1000+250"}))
    assert response.status_code == 400
    assert "This cell holds a formula. Type the figure itself." in text(response)
    assert snapshot() == before


def test_a_row_copied_from_another_quarters_template_is_refused(cast, lead):
    other = openpyxl.load_workbook(io.BytesIO(download(lead, "/contracts/PSIS/returns/SPA/Y1Q2/")))[
        SHEET
    ]
    wb = openpyxl.load_workbook(io.BytesIO(download(lead)))
    ws = wb[SHEET]
    row = ws.max_row + 2
    for c in range(1, 9):
        ws.cell(row, c).value = other.cell(excel.FIRST_ROW, c).value
    ws.cell(row, 6).value = 5
    out = io.BytesIO()
    wb.save(out)
    response = upload(lead, out.getvalue())
    assert response.status_code == 400
    assert (
        f"cell F{row}: This row was copied from a template for contract PSIS, pathway SPA, "
        "quarter Y1Q2" in text(response)
    )


def test_a_duplicated_row_is_refused(cast, lead):
    wb = openpyxl.load_workbook(io.BytesIO(download(lead)))
    ws = wb[SHEET]
    row = ws.max_row + 1
    for c in range(1, 9):
        ws.cell(row, c).value = ws.cell(excel.FIRST_ROW, c).value
    out = io.BytesIO()
    wb.save(out)
    response = upload(lead, out.getvalue())
    assert "This row appears twice" in text(response)


def test_changing_a_queried_return_by_upload_needs_a_reason(cast, lead):
    assert upload(lead, fill(download(lead), spa_values(cast))).status_code == 302
    ret = workflow.return_submit(ret=Return.objects.get(), user=cast.lead)
    workflow.return_query(ret=ret, user=cast.commissioner, comment="Check SPA-01")
    content = fill(download(lead), {"SPA-01__value": 1300})
    response = upload(lead, content)
    assert response.status_code == 400
    assert validation.CHANGE_REASON_MESSAGE in text(response)
    assert upload(lead, content, change_reason="Late referrals added").status_code == 302
    record = Figure.objects.get(kpi__code="SPA-01").history.first()
    assert record.value == 1300 and record.history_change_reason == "Late referrals added"


def test_a_stale_upload_is_refused(cast, lead):
    content = fill(download(lead), spa_values(cast))
    assert upload(lead, content).status_code == 302
    response = lead.post(
        PAGE + "upload/", {"file": SimpleUploadedFile("r.xlsx", content), "version": "0"}
    )
    assert response.status_code == 400
    assert "Someone else saved this return after you opened it" in text(response)


# ---- Files refused before they are opened ------------------------------------------------------


def zipped(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def with_entry(content: bytes, name: str, data: bytes, replace: bool = False) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(content))
    entries = {i.filename: src.read(i) for i in src.infolist()}
    if replace or name not in entries:
        entries[name] = data
    return zipped(entries)


def refused(client, content, name="return.xlsx", page=PAGE):
    before = snapshot()
    response = upload(client, content, name=name, page=page)
    assert response.status_code == 400
    assert snapshot() == before
    return text(response)


def test_refuses_a_file_that_is_not_xlsx(cast, lead):
    assert "This is not an Excel workbook (.xlsx)" in refused(
        lead, b"a,b\n1,2\n", name="return.csv"
    )
    assert "This is not an Excel workbook (.xlsx)" in refused(
        lead, b"plain text", name="return.xlsx"
    )
    assert "This is not an Excel workbook (.xlsx)" in refused(
        lead, download(lead), name="return.xls"
    )


def test_refuses_macro_enabled_files(cast, lead):
    content = download(lead)
    assert "macro-enabled" in refused(lead, content, name="return.xlsm")
    assert "macro-enabled" in refused(lead, with_entry(content, "xl/vbaProject.bin", b"\0" * 64))


def test_refuses_a_file_over_5_mb(cast, lead):
    big = download(lead) + b"\0" * (excel.MAX_UPLOAD_BYTES + 1)
    assert "the largest accepted is 5 MB" in refused(lead, big)


def test_refuses_a_zip_bomb_before_expanding_it(cast, lead):
    bomb = with_entry(
        download(lead), "xl/media/zeros.bin", b"\0" * (excel.MAX_UNCOMPRESSED_BYTES + 1)
    )
    assert len(bomb) < 1024 * 1024  # small on the wire...
    assert "zip bomb" in refused(lead, bomb)  # ...but refused for what it would expand to


def test_refuses_another_quarters_pathways_or_contracts_template(cast, lead):
    other_quarter = download(lead, "/contracts/PSIS/returns/SPA/Y1Q2/")
    assert (
        "This template is for contract PSIS, pathway SPA, quarter Y1Q2, but this return is for "
        "contract PSIS, pathway SPA, quarter Y1Q1"
    ) in refused(lead, other_quarter)
    other_pathway = download(lead, "/contracts/PSIS/returns/AC/Y1Q1/")
    assert "pathway AC" in refused(lead, other_pathway)
    sheet = excel.TemplateSheet(
        stamp=excel.Stamp("OTHER", "OP", "Y1Q1"),
        title="OP",
        rows=[excel.Row("OP-01__value", "OP-01", "x", "Number", validation.WHOLE, value=1)],
    )
    info = excel.TemplateInfo(contract="OTHER", pathway="OP", quarter="Y1Q1", period="", due="")
    assert "contract OTHER" in refused(lead, excel.build_template(info, [sheet]))


def test_refuses_a_workbook_that_is_not_the_template(cast, lead):
    wb = openpyxl.Workbook()
    wb.active["A1"] = 1250
    out = io.BytesIO()
    wb.save(out)
    assert "This is not a PSIS Monitor return template" in refused(lead, out.getvalue())


def test_refuses_what_openpyxl_cannot_parse(cast, lead):
    broken = with_entry(download(lead), "xl/workbook.xml", b"<workbook><not-closed>", replace=True)
    assert "could not be read as an Excel workbook" in refused(lead, broken)


def test_refuses_an_xml_entity_bomb(cast, lead):
    content = download(lead)
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet2.xml")
    doctype = (
        b'<!DOCTYPE worksheet [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    )
    bomb = doctype + sheet.replace(b"<t>SPA-01</t>", b"<t>&lol3;</t>", 1)
    assert b"&lol3;" in bomb
    content = with_entry(content, "xl/worksheets/sheet2.xml", bomb, replace=True)
    assert "could not be read as an Excel workbook" in refused(lead, content)


def test_check_file_unit_rules():
    with pytest.raises(excel.UploadRefused, match="macro"):
        excel.check_file("a.XLSM", 10, b"")
    with pytest.raises(excel.UploadRefused, match="5 MB"):
        excel.check_file("a.xlsx", excel.MAX_UPLOAD_BYTES + 1, b"")
    content_types = (
        b'<Types><Override ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>'
        b"</Types>"
    )
    sneaky = zipped({"[Content_Types].xml": content_types, "xl/workbook.xml": b"<workbook/>"})
    with pytest.raises(excel.UploadRefused, match="macro"):
        excel.check_file("a.xlsx", len(sneaky), sneaky)


def test_sheet_titles_are_safe():
    assert excel.sheet_title("X", "A/B: [c]?*") == "X A B   c"
    assert len(excel.sheet_title("LONG", "x" * 50)) == 31


def test_reading_ignores_rows_without_a_field(cast, lead):
    wb = openpyxl.load_workbook(io.BytesIO(fill(download(lead), spa_values(cast))))
    wb[SHEET]["F200"] = "a note typed below the table"
    out = io.BytesIO()
    wb.save(out)
    assert upload(lead, out.getvalue()).status_code == 302
    assert_figures(cast)
