"""Platform edges from the security review: the health check as a load balancer calls it,
no caching of signed-in responses, the client address behind proxies and password strength."""

import pytest
from django.test import Client, override_settings

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
