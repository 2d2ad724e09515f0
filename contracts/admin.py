"""Admin for the council administrator: organisations, people, contracts and their quarters."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from contracts.models import Contract, FundingSource, Organisation, ReportingPeriod, User
from contracts.services import contract_sync_periods
from psis.formatting import short_date


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "short_name", "kind", "trading_as")
    list_filter = ("kind",)
    search_fields = ("name", "short_name", "trading_as")


class OrganisationRequiredMixin:
    """The model's check constraint, as a form error on the organisation field."""

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role", getattr(self.instance, "role", None))
        if role != User.Role.ADMINISTRATOR and not cleaned.get("organisation"):
            self.add_error(
                "organisation", "Everyone except an administrator needs an organisation."
            )
        return cleaned


class UserChangeForm(OrganisationRequiredMixin, BaseUserAdmin.form):
    pass


class UserCreationForm(OrganisationRequiredMixin, BaseUserAdmin.add_form):
    pass


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    fieldsets = (
        *BaseUserAdmin.fieldsets[:2],
        ("Role in PSIS Monitor", {"fields": ("role", "organisation", "job_title")}),
        *BaseUserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Personal info", {"classes": ("wide",), "fields": ("first_name", "last_name", "email")}),
        (
            "Role in PSIS Monitor",
            {"classes": ("wide",), "fields": ("role", "organisation", "job_title", "is_staff")},
        ),
    )
    list_display = ("username", "full_name", "email", "role", "organisation", "is_active")
    list_filter = ("role", "organisation", "is_active", "is_staff", "is_superuser")
    list_select_related = ("organisation",)
    search_fields = (
        "username",
        "first_name",
        "last_name",
        "email",
        "job_title",
        "organisation__name",
        "organisation__short_name",
    )
    autocomplete_fields = ("organisation",)

    @admin.display(description="Full name", ordering="last_name")
    def full_name(self, obj):
        return obj.get_full_name()


class FundingSourceInline(admin.TabularInline):
    model = FundingSource
    fields = ("name", "annual_amount", "note")
    extra = 0


class ContractAdminForm(forms.ModelForm):
    """The admin supplies Meta (model and fields from the fieldsets)."""

    def clean_start_date(self):
        start = self.cleaned_data["start_date"]
        if start and start.day != 1:
            raise forms.ValidationError("A contract starts on the 1st of a month.")
        return start

    def clean(self):
        cleaned = super().clean()
        lead = cleaned.get("lead_commissioner")
        commissioners = cleaned.get("commissioners")
        if lead and commissioners is not None and lead not in commissioners:
            self.add_error(
                "commissioners", f"The lead commissioner ({lead}) must also be a commissioner."
            )
        return cleaned


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    form = ContractAdminForm
    list_display = ("reference", "name", "lead_commissioner", "lead_provider", "start_date")
    list_select_related = ("lead_commissioner", "lead_provider")
    search_fields = ("reference", "name")
    filter_horizontal = ("commissioners",)
    # The pathways app adds its inline (pathways/admin.py): contracts know nothing of pathways.
    inlines = (FundingSourceInline,)
    actions = ("sync_periods",)
    readonly_fields = ("initial_term_end_uk", "extension_decision_due_uk", "latest_possible_end_uk")
    fieldsets = (
        (None, {"fields": ("reference", "name", "description", "is_demo")}),
        ("Parties", {"fields": ("lead_commissioner", "commissioners", "lead_provider")}),
        (
            "Term",
            {
                "fields": (
                    "start_date",
                    "initial_term_years",
                    "extension_years",
                    "extension_notice_months",
                    "initial_term_end_uk",
                    "extension_decision_due_uk",
                    "latest_possible_end_uk",
                    "return_due_working_days",
                )
            },
        ),
        ("Money", {"fields": ("current_budget", "contract_value")}),
    )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kind = {
            "lead_commissioner": Organisation.Kind.COMMISSIONER,
            "lead_provider": Organisation.Kind.PROVIDER,
        }.get(db_field.name)
        if kind:
            kwargs["queryset"] = Organisation.objects.filter(kind=kind)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "commissioners":
            kwargs["queryset"] = Organisation.objects.filter(kind=Organisation.Kind.COMMISSIONER)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    # The term dates are computed from the start date, so there is nothing to show on a blank form.
    @admin.display(description="Initial term ends")
    def initial_term_end_uk(self, obj):
        return (short_date(obj.initial_term_end) or "-") if obj.start_date else "-"

    @admin.display(description="Extension decision due")
    def extension_decision_due_uk(self, obj):
        return (short_date(obj.extension_decision_due) or "-") if obj.start_date else "-"

    @admin.display(description="Latest possible end (with extension)")
    def latest_possible_end_uk(self, obj):
        return (short_date(obj.latest_possible_end) or "-") if obj.start_date else "-"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Explicit, not a signal: a new or re-dated contract gets (or corrects) its quarters.
        contract_sync_periods(contract=form.instance)

    @admin.action(description="Create or correct the reporting quarters")
    def sync_periods(self, request, queryset):
        for contract in queryset:
            contract_sync_periods(contract=contract)
        self.message_user(
            request,
            f"Reporting quarters checked for {len(queryset)} contract(s).",
            messages.SUCCESS,
        )


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(admin.ModelAdmin):
    """Generated from the contract's term by contract_sync_periods, so read only."""

    list_display = ("contract", "year", "quarter", "start_uk", "end_uk", "due_date_uk", "fy_label")
    list_filter = ("contract",)
    list_select_related = ("contract",)
    date_hierarchy = "start"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Start", ordering="start")
    def start_uk(self, obj):
        return short_date(obj.start) or "-"

    @admin.display(description="End", ordering="end")
    def end_uk(self, obj):
        return short_date(obj.end) or "-"

    @admin.display(description="Due", ordering="due_date")
    def due_date_uk(self, obj):
        return short_date(obj.due_date) or "-"

    @admin.display(description="Financial year")
    def fy_label(self, obj):
        return obj.fy_label
