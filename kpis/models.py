"""KPI definitions: what is reported, in which shape, against which target."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from pathways.models import Pathway
from psis import rag, targets


class Measure(models.TextChoices):
    COUNT = "count", "Count"
    MONEY = "money", "Money (£)"
    PERCENTAGE = "percentage", "Percentage (numerator / denominator)"
    AVERAGE = "average", "Average (with number of cases)"
    BREAKDOWN = "breakdown", "Breakdown by category"
    EVIDENCE = "evidence", "Evidence (narrative and documents)"


class Polarity(models.TextChoices):
    HIGHER = rag.Polarity.HIGHER.value, "Higher is better"
    LOWER = rag.Polarity.LOWER.value, "Lower is better"


class TargetStatus(models.TextChoices):
    SET = "set", "Target set"
    NONE = "none", "Monitoring only (no target)"
    TO_BE_AGREED = "to_be_agreed", "To be agreed with commissioners"


class TargetPeriod(models.TextChoices):
    ANNUAL = targets.TargetPeriod.ANNUAL.value, "Annual"
    QUARTERLY = targets.TargetPeriod.QUARTERLY.value, "Quarterly"
    MONTHLY = targets.TargetPeriod.MONTHLY.value, "Monthly"
    WEEKLY = targets.TargetPeriod.WEEKLY.value, "Weekly"
    NONE = targets.TargetPeriod.NONE.value, "Not pro-rated (a level or rate)"
    UNSTATED = targets.TargetPeriod.UNSTATED.value, "Period not stated"


class Frequency(models.TextChoices):
    QUARTERLY = "quarterly", "Quarterly"
    ANNUAL = "annual", "Annually (in the last quarter of the contract year)"


class JudgedOn(models.TextChoices):
    AUTOMATIC = rag.JudgedOn.AUTOMATIC.value, "Automatic (by the KPI's shape)"
    YEAR_TO_DATE = rag.JudgedOn.YEAR_TO_DATE.value, "Year to date (the quarter shown beside it)"
    QUARTER = rag.JudgedOn.QUARTER.value, "Each quarter on its own"
    EACH_MONTH = rag.JudgedOn.EACH_MONTH.value, "Each month (the worst month sets the RAG)"


class YearToDate(models.TextChoices):
    SUM = rag.YearToDate.SUM.value, "Sum of the quarters (a flow: people seen, referrals, £)"
    LATEST = (
        rag.YearToDate.LATEST.value,
        "Latest reported value (a level: on a register, members; target not pro-rated)",
    )


class ObaClass(models.TextChoices):
    HOW_MUCH = "how_much", "How much did we do?"
    HOW_WELL = "how_well", "How well did we do it?"
    BETTER_OFF = "better_off", "Is anyone better off?"


class KpiQuerySet(models.QuerySet):
    def for_contract(self, contract):
        return self.filter(pathway__contract=contract)

    def with_targets(self):
        return self.select_related("pathway").prefetch_related("targets", "categories")


class Kpi(models.Model):
    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="kpis")
    code = models.SlugField(max_length=20, help_text="e.g. SPA-05")
    section = models.CharField(max_length=300, help_text="The heading the KPI sits under.")
    outcome = models.TextField(blank=True, help_text="The outcome the KPI evidences.")
    description = models.TextField(help_text="The KPI's wording, as in the contract.")
    measure = models.CharField(max_length=20, choices=Measure.choices)
    polarity = models.CharField(max_length=10, choices=Polarity.choices, default=Polarity.HIGHER)
    target_status = models.CharField(
        max_length=20, choices=TargetStatus.choices, default=TargetStatus.SET
    )
    target_period = models.CharField(
        max_length=20, choices=TargetPeriod.choices, default=TargetPeriod.NONE
    )
    frequency = models.CharField(
        max_length=20, choices=Frequency.choices, default=Frequency.QUARTERLY
    )
    ytd = models.CharField(
        "year to date is",
        max_length=10,
        choices=YearToDate.choices,
        default=YearToDate.SUM,
        help_text=(
            "How a count, money or breakdown KPI's year to date is formed. A percentage is always "
            "sum of numerators over sum of denominators, an average weighted by its cases."
        ),
    )
    judged_on = models.CharField(
        "headline judged on",
        max_length=20,
        choices=JudgedOn.choices,
        default=JudgedOn.AUTOMATIC,
        help_text=(
            "What the headline RAG is judged on. Automatic: the year to date for counts and money "
            "(a quarterly target included), each month where the return asks for each month. "
            "Choose 'each quarter' for 'a minimum of N each quarter'. 'Each month' applies only "
            "to a monthly count minimum reported quarterly."
        ),
    )
    oba_class = models.CharField(
        "OBA class", max_length=20, choices=ObaClass.choices, default=ObaClass.HOW_MUCH
    )
    has_total = models.BooleanField(
        default=False, help_text="Breakdowns only: the categories must add up to a stated total."
    )
    tolerance = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=rag.DEFAULT_TOLERANCE,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text="Amber band below target, as a fraction (0.10 = within 10% of target).",
    )
    seed_text = models.TextField(
        blank=True, help_text="The contract text the KPI was taken from, verbatim."
    )
    note = models.TextField(blank=True, help_text="How the contract text was read.")
    order = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = KpiQuerySet.as_manager()

    class Meta:
        verbose_name = "KPI"
        ordering = ["pathway__order", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["pathway", "code"], name="kpi_code_unique"),
            models.CheckConstraint(
                condition=Q(has_total=False) | Q(measure="breakdown"),
                name="kpi_total_only_for_breakdowns",
            ),
            models.CheckConstraint(
                condition=Q(tolerance__gte=0, tolerance__lte=1), name="kpi_tolerance_0_to_1"
            ),
            models.CheckConstraint(
                condition=~Q(measure="evidence") | Q(target_status="none"),
                name="kpi_evidence_has_no_numeric_target",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.description[:80]}"

    @property
    def unit(self) -> str:
        return {
            Measure.MONEY: "£",
            Measure.PERCENTAGE: "%",
            Measure.EVIDENCE: "narrative",
        }.get(self.measure, "number")

    @property
    def is_rated(self) -> bool:
        """Judged by rule against a target (evidence is rated by the commissioner instead)."""
        return (
            self.target_status == TargetStatus.SET and self.target_period != TargetPeriod.UNSTATED
        )

    @property
    def asks_each_month(self) -> bool:
        """A monthly minimum reported each quarter: the return asks for each month's figure."""
        return (
            self.target_period == TargetPeriod.MONTHLY
            and self.measure == Measure.COUNT
            and self.frequency == Frequency.QUARTERLY
        )

    @property
    def is_level(self) -> bool:
        """A level (people on a register): its year to date is the latest value, never a sum,
        and its target is not pro-rated."""
        return self.ytd == YearToDate.LATEST and self.measure in (
            Measure.COUNT,
            Measure.MONEY,
            Measure.BREAKDOWN,
        )

    @property
    def basis(self) -> rag.Basis:
        """What the headline RAG is judged on (see ``psis.rag.basis``)."""
        return rag.basis(
            measure=self.measure,
            frequency=self.frequency,
            target_period=self.target_period,
            rated=self.is_rated,
            asks_each_month=self.asks_each_month,
            has_total=self.has_total,
            judged_on=self.judged_on,
        )

    def clean(self):
        super().clean()
        if self.ytd == YearToDate.LATEST and self.measure not in (
            Measure.COUNT,
            Measure.MONEY,
            Measure.BREAKDOWN,
        ):
            raise ValidationError(
                {
                    "ytd": "Only a count, money or breakdown can be a level; a percentage's year "
                    "to date is sum over sum, an average's weighted by its cases."
                }
            )
        if self.judged_on == JudgedOn.EACH_MONTH and not self.asks_each_month:
            raise ValidationError(
                {
                    "judged_on": "Each month applies only to a monthly count minimum reported "
                    "quarterly (the return asks for each month's figure)."
                }
            )

    def is_due(self, period) -> bool:
        """Annual KPIs are asked for once, in the last quarter of the contract year."""
        return self.frequency == Frequency.QUARTERLY or period.quarter == 4

    def target_for_year(self, year: int) -> Decimal | None:
        """The target in force in a contract year: the latest one starting at or before it."""
        applicable = [t for t in self.targets.all() if t.from_year <= year]
        if not applicable:
            return None
        return max(applicable, key=lambda t: t.from_year).value


class KpiTarget(models.Model):
    """A target, in force from a contract year until a later target replaces it."""

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="targets")
    from_year = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="The first contract year the target applies to.",
    )
    value = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kpi", "from_year"]
        constraints = [
            models.UniqueConstraint(fields=["kpi", "from_year"], name="one_target_per_kpi_year"),
            models.CheckConstraint(condition=Q(value__gte=0), name="target_not_negative"),
            models.CheckConstraint(condition=Q(from_year__gte=1), name="target_year_from_1"),
        ]

    def __str__(self):
        return f"{self.value} from year {self.from_year}"


class KpiCategory(models.Model):
    """One category of a breakdown KPI."""

    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=120)
    order = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "KPI categories"
        ordering = ["kpi", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["kpi", "name"], name="category_name_unique"),
        ]

    def __str__(self):
        return self.name
