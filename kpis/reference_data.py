"""Load a contract and its KPI catalogue from the YAML reference data in fixtures/.

Idempotent: running it again updates records in place (matched by their codes), so a corrected
catalogue can be re-loaded. Everything is checked before anything is written; a bad file raises
ReferenceDataError naming the entry and the key at fault.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from django.db import transaction

from contracts.models import Contract, FundingSource, Organisation
from contracts.services import contract_sync_periods
from kpis.models import (
    Frequency,
    JudgedOn,
    Kpi,
    KpiCategory,
    KpiTarget,
    Measure,
    ObaClass,
    Polarity,
    TargetPeriod,
    TargetStatus,
    YearToDate,
)
from pathways.models import Pathway

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PSIS_CONTRACT = FIXTURES / "psis_contract.yaml"
PSIS_CATALOGUE = FIXTURES / "psis_catalogue.yaml"

KPI_REQUIRED = (
    "code",
    "section",
    "description",
    "measure",
    "polarity",
    "target_status",
    "target_period",
    "frequency",
    "oba",
)
KPI_CHOICES = {
    "measure": Measure.values,
    "polarity": Polarity.values,
    "target_status": TargetStatus.values,
    "target_period": TargetPeriod.values,
    "frequency": Frequency.values,
    "oba": ObaClass.values,
}

# Optional keys, with the model's default where absent.
KPI_OPTIONAL_CHOICES = {
    "judged_on": JudgedOn.values,
    "ytd": YearToDate.values,
}


class ReferenceDataError(ValueError):
    pass


@dataclass(frozen=True)
class LoadResult:
    contract: Contract
    pathways: int
    kpis: int


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ReferenceDataError(f"{path.name}: cannot be read ({exc}).") from exc
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{path.name}: expected a mapping at the top level.")
    return data


def _decimal(value, where: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ReferenceDataError(f"{where}: {value!r} is not a number.") from exc
    if number < 0:
        raise ReferenceDataError(f"{where}: {value} is negative.")
    return number


def _targets(entry: dict, where: str) -> dict[int, Decimal]:
    if "target" in entry and "targets" in entry:
        raise ReferenceDataError(f"{where}: give either target or targets, not both.")
    if "targets" in entry:
        targets = entry["targets"]
        if not isinstance(targets, dict) or not targets:
            raise ReferenceDataError(f"{where}: targets must map contract years to numbers.")
        return {int(y): _decimal(v, f"{where} targets[{y}]") for y, v in targets.items()}
    if entry.get("target") is not None:
        return {1: _decimal(entry["target"], f"{where} target")}
    return {}


def check_kpi(entry: dict, pathway_code: str) -> None:
    where = f"{pathway_code} KPI {entry.get('code', '(no code)')}"
    for key in KPI_REQUIRED:
        if entry.get(key) in (None, ""):
            raise ReferenceDataError(f"{where}: '{key}' is missing.")
    for key, allowed in KPI_CHOICES.items():
        if entry[key] not in allowed:
            raise ReferenceDataError(
                f"{where}: '{key}' is {entry[key]!r}; expected one of {', '.join(allowed)}."
            )
    targets = _targets(entry, where)
    if entry["target_status"] == TargetStatus.SET and not targets:
        raise ReferenceDataError(f"{where}: target_status is 'set' but no target is given.")
    if entry["target_status"] == TargetStatus.NONE and targets:
        raise ReferenceDataError(f"{where}: a target is given but target_status is 'none'.")
    for key, allowed in KPI_OPTIONAL_CHOICES.items():
        if key in entry and entry[key] not in allowed:
            raise ReferenceDataError(
                f"{where}: '{key}' is {entry[key]!r}; expected one of {', '.join(allowed)}."
            )
    if entry.get("has_total") and entry["measure"] != Measure.BREAKDOWN:
        raise ReferenceDataError(f"{where}: has_total applies to breakdowns only.")
    if entry.get("ytd") == YearToDate.LATEST and entry["measure"] not in (
        Measure.COUNT,
        Measure.MONEY,
        Measure.BREAKDOWN,
    ):
        raise ReferenceDataError(f"{where}: only a count, money or breakdown can be a level.")
    if entry.get("categories") and entry["measure"] != Measure.BREAKDOWN:
        raise ReferenceDataError(f"{where}: categories apply to breakdowns only.")


def check(contract_data: dict, catalogue_data: dict) -> None:
    """Validate both files completely before anything is written."""
    orgs = {o["short_name"] for o in contract_data.get("organisations", [])}
    c = contract_data.get("contract") or {}
    for key in ("reference", "name", "lead_commissioner", "lead_provider", "start_date"):
        if not c.get(key):
            raise ReferenceDataError(f"contract: '{key}' is missing.")
    for short in [c["lead_commissioner"], c["lead_provider"], *c.get("commissioners", [])]:
        if short not in orgs:
            raise ReferenceDataError(f"contract: organisation {short!r} is not defined.")
    pathway_codes = set()
    for p in contract_data.get("pathways", []):
        if p["provider"] not in orgs:
            raise ReferenceDataError(f"pathway {p['code']}: provider {p['provider']!r} unknown.")
        pathway_codes.add(p["code"])
    seen = set()
    for p in catalogue_data.get("pathways", []):
        if p["code"] not in pathway_codes:
            raise ReferenceDataError(f"catalogue: pathway {p['code']!r} is not in the contract.")
        for entry in p.get("kpis", []):
            check_kpi(entry, p["code"])
            if entry["code"] in seen:
                raise ReferenceDataError(f"catalogue: KPI code {entry['code']} appears twice.")
            seen.add(entry["code"])


def _load_organisations(data: dict) -> dict[str, Organisation]:
    orgs = {}
    for o in data.get("organisations", []):
        org, _ = Organisation.objects.update_or_create(
            short_name=o["short_name"],
            defaults={"name": o["name"], "kind": o["kind"], "trading_as": o.get("trading_as", "")},
        )
        orgs[org.short_name] = org
    return orgs


def _load_contract(data: dict, orgs: dict[str, Organisation]) -> Contract:
    c = data["contract"]
    contract, _ = Contract.objects.update_or_create(
        reference=c["reference"],
        defaults={
            "name": c["name"],
            "description": c.get("description", ""),
            "lead_commissioner": orgs[c["lead_commissioner"]],
            "lead_provider": orgs[c["lead_provider"]],
            "start_date": c["start_date"],
            "initial_term_years": c.get("initial_term_years", 5),
            "extension_years": c.get("extension_years", 0),
            "extension_notice_months": c.get("extension_notice_months", 6),
            "current_budget": c.get("current_budget"),
            "contract_value": c.get("contract_value"),
            "return_due_working_days": c.get("return_due_working_days", 15),
        },
    )
    contract.commissioners.set([orgs[s] for s in c.get("commissioners", [])])
    contract.funding.all().delete()
    for f in c.get("funding", []):
        FundingSource.objects.create(
            contract=contract,
            name=f["name"],
            annual_amount=f.get("annual_amount"),
            note=f.get("note", ""),
        )
    contract_sync_periods(contract=contract)
    return contract


def _load_pathways(data: dict, contract: Contract, orgs) -> dict[str, Pathway]:
    pathways = {}
    for order, p in enumerate(data.get("pathways", [])):
        pathway, created = Pathway.objects.get_or_create(
            contract=contract,
            code=p["code"],
            defaults={"name": p["name"], "provider": orgs[p["provider"]], "order": order},
        )
        # The delivering organisation is the administrator's to change once loaded.
        pathway.name = p["name"]
        pathway.description = p.get("description", "")
        pathway.is_cross_cutting = p.get("cross_cutting", False)
        pathway.order = order
        pathway.save()
        pathways[pathway.code] = pathway
    return pathways


def _load_kpi(entry: dict, pathway: Pathway, order: int) -> Kpi:
    kpi, _ = Kpi.objects.update_or_create(
        pathway=pathway,
        code=entry["code"],
        defaults={
            "section": entry["section"],
            "outcome": entry.get("outcome", ""),
            "description": entry["description"],
            "measure": entry["measure"],
            "polarity": entry["polarity"],
            "target_status": entry["target_status"],
            "target_period": entry["target_period"],
            "frequency": entry["frequency"],
            "oba_class": entry["oba"],
            "has_total": entry.get("has_total", False),
            "judged_on": entry.get("judged_on", JudgedOn.AUTOMATIC),
            "ytd": entry.get("ytd", YearToDate.SUM),
            "seed_text": entry.get("seed_text", ""),
            "note": entry.get("note", ""),
            "order": order,
        },
    )
    targets = _targets(entry, entry["code"])
    kpi.targets.exclude(from_year__in=targets).delete()
    for year, value in targets.items():
        KpiTarget.objects.update_or_create(kpi=kpi, from_year=year, defaults={"value": value})
    names = entry.get("categories") or []
    kpi.categories.exclude(name__in=names).delete()
    for i, name in enumerate(names):
        KpiCategory.objects.update_or_create(kpi=kpi, name=name, defaults={"order": i})
    return kpi


@transaction.atomic
def load_reference_data(
    contract_path: Path = PSIS_CONTRACT, catalogue_path: Path = PSIS_CATALOGUE
) -> LoadResult:
    contract_data = _read(contract_path)
    catalogue_data = _read(catalogue_path)
    check(contract_data, catalogue_data)
    orgs = _load_organisations(contract_data)
    contract = _load_contract(contract_data, orgs)
    pathways = _load_pathways(contract_data, contract, orgs)
    count = 0
    for p in catalogue_data.get("pathways", []):
        for order, entry in enumerate(p.get("kpis", [])):
            _load_kpi(entry, pathways[p["code"]], order)
            count += 1
    return LoadResult(contract=contract, pathways=len(pathways), kpis=count)
