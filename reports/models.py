"""Quarterly returns: what a provider reports for one pathway and one quarter."""

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, ProtectedError, Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from simple_history.models import HistoricalRecords

from contracts.models import ReportingPeriod
from kpis.models import Kpi, KpiCategory
from pathways.models import Pathway


class SubmittedDataProtected(ProtectedError):
    """Submitted data is append-only: a return that was ever submitted, with its figures,
    category counts, review thread and attachments, is kept as the record and never deleted."""

    def __init__(self, objs):
        objs = list(objs)
        super().__init__(
            "Submitted data cannot be deleted: a return that has been submitted, and its "
            "figures, category counts, comments and attachments, are kept as the record "
            f"({', '.join(str(o) for o in objs[:3])}{'…' if len(objs) > 3 else ''}).",
            objs,
        )


def ever_submitted(to_return: str = "") -> Q:
    """Rows whose return was ever submitted: submitted now, or any history record of it with a
    status other than draft. ``to_return`` is the lookup from the row to its return
    ("ret__", "figure__ret__")."""
    return Q(**{f"{to_return}submitted_at__isnull": False}) | Q(
        **{f"{to_return}pk__in": Return.history.exclude(status=Return.Status.DRAFT).values("id")}
    )


class AppendOnlyQuerySet(models.QuerySet):
    """A queryset whose ``delete()`` refuses rows of a return that was ever submitted."""

    to_return = ""

    def submitted(self):
        return self.filter(ever_submitted(self.to_return))

    def delete(self):
        kept = list(self.submitted()[:4])
        if kept:
            raise SubmittedDataProtected(kept)
        return super().delete()

    delete.alters_data = True
    delete.queryset_only = True


class AppendOnly:
    """Instance side of the guard: ``obj.delete()`` refuses a row of an ever-submitted return
    (judged from the database, not from the in-memory object)."""

    def is_submitted_data(self) -> bool:
        if self.pk is None:
            return False
        return type(self)._default_manager.filter(pk=self.pk).submitted().exists()

    def delete(self, *args, **kwargs):
        if self.is_submitted_data():
            raise SubmittedDataProtected([self])
        return super().delete(*args, **kwargs)


class RecordedRemoval(AppendOnly):
    """Category counts and attachments of a queried return may be removed by the provider's
    correction (reports/workflow.py), which records who removed them and why in their history;
    nothing else removes them once the return has been submitted."""

    def delete(self, *args, by=None, reason: str = "", **kwargs):
        if self.is_submitted_data():
            ret = self.figure.ret
            if not (by is not None and reason and ret.status == Return.Status.QUERIED):
                raise SubmittedDataProtected([self])
            self._history_user = by
            self._change_reason = reason[:100]
        return models.Model.delete(self, *args, **kwargs)


class ReturnQuerySet(AppendOnlyQuerySet):
    def for_period(self, period):
        return self.filter(period=period)


