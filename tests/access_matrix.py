"""Who gets what on every URL of the app: the access policy as a table, walked by
tests/test_access_matrix.py (every role, GET and POST) and tests/browser/test_accessibility_sweep.py
(every page a role can open).

Written from the policy (docs/domain.md, issue 6), not from what the code happens to do:

- every page is behind sign-in: anonymous people are sent to the sign-in page (only the health
  check, signing in and resetting a password are open);
- no one learns that a contract exists unless their organisation is party to it: outsiders 404;
- a delivery partner sees only the pathways it delivers: another pathway is 404 to it;
- who may read but not change gets 403: officers read everything of the contract, providers
  read their contract, commissioners read returns but do not edit them; administrators (the
  council) read every contract and change things only in the Django admin;
- the contract's commissioners (LBB and SELCCG) review returns, override RAG, keep meetings and
  the action log, generate, finalise and read draft packs, and export the contract at exit
  (asking for the ZIP, watching its job and downloading it);
- providers enter, upload and submit returns: the lead provider for every pathway, a partner
  for its own;
- every party reads meetings and final packs; draft packs are the commissioners' only;
- a URL that changes nothing answers POST with 405, and one that only changes answers GET with 405.

One row per URL name (namespaced names as "meetings:detail"); a row holds one or more cases, each
resolved with real objects of the demo (``contracts.demo.seed_demo``): ``Id("meeting")`` stands for
an id the walker looks up. POST sends empty data, so the answer is access's, not validation's.
"""

from dataclasses import dataclass, field

from django.contrib.admin.sites import site as admin_site
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROLES = ("anonymous", "commissioner", "ccg", "officer", "lead", "partner", "outsider", "admin")

LOGIN = "login"  # 302 to the sign-in page
OK = "ok"  # let through: 200, 302 or 400 (the empty form's errors)


@dataclass(frozen=True)
class Id:
    """An object id taken from the demo data by the walker (see tests/builders.demo_ids)."""

    name: str


@dataclass(frozen=True)
class Case:
    """One way to resolve a URL, and the answer each role gets to GET and to an empty POST."""

    kwargs: dict = field(default_factory=dict)
    get: dict = field(default_factory=dict)
    post: dict = field(default_factory=dict)
    html: bool = True  # GET answers with a page (not a download or JSON) where it is 200
    note: str = ""


def resolve(name: str, case: Case, ids: dict[str, int]) -> str:
    """The case's URL, each Id replaced by the demo's id of that name."""
    kwargs = {k: ids[v.name] if isinstance(v, Id) else v for k, v in case.kwargs.items()}
    return reverse(name, kwargs=kwargs)


def answers(anonymous, commissioner, ccg, officer, lead, partner, outsider, admin) -> dict:
    return dict(
        zip(
            ROLES,
            (anonymous, commissioner, ccg, officer, lead, partner, outsider, admin),
            strict=True,
        )
    )


# fmt: off
# One column per role:                 anon   comm ccg  off. lead par. out. admin
EVERYONE                     = answers(200,   200, 200, 200, 200, 200, 200, 200)
SIGNED_IN                    = answers(LOGIN, 200, 200, 200, 200, 200, 200, 200)
SIGNED_IN_OK                 = answers(LOGIN, OK,  OK,  OK,  OK,  OK,  OK,  OK)
EVERYONE_OK                  = answers(OK,    OK,  OK,  OK,  OK,  OK,  OK,  OK)
NOT_GET                      = answers(LOGIN, 405, 405, 405, 405, 405, 405, 405)
NOT_POST                     = NOT_GET
NOT_POST_SIGNED_OUT_EITHER   = answers(405,   405, 405, 405, 405, 405, 405, 405)
# Reading the PSIS contract: every party, the partner included.
PARTIES_READ                 = answers(LOGIN, 200, 200, 200, 200, 200, 404, 200)
# Reading a PSIS pathway the partner (Carers Bromley) does not deliver.
PARTIES_BUT_PARTNER          = answers(LOGIN, 200, 200, 200, 200, 404, 404, 200)
# The commissioners' own pages and actions on PSIS.
COMMISSIONERS                = answers(LOGIN, 200, 200, 403, 403, 403, 404, 403)
COMMISSIONERS_DO             = answers(LOGIN, OK,  OK,  403, 403, 403, 404, 403)
COMMISSIONERS_DO_NOT_PARTNER = answers(LOGIN, OK,  OK,  403, 403, 404, 404, 403)
# Reviewing a return of a pathway the partner does not deliver.
REVIEW_NOT_PARTNER           = answers(LOGIN, 200, 200, 403, 403, 404, 404, 403)
# Providers entering returns: the lead for every pathway, the partner for its own.
LEAD_ENTERS                  = answers(LOGIN, 403, 403, 403, 200, 404, 404, 403)
LEAD_ENTERS_OK               = answers(LOGIN, 403, 403, 403, OK,  404, 404, 403)
PROVIDERS_ENTER              = answers(LOGIN, 403, 403, 403, 200, 200, 404, 403)
PROVIDERS_ENTER_OK           = answers(LOGIN, 403, 403, 403, OK,  OK,  404, 403)
# The outsider's own contract (HLS, commissioned by LBB alone): SELCCG and the PSIS providers
# are not party to it.
HLS_READ                     = answers(LOGIN, 200, 404, 200, 404, 404, 200, 200)
# fmt: on

