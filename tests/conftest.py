import os

import pytest

from tests.cast import PASSWORD, build_cast

# Playwright's sync API runs an event loop in the test thread; Django's async-safety check
# would otherwise refuse database access from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def cast(db):
    return build_cast()


@pytest.fixture
def client_for(client):
    """Sign a user in on the test client: client_for(cast.lead)."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def cast_password():
    return PASSWORD


@pytest.fixture(autouse=True)
def _fresh_results_cache():
    """Each test starts with no cached dashboard results (database ids repeat between tests)."""
    from performance import results_cache

    results_cache.clear()
    yield
    results_cache.clear()
