"""axe-core on every page every role can open, with the demo data: no WCAG 2.2 A/AA violation.

The pages come from the access matrix (tests/access_matrix.py): every GET a role is expected to
get 200 for that answers with a page, plus the Django admin's index for the administrator. One
browser context per role; violations are collected and reported together at the end. A full-page
screenshot of each visit is kept in test-artifacts/sweep-ROLE-URL.png to look at.
"""

import re
import time
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe

from demo.seed import DEMO_PASSWORD
from tests.access_matrix import MATRIX, ROLES, Id, resolve
from tests.builders import ARTIFACTS, AXE_TAGS, demo_ids


@dataclass(frozen=True)
class Visit:
    name: str
    label: str
    path: str

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "-", f"{self.name}-{self.label}").strip("-")


def visits_for(role: str, ids: dict[str, int]) -> list[Visit]:
    """The pages the matrix says this role opens (200 and HTML)."""
    found = []
    for name, cases in MATRIX.items():
        for case in cases:
            if case.html and case.get[role] == 200:
                label = "-".join(
                    v.name if isinstance(v, Id) else str(v)
                    for k, v in case.kwargs.items()
                    if k != "reference" or v != "PSIS"
                )
                found.append(Visit(name, label, resolve(name, case, ids)))
    if role == "admin":
        found.append(Visit("admin-index", "", "/admin/"))
    return found


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def describe(violation: dict) -> str:
    nodes = violation["nodes"]
    where = ", ".join(
        " ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
        for n in nodes[:3]
    )
    more = f" and {len(nodes) - 3} more" if len(nodes) > 3 else ""
    rule = f"{violation['id']} ({violation.get('impact')}): {violation['help']}"
    return f"{rule}; {len(nodes)} at {where}{more}"


@pytest.mark.django_db(transaction=True)
def test_every_page_of_every_role_passes_axe(browser, live_server, media, immediate_tasks):
    ids = demo_ids()
    ARTIFACTS.mkdir(exist_ok=True)
    axe = Axe()
    # Details of violations only: building them for every pass would double the time.
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    problems: list[str] = []
    visited = 0
    started = time.monotonic()
    for role in ROLES:
        context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            if role != "anonymous":
                sign_in(page, live_server.url, role)
            for visit in visits_for(role, ids):
                response = page.goto(f"{live_server.url}{visit.path}")
                visited += 1
                where = f"{role} {visit.path}"
                if response is None or response.status != 200:
                    problems.append(f"{where}: answered {response and response.status}, not 200")
                    continue
                if not response.headers.get("content-type", "").startswith("text/html"):
                    problems.append(f"{where}: not a page ({response.headers.get('content-type')})")
                    continue
                page.screenshot(
                    path=str(ARTIFACTS / f"sweep-{role}-{visit.slug}.png"), full_page=True
                )
                result = axe.run(page, options=options)
                for violation in result.response["violations"]:
                    problems.append(f"{where}: {describe(violation)}")
        finally:
            context.close()
    elapsed = time.monotonic() - started
    assert not problems, (
        f"{len(problems)} problems on {visited} pages ({elapsed:.0f} s):\n" + "\n".join(problems)
    )
    assert visited > 150
