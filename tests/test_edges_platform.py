"""Platform edges from the security review: the health check as a load balancer calls it,
no caching of signed-in responses, the client address behind proxies and password strength."""

from datetime import datetime, time

import pytest
from django.core.files.base import ContentFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from contracts.models import ReportingPeriod
from reports.models import Attachment, Figure, Return

# --- /health/ for the load balancer --------------------------------------------------------------


@pytest.mark.django_db
def test_health_answers_head_with_200_and_no_body(client):
    response = client.head("/health/")
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.django_db
def test_health_still_refuses_a_post(client):
    assert client.post("/health/").status_code == 405


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_health_is_not_redirected_while_other_pages_are():
    plain = Client()  # made after the override, so SecurityMiddleware reads it
    assert plain.get("/health/").status_code == 200
    assert plain.head("/health/").status_code == 200
    login = plain.get("/accounts/login/")
    assert login.status_code == 301
    assert login["Location"].startswith("https://")
    assert plain.get("/").status_code == 301


# --- signed-in responses are not cached ----------------------------------------------------------


def _directives(response) -> set[str]:
    return {part.strip() for part in response["Cache-Control"].split(",")}


@pytest.fixture
def evidence(cast, settings, tmp_path):
    """A submitted Adult Carers return for Year 1 Q1 with one evidence document."""
    settings.MEDIA_ROOT = tmp_path
    period = ReportingPeriod.objects.get(contract=cast.contract, year=1, quarter=1)
    ret = Return.objects.create(
        pathway=cast.carers,
        period=period,
        status=Return.Status.SUBMITTED,
        submitted_at=timezone.make_aware(datetime.combine(period.due_date, time())),
        submitted_by=cast.partner,
    )
    figure = Figure.objects.create(ret=ret, kpi=cast.kpis["AC-02"], narrative="A case study.")
    return Attachment.objects.create(
        figure=figure,
        file=ContentFile(b"%PDF-1.7 evidence", name="evidence.pdf"),
        name="evidence.pdf",
        size=17,
        content_type="application/pdf",
        uploaded_by=cast.partner,
    )


@pytest.mark.django_db
def test_signed_in_pages_csv_and_file_downloads_are_private_and_not_stored(
    cast, evidence, client_for
):
    client = client_for(cast.commissioner)
    ret = evidence.figure.ret
    page = client.get("/")
    csv = client.get(reverse("performance_download", args=["PSIS", "csv"]) + "?quarter=Y1Q1")
    document = client.get(
        f"/contracts/PSIS/returns/{ret.pathway.code}/{ret.period.short_label}"
        f"/documents/{evidence.pk}/"
    )
    assert page.status_code == csv.status_code == document.status_code == 200
    assert csv["Content-Type"].startswith("text/csv")
    assert document["Content-Disposition"].startswith("attachment")
    for response in (page, csv, document):
        assert response["Cache-Control"] == "private, no-store"


def _through_middleware(user, cache_control: str | None):
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse
    from django.test import RequestFactory

    from psis.middleware import PrivateNoStoreMiddleware

    def view(request):
        response = HttpResponse("x")
        if cache_control is not None:
            response["Cache-Control"] = cache_control
        return response

    request = RequestFactory().get("/")
    request.user = user if user is not None else AnonymousUser()
    return PrivateNoStoreMiddleware(view)(request)


@pytest.mark.django_db
def test_a_views_own_cache_header_is_kept_but_never_looser_than_private_no_store(cast):
    strict = _through_middleware(cast.commissioner, "max-age=0, no-cache, no-store")
    assert _directives(strict) == {"max-age=0", "no-cache", "no-store", "private"}
    public = _through_middleware(cast.commissioner, "public, max-age=3600")
    assert _directives(public) == {"max-age=3600", "private", "no-store"}
    final_pack = _through_middleware(cast.commissioner, "private")
    assert _directives(final_pack) == {"private", "no-store"}


def test_responses_to_someone_not_signed_in_are_left_to_the_view():
    assert "Cache-Control" not in _through_middleware(None, None)
    assert _through_middleware(None, "public, max-age=60")["Cache-Control"] == (
        "public, max-age=60"
    )


def test_static_files_are_answered_before_the_cache_middleware():
    from django.conf import settings

    chain = settings.MIDDLEWARE
    assert chain.index("whitenoise.middleware.WhiteNoiseMiddleware") < chain.index(
        "psis.middleware.PrivateNoStoreMiddleware"
    )


# --- sign-in lock-out by the real client address behind proxies ----------------------------------

PROXY = "10.0.0.2"  # the proxy nearest the app: REMOTE_ADDR for everyone
PROXY1 = "10.0.0.1"  # the outer proxy (load balancer), which proxy 2 records
CLIENT, COLLEAGUE = "203.0.113.7", "198.51.100.9"


