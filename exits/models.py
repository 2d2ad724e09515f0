"""A contract-exit ZIP and the background job that builds it."""

from django.db import models
from django.db.models import Q

from contracts.models import Contract, User
from psis.jobs import Job


def exit_archive_path(job, filename: str) -> str:
    # Media storage is never served directly: the file leaves only through the access-checked
    # download view (exits.views.exit_job_download).
    return f"contract-exits/{job.contract.reference}/{filename}"


class ExitArchive(Job):
    """One request for a contract's exit ZIP: the job's state, then the file it made.

    Only the latest ``EXIT_ARCHIVES_KEPT`` (default 3) finished archives of a contract are kept;
    older ones, and their files, are deleted when a newer one is made (see exits.tasks).
    """

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="exit_archives")
    requested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to=exit_archive_path, blank=True, max_length=300)
    filename = models.CharField(max_length=200, blank=True, help_text="The name it downloads as.")
    size = models.BigIntegerField(null=True, blank=True, help_text="Bytes.")
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["contract", "-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(job_status__in=["queued", "running"]),
                name="one_exit_job_per_contract",
                violation_error_message="This contract's ZIP file is already being made.",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="exit_progress_at_most_100"
            ),
            models.CheckConstraint(
                condition=~Q(job_status="done")
                | (~Q(file="") & ~Q(sha256="") & Q(size__isnull=False)),
                name="done_exit_archive_has_its_file",
                violation_error_message="A finished archive has its file, size and checksum.",
            ),
        ]

    def __str__(self):
        return f"{self.contract.reference} exit archive of {self.requested_at:%Y-%m-%d %H:%M}"

    @property
    def is_ready(self) -> bool:
        return self.job_status == self.JobStatus.DONE and bool(self.file)
