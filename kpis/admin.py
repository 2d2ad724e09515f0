"""Admin for the KPI catalogue: wording, shape, targets by contract year and RAG tolerance."""

from django import forms
from django.contrib import admin
from django.utils.text import Truncator

from kpis.models import Kpi, KpiCategory, KpiTarget
from pathways.admin import PathwayAdmin
from pathways.models import Pathway


class PathwayChoiceField(forms.ModelChoiceField):
    """Pathway names repeat across contracts, so say which contract each belongs to."""

    def label_from_instance(self, obj):
        return f"{obj.contract.reference} · {obj.name}"


class KpiTargetInline(admin.TabularInline):
    model = KpiTarget
    fields = ("from_year", "value")
    extra = 0


class KpiCategoryInline(admin.TabularInline):
    model = KpiCategory
    fields = ("name", "order")
    extra = 0


@admin.register(Kpi)
class KpiAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "pathway",
        "short_description",
        "measure",
        "target_status",
        "target_period",
        "frequency",
        "oba_class",
        "polarity",
    )
    list_filter = (
        "pathway__contract",
        "pathway",
        "measure",
        "target_status",
        "target_period",
        "frequency",
        "ytd",
        "judged_on",
        "oba_class",
        "polarity",
    )
    list_select_related = ("pathway", "pathway__contract")
    search_fields = ("code", "description", "section", "note")
    inlines = (KpiTargetInline, KpiCategoryInline)
    fieldsets = (
        ("Wording", {"fields": ("pathway", "code", "section", "outcome", "description", "order")}),
        ("Shape", {"fields": ("measure", "has_total", "frequency", "oba_class", "polarity")}),
        (
            "Target and RAG",
            {"fields": ("target_status", "target_period", "ytd", "judged_on", "tolerance")},
        ),
        ("Provenance", {"classes": ("collapse",), "fields": ("seed_text", "note")}),
    )

    @admin.display(description="Description", ordering="description")
    def short_description(self, obj):
        return Truncator(obj.description).chars(90)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "pathway":
            kwargs["queryset"] = Pathway.objects.select_related("contract")
            kwargs["form_class"] = PathwayChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class KpiInline(admin.TabularInline):
    """A summary of the pathway's KPIs; each is edited (and added) on its own KPI page."""

    model = Kpi
    fields = ("code", "description", "measure", "target_status")
    extra = 0
    show_change_link = True

    # A KPI needs its section, shape and target, which this summary row does not hold.
    def has_add_permission(self, request, obj=None):
        return False

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.base_fields["description"].widget.attrs.update(rows=2, cols=60)
        return formset


admin.site.unregister(Pathway)


@admin.register(Pathway)
class PathwayWithKpisAdmin(PathwayAdmin):
    inlines = (*PathwayAdmin.inlines, KpiInline)
