"""No input makes a 500, and a refused request changes nothing.

Every URL of tests/access_matrix.py (its sample arguments resolved against the demo, as
tests/test_access_matrix.py does) is asked by the commissioner, the lead provider and an outsider,
by GET and POST, with each parameter the route reads (READS below: the query and form parameters
that name a quarter, an id or a choice, and the URL's own arguments) replaced by hostile values:
huge numbers, Unicode digits, empty, negative, NUL, very long text, another contract's ids and
quarters. No answer may be a 500, and the database must be as it was (counts of every table of
the apps, history included, the latest ``updated_at`` of those that have one, and the rows of the
small tables that have neither).

To stay fast, every value is tried on the first case of each URL name only, and not where the
matrix says the role or the method is refused (403, 404, 405): there, and on the other cases,
every parameter is made hostile at once, with two values.
"""

from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from contracts.models import Contract, User
from exits.models import ExitArchive
from kpis.models import Kpi
from meetings.models import Meeting, MeetingPack
from performance.models import RagOverride
from tests.access_matrix import MATRIX, Case, Id, url_names
from tests.builders import IMMEDIATE, demo_ids

ROLES = ("commissioner", "lead", "outsider")
APPS = ("contracts", "pathways", "kpis", "reports", "performance", "meetings", "exits")
SMALL_TABLES = (RagOverride, MeetingPack, ExitArchive)

# Values no page of the app sends, for any parameter: each must be refused (400 or 404) or
# ignored, never a 500.
HOSTILE = (
    "9" * 30,  # too big for any database integer
    "٣٠٠",  # Arabic-Indic 300: int() reads it, a URL never carries it
    "２",  # fullwidth 2
    "²",  # superscript 2: str.isdigit() says yes, int() says no
    "-1",
    "\x00",
    "x" * 5000,
    "Y999999999999999999999Q1",
)
EMPTY = ""
# URL arguments must match their converter (<int:pk> is ASCII digits) for the URL to resolve.
HOSTILE_INT_KWARGS = ("9" * 30, "0", str(2**63))
HOSTILE_STR_KWARGS = ("Y999999999999999999999Q1", "٣٠٠", "²", "-1", "\x00", "x" * 300)
HOSTILE_SLUG_KWARGS = ("9" * 30, "-1", "x" * 300)


@dataclass(frozen=True)
class Reads:
    """The parameters a route reads: GET query, POST form (with ``required`` ones: empty is
    refused, so it is tried too), and a POST ``base`` that is otherwise valid, so that the hostile
    value is the only thing wrong."""

    get: tuple = ()
    post: tuple = ()
    required: tuple = ()
    base: dict = field(default_factory=dict)


DASHBOARD = Reads(get=("quarter", "oba"))

# The query and form parameters of each URL name (the URL's own arguments are found from the
# matrix's cases). A URL name not here reads none of its own.
READS: dict[str, Reads] = {
    "performance_overview": DASHBOARD,
    "performance_download": DASHBOARD,
    "performance_exceptions": DASHBOARD,
    "performance_exceptions_download": DASHBOARD,
    "performance_pathway": DASHBOARD,
    "performance_pathway_download": DASHBOARD,
    "performance_kpi": Reads(get=("quarter",)),
    "performance_kpi_download": Reads(get=("quarter",)),
    "rag_override_create": Reads(
        post=("quarter", "rag"),
        required=("quarter", "rag"),
        base={"quarter": "Y2Q3", "rag": "red", "reason": "Fuzzing"},
    ),
    "return_list": Reads(get=("quarter",)),
    "return_edit": Reads(post=("action",)),
    "return_review": Reads(
        post=("action", "query-kpi"),
        required=("action",),
        base={"action": "query", "query-kpi": "", "query-comment": "Fuzzing"},
    ),
    "meetings:create": Reads(
        post=("period",),
        required=("period",),
        base={"period": Id("free_period"), "date": "2026-11-20", "attendees": "", "notes": ""},
    ),
    "meetings:edit": Reads(
        post=("period",),
        required=("period",),
        base={"period": Id("meeting_period"), "date": "2024-11-20", "attendees": "", "notes": ""},
    ),
    "meetings:action_create": Reads(
        post=("owner_organisation", "kpi", "status", "submission"),
        required=("owner_organisation", "status"),
        base={
            "description": "Fuzzing",
            "owner_organisation": Id("lead_organisation"),
            "owner_person": "",
            "due_date": "2026-12-31",
            "status": "open",
            "kpi": "",
        },
    ),
    "meetings:action_edit": Reads(
        get=("meeting",),
        post=("owner_organisation", "kpi", "status", "meeting"),
        required=("owner_organisation", "status"),
        base={
            "description": "Fuzzing",
            "owner_organisation": Id("lead_organisation"),
            "owner_person": "",
            "due_date": "2026-12-31",
            "status": "open",
            "kpi": "",
        },
    ),
    "meetings:pack_generate": Reads(
        post=("period",), required=("period",), base={"period": Id("meeting_period")}
    ),
}


