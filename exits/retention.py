"""Evidence retention: which evidence files are past their retention period, and purging them.

A purged file is deleted from storage; the record that it existed stays, with the day it went.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contracts.models import Contract
from reports.models import Attachment


def retention_days() -> int:
    return settings.EVIDENCE_RETENTION_DAYS


def retention_cutoff(older_than_days: int, today: date) -> date:
    """Evidence of a quarter that ended before this day is past retention."""
    return today - timedelta(days=older_than_days)


def evidence_past_retention(
    *, older_than_days: int, contract: Contract | None = None, today: date | None = None
) -> list[Attachment]:
    """Evidence files (not yet purged) of quarters that ended more than ``older_than_days``
    days ago, oldest quarter first."""
    today = today or timezone.localdate()
    found = Attachment.objects.filter(
        purged_at__isnull=True,
        figure__ret__period__end__lt=retention_cutoff(older_than_days, today),
    )
    if contract is not None:
        found = found.filter(figure__ret__pathway__contract=contract)
    return list(
        found.select_related(
            "figure__ret__pathway__contract", "figure__ret__period", "figure__kpi", "uploaded_by"
        ).order_by(
            "figure__ret__pathway__contract__reference",
            "figure__ret__period__start",
            "figure__ret__pathway__order",
            "figure__kpi__order",
            "pk",
        )
    )


@dataclass(frozen=True)
class PurgeResult:
    files: int
    bytes: int


def evidence_purge(
    *, attachments: Iterable[Attachment], older_than_days: int, now: datetime | None = None
) -> PurgeResult:
    """Delete each attachment's file from storage and mark its row purged (kept, with history).

    The file goes first, then the row: if the row cannot be saved, running again finishes the
    job (deleting a file that is already gone does nothing).
    """
    now = now or timezone.now()
    files = size = 0
    reason = f"Purged: quarter ended over {older_than_days} days ago (evidence retention)"
    for attachment in attachments:
        with transaction.atomic():
            locked = Attachment.objects.select_for_update().get(pk=attachment.pk)
            if locked.is_purged:
                continue
            if locked.file:
                locked.file.storage.delete(locked.file.name)
            locked.file = ""
            locked.purged_at = now
            locked._change_reason = reason[:100]
            locked.save()
        files += 1
        size += locked.size
    return PurgeResult(files=files, bytes=size)
