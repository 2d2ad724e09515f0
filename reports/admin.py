"""Admin for returns and their figures, with django-simple-history's change history."""

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from contracts.models import ReportingPeriod
from kpis.models import KpiCategory
from pathways.models import Pathway
from reports.models import BreakdownFigure, Figure, Return


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
    autocomplete_fields = ("submitted_by", "reviewed_by")
    readonly_fields = ("version", "created_at", "updated_at")
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


class BreakdownFigureInline(admin.TabularInline):
    model = BreakdownFigure
    fields = ("category", "count")
    extra = 0

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "category":
            # Offer only the categories of the figure's own KPI (none until the figure exists).
            figure_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = KpiCategory.objects.filter(kpi__figures__pk=figure_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Figure)
class FigureAdmin(SimpleHistoryAdmin):
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
    )
