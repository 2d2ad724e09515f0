"""Meetings and meeting packs in a real browser: generate, watch progress, download; axe checks."""

import re

import pytest
from playwright.sync_api import expect

from meetings import tasks
from meetings.models import Meeting, MeetingPack
from tests.builders import DATABASE, assert_accessible, make_meetings, make_returns


def y1q3(world) -> str:
    return str(world.contract.periods.get(year=1, quarter=3).pk)


@pytest.fixture
def world(live_cast, media, immediate_tasks):
    make_returns(live_cast)
    make_meetings(live_cast)
    return live_cast


def open_meetings(page, live_server):
    page.goto(f"{live_server.url}/contracts/PSIS/")
    page.get_by_role("link", name="Open meetings and packs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contract meetings and packs")


def test_commissioner_generates_and_downloads_a_pack(page, live_server, world, sign_in):
    sign_in(world.commissioner)
    open_meetings(page, live_server)
    assert_accessible(page, "meetings-list")

    page.get_by_label("Quarter").select_option(value=y1q3(world))
    page.get_by_role("button", name="Generate a draft pack").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft meeting pack: Year 1 Q3")
    expect(page.get_by_role("status")).to_contain_text("Done")
    assert_accessible(page, "pack-draft")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    assert download.value.suggested_filename == "PSIS-2023-24-Q1-contract-meeting-pack-draft.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the Excel workbook (XLSX)").click()
    assert download.value.suggested_filename == "PSIS-2023-24-Q1-contract-meeting-pack-draft.xlsx"

    page.get_by_role("button", name="Finalise the Year 1 Q3 pack").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Final meeting pack")
    expect(page.get_by_text("PDF checksum (SHA-256)")).to_be_visible()
    assert_accessible(page, "pack-final")


def test_progress_updates_itself_while_the_worker_builds(
    page, live_server, world, sign_in, settings
):
    settings.TASKS = DATABASE  # queued for a worker that this test plays itself
    sign_in(world.commissioner)
    open_meetings(page, live_server)
    page.get_by_label("Quarter").select_option(value=y1q3(world))
    page.get_by_role("button", name="Generate a draft pack").click()
    expect(page.get_by_role("status")).to_contain_text("Queued")
    expect(page.get_by_role("link", name="check progress")).to_be_visible()
    assert_accessible(page, "pack-queued")

    pack = MeetingPack.objects.get()
    assert tasks.run_pack_job(pack.pk) == "done"
    expect(page.get_by_role("link", name="Download the PDF")).to_be_visible(timeout=20_000)


def test_meeting_pages_are_accessible(page, live_server, world, sign_in):
    sign_in(world.commissioner)
    open_meetings(page, live_server)
    page.get_by_role("link", name=re.compile(r"^Year 1 Q1")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Contract meeting: Year 1 Q1")
    expect(page.get_by_role("rowheader", name="Carried action: review the income")).to_be_visible()
    assert_accessible(page, "meeting-detail")

    page.get_by_role("link", name="Add an action").click()
    page.get_by_role("button", name="Save the action").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    assert_accessible(page, "action-form-errors")
    page.get_by_label("Description").fill("Send the revised figures")
    page.get_by_label("Owner organisation").select_option(label="Bromley Third Sector Enterprise")
    page.get_by_label("Due date").fill("2023-03-15")
    page.get_by_role("button", name="Save the action").click()
    expect(page.get_by_role("rowheader", name="Send the revised figures")).to_be_visible()

    page.goto(f"{live_server.url}/contracts/PSIS/meetings/new/")
    assert_accessible(page, "meeting-form")
    page.get_by_label("Quarter reviewed").select_option(value=y1q3(world))
    page.get_by_label("Meeting date").fill("2023-08-02")
    page.get_by_role("button", name="Save the meeting").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Contract meeting: Year 1 Q3")
    assert Meeting.objects.filter(period__year=1, period__quarter=3).exists()


def test_partner_reads_meetings_but_sees_no_drafts(page, live_server, world, sign_in):
    MeetingPack.objects.create(
        contract=world.contract, period=world.contract.periods.get(year=1, quarter=3)
    )
    sign_in(world.partner)
    open_meetings(page, live_server)
    expect(page.get_by_text("No final packs yet.")).to_be_visible()
    expect(page.get_by_role("button", name="Generate a draft pack")).to_have_count(0)
    expect(page.get_by_role("link", name="Record a meeting")).to_have_count(0)
    assert_accessible(page, "meetings-list-partner")
