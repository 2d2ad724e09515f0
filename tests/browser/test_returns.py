"""Returns in a real browser, keyboard only: complete, fix, submit, upload, review."""

import io
import re
import shutil
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import expect

from reports.models import Figure, Return
from tests.builders import assert_accessible, resaved_by_libreoffice, save_draft, spa_data
from tests.cast import PASSWORD

PAGE = "/contracts/PSIS/returns/SPA/Y1Q1/"


def tab_to(page, element_id: str, limit: int = 400) -> None:
    """Press Tab until the element has focus, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def tab_to_button(page, name: str, limit: int = 400) -> None:
    for _ in range(limit):
        focused = page.evaluate(
            "document.activeElement && document.activeElement.tagName === 'BUTTON' "
            "? document.activeElement.textContent.trim() : ''"
        )
        if focused == name:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached the {name} button")


def choose_file(page, element_id: str, path) -> None:
    """Open the file input's chooser with the Space key, as a keyboard user would, and pick."""
    tab_to(page, element_id)
    for attempt in range(3):
        try:
            with page.expect_file_chooser(timeout=3000) as chooser:
                page.keyboard.press("Space")
        except Exception:  # Chromium now and then ignores the first key press after loading
            if attempt == 2:
                raise
            continue
        chooser.value.set_files(str(path))
        return


def type_into(page, element_id: str, text: str) -> None:
    tab_to(page, element_id)
    page.keyboard.type(text)