class Return(AppendOnly, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        QUERIED = "queried", "Queried"
        ACCEPTED = "accepted", "Accepted"

    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="returns")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    commentary = models.TextField(blank=True, help_text="The provider's commentary on the quarter.")
    commentary_personal_data_reason = models.TextField(
        blank=True,
        help_text="Why personal data found in the commentary is needed, as the provider confirmed.",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_late = models.BooleanField(default=False, help_text="First submitted after the due date.")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(
        default=1, help_text="Raised on every save, so a stale edit can be refused."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = ReturnQuerySet.as_manager()

    class Meta:
        ordering = ["period__start", "pathway__order"]
        constraints = [
            models.UniqueConstraint(fields=["pathway", "period"], name="one_return_per_quarter"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="return_submitted_has_time",
            ),
        ]

    def __str__(self):
        return f"{self.pathway} {self.period.short_label}"

    @property
    def is_locked(self) -> bool:
        """Providers may edit drafts and queried returns only."""
        return self.status in {self.Status.SUBMITTED, self.Status.ACCEPTED}


class FigureQuerySet(AppendOnlyQuerySet):
    to_return = "ret__"


class Figure(AppendOnly, models.Model):
    """One KPI's value in a return, shaped by the KPI's measure."""

    class Rating(models.TextChoices):
        GREEN = "green", "Green"
        AMBER = "amber", "Amber"
        RED = "red", "Red"

    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="figures")
    kpi = models.ForeignKey(Kpi, on_delete=models.PROTECT, related_name="figures")
    value = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Count, pounds or average; for breakdowns the stated total; for monthly "
        "targets the sum of the months.",
    )
    numerator = models.PositiveIntegerField(null=True, blank=True)
    denominator = models.PositiveIntegerField(null=True, blank=True)
    cases = models.PositiveIntegerField(
        null=True, blank=True, help_text="Averages only: how many cases the average is over."
    )
    month_1 = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    month_2 = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    month_3 = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    narrative = models.TextField(blank=True, help_text="Evidence, case study or details.")
    explanation = models.TextField(
        blank=True, help_text="The provider's explanation of performance against target."
    )
    rating = models.CharField(
        max_length=10,
        choices=Rating.choices,
        blank=True,
        help_text="Evidence only: the commissioner's rating on review.",
    )
    consent_confirmed = models.BooleanField(
        default=False,
        help_text="Evidence only: the provider confirmed consent and anonymisation.",
    )
    personal_data_reason = models.TextField(
        blank=True,
        help_text="Why personal data found in the narrative or explanation is needed, as the "
        "provider confirmed.",
    )

    history = HistoricalRecords()
    objects = FigureQuerySet.as_manager()

    class Meta:
        ordering = ["ret", "kpi__order"]
        constraints = [
            models.UniqueConstraint(fields=["ret", "kpi"], name="one_figure_per_kpi"),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__gte=0), name="figure_value_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(numerator__isnull=True)
                | Q(denominator__isnull=True)
                | Q(numerator__lte=F("denominator")),
                name="figure_numerator_within_denominator",
            ),
            models.CheckConstraint(
                condition=(Q(month_1__isnull=True) | Q(month_1__gte=0))
                & (Q(month_2__isnull=True) | Q(month_2__gte=0))
                & (Q(month_3__isnull=True) | Q(month_3__gte=0)),
                name="figure_months_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.kpi.code} in {self.ret}"

    @property
    def months(self):
        return (self.month_1, self.month_2, self.month_3)


class ChildQuerySet(AppendOnlyQuerySet):
    to_return = "figure__ret__"


class BreakdownFigure(RecordedRemoval, models.Model):
    figure = models.ForeignKey(Figure, on_delete=models.CASCADE, related_name="breakdown")
    category = models.ForeignKey(KpiCategory, on_delete=models.PROTECT, related_name="+")
    count = models.PositiveIntegerField()

    history = HistoricalRecords()
    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["figure", "category__order"]
        constraints = [
            models.UniqueConstraint(fields=["figure", "category"], name="one_count_per_category"),
        ]

    def __str__(self):
        return f"{self.category}: {self.count}"


def _attachment_path(instance, filename: str) -> str:
    """A random stored name: the original name is kept in the record, never in the path."""
    suffix = Path(filename).suffix.lower()[:10]
    return f"returns/{uuid.uuid4().hex}{suffix}"


class Attachment(RecordedRemoval, models.Model):
    """A document attached to an evidence figure; served only through an access-checked view.

    Past the retention period its file is purged (``purge_evidence``): the row stays, with the
    file cleared and ``purged_at`` set, as the record that the document existed.
    """

    figure = models.ForeignKey(Figure, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path, max_length=200, blank=True)
    name = models.CharField(max_length=200, help_text="The file's name as uploaded.")
    size = models.PositiveIntegerField(help_text="Bytes.")
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    purged_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the file was deleted under the evidence retention period.",
    )

    history = HistoricalRecords()
    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["figure", "uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(file="") | Q(purged_at__isnull=False),
                name="attachment_has_file_unless_purged",
                violation_error_message="An attachment has its file until it is purged.",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_purged(self) -> bool:
        return self.purged_at is not None


@receiver(post_delete, sender=Attachment)
def _remove_unsubmitted_file(sender, instance: Attachment, **kwargs):
    """A never-submitted return's document goes with its row (as when a draft is deleted), once
    the deletion is committed. A submitted return's file stays on disk until the retention
    period purges it: the queried return's correction that removes its row keeps the file."""
    if not instance.file:
        return
    figure = Figure.objects.filter(pk=instance.figure_id).select_related("ret").first()
    if figure is not None and figure.ret.is_submitted_data():
        return
    storage, name = instance.file.storage, instance.file.name
    transaction.on_commit(lambda: storage.delete(name))


class CommentQuerySet(AppendOnlyQuerySet):
    to_return = "ret__"


class ReturnComment(AppendOnly, models.Model):
    """The review thread of a return: commissioners' queries and the provider's answers."""

    class Kind(models.TextChoices):
        QUERY = "query", "Query"
        ANSWER = "answer", "Answer"
        ACCEPTANCE = "acceptance", "Accepted"

    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="comments")
    kpi = models.ForeignKey(
        Kpi,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The KPI queried, or blank for the whole return.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()
    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["ret", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="query") | ~Q(text=""), name="comment_query_has_text"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.ret}"


class ReminderSent(models.Model):
    """A deadline reminder already emailed, so the same one is never sent twice."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", "Due soon"
        OVERDUE = "overdue", "Overdue"

    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="+")
    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.TextField(help_text="Email addresses it went to, one a line.")

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["pathway", "period", "kind"], name="one_reminder_of_a_kind"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.pathway} {self.period.short_label}"