def _sign_in(client, username, password, forwarded_for, remote=PROXY):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=2)
def test_behind_two_proxies_failures_from_one_client_do_not_lock_the_user_out_elsewhere(
    cast, cast_password
):
    attacker = Client()
    for _ in range(5):
        _sign_in(attacker, "lead", "wrong-password", f"{CLIENT}, {PROXY1}")
    assert _sign_in(attacker, "lead", cast_password, f"{CLIENT}, {PROXY1}").status_code == 429
    # The real user, through the same proxies from another address, signs in.
    user = _sign_in(Client(), "lead", cast_password, f"{COLLEAGUE}, {PROXY1}")
    assert user.status_code == 302


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=2)
def test_a_spoofed_leftmost_forwarded_for_entry_is_not_trusted(cast, cast_password):
    attacker = Client()
    for _ in range(5):
        # The client sent "X-Forwarded-For: <a colleague's address>"; the proxies appended theirs.
        _sign_in(attacker, "lead", "wrong-password", f"{COLLEAGUE}, {CLIENT}, {PROXY1}")
    # Locked out is the attacker's real address, not the colleague's it claimed.
    spoofing = _sign_in(attacker, "lead", cast_password, f"{COLLEAGUE}, {CLIENT}, {PROXY1}")
    assert spoofing.status_code == 429
    assert _sign_in(attacker, "lead", cast_password, f"{CLIENT}, {PROXY1}").status_code == 429
    assert _sign_in(Client(), "lead", cast_password, f"{COLLEAGUE}, {PROXY1}").status_code == 302


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=2, AXES_ADDRESS_FAILURE_LIMIT=8)
def test_many_failures_across_usernames_from_one_address_lock_that_address_only(
    cast, cast_password
):
    attacker = Client()
    for username in ["lead", "partner", "commissioner", "officer"]:
        for _ in range(2):  # under the per-username limit of 5 for each
            _sign_in(attacker, username, "wrong-password", f"{CLIENT}, {PROXY1}")
    assert _sign_in(attacker, "lead", cast_password, f"{CLIENT}, {PROXY1}").status_code == 429
    assert _sign_in(Client(), "lead", cast_password, f"{COLLEAGUE}, {PROXY1}").status_code == 302


@pytest.mark.django_db
def test_with_no_trusted_proxies_forwarded_for_is_ignored(cast, cast_password):
    # The default: the app is reached directly, so the header is whatever the client made up.
    attacker = Client()
    for n in range(5):
        _sign_in(attacker, "lead", "wrong-password", f"192.0.2.{n}", remote=CLIENT)
    assert _sign_in(attacker, "lead", cast_password, COLLEAGUE, remote=CLIENT).status_code == 429


@pytest.mark.parametrize(
    ("count", "forwarded_for", "address"),
    [
        (0, f"{CLIENT}, {PROXY1}", PROXY),
        (1, f"{COLLEAGUE}, {CLIENT}", CLIENT),
        (2, f"{CLIENT}, {PROXY1}", CLIENT),
        (2, f"{COLLEAGUE},{CLIENT} , {PROXY1}", CLIENT),
        (2, "2001:db8::7, 10.0.0.1", "2001:db8::7"),
        (2, PROXY1, PROXY),  # fewer entries than proxies: not through them all
        (2, "", PROXY),
        (2, f"not-an-address, {PROXY1}", PROXY),
        (3, f"{CLIENT}, {PROXY1}", PROXY),
    ],
)
def test_the_client_address_trusts_exactly_the_configured_proxies(
    settings, count, forwarded_for, address
):
    from django.test import RequestFactory

    from psis.sign_in import client_address

    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)
    assert client_address(request) == address


# --- password strength ---------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["Password2026", "aaaaaaaaaaaa"])
def test_guessable_twelve_character_passwords_are_refused_saying_why(password):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    messages = " ".join(refused.value.messages)
    assert "Your password is too guessable" in messages
    assert "It would take an offline attacker" in messages
    assert "Advice:" in messages  # how to make a better one


def test_a_strong_passphrase_passes():
    from django.contrib.auth.password_validation import validate_password

    validate_password("heron quietly folds blue umbrellas")


def test_twelve_characters_are_still_the_minimum():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Xq7#vL9!pZ2")  # 11 random characters


@pytest.mark.django_db
def test_the_test_and_demo_passwords_still_pass_for_their_users(cast):
    from django.contrib.auth.password_validation import validate_password

    from demo.seed import DEMO_PASSWORD
    from tests.cast import PASSWORD

    for user in (cast.lead, cast.commissioner, cast.partner):
        validate_password(PASSWORD, user)
        validate_password(DEMO_PASSWORD, user)