def sign_in_with_keyboard(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    tab_to(page, "id_username")
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your contracts")).to_be_visible()


def spa_fields(cast):
    first, second = cast.kpis["SPA-04"].categories.all()
    return first, second


def test_provider_completes_and_submits_a_quarter_with_the_keyboard_only(
    page, live_server, live_cast
):
    cast = live_cast
    sign_in_with_keyboard(page, live_server, cast.lead)
    expect(page.get_by_role("heading", name="Quarterly returns due")).to_be_visible()
    assert_accessible(page, "home-returns-due")
    page.goto(f"{live_server.url}{PAGE}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Single Point of Access")
    first, second = spa_fields(cast)
    type_into(page, "id_SPA-01__value", "1,250")
    type_into(page, "id_SPA-01__explanation", "Referrals rose after the winter campaign.")
    type_into(page, "id_SPA-02__value", "75000.50")
    type_into(page, "id_SPA-03__numerator", "34")
    type_into(page, "id_SPA-03__denominator", "40")
    type_into(page, f"id_SPA-04__cat_{first.pk}", "200")
    type_into(page, f"id_SPA-04__cat_{second.pk}", "12")
    type_into(page, "id_SPA-04__total", "220")
    expect(page.get_by_text("Categories add up to 212 but the total is 220.")).to_be_visible()
    type_into(page, "id_commentary", "A busy quarter: two new advisers started.")
    assert_accessible(page, "return-page")
    tab_to_button(page, "Submit return")
    page.keyboard.press("Enter")
    # Submit checks everything: the summary lists the problem and links to its field.
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_contain_text("SPA-04 Total: Categories add up to 212 but the total is 220")
    assert_accessible(page, "return-page-errors")
    tab_to(page, "error-summary")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # follow the link: the total field gets focus
    assert page.evaluate("document.activeElement.id") == "id_SPA-04__total"
    for _ in range(3):
        page.keyboard.press("Backspace")
    page.keyboard.type("212")
    tab_to_button(page, "Submit return")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Return submitted.")).to_be_visible()
    ret = Return.objects.get(pathway=cast.spa, period__year=1, period__quarter=1)
    assert ret.status == "submitted" and ret.submitted_by == cast.lead
    figures = {f.kpi.code: f for f in Figure.objects.filter(ret=ret).select_related("kpi")}
    assert figures["SPA-01"].value == Decimal("1250")
    assert figures["SPA-01"].explanation == "Referrals rose after the winter campaign."
    assert figures["SPA-02"].value == Decimal("75000.50")
    assert (figures["SPA-03"].numerator, figures["SPA-03"].denominator) == (34, 40)
    counts = dict(figures["SPA-04"].breakdown.values_list("category_id", "count"))
    assert counts == {first.pk: 200, second.pk: 12} and figures["SPA-04"].value == 212
    assert ret.commentary == "A busy quarter: two new advisers started."
    assert_accessible(page, "return-submitted")


def fill_template(path, values):
    wb = openpyxl.load_workbook(path)
    ws = wb["SPA Single Point of Access"]
    rows = {ws[f"G{r}"].value: r for r in range(7, ws.max_row + 1) if ws[f"G{r}"].value}
    for field, value in values.items():
        ws[f"F{rows[field]}"] = value
    wb.save(path)


def test_provider_uploads_a_libreoffice_resaved_template_and_submits(
    page, live_server, live_cast, tmp_path
):
    cast = live_cast
    sign_in_with_keyboard(page, live_server, cast.lead)
    page.goto(f"{live_server.url}{PAGE}")
    link = page.get_by_role("link", name="Download the Excel template")
    for _ in range(400):
        if (
            page.evaluate("document.activeElement && document.activeElement.textContent.trim()")
            == "Download the Excel template"
        ):
            break
        page.keyboard.press("Tab")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert link.is_visible()
    template = tmp_path / "in" / "template.xlsx"
    template.parent.mkdir()
    download.value.save_as(template)
    first, second = spa_fields(cast)
    fill_template(
        template,
        {
            "SPA-01__value": 980,
            "SPA-02__value": 81250.25,
            "SPA-03__numerator": 5,
            "SPA-03__denominator": 50,
            f"SPA-04__cat_{first.pk}": 40,
            f"SPA-04__cat_{second.pk}": 9,
            "SPA-04__total": 49,
            "commentary": "Entered in a spreadsheet.",
        },
    )
    upload = template
    if shutil.which("libreoffice"):
        upload = resaved_by_libreoffice(template, tmp_path)
    choose_file(page, "id_file", upload)
    tab_to_button(page, "Upload the completed template")
    page.keyboard.press("Enter")
    expect(page.get_by_text("The spreadsheet's figures are in the draft.")).to_be_visible()
    expect(page.locator("#id_SPA-01__value")).to_have_value("980")
    tab_to_button(page, "Submit return")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Return submitted.")).to_be_visible()
    ret = Return.objects.get(pathway=cast.spa, period__year=1, period__quarter=1)
    figures = {f.kpi.code: f for f in Figure.objects.filter(ret=ret).select_related("kpi")}
    assert ret.status == "submitted"
    assert figures["SPA-01"].value == 980 and figures["SPA-02"].value == Decimal("81250.25")
    assert (figures["SPA-03"].numerator, figures["SPA-03"].denominator) == (5, 50)
    assert figures["SPA-04"].value == 49 and ret.commentary == "Entered in a spreadsheet."


def test_a_failed_upload_lists_problems_accessibly(page, live_server, live_cast, tmp_path):
    sign_in_with_keyboard(page, live_server, live_cast.lead)
    bad = tmp_path / "notes.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "not the template"
    wb.save(bad)
    page.goto(f"{live_server.url}{PAGE}upload/")
    choose_file(page, "id_file", bad)
    tab_to_button(page, "Upload")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert").filter(has_text="Nothing was saved")).to_contain_text(
        "This is not a PSIS Monitor return template"
    )
    assert_accessible(page, "return-upload-errors")
    assert not Return.objects.exists()


@pytest.fixture
def submitted(live_cast):
    from reports import workflow

    cast = live_cast
    period = cast.contract.periods.get(year=1, quarter=1)
    ret = save_draft(cast.spa, period, cast.lead, spa_data(cast))
    return workflow.return_submit(ret=ret, user=cast.lead)


