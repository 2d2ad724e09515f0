"""Sign-in safety: lock-out after repeated failures, expiry after inactivity, password rules."""

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.cast import PASSWORD


def _attempt(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


@pytest.mark.django_db
def test_a_correct_password_signs_in(client, cast):
    response = _attempt(client, "lead", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_five_failures_lock_the_account_out_even_with_the_right_password(client, cast):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _attempt(client, "lead", "wrong-password")
        assert response.status_code == 200
        assert "did not match" in response.content.decode()
    locked = _attempt(client, "lead", "wrong-password")
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    again = _attempt(client, "lead", PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_lock_out_is_per_username_so_colleagues_can_still_sign_in(client, cast):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _attempt(client, "lead", "wrong-password")
    assert _attempt(client, "partner", PASSWORD).status_code == 302


def test_lock_out_cools_off_rather_than_lasting_for_ever():
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


@pytest.mark.django_db
def test_sessions_expire_after_inactivity(client, cast):
    client.force_login(cast.lead)
    response = client.get("/")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    # Every request renews the session, so it is inactivity that ends it.
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE == 8 * 60 * 60


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1!", "too short"),
        ("password1234", "too common"),
        ("4815162342108", "entirely numeric"),
    ],
)
def test_password_rules(password, problem):
    with pytest.raises(ValidationError, match=problem):
        validate_password(password)


def test_a_good_password_passes():
    validate_password("plum-orchard-lantern-42")


@pytest.mark.django_db
def test_sign_out_everywhere_ends_sessions_on_other_devices(client, cast):
    from django.test import Client

    laptop, phone = client, Client()
    laptop.force_login(cast.lead)
    phone.force_login(cast.lead)
    assert phone.get("/").status_code == 200

    response = laptop.post("/account/sign-out-everywhere/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 302


@pytest.mark.django_db
def test_sign_out_everywhere_needs_a_post(client, cast):
    client.force_login(cast.lead)
    assert client.get("/account/sign-out-everywhere/").status_code == 405
    assert client.get("/account/").status_code == 200
