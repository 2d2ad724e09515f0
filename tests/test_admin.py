"""The Django admin as the council administrator uses it to set up contracts, people and KPIs."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.models import Contract, FundingSource, Organisation, ReportingPeriod, User
from kpis.models import Kpi, KpiTarget
from pathways.models import Pathway
from reports.models import Figure, Return
from tests.cast import build_organisations, build_people, build_psis_contract

PASSWORD = "admin-test-password-2026"  # a new user's, typed into the admin's add form

ADMIN_MODELS = [
    "contracts.organisation",
    "contracts.user",
    "contracts.contract",
    "contracts.reportingperiod",
    "pathways.pathway",
    "kpis.kpi",
    "reports.return",
    "reports.figure",
]


@dataclass
class World:
    lbb: Organisation
    selccg: Organisation
    btse: Organisation
    carers: Organisation
    contract: Contract
    spa: Pathway
    kpi: Kpi
    ret: Return
    figure: Figure
    administrator: User
    provider_user: User


@pytest.fixture
def world(db):
    """The cast's organisations, PSIS and people, with one pathway of one KPI and one figure."""
    orgs = build_organisations()
    contract = build_psis_contract(orgs)
    spa = Pathway.objects.create(
        contract=contract, code="SPA", name="Single Point of Access", provider=orgs.btse, order=1
    )
    kpi = Kpi.objects.create(
        pathway=spa,
        code="SPA-01",
        section="Information, advice and guidance",
        description="Number of people who self-refer to the SPA",
        measure="count",
        target_status="set",
        target_period="annual",
    )
    KpiTarget.objects.create(kpi=kpi, from_year=1, value=Decimal(5000))
    ret = Return.objects.create(pathway=spa, period=contract.periods.get(year=1, quarter=1))
    figure = Figure.objects.create(ret=ret, kpi=kpi, value=Decimal(1234))
    people = build_people(orgs)
    return World(
        orgs.lbb,
        orgs.selccg,
        orgs.btse,
        orgs.carers,
        contract,
        spa,
        kpi,
        ret,
        figure,
        people["admin"],
        people["lead"],
    )


@pytest.fixture
def admin_site(client, world):
    """The test client, signed in as the council administrator."""
    client.force_login(world.administrator)
    return client