def test_commissioner_queries_and_the_provider_sees_it(page, live_server, live_cast, submitted):
    sign_in_with_keyboard(page, live_server, live_cast.commissioner)
    expect(page.get_by_role("heading", name="Returns waiting for review")).to_be_visible()
    page.goto(f"{live_server.url}{PAGE}review/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review")
    assert_accessible(page, "return-review")
    tab_to(page, "id_query-kpi")
    page.keyboard.type("SPA-01")  # choose the KPI in the select by typing
    type_into(page, "id_query-comment", "Referrals look high: please check for duplicates.")
    tab_to_button(page, "Send query")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Query sent.")).to_be_visible()
    submitted.refresh_from_db()
    assert submitted.status == "queried"
    assert submitted.comments.get().kpi.code == "SPA-01"
    page.goto(f"{live_server.url}{PAGE}history/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("History")
    assert_accessible(page, "return-history")


def test_provider_sees_the_query_on_the_return(page, live_server, live_cast, submitted):
    from reports import workflow

    workflow.return_query(
        ret=submitted, user=live_cast.commissioner, comment="Please explain SPA-02."
    )
    sign_in_with_keyboard(page, live_server, live_cast.lead)
    page.goto(f"{live_server.url}{PAGE}")
    expect(page.get_by_text("Please explain SPA-02.")).to_be_visible()
    expect(page.get_by_label("Why are you changing figures already submitted?")).to_be_visible()
    assert_accessible(page, "return-queried")
    page.goto(f"{live_server.url}/contracts/PSIS/returns/?quarter=Y1Q1")
    expect(page.get_by_role("row", name=re.compile("Single Point of Access"))).to_contain_text(
        "Queried"
    )
    assert_accessible(page, "return-list")


def test_the_template_opens_in_openpyxl(page, live_server, live_cast):
    """A sanity check of what the browser downloads (bytes, not HTML)."""
    sign_in_with_keyboard(page, live_server, live_cast.lead)
    response = page.request.get(f"{live_server.url}{PAGE}template.xlsx")
    assert response.ok
    wb = openpyxl.load_workbook(io.BytesIO(response.body()))
    assert "Instructions" in wb.sheetnames


@pytest.fixture
def document(live_cast, tmp_path, media):
    """A case study on disk, uploads kept in a temporary media folder."""
    path = tmp_path / "case-study.pdf"
    path.write_bytes(b"%PDF-1.4 a case study")
    return path


def open_carers_return_as_partner(page, live_server, cast):
    sign_in_with_keyboard(page, live_server, cast.partner)
    page.goto(f"{live_server.url}/contracts/PSIS/returns/AC/Y1Q1/")


def test_partner_submits_evidence_with_a_document_by_keyboard(
    page, live_server, live_cast, document
):
    cast = live_cast
    open_carers_return_as_partner(page, live_server, cast)
    type_into(page, "id_AC-01__value", "160")
    type_into(page, "id_AC-02__narrative", "A carer was supported to take a break.")
    choose_file(page, "id_AC-02__files", document)
    tab_to(page, "id_AC-02__consent")
    page.keyboard.press("Space")
    assert page.locator("#id_AC-02__consent").is_checked()
    assert_accessible(page, "return-page-evidence")
    tab_to_button(page, "Submit return")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Return submitted.")).to_be_visible()
    expect(page.get_by_role("link", name="case-study.pdf")).to_be_visible()
    ret = Return.objects.get(pathway=cast.carers, period__year=1, period__quarter=1)
    figure = ret.figures.get(kpi__code="AC-02")
    assert figure.narrative == "A carer was supported to take a break."
    assert figure.consent_confirmed
    assert figure.attachments.get().name == "case-study.pdf"
    assert ret.figures.get(kpi__code="AC-01").value == 160


def test_a_document_chosen_with_a_refused_save_is_asked_for_again(
    page, live_server, live_cast, document
):
    cast = live_cast
    open_carers_return_as_partner(page, live_server, cast)
    type_into(page, "id_AC-01__value", "lots")
    choose_file(page, "id_AC-02__files", document)
    tab_to_button(page, "Save draft")
    page.keyboard.press("Enter")
    notice = page.locator("#files-not-kept")
    expect(notice).to_contain_text("Choose your documents again")
    expect(notice).to_contain_text("AC-02: case-study.pdf")
    assert_accessible(page, "return-files-not-kept")
    # The notice's link takes the keyboard to the file input, to choose the file again.
    tab_to(page, "files-not-kept-link-1")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_AC-02__files"
    choose_file(page, "id_AC-02__files", document)
    page.locator("#id_AC-01__value").fill("160")
    tab_to_button(page, "Save draft")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.locator("#files-not-kept")).to_have_count(0)
    ret = Return.objects.get(pathway=cast.carers, period__year=1, period__quarter=1)
    assert ret.figures.get(kpi__code="AC-02").attachments.get().name == "case-study.pdf"
