"""Background jobs' own records, and moving a job along: one definition for every kind of job.

django-tasks-db has no timeouts or retries and leaves a task RUNNING after a worker crashes, so
each kind of job (a meeting pack, a contract-exit ZIP) keeps its own record with these fields, and
these functions move it: claimed by the worker, reporting progress, failed, or reaped when it ran
or waited too long. Every update names the state it expects, so a job the reaper gave up on is
never brought back to life by a worker that finishes late.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import models
from django.utils import timezone

logger = logging.getLogger(__name__)


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
WAITING = "Waiting for the background worker"


class Job(models.Model):
    """The fields every job record has; a concrete model adds what the job makes."""

    JobStatus = JobStatus

    job_status = models.CharField(
        max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    message = models.CharField(max_length=500, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.job_status in ACTIVE


def enqueue(task, model: type[Job], pk: int, *, failed: str, **fields) -> None:
    """Hand a job to the task backend (after its row is committed); fail it if that cannot be."""
    try:
        result = task.enqueue(pk)
    except Exception:
        logger.exception("Could not queue %s %s", model._meta.verbose_name, pk)
        model.objects.filter(pk=pk, job_status=JobStatus.QUEUED).update(
            job_status=JobStatus.FAILED, message=failed, **fields
        )
        return
    model.objects.filter(pk=pk).update(task_id=str(result.id)[:64])


def claim(model: type[Job], pk: int) -> bool:
    """The worker takes a queued job; False if it is not queued (taken, or reaped meanwhile)."""
    return bool(
        model.objects.filter(pk=pk, job_status=JobStatus.QUEUED).update(
            job_status=JobStatus.RUNNING, started_at=timezone.now(), progress=1, message="Started"
        )
    )


def report_progress(model: type[Job], pk: int, percent: int, message: str) -> None:
    """Between 1 and 99 while running: 100 only once what it made is stored."""
    model.objects.filter(pk=pk, job_status=JobStatus.RUNNING).update(
        progress=max(1, min(percent, 99)), message=message[:500]
    )


def fail(model: type[Job], pk: int, message: str, **fields) -> None:
    model.objects.filter(pk=pk, job_status=JobStatus.RUNNING).update(
        job_status=JobStatus.FAILED, message=message[:500], **fields
    )


def reap(
    jobs: models.QuerySet,
    *,
    running_minutes: int,
    queued_minutes: int,
    again: str,
    now=None,
    **fields,
) -> int:
    """Fail the jobs that ran or waited too long; returns how many. ``again`` says what to do.

    ``fields`` are set on each reaped job as well (``finished_at=now``, say).
    """
    now = now or timezone.now()
    stuck = jobs.filter(
        job_status=JobStatus.RUNNING, started_at__lt=now - timedelta(minutes=running_minutes)
    ).update(
        job_status=JobStatus.FAILED,
        message=f"Stopped: the job ran for more than {running_minutes} minutes. {again}",
        **fields,
    )
    waiting = jobs.filter(
        job_status=JobStatus.QUEUED, requested_at__lt=now - timedelta(minutes=queued_minutes)
    ).update(
        job_status=JobStatus.FAILED,
        message=f"No background worker picked this up within {queued_minutes} minutes. Ask an "
        f"administrator to check that the worker (manage.py db_worker) is running.",
        **fields,
    )
    if stuck or waiting:
        logger.warning(
            "Reaped %s stuck and %s unclaimed %s",
            stuck,
            waiting,
            jobs.model._meta.verbose_name_plural,
        )
    return stuck + waiting