def fuzz_ids() -> dict[str, int]:
    """The access matrix's demo ids, and the ids the forms above need."""
    ids = demo_ids()
    psis = Contract.objects.get(reference="PSIS")
    hls = Contract.objects.get(reference="HLS")
    taken = Meeting.objects.filter(contract=psis).values("period_id")
    ids["free_period"] = psis.periods.exclude(pk__in=taken).order_by("start").first().pk
    ids["meeting_period"] = Meeting.objects.get(pk=ids["meeting"]).period_id
    ids["lead_organisation"] = psis.lead_provider_id
    # Another contract's objects: well-formed ids this contract's pages must not take.
    ids["other_period"] = hls.periods.order_by("start").first().pk
    ids["other_kpi"] = Kpi.objects.for_contract(hls).order_by("pk").first().pk
    ids["other_organisation"] = hls.lead_provider_id
    other_meeting = Meeting.objects.filter(contract=hls).order_by("pk").first()
    ids["other_meeting"] = other_meeting.pk if other_meeting else 2**31
    return ids


def other_contracts(ids: dict[str, int]) -> dict[str, tuple[str, ...]]:
    """Per parameter, values that are well formed but another contract's, outside the term, or
    (for the RAG override) a quarter that has not begun."""
    psis = Contract.objects.get(reference="PSIS")
    not_begun = psis.periods.filter(start__gt=timezone.localdate()).order_by("start").first()
    return {
        "period": (str(ids["other_period"]),),
        "kpi": (str(ids["other_kpi"]),),
        "owner_organisation": (str(ids["other_organisation"]),),
        "meeting": (str(ids["other_meeting"]),),
        "quarter": ("Y99Q1", "2019/20 Q1", *([not_begun.short_label] if not_begun else [])),
        "query-kpi": ("HLS-01",),
    }


def snapshot() -> tuple:
    """Counts of every table of the apps (history included), the latest ``updated_at`` where
    there is one, and the rows of the small tables without either."""
    parts = []
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        table = connection.ops.quote_name(model._meta.db_table)
        parts.append(f"(SELECT COUNT(*) FROM {table})")  # noqa: S608
        if any(f.name == "updated_at" for f in model._meta.fields):
            parts.append(f"(SELECT MAX(updated_at) FROM {table})")  # noqa: S608
    with connection.cursor() as cursor:
        # One query (it runs twice a request); the names are the models' own tables.
        cursor.execute("SELECT " + ", ".join(parts))  # noqa: S608
        counts = cursor.fetchone()
    rows = tuple(tuple(m.objects.order_by("pk").values_list()) for m in SMALL_TABLES)
    return counts, rows


def _value(value, ids):
    return str(ids[value.name]) if isinstance(value, Id) else value


def _url(name: str, kwargs: dict) -> str | None:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:  # a value the URL's converter refuses never reaches the view
        return None


@dataclass
class Finding:
    name: str
    role: str
    method: str
    url: str
    data: dict
    problem: str

    def __str__(self) -> str:
        shown = {k: (v[:20] + "…" if len(v) > 20 else v) for k, v in self.data.items()}
        url = self.url if len(self.url) < 90 else self.url[:90] + "…"
        return f"{self.name} {self.role} {self.method} {url} {shown}: {self.problem}"


