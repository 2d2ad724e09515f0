"""A health endpoint for the load balancer and monitoring: database and background worker.

It answers GET and HEAD, and answers plain HTTP too (settings.SECURE_REDIRECT_EXEMPT): a load
balancer probing the app server directly does not follow the HTTPS redirect.
"""

from datetime import timedelta

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

# A task still waiting after this long means no worker is taking work from the queue.
WORKER_STALL_AFTER = timedelta(minutes=5)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return False


def _worker_state() -> tuple[str, int]:
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(status="READY")
    stalled = waiting.filter(run_after__lt=timezone.now() - WORKER_STALL_AFTER).exists()
    return ("stalled" if stalled else "ok"), waiting.count()


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD"])  # load balancers often probe with HEAD
def health(request):
    database = "ok" if _database_ok() else "unavailable"
    worker, queued = _worker_state() if database == "ok" else ("unknown", 0)
    healthy = database == "ok" and worker == "ok"
    return JsonResponse(
        {
            "status": "ok" if healthy else "degraded",
            "database": database,
            "worker": worker,
            "queued_tasks": queued,
        },
        status=200 if healthy else 503,
    )
