import os
from pathlib import Path

import pytest

from tests.builders import IMMEDIATE, signed_in
from tests.cast import PASSWORD, build_cast

# Playwright's sync API runs an event loop in the test thread; Django's async-safety check
# would otherwise refuse database access from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The source documents (the award report and its appendices) sit beside the checkout, not in it.
SEEDS_DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "seeds"


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
def as_user(db):
    """A separate signed-in client per user, so two people can work side by side."""
    return signed_in


@pytest.fixture
def cast_password():
    return PASSWORD


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded documents and built packs go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def immediate_tasks(settings):
    """Background tasks (building a pack) run at once, inside the request that queues them."""
    settings.TASKS = IMMEDIATE


@pytest.fixture
def seeds_dir() -> Path:
    """The source documents: ../shared/seeds from the checkout, or $PSIS_SEEDS_DIR. A fresh
    clone has none, so a test that reads them is skipped there, saying why."""
    path = Path(os.environ.get("PSIS_SEEDS_DIR") or SEEDS_DEFAULT)
    if not path.is_dir():
        pytest.skip(
            f"source documents not found: {path} is not a folder "
            "(put them at ../shared/seeds beside the checkout, or set PSIS_SEEDS_DIR)"
        )
    return path


@pytest.fixture(autouse=True)
def _fresh_results_cache():
    """Each test starts with no cached dashboard results (database ids repeat between tests)."""
    from performance import results_cache

    results_cache.clear()
    yield
    results_cache.clear()
