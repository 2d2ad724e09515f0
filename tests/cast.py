"""The shared cast: one small world of organisations, contracts and people used by every test.

commissioner (LBB) and officer (LBB) on PSIS; lead (BTSE, lead provider of PSIS); partner
(Carers Bromley, delivers the Adult Carers pathway only); outsider (provider of another contract).

build_cast() makes all of it. Its parts (the organisations, the PSIS contract, the people) serve a
test that needs the same people around a smaller contract, such as tests/test_admin.py.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from contracts.models import Contract, Organisation, User
from contracts.services import contract_sync_periods
from kpis.models import Kpi, KpiCategory, KpiTarget
from pathways.models import Pathway

PASSWORD = "cast-password-2026"


@dataclass
class Cast:
    contract: Contract
    other_contract: Contract
    spa: Pathway
    carers: Pathway
    other_pathway: Pathway
    commissioner: User
    officer: User
    lead: User
    partner: User
    outsider: User
    admin: User
    kpis: dict[str, Kpi]

    def users(self):
        return {
            "commissioner": self.commissioner,
            "officer": self.officer,
            "lead": self.lead,
            "partner": self.partner,
            "outsider": self.outsider,
            "admin": self.admin,
        }


def _org(short, name, kind):
    return Organisation.objects.create(short_name=short, name=name, kind=kind)


def _user(username, role, org, first, last):
    return User.objects.create_user(
        username=username,
        password=PASSWORD,
        role=role,
        organisation=org,
        first_name=first,
        last_name=last,
        email=f"{username}@example.org",
    )


def _kpi(pathway, code, measure="count", target=None, period="annual", **extra):
    kpi = Kpi.objects.create(
        pathway=pathway,
        code=code,
        section=extra.pop("section", "Service users"),
        description=extra.pop("description", f"KPI {code}"),
        measure=measure,
        target_status="set" if target is not None else "none",
        target_period=period if target is not None else "none",
        **extra,
    )
    if target is not None:
        KpiTarget.objects.create(kpi=kpi, from_year=1, value=Decimal(target))
    return kpi


@dataclass
class Organisations:
    lbb: Organisation
    selccg: Organisation
    btse: Organisation
    carers: Organisation
    outsider: Organisation
    other_commissioner: Organisation


def build_organisations() -> Organisations:
    """Both commissioners and the lead provider of PSIS, its partner, and another contract's."""
    return Organisations(
        lbb=_org("LBB", "London Borough of Bromley", "commissioner"),
        selccg=_org("SELCCG", "South East London Clinical Commissioning Group", "commissioner"),
        btse=_org("BTSE", "Bromley Third Sector Enterprise", "provider"),
        carers=_org("CB", "Carers Bromley", "provider"),
        outsider=_org("OUTS", "Outsider Provider Ltd", "provider"),
        other_commissioner=_org("OTHERC", "Another Commissioner", "commissioner"),
    )


def build_psis_contract(orgs: Organisations) -> Contract:
    """The PSIS contract (LBB and SELCCG commission it, BTSE leads), with its quarters."""
    contract = Contract.objects.create(
        reference="PSIS",
        name="Primary and Secondary Intervention Service",
        lead_commissioner=orgs.lbb,
        lead_provider=orgs.btse,
        start_date=date(2022, 10, 1),
        initial_term_years=5,
        extension_years=2,
        current_budget=Decimal("2850000"),
    )
    contract.commissioners.set([orgs.lbb, orgs.selccg])
    contract_sync_periods(contract=contract)
    return contract


def build_people(orgs: Organisations) -> dict[str, User]:
    """The administrator and one person of each role, by the names Cast.users() gives them."""
    admin = User.objects.create_superuser(
        username="admin", password=PASSWORD, email="admin@example.org", role="administrator"
    )
    return {
        "commissioner": _user("commissioner", "commissioner", orgs.lbb, "Cara", "Commissioner"),
        "officer": _user("officer", "officer", orgs.lbb, "Olu", "Officer"),
        "lead": _user("lead", "provider", orgs.btse, "Lena", "Lead"),
        "partner": _user("partner", "provider", orgs.carers, "Pat", "Partner"),
        "outsider": _user("outsider", "provider", orgs.outsider, "Otto", "Outsider"),
        "admin": admin,
    }


def build_cast() -> Cast:
    orgs = build_organisations()
    contract = build_psis_contract(orgs)
    other = Contract.objects.create(
        reference="OTHER",
        name="Another service",
        lead_commissioner=orgs.other_commissioner,
        lead_provider=orgs.outsider,
        start_date=date(2023, 4, 1),
        initial_term_years=3,
    )
    other.commissioners.set([orgs.other_commissioner])
    contract_sync_periods(contract=other)

    spa = Pathway.objects.create(
        contract=contract, code="SPA", name="Single Point of Access", provider=orgs.btse, order=1
    )
    carers = Pathway.objects.create(
        contract=contract, code="AC", name="Adult Carers", provider=orgs.carers, order=2
    )
    other_pathway = Pathway.objects.create(
        contract=other, code="OP", name="Other pathway", provider=orgs.outsider
    )
    kpis = {
        "SPA-01": _kpi(spa, "SPA-01", target=5000, description="Number of people who self-refer"),
        "SPA-02": _kpi(
            spa,
            "SPA-02",
            measure="money",
            target=75000,
            period="quarterly",
            description="Income Maximisation generated",
        ),
        "SPA-03": _kpi(
            spa,
            "SPA-03",
            measure="percentage",
            polarity="lower",
            description="% of calls that go unanswered",
        ),
        "SPA-04": _kpi(
            spa,
            "SPA-04",
            measure="breakdown",
            has_total=True,
            description="Number of phone enquiries",
        ),
        "AC-01": _kpi(carers, "AC-01", target=600, description="600 carers supported annually"),
        "AC-02": _kpi(
            carers, "AC-02", measure="evidence", description="Evidence of online services"
        ),
        "OP-01": _kpi(other_pathway, "OP-01", target=100),
    }
    for i, name in enumerate(["Unique service users", "Repeat engagement"]):
        KpiCategory.objects.create(kpi=kpis["SPA-04"], name=name, order=i)

    return Cast(
        contract=contract,
        other_contract=other,
        spa=spa,
        carers=carers,
        other_pathway=other_pathway,
        kpis=kpis,
        **build_people(orgs),
    )
