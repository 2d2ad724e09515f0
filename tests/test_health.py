from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult


@pytest.mark.django_db
def test_health_needs_no_sign_in_and_reports_database_and_worker(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "worker": "ok", "queued_tasks": 0}


@pytest.mark.django_db
def test_health_reports_a_stalled_worker(client):
    long_ago = timezone.now() - timedelta(minutes=30)
    DBTaskResult.objects.create(
        status="READY",
        args_kwargs={"args": [], "kwargs": {}},
        task_path="x.y",
        backend_name="default",
        run_after=long_ago,
        queue_name="default",
    )
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["worker"] == "stalled"