def _add_contract_data(world, **overrides):
    """A POST for the contract add form, as the admin renders it (two inlines, one row each)."""
    data = {
        "reference": "NEWCO",
        "name": "A second contract",
        "description": "",
        "lead_commissioner": world.lbb.pk,
        "commissioners": [world.lbb.pk, world.selccg.pk],
        "lead_provider": world.btse.pk,
        "start_date": "2024-04-01",
        "initial_term_years": "5",
        "extension_years": "2",
        "extension_notice_months": "6",
        "return_due_working_days": "15",
        "current_budget": "1000000",
        "contract_value": "",
        "funding-TOTAL_FORMS": "1",
        "funding-INITIAL_FORMS": "0",
        "funding-MIN_NUM_FORMS": "0",
        "funding-MAX_NUM_FORMS": "1000",
        "funding-0-name": "Better Care Fund",
        "funding-0-annual_amount": "179000",
        "funding-0-note": "",
        "pathways-TOTAL_FORMS": "1",
        "pathways-INITIAL_FORMS": "0",
        "pathways-MIN_NUM_FORMS": "0",
        "pathways-MAX_NUM_FORMS": "1000",
        "pathways-0-code": "AC",
        "pathways-0-name": "Adult Carers",
        "pathways-0-provider": world.carers.pk,
        "pathways-0-order": "1",
        "_save": "Save",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_every_changelist_opens(admin_site, model):
    response = admin_site.get(reverse(f"admin:{model.replace('.', '_')}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", [m for m in ADMIN_MODELS if m != "contracts.reportingperiod"])
def test_every_add_page_opens(admin_site, model):
    response = admin_site.get(reverse(f"admin:{model.replace('.', '_')}_add"))
    assert response.status_code == 200


def test_change_pages_open(admin_site, world):
    objects = {
        "contracts_organisation": world.btse,
        "contracts_user": world.provider_user,
        "contracts_contract": world.contract,
        "contracts_reportingperiod": world.contract.periods.first(),
        "pathways_pathway": world.spa,
        "kpis_kpi": world.kpi,
        "reports_return": world.ret,
        "reports_figure": world.figure,
    }
    for name, obj in objects.items():
        response = admin_site.get(reverse(f"admin:{name}_change", args=[obj.pk]))
        assert response.status_code == 200, name


def test_editing_a_figure_keeps_the_earlier_value_and_who_changed_it(admin_site, world):
    data = {
        "ret": world.ret.pk,
        "kpi": world.kpi.pk,
        "value": "1300",
        "correction_reason": "The provider's typo, confirmed by email",
        "breakdown-TOTAL_FORMS": "0",
        "breakdown-INITIAL_FORMS": "0",
        "breakdown-MIN_NUM_FORMS": "0",
        "breakdown-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }

    response = admin_site.post(reverse("admin:reports_figure_change", args=[world.figure.pk]), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    latest, earlier = world.figure.history.all()[:2]
    assert (earlier.value, latest.value) == (Decimal(1234), Decimal(1300))
    assert latest.history_user == world.administrator
    history = admin_site.get(reverse("admin:reports_figure_history", args=[world.figure.pk]))
    assert history.status_code == 200
    assert history.context["page_obj"].paginator.count == 2


def test_return_history_opens(admin_site, world):
    response = admin_site.get(reverse("admin:reports_return_history", args=[world.ret.pk]))

    assert response.status_code == 200


def test_periods_are_generated_not_added(admin_site, world):
    period = world.contract.periods.first()
    assert admin_site.get(reverse("admin:contracts_reportingperiod_add")).status_code == 403
    change = admin_site.get(reverse("admin:contracts_reportingperiod_change", args=[period.pk]))
    assert b'name="_save"' not in change.content
    delete = admin_site.get(reverse("admin:contracts_reportingperiod_delete", args=[period.pk]))
    assert delete.status_code == 403


def test_period_list_shows_uk_dates_and_financial_year(admin_site, world):
    url = reverse("admin:contracts_reportingperiod_changelist")
    response = admin_site.get(url, {"contract__id__exact": world.contract.pk})
    content = response.content.decode()
    # Year 1 Q1 of PSIS: Oct–Dec 2022, due 15 working days later, labelled 2022/23 Q3.
    assert "01/10/2022" in content
    assert "31/12/2022" in content
    assert "2022/23 Q3" in content


def test_adding_a_contract_creates_its_quarters(admin_site, world):
    response = admin_site.post(reverse("admin:contracts_contract_add"), _add_contract_data(world))

    assert response.status_code == 302, response.context["adminform"].form.errors
    contract = Contract.objects.get(reference="NEWCO")
    assert contract.periods.count() == 28  # (5 years + 2 extension) × 4 quarters
    first, last = contract.periods.first(), contract.periods.last()
    assert (first.year, first.quarter, first.start) == (1, 1, date(2024, 4, 1))
    assert (last.year, last.quarter, last.end) == (7, 4, date(2031, 3, 31))
    assert set(contract.commissioners.all()) == {world.lbb, world.selccg}
    assert FundingSource.objects.get(contract=contract).name == "Better Care Fund"
    assert contract.pathways.get().provider == world.carers


def test_changing_a_contract_term_corrects_its_quarters(admin_site, world):
    url = reverse("admin:contracts_contract_add")
    admin_site.post(url, _add_contract_data(world, extension_years="0"))
    contract = Contract.objects.get(reference="NEWCO")
    assert contract.periods.count() == 20

    change = _add_contract_data(
        world,
        extension_years="2",
        **{"funding-TOTAL_FORMS": "0", "pathways-TOTAL_FORMS": "0"},
    )
    response = admin_site.post(
        reverse("admin:contracts_contract_change", args=[contract.pk]), change
    )

    assert response.status_code == 302
    assert contract.periods.count() == 28


def test_lead_commissioner_must_be_a_commissioner(admin_site, world):
    data = _add_contract_data(world, commissioners=[world.selccg.pk])

    response = admin_site.post(reverse("admin:contracts_contract_add"), data)

    assert response.status_code == 200
    assert "commissioners" in response.context["adminform"].form.errors
    assert not Contract.objects.filter(reference="NEWCO").exists()
    assert not ReportingPeriod.objects.filter(contract__reference="NEWCO").exists()


def test_a_contract_has_at_most_one_cross_cutting_group(admin_site, world):
    rows = {
        "pathways-TOTAL_FORMS": "2",
        "pathways-0-is_cross_cutting": "on",
        "pathways-1-code": "KO",
        "pathways-1-name": "Key outcomes",
        "pathways-1-provider": world.btse.pk,
        "pathways-1-is_cross_cutting": "on",
        "pathways-1-order": "0",
    }

    response = admin_site.post(
        reverse("admin:contracts_contract_add"), _add_contract_data(world, **rows)
    )

    assert response.status_code == 200
    (pathways,) = [
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "pathways"
    ]
    assert pathways.formset.non_form_errors() == ["A contract has at most one cross-cutting group."]
    assert not Contract.objects.filter(reference="NEWCO").exists()


def test_contract_must_start_on_the_first_of_a_month(admin_site, world):
    data = _add_contract_data(world, start_date="2024-04-02")

    response = admin_site.post(reverse("admin:contracts_contract_add"), data)

    assert response.status_code == 200
    assert "start_date" in response.context["adminform"].form.errors


def test_contract_shows_term_end_and_extension_decision_as_uk_dates(admin_site, world):
    response = admin_site.get(reverse("admin:contracts_contract_change", args=[world.contract.pk]))

    content = response.content.decode()
    assert "30/09/2027" in content  # initial term: 1 Oct 2022 + 5 years
    assert "31/03/2027" in content  # six months' notice before the term ends
    assert "30/09/2029" in content  # with the two-year extension


def test_pathway_list_counts_kpis(admin_site, world):
    response = admin_site.get(reverse("admin:pathways_pathway_changelist"))

    (row,) = response.context["cl"].result_list
    assert row.kpi_count == 1


def test_kpi_search_finds_by_code_and_wording(admin_site, world):
    Kpi.objects.create(
        pathway=world.spa,
        code="SPA-02",
        section="Income maximisation",
        description="Income Maximisation generated",
        measure="money",
    )
    url = reverse("admin:kpis_kpi_changelist")

    by_wording = admin_site.get(url, {"q": "self-refer"})
    by_section = admin_site.get(url, {"q": "maximisation"})
    nothing = admin_site.get(url, {"q": "no such words"})

    assert [k.code for k in by_wording.context["cl"].result_list] == ["SPA-01"]
    assert [k.code for k in by_section.context["cl"].result_list] == ["SPA-02"]
    assert list(nothing.context["cl"].result_list) == []


def test_kpi_list_filters_by_contract(admin_site, world):
    url = reverse("admin:kpis_kpi_changelist")

    response = admin_site.get(url, {"pathway__contract__id__exact": world.contract.pk})

    assert [k.code for k in response.context["cl"].result_list] == ["SPA-01"]


def test_kpi_list_queries_do_not_grow_with_kpis(admin_site, world):
    url = reverse("admin:kpis_kpi_changelist")
    admin_site.get(url)  # warm up session and content types
    with CaptureQueriesContext(connection) as few:
        admin_site.get(url)
    for i in range(2, 12):
        Kpi.objects.create(
            pathway=world.spa, code=f"SPA-{i:02}", section="S", description="D", measure="count"
        )
    with CaptureQueriesContext(connection) as many:
        admin_site.get(url)

    assert len(many) == len(few)


def test_adding_a_user_sets_role_and_organisation(admin_site, world):
    data = {
        "username": "cara",
        "usable_password": "true",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "first_name": "Cara",
        "last_name": "Commissioner",
        "email": "cara@example.org",
        "role": User.Role.COMMISSIONER,
        "organisation": world.lbb.pk,
        "job_title": "Commissioning manager",
        "_save": "Save",
    }

    response = admin_site.post(reverse("admin:contracts_user_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(username="cara")
    assert (user.role, user.organisation, user.job_title) == (
        User.Role.COMMISSIONER,
        world.lbb,
        "Commissioning manager",
    )
    assert user.check_password(PASSWORD)


def test_a_user_other_than_an_administrator_needs_an_organisation(admin_site, world):
    data = {
        "username": "nobody",
        "usable_password": "false",
        "role": User.Role.PROVIDER,
        "organisation": "",
        "_save": "Save",
    }

    response = admin_site.post(reverse("admin:contracts_user_add"), data)

    assert response.status_code == 200
    assert "organisation" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="nobody").exists()


def test_user_list_shows_role_and_organisation(admin_site, world):
    response = admin_site.get(reverse("admin:contracts_user_changelist"), {"q": "Lena"})

    content = response.content.decode()
    assert "Lena Lead" in content
    assert "Provider user" in content
    assert "Bromley Third Sector Enterprise" in content


def test_return_page_shows_figures_read_only(admin_site, world):
    response = admin_site.get(reverse("admin:reports_return_change", args=[world.ret.pk]))

    content = response.content.decode()
    assert "1234" in content.replace(",", "")
    assert 'name="figures-0-value"' not in content


def test_non_staff_user_is_sent_to_admin_login(client, world):
    client.force_login(world.provider_user)

    response = client.get(reverse("admin:kpis_kpi_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_visitor_is_sent_to_sign_in(client, world):
    """Every page is behind login: LoginRequiredMiddleware sends visitors to the site's sign-in."""
    url = reverse("admin:contracts_contract_changelist")

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
