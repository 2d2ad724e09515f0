"""Contract-exit ZIPs built in the background: requesting, the task itself, keeping, reaping.

The exit page's POST only records an ``ExitArchive`` job and queues ``build_exit_archive``; the
worker (django-tasks-db's ``db_worker``; the immediate backend in tests) writes the ZIP to a
temporary file with ``exits.archive.contract_exit_archive``, reporting progress on the job, and
stores it in media storage with its size and SHA-256. One job at a time per contract (a database
constraint). Like meeting packs, a job left running by a crashed worker is marked failed by
``reap_stuck_exit_archives``: at the start of every task run, before a new job is queued, and by
``manage.py reap_stuck_jobs`` (run it from cron); never by a page being read.

Only the latest ``EXIT_ARCHIVES_KEPT`` (default 3) finished archives of a contract are kept: each
holds commentary and evidence that may include personal data, and any of them can be made again
from the data as it stands. When one is stored, older finished ones (and their files) are deleted.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from contracts.access import require_reviewer
from contracts.models import Contract, User
from exits import archive
from exits.models import ExitArchive
from meetings import tasks as pack_tasks
from psis import jobs
from psis.formatting import file_size, person

logger = logging.getLogger(__name__)

JobStatus = ExitArchive.JobStatus
CHUNK = 1024 * 1024


def running_minutes() -> int:
    return settings.EXIT_JOB_TIMEOUT_MINUTES


def queued_minutes() -> int:
    return settings.EXIT_QUEUE_TIMEOUT_MINUTES


def kept() -> int:
    return max(1, settings.EXIT_ARCHIVES_KEPT)


# --- requesting ----------------------------------------------------------------------------------


def active_job(contract: Contract) -> ExitArchive | None:
    return (
        ExitArchive.objects.filter(
            contract=contract, job_status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
        )
        .order_by("-requested_at")
        .first()
    )


def _enqueue(job_id: int) -> None:
    """Hand the job to the task backend (after the job's row is committed)."""
    jobs.enqueue(
        build_exit_archive,
        ExitArchive,
        job_id,
        failed="The ZIP file could not be queued. Try again, or ask an administrator to check "
        "the background worker.",
        finished_at=timezone.now(),
    )


@transaction.atomic
def request_archive(*, contract: Contract, user: User) -> ExitArchive:
    """Queue a new exit ZIP for the contract. Commissioners of the contract only.

    Raises PermissionDenied for anyone else, and ValidationError (carrying the running job as
    ``job``) when one is already being made.
    """
    require_reviewer(user, contract)
    # A job left behind by a crashed worker would otherwise block this contract until cron ran.
    reap_stuck_exit_archives(contract=contract)
    job = ExitArchive(
        contract=contract,
        requested_by=user,
        job_status=JobStatus.QUEUED,
        message=jobs.WAITING,
        filename=archive.archive_filename(contract, timezone.localdate()),
    )
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError as exc:
        error = ValidationError("This contract's ZIP file is already being made.")
        error.job = active_job(contract)
        raise error from exc
    transaction.on_commit(partial(_enqueue, job.pk))
    return job


# --- the job -------------------------------------------------------------------------------------


def _fail(job_id: int, message: str) -> None:
    jobs.fail(ExitArchive, job_id, message, finished_at=timezone.now())


def _sha256(handle) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def _store(job_id: int, handle, result: archive.ExitResult) -> str:
    """Save the file and mark the job done, unless the reaper gave up on it meanwhile."""
    size = handle.seek(0, 2)
    checksum = _sha256(handle)
    with transaction.atomic():
        job = ExitArchive.objects.select_for_update().select_related("contract").get(pk=job_id)
        if job.job_status != JobStatus.RUNNING:
            return "abandoned"
        job.filename = job.filename or archive.archive_filename(job.contract, timezone.localdate())
        job.file.save(job.filename, File(handle), save=False)
        job.size = size
        job.sha256 = checksum
        job.job_status = JobStatus.DONE
        job.progress = 100
        job.finished_at = timezone.now()
        missing = len(result.evidence_missing)
        job.message = (
            f"Ready to download ({len(result.entries)} files, "
            f"{file_size(result.total_bytes)} before compression"
            + (f"; {missing} evidence files missing from storage" if missing else "")
            + ")"
        )
        job.save()
    prune(job.contract)
    return "done"


def prune(contract: Contract) -> int:
    """Delete all but the latest few finished archives of a contract; returns how many went."""
    finished = ExitArchive.objects.filter(
        contract=contract, job_status__in=[JobStatus.DONE, JobStatus.FAILED]
    ).order_by("-requested_at", "-pk")
    newest_done = finished.filter(job_status=JobStatus.DONE).first()
    keep = {job.pk for job in finished.filter(job_status=JobStatus.DONE)[: kept()]}
    deleted = 0
    for old in finished.exclude(pk__in=keep):
        # Failures after the newest archive stay, so that the page can say what went wrong.
        if old.job_status == JobStatus.FAILED and (
            newest_done is None or old.requested_at > newest_done.requested_at
        ):
            continue
        delete_archive(old)
        deleted += 1
    return deleted


def delete_archive(job: ExitArchive) -> None:
    """Delete a finished archive and its file."""
    if job.is_active:
        raise ValidationError("An archive being made is not deleted.")
    if job.file:
        job.file.delete(save=False)
    job.delete()


def run_exit_job(job_id: int) -> str:
    """Build a queued archive: claim it, write the ZIP, store it. Returns what happened."""
    if not jobs.claim(ExitArchive, job_id):
        return "skipped"
    job = ExitArchive.objects.select_related("contract", "requested_by").get(pk=job_id)
    # Spills to disk past SPOOL_BYTES, so a large archive stays off the heap.
    with tempfile.SpooledTemporaryFile(max_size=archive.SPOOL_BYTES) as handle:
        try:
            result = archive.contract_exit_archive(
                job.contract,
                stream=handle,
                generated_by=person(job.requested_by, with_username=True),
                progress=partial(jobs.report_progress, ExitArchive, job_id),
            )
            return _store(job_id, handle, result)
        except archive.ExitArchiveError as exc:
            logger.error("Contract exit archive %s failed: %s", job_id, exc)
            _fail(job_id, f"The ZIP file was not made: {exc}")
            return "failed"
        except Exception as exc:
            logger.exception("Contract exit archive %s failed", job_id)
            _fail(job_id, f"The ZIP file could not be made ({type(exc).__name__}). Try again.")
            return "failed"


@task()
def build_exit_archive(job_id: int) -> str:
    """The background task: clear up stuck jobs, then build one contract-exit ZIP."""
    reap_stuck_jobs()
    return run_exit_job(job_id)


# --- stuck jobs ----------------------------------------------------------------------------------


def reap_stuck_exit_archives(*, contract: Contract | None = None, now=None) -> int:
    """Mark exit jobs running or queued for too long as failed; returns how many."""
    now = now or timezone.now()
    return jobs.reap(
        ExitArchive.objects.all() if contract is None else contract.exit_archives.all(),
        running_minutes=running_minutes(),
        queued_minutes=queued_minutes(),
        again="Make the ZIP file again.",
        now=now,
        finished_at=now,
    )


def reap_stuck_jobs(now=None) -> dict[str, int]:
    """Every kind of background job that ran or waited too long: meeting packs, exit ZIPs."""
    return {
        "meeting packs": pack_tasks.reap_stuck_packs(now=now),
        "contract exit archives": reap_stuck_exit_archives(now=now),
    }
