"""Organisations, people and their roles, contracts and their reporting quarters."""

from datetime import date
from functools import cached_property

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac

from psis import periods
from psis.formatting import person


class Organisation(models.Model):
    class Kind(models.TextChoices):
        COMMISSIONER = "commissioner", "Commissioner"
        PROVIDER = "provider", "Provider"

    name = models.CharField(max_length=200, unique=True)
    short_name = models.CharField(max_length=40, unique=True, help_text="e.g. LBB, SELCCG, BTSE")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    trading_as = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PsisUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", User.Role.ADMINISTRATOR)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person signing in: their role and the organisation they work for."""

    class Role(models.TextChoices):
        PROVIDER = "provider", "Provider user"
        COMMISSIONER = "commissioner", "Commissioner"
        OFFICER = "officer", "Officer (read only)"
        ADMINISTRATOR = "administrator", "Administrator"

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.OFFICER)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="people"
    )
    job_title = models.CharField(max_length=120, blank=True)
    session_epoch = models.PositiveIntegerField(
        default=0, editable=False, help_text="Raised to sign the person out on every device."
    )

    objects = PsisUserManager()

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role="administrator") | Q(organisation__isnull=False),
                name="user_has_organisation_unless_administrator",
                violation_error_message="Everyone but an administrator works for an organisation.",
            ),
        ]

    def __str__(self):
        return person(self)

    def get_session_auth_hash(self):
        """Sessions carry this hash: raising session_epoch ends every session at once."""
        return salted_hmac(
            "contracts.User.get_session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            algorithm="sha256",
        ).hexdigest()

    @property
    def is_commissioner(self):
        return self.role == self.Role.COMMISSIONER

    @property
    def is_provider(self):
        return self.role == self.Role.PROVIDER

    @property
    def is_administrator(self):
        return self.role == self.Role.ADMINISTRATOR or self.is_superuser


class Contract(models.Model):
    reference = models.SlugField(
        max_length=20,
        unique=True,
        help_text="Short reference used in addresses, file names and commands, e.g. PSIS.",
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    lead_commissioner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="contracts_led"
    )
    commissioners = models.ManyToManyField(
        Organisation,
        related_name="contracts_commissioned",
        help_text="Every commissioning organisation party to the contract, the lead included.",
    )
    lead_provider = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="contracts_provided"
    )
    start_date = models.DateField(help_text="First day of the contract: the 1st of a month.")
    initial_term_years = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1)]
    )
    extension_years = models.PositiveSmallIntegerField(
        default=0, help_text="Optional extension available, in years (0 if none)."
    )
    extension_notice_months = models.PositiveSmallIntegerField(
        default=6,
        help_text="How many months before the initial term ends the extension is decided.",
    )
    current_budget = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Total current budget for the service, in pounds.",
    )
    contract_value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Leave blank where the value is not public (e.g. a Part 2 report).",
    )
    return_due_working_days = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(1)],
        help_text="Returns are due this many working days after the quarter ends "
        "(England and Wales bank holidays excluded).",
    )
    is_demo = models.BooleanField(default=False, help_text="Demonstration data, not real figures.")

    class Meta:
        ordering = ["reference"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__day=1),
                name="contract_starts_on_first_of_month",
                violation_error_message="A contract starts on the 1st of a month.",
            ),
        ]

    def __str__(self):
        return f"{self.reference}: {self.name}"

    @property
    def initial_term_end(self) -> date:
        return periods.initial_term_end(self.start_date, self.initial_term_years)

    @property
    def extension_decision_due(self) -> date:
        return periods.extension_decision_due(
            self.start_date, self.initial_term_years, self.extension_notice_months
        )

    @property
    def latest_possible_end(self) -> date:
        return periods.initial_term_end(
            self.start_date, self.initial_term_years + self.extension_years
        )

    @cached_property
    def period_count(self) -> int:
        return (self.initial_term_years + self.extension_years) * 4

    def quarter_of(self, day: date) -> periods.Quarter:
        return periods.quarter_of(self.start_date, day)


class FundingSource(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="funding")
    name = models.CharField(max_length=200)
    annual_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="Pounds a year, if known."
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["contract", "pk"]

    def __str__(self):
        return self.name


class ReportingPeriodQuerySet(models.QuerySet):
    def by_label(self, contract: Contract, label: str, *, among=None) -> "ReportingPeriod":
        """The contract's quarter that ``label`` names, from a URL, a form or a command line.

        Reads "Y1Q1", "Year 1 Q1", "2022/23 Q3" or "2022-23-Q3" (any case and spacing; see
        ``psis.periods.parse_quarter_label``). Any other string, and a quarter the contract does
        not have, raises ``ReportingPeriod.DoesNotExist`` (never anything else), whose message
        says why. ``among``, the contract's periods already read, is searched instead of
        querying.
        """
        try:
            quarter = periods.parse_quarter_label(contract.start_date, label)
        except ValueError as exc:
            raise self.model.DoesNotExist(str(exc)) from None
        missing = f"{contract.reference} has no quarter {quarter.label}: it is outside the term."
        if among is not None:
            for period in among:
                if (period.year, period.quarter) == (quarter.year, quarter.quarter):
                    return period
            raise self.model.DoesNotExist(missing)
        try:
            return self.get(contract=contract, year=quarter.year, quarter=quarter.quarter)
        except self.model.DoesNotExist:
            raise self.model.DoesNotExist(missing) from None


class ReportingPeriod(models.Model):
    """One contract quarter: the unit a return is made for."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="periods")
    year = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    quarter = models.PositiveSmallIntegerField()
    start = models.DateField()
    end = models.DateField()
    due_date = models.DateField()

    objects = ReportingPeriodQuerySet.as_manager()

    class Meta:
        ordering = ["contract", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "year", "quarter"], name="one_period_per_contract_quarter"
            ),
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4), name="period_quarter_1_to_4"
            ),
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="period_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.label} ({self.fy_label})"

    @cached_property
    def as_quarter(self) -> periods.Quarter:
        return periods.Quarter(year=self.year, quarter=self.quarter, start=self.start, end=self.end)

    @property
    def label(self) -> str:
        return self.as_quarter.label

    @property
    def short_label(self) -> str:
        return self.as_quarter.short_label

    @property
    def fy_label(self) -> str:
        return self.as_quarter.fy_label

    @property
    def fy_slug(self) -> str:
        return self.as_quarter.fy_slug

    @property
    def index(self) -> int:
        return self.as_quarter.index

    @property
    def is_year_end(self) -> bool:
        return self.quarter == 4
