"""What the product concludes from the returns, beyond the rules: a commissioner's RAG override."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from psis import rag


class RagOverrideQuerySet(models.QuerySet):
    def active(self):
        return self.filter(withdrawn_at__isnull=True)

    def for_results(self, kpis, periods):
        """Active overrides of these KPIs in these quarters, with who made them (one query)."""
        return self.active().filter(kpi__in=kpis, period__in=periods).select_related("created_by")


class RagOverride(models.Model):
    """A commissioner's RAG for one KPI in one quarter, in place of the rule's, with a reason.

    Never deleted: withdrawing keeps the record (who, when) and lets the rule's RAG show again.
    """

    class Choice(models.TextChoices):
        GREEN = rag.Rag.GREEN.value, "Green"
        AMBER = rag.Rag.AMBER.value, "Amber"
        RED = rag.Rag.RED.value, "Red"

    kpi = models.ForeignKey("kpis.Kpi", on_delete=models.CASCADE, related_name="rag_overrides")
    period = models.ForeignKey(
        "contracts.ReportingPeriod", on_delete=models.CASCADE, related_name="rag_overrides"
    )
    rag = models.CharField("RAG", max_length=10, choices=Choice.choices)
    reason = models.TextField(help_text="Why the rule's RAG does not tell the true story.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rag_overrides"
    )
    created_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rag_overrides_withdrawn",
    )

    objects = RagOverrideQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        db_table = "kpis_ragoverride"
        verbose_name = "RAG override"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "period"],
                condition=Q(withdrawn_at__isnull=True),
                name="one_active_rag_override",
                violation_error_message="This KPI already has an override for this quarter; "
                "withdraw it first.",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="rag_override_has_reason",
                violation_error_message="Give the reason for the override.",
            ),
            models.CheckConstraint(
                condition=Q(rag__in=["green", "amber", "red"]),
                name="rag_override_is_a_band",
                violation_error_message="An override is Green, Amber or Red.",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True, withdrawn_by__isnull=True)
                | Q(withdrawn_at__isnull=False, withdrawn_by__isnull=False),
                name="rag_override_withdrawn_by_someone",
                violation_error_message="A withdrawal records who withdrew the override.",
            ),
        ]

    def __str__(self):
        return f"{self.kpi.code} {self.period_id}: {self.get_rag_display()}"

    @property
    def rag_value(self) -> "rag.Rag":
        return rag.Rag(self.rag)

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None
