"""Quarterly contract meetings, their action logs and the meeting packs built for them."""

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from contracts.models import Contract, Organisation, ReportingPeriod, User
from psis.jobs import Job


class Meeting(models.Model):
    """The quarterly contract meeting: one per contract and quarter."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="meetings")
    period = models.ForeignKey(
        ReportingPeriod,
        on_delete=models.PROTECT,
        related_name="meetings",
        help_text="The quarter the meeting reviews.",
    )
    date = models.DateField()
    attendees = models.TextField(blank=True, help_text="Who attended, one per line.")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        db_table = "contracts_meeting"
        ordering = ["contract", "period__start"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "period"],
                name="one_meeting_per_contract_quarter",
                violation_error_message="This quarter already has a meeting.",
            ),
        ]

    def __str__(self):
        return f"{self.contract.reference} meeting for {self.period.label}"


class ActionQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=Action.Status.OPEN)

    def for_meeting(self, meeting: Meeting):
        """The meeting's action log: actions raised at it, and those carried forward to it.

        An action raised at an earlier meeting of the contract is carried forward to every later
        meeting while it is open; once done or dropped it still shows at the meetings held up to
        the day it was closed, so the log says what happened to it.
        """
        return self.filter(contract_id=meeting.contract_id).filter(
            Q(raised_at=meeting)
            | Q(raised_at__period__start__lt=meeting.period.start)
            & (Q(status=Action.Status.OPEN) | Q(closed_at__date__gte=meeting.date))
        )

    def carried_forward_to(self, meeting: Meeting):
        return self.for_meeting(meeting).exclude(raised_at=meeting)

    def for_quarter(self, contract: Contract, period: ReportingPeriod):
        """Before a quarter's meeting is recorded: what its log will carry forward.

        Actions raised at earlier meetings that are still open, or were closed since the last
        of those meetings.
        """
        last = (
            Meeting.objects.filter(contract=contract, period__start__lt=period.start)
            .order_by("-period__start")
            .first()
        )
        recently_closed = Q(closed_at__date__gte=last.date) if last else Q(pk__in=[])
        return self.filter(contract=contract, raised_at__period__start__lt=period.start).filter(
            Q(status=Action.Status.OPEN) | recently_closed
        )


class Action(models.Model):
    """One entry in a contract's action log, raised at a meeting."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="actions")
    raised_at = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="actions_raised")
    description = models.TextField()
    owner_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="actions_owned"
    )
    owner_person = models.CharField(max_length=200, blank=True, help_text="Name or role.")
    due_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    kpi = models.ForeignKey(
        "kpis.Kpi",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name="linked KPI",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submission = models.UUIDField(
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text="The one-time key of the form that added the action: the same form sent "
        "twice (a double click) adds it once.",
    )

    objects = ActionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        db_table = "contracts_action"
        ordering = ["raised_at__period__start", "due_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status__in=["done", "dropped"], closed_at__isnull=False),
                name="action_closed_when_done_or_dropped",
                violation_error_message="A done or dropped action has a closing time; an open "
                "one has none.",
            ),
        ]

    def __str__(self):
        return self.description[:80]

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


def meeting_pack_path(pack, filename: str) -> str:
    return f"meeting-packs/{pack.contract.reference}/{pack.period.fy_slug}/{filename}"


class MeetingPack(Job):
    """A generated meeting pack (PDF and XLSX) and the background job that builds it.

    A final pack is frozen: its files are kept as issued and their checksums recorded.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINAL = "final", "Final"

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="meeting_packs")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="packs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    pdf = models.FileField(upload_to=meeting_pack_path, blank=True, max_length=300)
    xlsx = models.FileField(upload_to=meeting_pack_path, blank=True, max_length=300)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    xlsx_sha256 = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    generated_at = models.DateTimeField(null=True, blank=True)
    generated_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    finalised_at = models.DateTimeField(null=True, blank=True)
    finalised_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "contracts_meetingpack"
        ordering = ["contract", "-period__start", "-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "period"],
                condition=Q(status="final") & ~Q(job_status="failed"),
                name="one_final_pack_per_quarter",
                violation_error_message="This quarter's pack is already final.",
            ),
            models.UniqueConstraint(
                fields=["contract", "period"],
                condition=Q(job_status__in=["queued", "running"]),
                name="one_pack_job_per_quarter",
                violation_error_message="A pack for this quarter is already being generated.",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="pack_progress_at_most_100"
            ),
            models.CheckConstraint(
                condition=~Q(status="final", job_status="done")
                | (
                    Q(finalised_at__isnull=False)
                    & ~Q(pdf_sha256="")
                    & ~Q(xlsx_sha256="")
                    & ~Q(pdf="")
                    & ~Q(xlsx="")
                ),
                name="final_pack_is_frozen_with_checksums",
                violation_error_message="A final pack has its files, checksums and time.",
            ),
        ]

    def __str__(self):
        return (
            f"{self.contract.reference} {self.period.fy_label} pack ({self.get_status_display()})"
        )

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.FINAL

    @property
    def is_ready(self) -> bool:
        return self.job_status == self.JobStatus.DONE and bool(self.pdf) and bool(self.xlsx)

    def filename(self, extension: str) -> str:
        """PSIS-2023-24-Q3-contract-meeting-pack-draft.pdf"""
        return (
            f"{self.contract.reference}-{self.period.fy_slug}-contract-meeting-pack-"
            f"{self.status}.{extension}"
        )
