"""Admin for pathways: who delivers what, and the KPIs each pathway reports."""

from django.contrib import admin
from django.db.models import Count

from contracts.models import Organisation
from kpis.models import Kpi
from pathways.models import Pathway


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


@admin.register(Pathway)
class PathwayAdmin(admin.ModelAdmin):
    list_display = ("contract", "code", "name", "provider", "is_cross_cutting", "kpi_count")
    list_display_links = ("code", "name")
    list_filter = ("contract", "provider", "is_cross_cutting")
    list_select_related = ("contract", "provider")
    search_fields = ("code", "name", "description", "provider__name", "provider__short_name")
    inlines = (KpiInline,)
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
