import pytest

from tests.cast import PASSWORD


@pytest.mark.django_db
def test_change_password_explains_what_is_wrong_and_then_works(client, cast):
    client.force_login(cast.lead)
    page = client.get("/accounts/password_change/")
    assert page.status_code == 200
    assert "Change your password" in page.content.decode()

    weak = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    text = weak.content.decode()
    assert "There is a problem" in text
    assert "too short" in text

    good = "plum-orchard-lantern-42"
    done = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": good, "new_password2": good},
    )
    assert done.status_code == 302
    cast.lead.refresh_from_db()
    assert cast.lead.check_password(good)


@pytest.mark.django_db
def test_password_reset_pages_use_the_app_layout(client, cast):
    for url in (
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        "/accounts/reset/done/",
        "/accounts/reset/MQ/bad-token/",
    ):
        response = client.get(url, follow=True)
        assert response.status_code == 200
        assert "PSIS Monitor" in response.content.decode()
        assert "Django administration" not in response.content.decode()


@pytest.mark.django_db
def test_the_sign_in_page_links_to_resetting_a_forgotten_password(client):
    sign_in = client.get("/accounts/login/")
    assert sign_in.status_code == 200
    assert '<a href="/accounts/password_reset/">Forgotten your password?</a>' in (
        sign_in.content.decode()
    )
    # Open signed out (Django's auth views are login_not_required), not a redirect to sign in.
    reset = client.get("/accounts/password_reset/")
    assert reset.status_code == 200
    assert "Reset your password</h1>" in reset.content.decode()
