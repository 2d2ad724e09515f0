"""Models that moved app keep their tables, rows and content types, both ways.

Meeting, Action and MeetingPack moved from contracts to meetings, RagOverride from kpis to
performance; their migrations change only Django's idea of the app (the tables keep their names).
"""

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from contracts.models import ReportingPeriod
from meetings.models import Action, Meeting, MeetingPack
from performance.models import RagOverride

BEFORE = [("contracts", "0005_action_submission"), ("kpis", "0003_updated_at")]
MOVED = {
    "meetings": ["meeting", "action", "meetingpack"],
    "performance": ["ragoverride"],
}
FROM = {"meetings": "contracts", "performance": "kpis"}


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _leaves():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _content_types(app, models):
    return set(
        ContentType.objects.filter(app_label=app, model__in=models).values_list("model", "pk")
    )


@pytest.mark.django_db(transaction=True)
def test_moved_models_keep_their_tables_rows_and_permissions(cast):
    assert Meeting._meta.db_table == "contracts_meeting"
    assert Action._meta.db_table == "contracts_action"
    assert MeetingPack._meta.db_table == "contracts_meetingpack"
    assert RagOverride._meta.db_table == "kpis_ragoverride"

    period = ReportingPeriod.objects.get(contract=cast.contract, year=1, quarter=1)
    meeting = Meeting.objects.create(contract=cast.contract, period=period, date=date(2023, 2, 1))
    Action.objects.create(
        contract=cast.contract,
        raised_at=meeting,
        description="Chase the SPA data",
        owner_organisation=cast.contract.lead_provider,
        due_date=date(2023, 3, 1),
    )
    RagOverride.objects.create(
        kpi=next(iter(cast.kpis.values())),
        period=period,
        rag="green",
        reason="Agreed at the meeting",
        created_by=cast.commissioner,
        created_at=timezone.now(),
    )
    moved_types = {app: _content_types(app, models) for app, models in MOVED.items()}
    assert all(moved_types.values())
    permission = Permission.objects.get(codename="change_meeting")
    leaves = _leaves()

    try:
        _migrate(BEFORE)
        ContentType.objects.clear_cache()
        for app, models in MOVED.items():
            assert _content_types(app, models) == set()
            # The same rows of django_content_type, so permissions and admin history stay.
            assert _content_types(FROM[app], models) == moved_types[app]
        with connection.cursor() as cursor:
            for table in ("contracts_meeting", "contracts_action", "kpis_ragoverride"):
                cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - fixed names
                assert cursor.fetchone() == (1,), table
    finally:
        _migrate(leaves)
        ContentType.objects.clear_cache()

    assert {app: _content_types(app, models) for app, models in MOVED.items()} == moved_types
    assert Permission.objects.get(pk=permission.pk).content_type.app_label == "meetings"
    assert Meeting.objects.get().actions_raised.get().description == "Chase the SPA data"
    assert RagOverride.objects.get().reason == "Agreed at the meeting"
