"""The 400, 403, 404 and 500 pages: the site's layout, a plain-English heading, why, and a way on.

Django shows them only with DEBUG off, which is how the tests run (pytest-django turns it off).
"""

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

HOME_LINK = 'href="/">Go to the home page</a>'


def test_the_tests_run_with_debug_off():
    assert settings.DEBUG is False


@pytest.mark.django_db
def test_an_unknown_address_is_the_404_page(cast, client_for):
    response = client_for(cast.commissioner).get("/no-such-page/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "<h1" in text and "Page not found</h1>" in text
    assert "does not exist, or your account does not have access to it" in text
    assert HOME_LINK in text
    assert "Sign out" in text  # the site's layout, signed in


@pytest.mark.django_db
def test_another_contracts_page_is_the_same_404_page(cast, client_for):
    unknown = client_for(cast.outsider).get("/contracts/NOSUCH/performance/")
    hidden = client_for(cast.outsider).get(reverse("performance_overview", args=["PSIS"]))
    assert unknown.status_code == hidden.status_code == 404
    text = hidden.content.decode()
    assert "Page not found</h1>" in text
    assert "PSIS" not in text.replace("PSIS Monitor", "")  # never confirms the contract exists
    main = "<main"  # the page's body, past the sign-out form's per-request token
    assert text.split(main)[1] == unknown.content.decode().split(main)[1]


@pytest.mark.django_db
def test_a_read_only_role_changing_something_gets_the_403_page_with_the_reason(cast, client_for):
    url = reverse("rag_override_create", args=["PSIS", "SPA-01"])
    response = client_for(cast.officer).post(url, {})
    assert response.status_code == 403
    text = response.content.decode()
    assert "You cannot change this</h1>" in text
    assert "can read this, but not change it. Nothing was changed." in text
    assert "Only the contract&#x27;s commissioners can do this." in text
    assert HOME_LINK in text


@pytest.mark.django_db
def test_a_malformed_parameter_gets_the_400_page(cast, client_for):
    url = reverse("performance_overview", args=["PSIS"])
    response = client_for(cast.commissioner).get(url, {"oba": "nonsense"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "The request could not be read</h1>" in text
    assert "Nothing was changed." in text
    assert "nonsense" not in text
    assert HOME_LINK in text


@pytest.mark.django_db
def test_the_previous_page_link_is_plain_and_only_for_web_addresses(cast, client_for):
    client = client_for(cast.commissioner)
    back = client.get("/no-such-page/", headers={"referer": "https://psis.example/contracts/"})
    link = 'href="https://psis.example/contracts/" rel="noreferrer">Go back'
    assert link in back.content.decode()
    odd = client.get("/no-such-page/", headers={"referer": "javascript:alert(1)"})
    assert "Go back" not in odd.content.decode()
    assert "<script>" not in back.content.decode().split("</main>")[0]


def test_the_500_page_renders_without_a_request():
    text = render_to_string("500.html")
    assert "Something went wrong on our side</h1>" in text
    assert "Nothing you sent was lost or half-saved" in text
    assert "tell the administrator" in text
    assert HOME_LINK in text
    assert "psis.css" in text  # the site's stylesheet
    assert "Sign out" not in text


def test_django_server_error_view_answers_500_with_the_page():
    response = server_error(RequestFactory().get("/anything/"))
    assert response.status_code == 500
    assert "Something went wrong on our side</h1>" in response.content.decode()


@pytest.mark.django_db
def test_a_view_that_raises_gets_the_500_page(cast, client_for, monkeypatch):
    from performance import views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.results, "contract_periods", broken)
    client = client_for(cast.commissioner)
    client.raise_request_exception = False
    response = client.get(reverse("performance_overview", args=["PSIS"]))
    assert response.status_code == 500
    text = response.content.decode()
    assert "Something went wrong on our side</h1>" in text
    assert "boom" not in text
