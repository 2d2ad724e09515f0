"""The KPI catalogue of a contract as rows, for the CSV/XLSX download and the command."""

from collections.abc import Iterator

from contracts.models import Contract
from kpis.models import Kpi, TargetStatus

FIXED_HEADERS_BEFORE = [
    "Pathway",
    "Section",
    "KPI code",
    "Description",
    "Measure type",
    "Unit",
    "Polarity",
    "Target status",
]
FIXED_HEADERS_AFTER = [
    "Target period",
    "Reporting frequency",
    "Year to date is",
    "Headline judged on",
    "OBA class",
    "Notes",
]


def catalogue_years(contract: Contract) -> list[int]:
    return list(range(1, contract.initial_term_years + contract.extension_years + 1))


def catalogue_headers(contract: Contract) -> list[str]:
    years = [f"Year {y} target" for y in catalogue_years(contract)]
    return FIXED_HEADERS_BEFORE + years + FIXED_HEADERS_AFTER


def catalogue_kpis(contract: Contract, pathways=None) -> list[Kpi]:
    """The contract's KPIs; only those of ``pathways`` when given (what the user may see)."""
    kpis = Kpi.objects.for_contract(contract).with_targets()
    if pathways is not None:
        kpis = kpis.filter(pathway__in=pathways)
    # list() runs the query once, with targets prefetched, before rows are written.
    return list(kpis)


def catalogue_rows(contract: Contract, pathways=None) -> Iterator[list]:
    years = catalogue_years(contract)
    for kpi in catalogue_kpis(contract, pathways):
        if kpi.target_status == TargetStatus.NONE:
            targets = [None for _ in years]
        else:
            targets = [kpi.target_for_year(y) for y in years]
        yield [
            kpi.pathway.name,
            kpi.section,
            kpi.code,
            kpi.description,
            kpi.get_measure_display(),
            kpi.unit,
            kpi.get_polarity_display(),
            kpi.get_target_status_display(),
            *targets,
            kpi.get_target_period_display(),
            kpi.get_frequency_display(),
            kpi.get_ytd_display(),
            kpi.basis.label,
            kpi.get_oba_class_display(),
            kpi.note,
        ]