PSIS = {"reference": "PSIS"}
HLS = {"reference": "HLS"}


def _return(pathway: str, quarter: str, **extra) -> dict:
    return {"reference": "PSIS", "pathway": pathway, "quarter": quarter, **extra}


# Returns in the demo: Y2Q4 SPA and AC submitted, EE a draft; Y2Q3 LD queried; Y3Q1 not started.
SPA_SUBMITTED = _return("SPA", "Y2Q4")
AC_SUBMITTED = _return("AC", "Y2Q4")
EE_DRAFT = _return("EE", "Y2Q4")
LD_QUERIED = _return("LD", "Y2Q3")
AC_NOT_STARTED = _return("AC", "Y3Q1")

MATRIX: dict[str, list[Case]] = {
    # --- outside the contracts --------------------------------------------------------------------
    "health": [Case(get=EVERYONE, post=NOT_POST_SIGNED_OUT_EITHER, html=False)],
    "login": [Case(get=EVERYONE, post=EVERYONE_OK)],
    "logout": [Case(get=NOT_GET, post=SIGNED_IN_OK)],
    "password_change": [Case(get=SIGNED_IN, post=SIGNED_IN_OK)],
    "password_change_done": [Case(get=SIGNED_IN, post=NOT_POST)],
    "password_reset": [Case(get=EVERYONE, post=EVERYONE_OK)],
    "password_reset_done": [Case(get=EVERYONE, post=NOT_POST_SIGNED_OUT_EITHER)],
    "password_reset_confirm": [
        # A link that is not valid (any more) says so.
        Case(
            kwargs={"uidb64": "MQ", "token": "set-password"},
            get=EVERYONE,
            post=EVERYONE_OK,
        )
    ],
    "password_reset_complete": [Case(get=EVERYONE, post=NOT_POST_SIGNED_OUT_EITHER)],
    "home": [Case(get=SIGNED_IN, post=NOT_POST)],
    "account": [Case(get=SIGNED_IN, post=NOT_POST)],
    "sign_out_everywhere": [Case(get=NOT_GET, post=SIGNED_IN_OK)],
    # --- the contract ---------------------------------------------------------------------------
    "contract_detail": [
        Case(kwargs=PSIS, get=PARTIES_READ, post=NOT_POST),
        Case(kwargs=HLS, get=HLS_READ, post=NOT_POST, note="the outsider's own contract"),
    ],
    "kpi_catalogue": [Case(kwargs=PSIS, get=PARTIES_READ, post=NOT_POST)],
    "kpi_catalogue_download": [
        Case(kwargs={**PSIS, "fmt": "csv"}, get=PARTIES_READ, post=NOT_POST, html=False)
    ],
    "contract_exit": [Case(kwargs=PSIS, get=COMMISSIONERS, post=COMMISSIONERS_DO)],
    "contract_exit_job": [
        Case(kwargs={**PSIS, "pk": Id("exit_archive")}, get=COMMISSIONERS, post=NOT_POST)
    ],
    "contract_exit_job_status": [
        Case(
            kwargs={**PSIS, "pk": Id("exit_archive")},
            get=COMMISSIONERS,
            post=NOT_POST,
            html=False,
        )
    ],
    "contract_exit_job_download": [
        Case(
            kwargs={**PSIS, "pk": Id("exit_archive")},
            get=COMMISSIONERS,
            post=NOT_POST,
            html=False,
        )
    ],
    # --- quarterly returns ----------------------------------------------------------------------
    "return_list": [
        Case(kwargs=PSIS, get=PARTIES_READ, post=NOT_POST),
        Case(kwargs=HLS, get=HLS_READ, post=NOT_POST, note="the outsider's own contract"),
    ],
    "return_edit": [
        Case(kwargs=SPA_SUBMITTED, get=PARTIES_BUT_PARTNER, post=LEAD_ENTERS_OK),
        Case(kwargs=AC_SUBMITTED, get=PARTIES_READ, post=PROVIDERS_ENTER_OK),
        Case(kwargs=EE_DRAFT, get=PARTIES_BUT_PARTNER, post=LEAD_ENTERS_OK),
        Case(kwargs=LD_QUERIED, get=PARTIES_BUT_PARTNER, post=LEAD_ENTERS_OK),
        Case(kwargs=AC_NOT_STARTED, get=PARTIES_READ, post=PROVIDERS_ENTER_OK),
    ],
    "return_review": [
        Case(kwargs=SPA_SUBMITTED, get=REVIEW_NOT_PARTNER, post=COMMISSIONERS_DO_NOT_PARTNER),
        Case(kwargs=AC_SUBMITTED, get=COMMISSIONERS, post=COMMISSIONERS_DO),
        Case(kwargs=LD_QUERIED, get=REVIEW_NOT_PARTNER, post=COMMISSIONERS_DO_NOT_PARTNER),
    ],
    "return_history": [
        Case(kwargs=SPA_SUBMITTED, get=PARTIES_BUT_PARTNER, post=NOT_POST),
        Case(kwargs=AC_SUBMITTED, get=PARTIES_READ, post=NOT_POST),
    ],
    "return_template": [
        Case(kwargs=EE_DRAFT, get=LEAD_ENTERS, post=NOT_POST, html=False),
        Case(kwargs=AC_NOT_STARTED, get=PROVIDERS_ENTER, post=NOT_POST, html=False),
    ],
    "return_upload": [
        Case(kwargs=EE_DRAFT, get=LEAD_ENTERS, post=LEAD_ENTERS_OK),
        Case(kwargs=AC_NOT_STARTED, get=PROVIDERS_ENTER, post=PROVIDERS_ENTER_OK),
    ],
    "return_attachment": [
        Case(
            kwargs={**SPA_SUBMITTED, "pk": Id("spa_attachment")},
            get=PARTIES_BUT_PARTNER,
            post=NOT_POST,
            html=False,
        ),
        Case(
            kwargs={**AC_SUBMITTED, "pk": Id("ac_attachment")},
            get=PARTIES_READ,
            post=NOT_POST,
            html=False,
        ),
    ],
    # --- performance dashboards -----------------------------------------------------------------
    "performance_overview": [
        Case(kwargs=PSIS, get=PARTIES_READ, post=NOT_POST),
        Case(kwargs=HLS, get=HLS_READ, post=NOT_POST, note="the outsider's own contract"),
    ],
    "performance_download": [
        Case(kwargs={**PSIS, "fmt": "xlsx"}, get=PARTIES_READ, post=NOT_POST, html=False)
    ],
    "performance_exceptions": [Case(kwargs=PSIS, get=PARTIES_READ, post=NOT_POST)],
    "performance_exceptions_download": [
        Case(kwargs={**PSIS, "fmt": "csv"}, get=PARTIES_READ, post=NOT_POST, html=False)
    ],
    "performance_pathway": [
        Case(kwargs={**PSIS, "code": "SPA"}, get=PARTIES_BUT_PARTNER, post=NOT_POST),
        Case(kwargs={**PSIS, "code": "AC"}, get=PARTIES_READ, post=NOT_POST),
    ],
    "performance_pathway_download": [
        Case(
            kwargs={**PSIS, "code": "SPA", "fmt": "csv"},
            get=PARTIES_BUT_PARTNER,
            post=NOT_POST,
            html=False,
        ),
        Case(
            kwargs={**PSIS, "code": "AC", "fmt": "csv"}, get=PARTIES_READ, post=NOT_POST, html=False
        ),
    ],
    "performance_kpi": [
        Case(kwargs={**PSIS, "code": "SPA-05"}, get=PARTIES_BUT_PARTNER, post=NOT_POST),
        Case(kwargs={**PSIS, "code": "AC-01"}, get=PARTIES_READ, post=NOT_POST),
    ],
    "performance_kpi_download": [
        Case(
            kwargs={**PSIS, "code": "SPA-05", "fmt": "csv"},
            get=PARTIES_BUT_PARTNER,
            post=NOT_POST,
            html=False,
        ),
        Case(
            kwargs={**PSIS, "code": "AC-01", "fmt": "xlsx"},
            get=PARTIES_READ,
            post=NOT_POST,
            html=False,
        ),
    ],
    "rag_override_create": [
        Case(kwargs={**PSIS, "code": "SPA-05"}, get=NOT_GET, post=COMMISSIONERS_DO_NOT_PARTNER),
        Case(kwargs={**PSIS, "code": "AC-01"}, get=NOT_GET, post=COMMISSIONERS_DO),
    ],
    "rag_override_withdraw": [
        # The demo's override is on KEY-01 (key outcomes, the lead provider's).
        Case(
            kwargs={**PSIS, "code": "KEY-01", "pk": Id("override")},
            get=NOT_GET,
            post=COMMISSIONERS_DO_NOT_PARTNER,
        )
    ],
    # --- meetings, action log and packs ---------------------------------------------------------
    "meetings:list": [Case(kwargs=PSIS, get=PARTIES_READ, post=NOT_POST)],
    "meetings:create": [Case(kwargs=PSIS, get=COMMISSIONERS, post=COMMISSIONERS_DO)],
    "meetings:detail": [
        Case(kwargs={**PSIS, "pk": Id("meeting")}, get=PARTIES_READ, post=NOT_POST)
    ],
    "meetings:edit": [
        Case(kwargs={**PSIS, "pk": Id("meeting")}, get=COMMISSIONERS, post=COMMISSIONERS_DO)
    ],
    "meetings:action_create": [
        Case(kwargs={**PSIS, "pk": Id("meeting")}, get=COMMISSIONERS, post=COMMISSIONERS_DO)
    ],
    "meetings:action_edit": [
        Case(kwargs={**PSIS, "pk": Id("action")}, get=COMMISSIONERS, post=COMMISSIONERS_DO)
    ],
    "meetings:pack_generate": [Case(kwargs=PSIS, get=NOT_GET, post=COMMISSIONERS_DO)],
    "meetings:pack": [
        Case(kwargs={**PSIS, "pk": Id("draft_pack")}, get=COMMISSIONERS, post=NOT_POST),
        Case(kwargs={**PSIS, "pk": Id("final_pack")}, get=PARTIES_READ, post=NOT_POST),
    ],
    "meetings:pack_status": [
        Case(kwargs={**PSIS, "pk": Id("draft_pack")}, get=COMMISSIONERS, post=NOT_POST, html=False),
        Case(kwargs={**PSIS, "pk": Id("final_pack")}, get=PARTIES_READ, post=NOT_POST, html=False),
    ],
    "meetings:pack_finalise": [
        Case(kwargs={**PSIS, "pk": Id("draft_pack")}, get=NOT_GET, post=COMMISSIONERS_DO),
    ],
    "meetings:pack_download": [
        Case(
            kwargs={**PSIS, "pk": Id("draft_pack"), "fmt": "pdf"},
            get=COMMISSIONERS,
            post=NOT_POST,
            html=False,
        ),
        Case(
            kwargs={**PSIS, "pk": Id("final_pack"), "fmt": "pdf"},
            get=PARTIES_READ,
            post=NOT_POST,
            html=False,
        ),
        Case(
            kwargs={**PSIS, "pk": Id("final_pack"), "fmt": "xlsx"},
            get=PARTIES_READ,
            post=NOT_POST,
            html=False,
        ),
    ],
}


def url_names(patterns=None, namespace: str = "", prefix: str = "") -> list[tuple[str, str]]:
    """(name, route) of every URL pattern, namespaces included, except the Django admin's."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if getattr(entry, "app_name", None) == admin_site.name or route == "admin/":
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += url_names(entry.url_patterns, ns, route)
        elif isinstance(entry, URLPattern):
            found.append((f"{namespace}{entry.name}" if entry.name else "", route))
    return found
