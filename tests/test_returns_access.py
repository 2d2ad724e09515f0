"""Who may do what with returns, on every URL: outsiders 404, read-only roles 403."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from reports import validation, workflow
from reports.models import Attachment, Return
from tests.builders import save_draft, spa_data

ROLES = ["commissioner", "officer", "lead", "partner", "outsider", "admin"]


@pytest.fixture
def world(cast, media):
    """The cast, with a submitted SPA return and an AC draft holding a document."""
    period = cast.contract.periods.get(year=1, quarter=1)
    spa = save_draft(cast.spa, period, cast.lead, spa_data(cast))
    workflow.return_submit(ret=spa, user=cast.lead)
    save_draft(
        cast.carers,
        period,
        cast.partner,
        {"AC-02__narrative": "Story"},
        uploads=workflow.Uploads(add={"AC-02": [SimpleUploadedFile("a.pdf", b"%PDF")]}),
    )
    return cast


def client(cast, role):
    c = Client()
    c.force_login(cast.users()[role])
    return c


def base(pathway="SPA"):
    return f"/contracts/PSIS/returns/{pathway}/Y1Q1/"


def version(pathway):
    ret = Return.objects.filter(pathway__code=pathway).first()
    return str(ret.version) if ret else "0"


def xlsx_upload():
    return SimpleUploadedFile("r.xlsx", b"not really", content_type="application/octet-stream")


# (what, method, pathway) -> expected status for each role, in ROLES order:
#                            commissioner, officer, lead, partner, outsider, admin
MATRIX = {
    ("list", "get", None): (200, 200, 200, 200, 404, 200),
    ("page", "get", "SPA"): (200, 200, 200, 404, 404, 200),
    ("page", "get", "AC"): (200, 200, 200, 200, 404, 200),
    ("page", "post", "AC"): (403, 403, 302, 302, 404, 403),
    ("page", "post", "SPA"): (403, 403, 302, 404, 404, 403),
    ("review", "get", "SPA"): (200, 403, 403, 404, 404, 403),
    ("review", "post", "SPA"): (302, 403, 403, 404, 404, 403),
    ("history", "get", "SPA"): (200, 200, 200, 404, 404, 200),
    ("template", "get", "SPA"): (403, 403, 200, 404, 404, 403),
    ("template", "get", "AC"): (403, 403, 200, 200, 404, 403),
    ("upload", "get", "AC"): (403, 403, 200, 200, 404, 403),
    ("upload", "post", "AC"): (403, 403, 400, 400, 404, 403),
    ("upload", "post", "SPA"): (403, 403, 302, 404, 404, 403),
    ("document", "get", "AC"): (200, 200, 200, 200, 404, 200),
}


def request(c, what, method, pathway):
    if what == "list":
        return c.get("/contracts/PSIS/returns/")
    path = (
        base(pathway)
        + {
            "page": "",
            "review": "review/",
            "history": "history/",
            "template": "template.xlsx",
            "upload": "upload/",
            "document": f"documents/{Attachment.objects.get().pk}/",
        }[what]
    )
    if method == "get":
        return c.get(path)
    data = {"version": version(pathway), "action": "save"}
    if what == "review":
        data = {"action": "query", "query-comment": "Please check"}
    if what == "upload":
        data["file"] = xlsx_upload()
    return c.post(path, data)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", list(MATRIX), ids=lambda c: "-".join(filter(None, c)))
def test_it_checks_who_may_do_what(world, role, case):
    before = {r.pk: (r.status, r.version) for r in Return.objects.all()}
    response = request(client(world, role), *case)
    expected = dict(zip(ROLES, MATRIX[case], strict=True))[role]
    assert response.status_code == expected, (case, role)
    if expected in (403, 404):
        # Refused means nothing changed.
        assert {r.pk: (r.status, r.version) for r in Return.objects.all()} == before


def test_a_locked_return_turns_an_upload_away(world):
    response = request(client(world, "lead"), "upload", "post", "SPA")
    assert response.status_code == 302  # back to the return, which is submitted and locked
    assert Return.objects.get(pathway__code="SPA").status == "submitted"


def test_outsiders_cannot_reach_their_own_documents_through_another_contract(world):
    other = client(world, "outsider")
    assert other.get("/contracts/OTHER/returns/").status_code == 200
    pk = Attachment.objects.get().pk
    assert other.get(f"/contracts/OTHER/returns/OP/Y1Q1/documents/{pk}/").status_code == 404


@pytest.mark.parametrize("quarter", ["Y9Q1", "Y1Q5", "nonsense", "Y0Q1"])
def test_a_quarter_the_contract_does_not_have_is_not_found(world, quarter):
    assert client(world, "lead").get(f"/contracts/PSIS/returns/SPA/{quarter}/").status_code == 404


def test_an_unknown_pathway_is_not_found(world):
    assert client(world, "lead").get("/contracts/PSIS/returns/NOPE/Y1Q1/").status_code == 404


def test_services_check_permissions_too(world):
    ret = Return.objects.get(pathway__code="SPA")
    with pytest.raises(PermissionDenied):
        workflow.return_accept(ret=ret, user=world.lead)
    with pytest.raises(PermissionDenied):
        workflow.return_query(ret=ret, user=world.officer, comment="x")
    ac = Return.objects.get(pathway__code="AC")
    parsed = validation.parse_return([], {})
    with pytest.raises(PermissionDenied):
        workflow.return_save_draft(ret=ac, user=world.commissioner, data=parsed, version=ac.version)
    with pytest.raises(PermissionDenied):
        workflow.return_submit(ret=ac, user=world.officer)
