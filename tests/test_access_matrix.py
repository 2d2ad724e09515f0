"""Every URL of the app, for every role, against the policy in tests/access_matrix.py.

The demo is seeded once; each request runs in a savepoint that is rolled back, so what one role
does (finalising a pack, withdrawing an override) cannot change the answer another role gets.
"""

from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from contracts.models import User
from tests.access_matrix import LOGIN, MATRIX, OK, ROLES, Id, resolve, url_names
from tests.builders import demo_ids

LET_THROUGH = {200, 302, 400}


def clients() -> dict[str, Client]:
    found = {"anonymous": Client()}
    for role in ROLES[1:]:
        found[role] = Client()
        found[role].force_login(User.objects.get(username=role))
    return found


@dataclass
class Answer:
    status: int
    location: str = ""
    error: str = ""

    def meets(self, expected) -> bool:
        if self.error:
            return False
        if expected == LOGIN:
            return self.status == 302 and self.location.startswith(reverse("login"))
        if expected == OK:
            return self.status in LET_THROUGH
        return self.status == expected

    def __str__(self) -> str:
        if self.error:
            return f"error: {self.error}"
        if self.status == 302:
            where = "login" if self.location.startswith(reverse("login")) else self.location
            return f"302 to {where}"
        return str(self.status)


def ask(client: Client, user: User | None, method: str, url: str) -> Answer:
    """One request, in a savepoint rolled back afterwards; signs the user in again if need be."""
    if user is not None and client.session.get("_auth_user_id") != str(user.pk):
        client.force_login(user)
    try:
        with transaction.atomic():
            response = client.get(url) if method == "GET" else client.post(url, {})
            transaction.set_rollback(True)
    except Exception as exc:  # noqa: BLE001 - a crash is a mismatch to report, not a stop
        return Answer(500, error=f"{type(exc).__name__}: {exc}"[:120])
    return Answer(response.status_code, response.get("Location", ""))


def report(mismatches: list[tuple], asked: int) -> str:
    """One line per URL, case and method; a role's cell reads "got (want expected)"."""
    lines: dict[tuple, dict[str, str]] = {}
    for name, label, method, role, expected, answer in mismatches:
        lines.setdefault((name, label, method), {})[role] = f"{answer} (want {expected})"
    header = ["URL", "case", "method", *ROLES]
    rows = [[*key, *(cells.get(role, ".") for role in ROLES)] for key, cells in lines.items()]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    text = [" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    rule = "-+-".join("-" * w for w in widths)
    head = " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    return "\n".join(
        [
            f"{len(mismatches)} of {asked} answers differ from tests/access_matrix.py "
            "('.' = as expected):",
            head,
            rule,
            *text,
        ]
    )


def test_every_url_has_a_row_in_the_matrix():
    names = url_names()
    assert names, "no URL patterns found"
    missing = [f"{name or '(no name)'}  ({route})" for name, route in names if name not in MATRIX]
    assert not missing, "URL patterns without a row in tests/access_matrix.py:\n" + "\n".join(
        missing
    )
    stale = sorted(set(MATRIX) - {name for name, _ in names})
    assert not stale, f"Rows for URLs that no longer exist: {stale}"
    for name, cases in MATRIX.items():
        assert cases, f"{name} has no case"
        for case in cases:
            for method, answers in (("GET", case.get), ("POST", case.post)):
                assert set(answers) == set(ROLES), f"{name} {method} lacks a role"


@pytest.mark.django_db
def test_every_url_answers_every_role_as_the_policy_says(media, immediate_tasks):
    ids = demo_ids()
    users = {u.username: u for u in User.objects.filter(username__in=ROLES[1:])}
    by_role = clients()
    mismatches = []
    asked = 0
    missing = []
    for name, route in url_names():
        if name not in MATRIX:
            missing.append(f"{name or '(no name)'} ({route})")
            continue
        for case in MATRIX[name]:
            url = resolve(name, case, ids)
            label = ", ".join(v.name if isinstance(v, Id) else str(v) for v in case.kwargs.values())
            label += f" ({case.note})" if case.note else ""
            for method, expected in (("GET", case.get), ("POST", case.post)):
                for role in ROLES:
                    answer = ask(by_role[role], users.get(role), method, url)
                    asked += 1
                    if not answer.meets(expected[role]):
                        mismatches.append((name, label, method, role, expected[role], answer))
    problems = []
    if missing:
        problems.append(
            "URL patterns without a row in tests/access_matrix.py: " + ", ".join(missing)
        )
    if mismatches:
        problems.append(report(mismatches, asked))
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)
    assert asked > 500
