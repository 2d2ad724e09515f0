"""Admin for pathways: who delivers what, and the KPIs each pathway reports."""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.forms.models import BaseInlineFormSet

from contracts.admin import ContractAdmin
from contracts.models import Contract, Organisation
from pathways.models import Pathway


@admin.register(Pathway)
class PathwayAdmin(admin.ModelAdmin):
    list_display = ("contract", "code", "name", "provider", "is_cross_cutting", "kpi_count")
    list_display_links = ("code", "name")
    list_filter = ("contract", "provider", "is_cross_cutting")
    list_select_related = ("contract", "provider")
    search_fields = ("code", "name", "description", "provider__name", "provider__short_name")
    # The kpis app adds its KPI inline (kpis/admin.py): pathways know nothing of KPIs.
    fields = ("contract", "code", "name", "description", "provider", "is_cross_cutting", "order")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(kpi_count=Count("kpis"))

    @admin.display(description="KPIs", ordering="kpi_count")
    def kpi_count(self, obj):
        return obj.kpi_count

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "provider":
            kwargs["queryset"] = Organisation.objects.filter(kind=Organisation.Kind.PROVIDER)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PathwayInlineFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        cross_cutting = [
            form
            for form in self.forms
            if form.cleaned_data.get("is_cross_cutting") and not self._should_delete_form(form)
        ]
        if len(cross_cutting) > 1:
            raise forms.ValidationError("A contract has at most one cross-cutting group.")


class PathwayInline(admin.TabularInline):
    model = Pathway
    formset = PathwayInlineFormSet
    fields = ("code", "name", "provider", "is_cross_cutting", "order")
    extra = 0
    show_change_link = True

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "provider":
            kwargs["queryset"] = Organisation.objects.filter(kind=Organisation.Kind.PROVIDER)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


admin.site.unregister(Contract)


@admin.register(Contract)
class ContractWithPathwaysAdmin(ContractAdmin):
    inlines = (*ContractAdmin.inlines, PathwayInline)
