"""Meeting packs built in the background: requesting, the task itself, finalising, reaping.

django.tasks runs the work (the django-tasks-db worker in development and production, the
immediate backend in tests). That worker has no timeouts or retries and leaves a task RUNNING
after a crash, so each pack keeps its own job record (``MeetingPack.job_status``, progress and
message) and ``reap_stuck_packs`` marks jobs that ran or waited too long as failed: at the start
of every task run, before a new pack is queued, and from ``manage.py reap_stuck_jobs`` (cron);
never when a page is read.
"""

from __future__ import annotations

import hashlib
import logging
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from contracts.access import require_reviewer
from contracts.models import Contract, ReportingPeriod, User
from meetings.models import MeetingPack
from meetings.pack import build_pack
from psis import jobs

logger = logging.getLogger(__name__)

JobStatus = MeetingPack.JobStatus
RUNNING_MINUTES = settings.PACK_JOB_TIMEOUT_MINUTES
QUEUED_MINUTES = settings.PACK_QUEUE_TIMEOUT_MINUTES


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- requesting ----------------------------------------------------------------------------------


def _final_exists(contract: Contract, period: ReportingPeriod) -> bool:
    return (
        MeetingPack.objects.filter(
            contract=contract, period=period, status=MeetingPack.Status.FINAL
        )
        .exclude(job_status=JobStatus.FAILED)
        .exists()
    )


def _enqueue(pack_id: int) -> None:
    """Hand the job to the task backend (after the pack's row is committed)."""
    jobs.enqueue(
        build_meeting_pack,
        MeetingPack,
        pack_id,
        failed="The pack could not be queued for generation. Try again, or ask an "
        "administrator to check the background worker.",
    )


def _request(
    *, contract: Contract, period: ReportingPeriod, user: User, status: str
) -> MeetingPack:
    require_reviewer(user, contract)
    # A job left behind by a crashed worker would otherwise block this quarter until cron ran.
    reap_stuck_packs()
    if period.contract_id != contract.pk:
        raise ValidationError("That quarter belongs to another contract.")
    if _final_exists(contract, period):
        raise ValidationError(
            f"The {period.label} pack is already final; corrections will appear as amendments "
            f"in the next quarter's pack."
        )
    pack = MeetingPack(
        contract=contract,
        period=period,
        status=status,
        job_status=JobStatus.QUEUED,
        message=jobs.WAITING,
        requested_by=user,
        finalised_by=user if status == MeetingPack.Status.FINAL else None,
    )
    try:
        with transaction.atomic():
            pack.save()
    except IntegrityError as exc:
        raise ValidationError(
            f"A pack for {period.label} is already being generated; wait for it to finish."
        ) from exc
    transaction.on_commit(partial(_enqueue, pack.pk))
    return pack


@transaction.atomic
def pack_generate(*, contract: Contract, period: ReportingPeriod, user: User) -> MeetingPack:
    """Queue a draft pack for a quarter. Commissioners of the contract only.

    Raises PermissionDenied for anyone else, and ValidationError when the quarter's pack is
    already final or another one is being generated.
    """
    return _request(contract=contract, period=period, user=user, status=MeetingPack.Status.DRAFT)


@transaction.atomic
def pack_finalise(*, draft: MeetingPack, user: User) -> MeetingPack:
    """Issue the final pack of a quarter whose draft is ready.

    The final pack is rebuilt from the figures as they stand now, marked FINAL, and frozen when
    stored: its files are never rebuilt, and their checksums are recorded.
    """
    require_reviewer(user, draft.contract)
    if draft.is_final or not draft.is_ready:
        raise ValidationError("Only a draft pack that is ready can be finalised.")
    return _request(
        contract=draft.contract, period=draft.period, user=user, status=MeetingPack.Status.FINAL
    )


# --- the job -------------------------------------------------------------------------------------


def _store(pack_id: int, built) -> str:
    """Save the files and mark the job done, unless the reaper gave up on it meanwhile."""
    with transaction.atomic():
        pack = (
            MeetingPack.objects.select_for_update()
            .select_related("contract", "period")
            .get(pk=pack_id)
        )
        if pack.job_status != JobStatus.RUNNING:
            return "abandoned"
        now = timezone.now()
        pack.pdf.save(pack.filename("pdf"), ContentFile(built.pdf), save=False)
        pack.xlsx.save(pack.filename("xlsx"), ContentFile(built.xlsx), save=False)
        pack.generated_at = now
        pack.generated_by = pack.requested_by
        pack.job_status = JobStatus.DONE
        pack.progress = 100
        pack.message = "Ready to download"
        if pack.is_final:
            pack.pdf_sha256 = sha256(built.pdf)
            pack.xlsx_sha256 = sha256(built.xlsx)
            pack.finalised_at = now
            pack.finalised_by = pack.finalised_by or pack.requested_by
        pack.save()
    if not pack.is_final:
        # Only the latest draft of a quarter is kept.
        superseded = MeetingPack.objects.filter(
            contract=pack.contract,
            period=pack.period,
            status=MeetingPack.Status.DRAFT,
            job_status__in=[JobStatus.DONE, JobStatus.FAILED],
        ).exclude(pk=pack.pk)
        for old in superseded:
            delete_pack(old)
    return "done"


def delete_pack(pack: MeetingPack) -> None:
    """Delete a draft pack and its files (a final pack is never deleted here)."""
    if pack.is_final:
        raise ValidationError("A final pack is kept as issued.")
    for field in (pack.pdf, pack.xlsx):
        if field:
            field.delete(save=False)
    pack.delete()


def run_pack_job(pack_id: int) -> str:
    """Build a queued pack: claim it, build both files, store them. Returns what happened."""
    if not jobs.claim(MeetingPack, pack_id):
        return "skipped"
    pack = MeetingPack.objects.select_related("contract", "period").get(pk=pack_id)
    marking = "FINAL" if pack.is_final else "DRAFT"
    try:
        built = build_pack(
            pack.contract,
            pack.period,
            marking=marking,
            progress=partial(jobs.report_progress, MeetingPack, pack_id),
        )
        return _store(pack_id, built)
    except Exception as exc:
        logger.exception("Meeting pack %s failed", pack_id)
        jobs.fail(
            MeetingPack, pack_id, f"The pack could not be built ({type(exc).__name__}). Try again."
        )
        return "failed"


@task()
def build_meeting_pack(pack_id: int) -> str:
    """The background task: clear up stuck packs, then build one meeting pack's PDF and
    workbook."""
    reap_stuck_packs()
    return run_pack_job(pack_id)


# --- stuck jobs ----------------------------------------------------------------------------------


def reap_stuck_packs(
    *, running_minutes: int = RUNNING_MINUTES, queued_minutes: int = QUEUED_MINUTES, now=None
) -> int:
    """Mark pack jobs running or queued for too long as failed; returns how many."""
    return jobs.reap(
        MeetingPack.objects.all(),
        running_minutes=running_minutes,
        queued_minutes=queued_minutes,
        again="Generate the pack again.",
        now=now,
    )
