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
from reports.models import Attachment, Figure, Return


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


# --- Files no live attachment holds ----------------------------------------------------------
#
# Removing a document from a return that was already submitted deletes its Attachment row (its
# history keeps the record) but keeps the file, since a commissioner may have relied on it. Such
# a file is kept for the retention period of its quarter like any other, then purged. A file in
# the evidence folder that no attachment, live or removed, ever held (left by an upload whose
# save failed) belongs to no return: it is purged once it is a day old (so an upload being
# saved at that moment is never touched).

EVIDENCE_FOLDER = "returns"
ORPHAN_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class LooseFile:
    """A stored evidence file that no live attachment holds."""

    path: str  # its name in storage
    name: str  # the name it was uploaded with ("" when nothing records it)
    size: int
    where: str  # "PSIS AC Y1Q1 AC-02, removed 03/02/2023", or why it is an orphan


def _storage():
    return Attachment._meta.get_field("file").storage


def _stored_files(folder: str = EVIDENCE_FOLDER) -> list[str]:
    storage = _storage()
    try:
        dirs, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    names = [f"{folder}/{name}" for name in files]
    for sub in dirs:
        names.extend(_stored_files(f"{folder}/{sub}"))
    return names


def _live_paths() -> set[str]:
    return set(Attachment.objects.exclude(file="").values_list("file", flat=True))


def removed_past_retention(
    *, older_than_days: int, contract: Contract | None = None, today: date | None = None
) -> list[LooseFile]:
    """Files of attachments removed from a return (their rows deleted, their files kept) whose
    quarter ended more than ``older_than_days`` days ago, and which are still in storage."""
    today = today or timezone.localdate()
    cutoff = retention_cutoff(older_than_days, today)
    storage = _storage()
    live = _live_paths()
    removals = (
        Attachment.history.filter(history_type="-")
        .exclude(file="")
        .exclude(file__in=live)
        .order_by("history_date", "history_id")
    )
    figure_history = Figure.history.model
    found: dict[str, LooseFile] = {}
    for removal in removals:
        if removal.file in found or not storage.exists(removal.file):
            continue
        figure = (
            figure_history.objects.filter(id=removal.figure_id)
            .select_related("kpi")
            .order_by("-history_date")
            .first()
        )
        ret = (
            Return.objects.select_related("pathway__contract", "period")
            .filter(pk=figure.ret_id if figure else None)
            .first()
        )
        removed = timezone.localtime(removal.history_date)
        if ret is None:
            # Its return was deleted with it: nothing is left to keep it for, nor a quarter to
            # count from, and it belongs to no contract a --contract run could name.
            if contract is not None or removed.date() >= cutoff:
                continue
            where = f"its return no longer exists; removed {removed:%d/%m/%Y}"
        else:
            if ret.period.end >= cutoff:
                continue
            if contract is not None and ret.pathway.contract_id != contract.pk:
                continue
            where = (
                f"{ret.pathway.contract.reference} {ret.pathway.code} {ret.period.short_label} "
                f"({ret.period.fy_label}, ended {ret.period.end:%d/%m/%Y}) {figure.kpi.code}, "
                f"removed from the return {removed:%d/%m/%Y}"
            )
        found[removal.file] = LooseFile(
            path=removal.file, name=removal.name, size=removal.size, where=where
        )
    return list(found.values())


def orphaned_files(*, now: datetime | None = None) -> list[LooseFile]:
    """Files in the evidence folder that no attachment, live or removed, ever held, older than
    ORPHAN_GRACE."""
    now = now or timezone.now()
    storage = _storage()
    known = _live_paths() | set(Attachment.history.exclude(file="").values_list("file", flat=True))
    found = []
    for path in sorted(set(_stored_files()) - known):
        try:
            modified = storage.get_modified_time(path)
        except (NotImplementedError, OSError):
            modified = None
        if modified is not None and now - modified < ORPHAN_GRACE:
            continue
        found.append(
            LooseFile(
                path=path,
                name="",
                size=storage.size(path),
                where="no attachment record holds it (an upload that was never saved)",
            )
        )
    return found


def loose_purge(files: Iterable[LooseFile]) -> PurgeResult:
    """Delete each file from storage (no live row to mark: the history keeps the record)."""
    storage = _storage()
    count = size = 0
    live = _live_paths()
    for loose in files:
        if loose.path in live:  # attached again meanwhile: never delete a live file
            continue
        storage.delete(loose.path)
        count += 1
        size += loose.size
    return PurgeResult(files=count, bytes=size)
