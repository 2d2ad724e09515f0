"""Forms for contract meetings, their actions and generating a meeting pack."""

import uuid
from datetime import timedelta

from django import forms
from django.core.validators import MaxLengthValidator
from django.db.models import Q
from django.utils import timezone

from contracts.models import Contract, Organisation, ReportingPeriod
from kpis.models import Kpi
from meetings.models import Action, Meeting
from psis import params
from reports.validation import TEXT_LIMIT

# Meeting notes may be the minutes, so they may run longer than other text; they are not printed
# in the pack. Every free-text box has a limit, so too much text gets a clear message rather than
# the server's bare "Bad Request" for an oversized post.
NOTES_LIMIT = 50_000


def limit_length(field: forms.CharField, limit: int) -> None:
    """Refuse (never cut) text longer than ``limit``, with Django's usual message."""
    field.max_length = limit
    field.validators.append(MaxLengthValidator(limit))
    field.widget.attrs.update(field.widget_attrs(field.widget))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class PeriodChoiceField(params.IdChoiceField):
    def label_from_instance(self, obj: ReportingPeriod) -> str:
        return f"{obj.label} ({obj.fy_label}), {obj.start:%b %Y} to {obj.end:%b %Y}"


def _periods_begun(contract: Contract, *, ahead_days: int = 0):
    """The contract's quarters that have begun (or begin within ``ahead_days``), newest first."""
    cutoff = timezone.localdate() + timedelta(days=ahead_days)
    return ReportingPeriod.objects.filter(contract=contract, start__lte=cutoff).order_by("-start")


class MeetingForm(forms.ModelForm):
    period = PeriodChoiceField(
        queryset=ReportingPeriod.objects.none(),
        label="Quarter reviewed",
        help_text="Each quarter has one contract meeting.",
    )

    class Meta:
        model = Meeting
        fields = ["period", "date", "attendees", "notes"]
        widgets = {
            "date": DateInput(),
            "attendees": forms.Textarea(attrs={"rows": 4}),
            "notes": forms.Textarea(attrs={"rows": 6}),
        }
        labels = {"date": "Meeting date"}
        help_texts = {"attendees": "Names or roles, one per line."}

    def __init__(self, *args, contract: Contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = contract
        taken = Meeting.objects.filter(contract=contract)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        self.fields["period"].queryset = _periods_begun(contract, ahead_days=92).exclude(
            pk__in=taken.values("period_id")
        )
        limit_length(self.fields["attendees"], TEXT_LIMIT)
        limit_length(self.fields["notes"], NOTES_LIMIT)

    def clean(self):
        cleaned = super().clean()
        period, day = cleaned.get("period"), cleaned.get("date")
        if period and day and day <= period.start:
            self.add_error("date", "Choose a date after the quarter starts.")
        return cleaned


class KpiChoiceField(params.IdChoiceField):
    def label_from_instance(self, obj: Kpi) -> str:
        text = obj.description if len(obj.description) <= 70 else obj.description[:69] + "…"
        return f"{obj.code}: {text}"


class ActionForm(forms.ModelForm):
    kpi = KpiChoiceField(
        queryset=Kpi.objects.none(),
        required=False,
        label="Linked KPI (optional)",
        empty_label="No KPI",
    )

    class Meta:
        model = Action
        fields = ["description", "owner_organisation", "owner_person", "due_date", "status", "kpi"]
        field_classes = {"owner_organisation": params.IdChoiceField}
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "due_date": DateInput()}
        labels = {
            "owner_organisation": "Owner organisation",
            "owner_person": "Owner (name or role, optional)",
            "due_date": "Due date",
        }

    def __init__(self, *args, contract: Contract, **kwargs):
        super().__init__(*args, **kwargs)
        parties = Q(pk=contract.lead_provider_id) | Q(pk=contract.lead_commissioner_id)
        parties |= Q(contracts_commissioned=contract) | Q(pathways_delivered__contract=contract)
        self.fields["owner_organisation"].queryset = Organisation.objects.filter(parties).distinct()
        self.fields["kpi"].queryset = (
            Kpi.objects.for_contract(contract)
            .select_related("pathway")
            .order_by("pathway__order", "order", "code")
        )
        if not self.instance.pk:
            self.fields["status"].initial = Action.Status.OPEN
            # A new action's form carries a one-time key, so sending it twice adds one action.
            self.fields["submission"] = forms.UUIDField(
                widget=forms.HiddenInput, required=False, initial=uuid.uuid4
            )
        limit_length(self.fields["description"], TEXT_LIMIT)


class GeneratePackForm(forms.Form):
    period = PeriodChoiceField(
        queryset=ReportingPeriod.objects.none(),
        label="Quarter",
        empty_label=None,
        help_text="The pack covers one quarter: its results, returns and the action log.",
    )

    def __init__(self, *args, contract: Contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].queryset = _periods_begun(contract)
