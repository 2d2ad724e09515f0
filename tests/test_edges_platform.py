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
