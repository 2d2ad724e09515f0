"""The performance dashboards in a real browser, with the demo data: a commissioner reads the
overview, a pathway, a KPI and the exceptions, opens a RAG explanation with the keyboard and
records an override; axe finds no WCAG 2.2 A/AA violation on any page."""

import re

from playwright.sync_api import expect

from contracts.models import User
from demo.seed import DEMO_PASSWORD, seed_demo
from tests.builders import assert_accessible


def test_commissioner_reviews_the_dashboards(page, live_server, transactional_db, sign_in):
    seed_demo()
    sign_in(User.objects.get(username="commissioner"), password=DEMO_PASSWORD)
    page.get_by_role("link", name=re.compile("^PSIS:")).click()
    page.get_by_role("link", name="Open the performance dashboard").click()

    # Overview: the RAG matrix, return status, changes and key outcomes.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Performance: Year 2 Q4")
    expect(page.get_by_role("heading", level=1)).to_contain_text("2024/25 Q2")
    matrix = page.locator("table.rag-matrix")
    expect(matrix.get_by_role("columnheader", name="Missing")).to_be_visible()
    expect(matrix.get_by_role("row", name=re.compile("Dementia Respite"))).to_contain_text(
        "Overdue"  # not started, and its due date has passed
    )
    expect(
        page.get_by_role("heading", name=re.compile("What changed since Year 2 Q3"))
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Key outcomes (cross-cutting)")).to_be_visible()
    assert_accessible(page, "performance-overview")

    # Choose another quarter with the picker (both labels shown).
    page.get_by_label("Quarter").select_option(label="Year 2 Q3 (2024/25 Q1)")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Year 2 Q3")

    # Pathway: every KPI with a chart; a RAG explanation opens from the keyboard.
    page.locator("table.rag-matrix").get_by_role(
        "link", name="Single Point of Access", exact=True
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Single Point of Access")
    summary = page.locator("tr", has_text="SPA-05").locator("summary").first
    explanation = page.locator("tr", has_text="SPA-05").locator(".rag-explanation").first
    expect(explanation).to_be_hidden()
    summary.focus()
    page.keyboard.press("Enter")
    expect(explanation).to_be_visible()
    expect(explanation).to_contain_text("against pro-rata target")
    expect(page.locator("tr", has_text="SPA-05").locator("svg[role=img]")).to_have_count(1)
    assert_accessible(page, "performance-pathway")

    # KPI: history chart and table; a commissioner overrides the RAG with a reason.
    page.get_by_role("link", name="SPA-05").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SPA-05")
    expect(page.get_by_role("img", name=re.compile("SPA-05: every quarter"))).to_be_visible()
    assert_accessible(page, "performance-kpi")
    page.get_by_label("Red").check()
    page.get_by_label("Reason").fill("Referrals fell after the GP practice pilot ended.")
    page.get_by_role("button", name="Record the override").click()
    expect(page.get_by_role("status")).to_contain_text("now shown as Red")
    expect(page.locator("#override-heading + p")).to_contain_text("Overridden to")
    expect(page.locator(".overridden-mark").first).to_be_visible()
    assert_accessible(page, "performance-kpi-overridden")

    # Exceptions: every red, amber and missing with the provider's explanation.
    page.get_by_role("link", name="Exceptions", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Exceptions: Year 2 Q3")
    expect(page.get_by_role("columnheader", name="Provider's explanation").first).to_be_visible()
    expect(page.locator("tr", has_text="SPA-05")).to_contain_text("Overridden")
    assert_accessible(page, "performance-exceptions")


def test_partner_reads_only_its_pathways(page, live_server, transactional_db, sign_in):
    seed_demo()
    sign_in(User.objects.get(username="partner"), password=DEMO_PASSWORD)
    page.goto(f"{live_server.url}/contracts/PSIS/performance/?quarter=Y2Q3")
    rows = page.locator("table.rag-matrix tbody tr")
    expect(rows).to_have_count(2)  # Carers Bromley: Young Carers and Adult Carers
    expect(page.get_by_text("Single Point of Access")).to_have_count(0)
    page.get_by_role("link", name="Adult Carers", exact=True).click()
    page.locator("tr", has_text="AC-").first.get_by_role("link").first.click()
    expect(page.get_by_role("button", name="Record the override")).to_have_count(0)
    assert_accessible(page, "performance-kpi-partner")
