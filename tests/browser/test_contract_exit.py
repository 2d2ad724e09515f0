"""Contract exit in a real browser: ask for the ZIP, watch the job's page, download it."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from exits.models import ExitArchive
from tests.builders import DATABASE, assert_accessible, make_returns

SHOTS = Path("/tmp/psis-exit-screens")  # noqa: S108 - screenshots to look at, not test data


@pytest.fixture
def world(live_cast, media, settings):
    settings.TASKS = DATABASE  # the job waits for the worker, as in production
    make_returns(live_cast)
    return live_cast


def shoot(page, name: str) -> None:
    """Full-page screenshots at desktop width and at 390 px (a phone), to look at."""
    SHOTS.mkdir(exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    page.set_viewport_size(size)


def test_commissioner_asks_for_the_zip_watches_it_being_made_and_downloads_it(
    page, live_server, world, sign_in
):
    sign_in(world.commissioner)
    page.goto(f"{live_server.url}/contracts/PSIS/exit/")
    expect(page.get_by_text("None yet.")).to_be_visible()
    assert_accessible(page, "contract-exit")
    shoot(page, "exit-page")

    page.get_by_role("button", name="Make the ZIP file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contract exit ZIP file: PSIS")
    status = page.locator("[data-job-message]")
    expect(status).to_contain_text("Queued: Waiting for the background worker")
    expect(page.get_by_role("link", name="check progress")).to_be_visible()
    assert_accessible(page, "contract-exit-job-queued")
    shoot(page, "exit-job-queued")
    job = ExitArchive.objects.get()
    assert job.job_status == ExitArchive.JobStatus.QUEUED

    # The worker takes the job; the page's script notices and shows the download.
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())
    expect(page.get_by_role("link", name="Download the ZIP file")).to_be_visible(timeout=15_000)
    expect(status).to_contain_text("Done: Ready to download (")
    job.refresh_from_db()
    expect(page.get_by_text(job.sha256)).to_be_visible()
    assert_accessible(page, "contract-exit-job-done")
    shoot(page, "exit-job-done")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the ZIP file").click()
    assert download.value.suggested_filename == job.filename
    assert zipfile.is_zipfile(download.value.path())

    page.get_by_role("link", name="Back to contract exit").click()
    expect(page.get_by_role("button", name="Make the ZIP file")).to_be_visible()
    expect(page.get_by_role("link", name="Download the ZIP file of")).to_be_visible()
    shoot(page, "exit-page-with-archive")


def test_a_failed_job_says_why_and_offers_to_try_again(page, live_server, world, sign_in):
    job = ExitArchive.objects.create(
        contract=world.contract,
        requested_by=world.commissioner,
        job_status=ExitArchive.JobStatus.FAILED,
        message="The ZIP file was not made: The final Year 1 Q1 (2022/23 Q3) meeting pack (pdf) "
        "does not match the checksum recorded when it was finalised, so the export was stopped.",
    )
    sign_in(world.commissioner)
    page.goto(f"{live_server.url}/contracts/PSIS/exit/archives/{job.pk}/")
    expect(page.locator("[data-job-message]")).to_contain_text("Failed: The ZIP file was not made")
    expect(page.get_by_role("button", name="Make the ZIP file again")).to_be_visible()
    assert_accessible(page, "contract-exit-job-failed")
    shoot(page, "exit-job-failed")