class Asker:
    def __init__(self, users):
        self.users = users
        self.clients = {role: Client(raise_request_exception=False) for role in users}
        for role, client in self.clients.items():
            client.force_login(users[role])
        self.findings: list[Finding] = []
        self.asked = 0

    def ask(self, name, role, method, url, data, *, check_writes=True) -> int:
        """One request in a savepoint rolled back afterwards; a 500 or a write is a finding."""
        client = self.clients[role]
        if client.session.get("_auth_user_id") != str(self.users[role].pk):
            client.force_login(self.users[role])  # signed out by logout or sign-out-everywhere
        self.asked += 1
        with transaction.atomic():
            before = snapshot() if check_writes else None
            try:
                send = client.get if method == "GET" else client.post
                response = send(url, data)
                status = response.status_code
            except Exception as exc:  # noqa: BLE001 - reported with the request that made it
                status = 500
                data = {**data, "error": f"{type(exc).__name__}: {exc}"[:100]}
            if status >= 500:
                self.findings.append(Finding(name, role, method, url, data, f"{status}"))
            elif check_writes and snapshot() != before:
                self.findings.append(Finding(name, role, method, url, data, "changed the data"))
            transaction.set_rollback(True)
        return status


def _kwarg_variants(kwargs: dict) -> list[dict]:
    """The case's URL arguments with one replaced by each hostile value its converter takes."""
    variants = []
    for key, value in kwargs.items():
        if key == "reference":  # one lookup for every URL: one value is enough
            hostile = HOSTILE_SLUG_KWARGS[:1]
        elif key in ("code", "pathway"):
            hostile = HOSTILE_SLUG_KWARGS
        elif key == "pk":
            hostile = HOSTILE_INT_KWARGS
        else:  # quarter, fmt, and Django's own (uidb64, token)
            hostile = HOSTILE_STR_KWARGS + (("Y99Q1", "2019/20 Q1") if key == "quarter" else ())
        variants += [{**kwargs, key: h} for h in hostile if h != value]
    return variants


def fuzz_case(asker: Asker, name: str, case: Case, ids, others, *, first: bool) -> None:
    """Every hostile value for the first case of a URL name; every parameter at once, with two
    values, for its other cases and wherever the matrix says the role is refused anyway."""
    reads = READS.get(name, Reads())
    kwargs = {k: _value(v, ids) for k, v in case.kwargs.items()}
    url = _url(name, kwargs)
    base = {k: _value(v, ids) for k, v in reads.base.items()}
    for role in ROLES:
        asks = (("GET", reads.get, case.get), ("POST", reads.post, case.post))
        for method, names, expected in asks:
            data = {} if method == "GET" else base
            refused = expected[role] in (403, 404, 405)
            if first:
                # The URL's own arguments, one at a time, the form left empty: the route must
                # refuse the URL before it reads the form.
                for variant in _kwarg_variants(kwargs)[:: 3 if refused else 1]:
                    if (hostile_url := _url(name, variant)) is not None:
                        asker.ask(name, role, method, hostile_url, {})
            if not names:
                continue
            if refused or not first:
                for value in ("9" * 30, "２"):
                    asker.ask(name, role, method, url, {**data, **dict.fromkeys(names, value)})
                continue
            for param in names:
                values = HOSTILE + others.get(param, ())
                if method == "GET" or param in reads.required:
                    values += (EMPTY,)
                for value in values:
                    asker.ask(name, role, method, url, {**data, param: value})


@pytest.mark.django_db
def test_no_hostile_parameter_makes_a_500_or_changes_anything(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = IMMEDIATE
    ids = fuzz_ids()
    others = other_contracts(ids)
    users = {u.username: u for u in User.objects.filter(username__in=ROLES)}
    asker = Asker(users)
    for name, _route in url_names():
        for i, case in enumerate(MATRIX.get(name, ())):
            fuzz_case(asker, name, case, ids, others, first=i == 0)
    assert asker.asked > 800
    if asker.findings:
        lines = "\n".join(str(f) for f in asker.findings[:60])
        pytest.fail(
            f"{len(asker.findings)} of {asker.asked} hostile requests failed:\n{lines}",
            pytrace=False,
        )


def test_every_read_parameter_belongs_to_a_url_of_the_matrix():
    stale = sorted(set(READS) - set(MATRIX))
    assert not stale, f"READS rows for URLs the matrix does not have: {stale}"
    for name, reads in READS.items():
        assert set(reads.required) <= set(reads.post), name
        assert set(reads.post) <= set(reads.base) | {"action", "query-kpi", "meeting", "submission"}
