"""Contract exit in a real browser: the page says the ZIP file is being made, then that it came."""

import time
import zipfile

import pytest
from playwright.sync_api import expect

from contracts import exit as exits
from tests.builders import assert_accessible, make_returns


@pytest.fixture
def world(live_cast, media):
    make_returns(live_cast)
    return live_cast


def test_commissioner_downloads_everything_and_is_told_what_is_happening(
    page, live_server, world, sign_in, monkeypatch
):
    made = exits.contract_exit_archive

    def slowly(*args, **kwargs):  # as with a contract's years of evidence files
        time.sleep(1.5)
        return made(*args, **kwargs)

    monkeypatch.setattr(exits, "contract_exit_archive", slowly)
    sign_in(world.commissioner)
    page.goto(f"{live_server.url}/contracts/PSIS/exit/")
    assert_accessible(page, "contract-exit")
    button = page.get_by_role("button", name="Download everything (ZIP)")
    status = page.get_by_role("status")
    with page.expect_download() as download:
        button.click()
        expect(status).to_contain_text("Making the ZIP file")
        expect(button).to_be_disabled()
        assert_accessible(page, "contract-exit-making")
    expect(status).to_contain_text("The ZIP file is made")
    expect(button).to_be_enabled()
    assert download.value.suggested_filename.startswith("PSIS-contract-exit-")
    assert zipfile.is_zipfile(download.value.path())
