"""Admin for returns and their figures, with django-simple-history's change history.

Submitted data is append-only: a return that was ever submitted, and its figures, counts,
comments and attachments, cannot be deleted here (nor anywhere: see reports.models). Submission
and review facts are the workflow's to record, so they are shown read-only; an administrator's
correction of a figure says why, and is recorded as an administrator's correction.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from contracts.models import ReportingPeriod
from kpis.models import KpiCategory
from pathways.models import Pathway
from reports.models import BreakdownFigure, Figure, Return

ADMIN_CORRECTION = "Administrator's correction"
# django-simple-history keeps up to 100 characters of a change reason.
REASON_MAX_LENGTH = 100 - len(ADMIN_CORRECTION) - 2


def admin_correction_reason(reason: str) -> str:
    """The change reason recorded for an administrator's correction: labelled as such."""
    return f"{ADMIN_CORRECTION}: {reason.strip()}"


def _is_submitted_data(obj) -> bool:
    return obj is not None and obj.pk is not None and obj.is_submitted_data()


class ContractLabelledChoiceField(forms.ModelChoiceField):
    """Pathways and quarters repeat across contracts, so say which contract each belongs to."""

    def label_from_instance(self, obj):
        return f"{obj.contract.reference} · {obj}"


class FigureInline(admin.TabularInline):
    """Figures are entered by providers; here they are shown, and corrected on the figure's page."""

    model = Figure
    fields = ("kpi", "value", "numerator", "denominator", "cases", "rating")
    readonly_fields = fields
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("kpi")

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Return)
class ReturnAdmin(SimpleHistoryAdmin):
    list_display = ("pathway", "period", "status", "submitted_at", "is_late")
    list_filter = ("status", "is_late", "pathway__contract", "pathway")
    list_select_related = ("pathway", "period")
    search_fields = ("pathway__name", "pathway__code", "commentary")
    # Submission and review are recorded by the workflow (reports/workflow.py), never typed.
    readonly_fields = (
        "status",
        "submitted_at",
        "submitted_by",
        "is_late",
        "reviewed_at",
        "reviewed_by",
        "version",
        "created_at",
        "updated_at",
    )
    inlines = (FigureInline,)
    fieldsets = (
        (None, {"fields": ("pathway", "period", "status", "commentary")}),
        ("Submission", {"fields": ("submitted_at", "submitted_by", "is_late")}),
        ("Review", {"fields": ("reviewed_at", "reviewed_by")}),
        ("Record", {"fields": ("version", "created_at", "updated_at")}),
    )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        model = {"pathway": Pathway, "period": ReportingPeriod}.get(db_field.name)
        if model:
            kwargs["queryset"] = model.objects.select_related("contract")
            kwargs["form_class"] = ContractLabelledChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # A return's place (pathway and quarter) is fixed once it exists.
        if obj is not None:
            return ("pathway", "period", *self.readonly_fields)
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not _is_submitted_data(obj)

    # Reverting to an earlier version would write back its status, submission and review facts
    # (the form's read-only fields ride along on the historical instance): the history is shown,
    # never restored.
    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("A return is not reverted: its history is a record.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class BreakdownFigureInline(admin.TabularInline):
    model = BreakdownFigure
    fields = ("category", "count")
    extra = 0

    def has_delete_permission(self, request, obj=None):
        # obj is the figure whose counts these are.
        return super().has_delete_permission(request, obj) and not _is_submitted_data(obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "category":
            # Offer only the categories of the figure's own KPI (none until the figure exists).
            figure_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = KpiCategory.objects.filter(kpi__figures__pk=figure_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class FigureAdminForm(forms.ModelForm):
    correction_reason = forms.CharField(
        label="Reason for this correction",
        max_length=REASON_MAX_LENGTH,
        help_text="Recorded in the return's history as an administrator's correction.",
    )

    def clean(self):
        cleaned = super().clean()
        ret, kpi = cleaned.get("ret"), cleaned.get("kpi")
        if ret is not None and kpi is not None and kpi.pathway_id != ret.pathway_id:
            # The database refuses it too (reports/migrations/0005); say so here first.
            self.add_error("kpi", "Choose a KPI of the return's pathway.")
        return cleaned

    class Meta:
        model = Figure
        # The admin passes the fields it shows (FigureAdmin.fields, less the read-only ones).
        fields = ("ret", "kpi", "value", "numerator", "denominator", "cases", "rating")


@admin.register(Figure)
class FigureAdmin(SimpleHistoryAdmin):
    form = FigureAdminForm
    list_display = ("kpi", "ret", "value", "numerator", "denominator", "cases", "rating")
    list_filter = ("ret__pathway__contract", "ret__status", "kpi__measure", "rating")
    list_select_related = ("kpi", "ret__pathway", "ret__period")
    search_fields = ("kpi__code", "kpi__description", "ret__pathway__name", "narrative")
    autocomplete_fields = ("ret", "kpi")
    inlines = (BreakdownFigureInline,)
    fields = (
        "ret",
        "kpi",
        "value",
        "numerator",
        "denominator",
        "cases",
        ("month_1", "month_2", "month_3"),
        "narrative",
        "explanation",
        "rating",
        "correction_reason",
    )

    def get_readonly_fields(self, request, obj=None):
        # A saved figure stays the figure of its return and KPI.
        return ("ret", "kpi") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not _is_submitted_data(obj)

    def _reason(self, request, form):
        reason = admin_correction_reason(form.cleaned_data["correction_reason"])
        return request.user, reason

    def save_model(self, request, obj, form, change):
        obj._history_user, obj._change_reason = self._reason(request, form)
        obj.save()

    def save_formset(self, request, form, formset, change):
        user, reason = self._reason(request, form)
        for row in formset.save(commit=False):
            row._history_user, row._change_reason = user, reason
            row.save()
        for row in formset.deleted_objects:
            row._history_user, row._change_reason = user, reason
            row.delete()
        formset.save_m2m()
