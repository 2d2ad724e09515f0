"""Sign-in and home pages in a real browser, with an accessibility check."""

import re

from playwright.sync_api import expect

from tests.builders import assert_accessible
from tests.cast import PASSWORD


def test_sign_in_page_is_accessible(page, live_server, live_cast):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page, "sign-in")


def test_wrong_password_says_what_is_wrong(page, live_server, live_cast, sign_in):
    sign_in(live_cast.lead, password="not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("did not match")
    assert_accessible(page, "sign-in-error")


def test_provider_signs_in_with_the_keyboard_and_sees_its_contract(page, live_server, live_cast):
    page.goto(f"{live_server.url}/accounts/login/")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # brand
    page.get_by_label("Username").focus()
    page.keyboard.type("lead")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your contracts")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("^PSIS:"))).to_be_visible()
    expect(page.get_by_text("OTHER")).to_have_count(0)
    assert_accessible(page, "home-provider")


def test_commissioner_reads_the_contract_and_catalogue(page, live_server, live_cast, sign_in):
    sign_in(live_cast.commissioner)
    page.get_by_role("link", name=re.compile("^PSIS:")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Primary and Secondary Intervention Service"
    )
    expect(page.get_by_text("31 March 2027")).to_be_visible()  # extension decision due
    assert_accessible(page, "contract-detail")
    page.get_by_role("link", name="Read the KPI catalogue").click()
    expect(page.get_by_role("heading", name="Single Point of Access")).to_be_visible()
    assert_accessible(page, "kpi-catalogue")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").first.click()
    assert download.value.suggested_filename == "PSIS-kpi-catalogue.csv"


def test_partner_sees_only_its_own_pathway(page, live_server, live_cast, sign_in):
    sign_in(live_cast.partner)
    page.get_by_role("link", name=re.compile("^PSIS:")).click()
    expect(page.get_by_role("heading", name="Your pathways")).to_be_visible()
    expect(page.get_by_role("rowheader", name="Adult Carers")).to_be_visible()
    expect(page.get_by_role("rowheader", name="Single Point of Access")).to_have_count(0)


def test_outsider_gets_not_found_for_a_contract_it_is_not_party_to(
    page, live_server, live_cast, sign_in
):
    sign_in(live_cast.outsider)
    response = page.goto(f"{live_server.url}/contracts/PSIS/")
    assert response.status == 404
