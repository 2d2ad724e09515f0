"""The shipped reference data: the PSIS contract and every KPI of Appendices 1 and 2."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
import yaml
from django.core.management import call_command

from contracts.models import Contract, ReportingPeriod
from kpis.models import Kpi
from kpis.reference_data import PSIS_CATALOGUE, ReferenceDataError, load_reference_data
from psis.rag import Basis

SEED_NAME = "000_18b49d68ad15cc08.txt"  # the award report, in the source documents (seeds_dir)

# KPIs per pathway, counted from the seed: a row is one KPI unless its cell holds several
# measures or targets (each note in the catalogue says how a row was split).
EXPECTED_COUNTS = {
    "KEY": 31,  # Appendix 1: every measure of the "Mode of Measurement" column
    "SPA": 23,
    "LTHC": 20,
    "EF": 15,
    "EE": 13,
    "LD": 11,
    "PD": 17,
    "AC": 34,
    "YC": 11,
    "DR": 6,
}
SEED_TABLES = {
    "Single Point of Access Draft KPIs": "SPA",
    "Long Term Health Conditions Pathway Draft KPIs": "LTHC",
    "Elderly Frail Draft KPIs": "EF",
    "Employment and Education Draft KPIs": "EE",
    "Adults with Learning Disabilities Draft KPIs": "LD",
    "Adults with Physical Disabilities Draft KPIs": "PD",
    "Carers Draft KPIs": "AC",
    "Young Carers Draft KPIs": "YC",
    "Dementia Draft KPIs": "DR",
}
HEADER_CELLS = {"Measurement", "How will this be measured", "<i>Measure</i>"}


@pytest.fixture
def psis(db):
    return load_reference_data().contract


@pytest.fixture
def seed(seeds_dir):
    return seeds_dir / SEED_NAME


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def appendix_2_rows(seed) -> list[tuple[str, str]]:
    """(pathway code, measure cell) for every row of Appendix 2 that states a measure."""
    lines = seed.read_text(encoding="utf-8").splitlines()
    start = lines.index("Appendix 2")
    rows, pathway = [], None
    for line in lines[start:]:
        if line.strip() in SEED_TABLES:
            pathway = SEED_TABLES[line.strip()]
            continue
        cells = [c.strip() for c in line.split("\t")]
        if pathway and len(cells) >= 2 and cells[1] and cells[1] not in HEADER_CELLS:
            rows.append((pathway, cells[1]))
    return rows


def test_the_seed_is_where_the_tests_expect_it(seed):
    assert seed.exists(), "shared/seeds must sit beside the project checkout"
    assert len(appendix_2_rows(seed)) > 120


@pytest.mark.django_db
def test_every_pathway_has_the_seed_number_of_kpis(psis):
    counts = {
        code: Kpi.objects.filter(pathway__contract=psis, pathway__code=code).count()
        for code in EXPECTED_COUNTS
    }
    assert counts == EXPECTED_COUNTS
    assert psis.pathways.filter(is_cross_cutting=False).count() == 9


@pytest.mark.django_db
def test_every_appendix_2_row_is_traced_to_a_kpi_of_its_pathway(seed, psis):
    traced = {}
    for kpi in Kpi.objects.filter(pathway__contract=psis).select_related("pathway"):
        traced.setdefault(kpi.pathway.code, []).append(_norm(kpi.seed_text))
    untraced = []
    for pathway, cell in appendix_2_rows(seed):
        words = _norm(cell)[:50]
        if not any(words in seed_text for seed_text in traced[pathway]):
            untraced.append((pathway, cell))
    # Rows continued from the previous line or left empty by the extraction, checked by hand:
    allowed = {
        ("EE", "gaining an apprenticeship annually"),
        ("LD", "Via annual report"),
    }
    assert set(untraced) <= allowed, untraced


@pytest.mark.parametrize(
    ("pathway", "wording", "target", "period", "frequency"),
    [
        ("SPA", "Number of people who self-refer to the SPA", "5000", "annual", "quarterly"),
        ("SPA", "Income Maximisation generated", "75000", "quarterly", "quarterly"),
        ("EF", "900 referrals for information advice", "900", "annual", "quarterly"),
        ("DR", "Number of new service users receiving the service", "18", "monthly", "quarterly"),
        ("DR", "Number of hours booked per week", "310", "weekly", "quarterly"),
        ("YC", "Uptake of 30 school referrals annually", "30", "annual", "annual"),
        ("LTHC", "100% of referrals are acknowledged", "100", "none", "quarterly"),
    ],
)
@pytest.mark.django_db
def test_seed_targets_are_kept(psis, pathway, wording, target, period, frequency):
    kpi = Kpi.objects.get(
        pathway__contract=psis, pathway__code=pathway, description__startswith=wording
    )
    assert kpi.target_for_year(1) == Decimal(target)
    assert (kpi.target_period, kpi.frequency) == (period, frequency)


@pytest.mark.django_db
def test_a_target_that_rises_after_year_1(psis):
    sitting = Kpi.objects.get(pathway__contract=psis, description__contains="sitting services")
    assert [sitting.target_for_year(y) for y in (1, 2, 5)] == [280, 365, 365]


@pytest.mark.django_db
def test_what_the_seed_leaves_open_stays_open(psis):
    open_kpis = Kpi.objects.filter(pathway__contract=psis, target_status="to_be_agreed")
    assert open_kpis.filter(pathway__code="SPA", description__icontains="loneliness").exists()
    unanswered = Kpi.objects.get(
        pathway__contract=psis, description="% of calls that go unanswered"
    )
    assert (unanswered.target_status, unanswered.polarity, unanswered.measure) == (
        "none",
        "lower",
        "percentage",
    )
    assert not unanswered.targets.exists()


@pytest.mark.django_db
def test_the_contract_matches_the_award_report(psis):
    assert psis.start_date == date(2022, 10, 1)
    assert psis.initial_term_end == date(2027, 9, 30)
    assert psis.latest_possible_end == date(2029, 9, 30)
    assert psis.current_budget == Decimal("2850000")
    assert psis.contract_value is None
    assert [o.short_name for o in psis.commissioners.order_by("short_name")] == ["LBB", "SELCCG"]
    assert psis.lead_commissioner.short_name == "LBB"
    periods = ReportingPeriod.objects.filter(contract=psis)
    assert periods.count() == 28
    first = periods.get(year=1, quarter=1)
    assert (first.start, first.end, first.fy_label) == (
        date(2022, 10, 1),
        date(2022, 12, 31),
        "2022/23 Q3",
    )
    assert first.due_date == date(2023, 1, 23)


@pytest.mark.django_db
def test_loading_twice_changes_nothing(psis):
    before = (Kpi.objects.count(), ReportingPeriod.objects.count(), Contract.objects.count())
    load_reference_data()
    assert (
        Kpi.objects.count(),
        ReportingPeriod.objects.count(),
        Contract.objects.count(),
    ) == before


@pytest.mark.django_db
def test_what_the_headline_is_judged_on(psis):
    """A quarterly money target on the year to date; "a minimum of 60 ... each quarter" on the
    quarter, set in the catalogue."""
    kpis = Kpi.objects.filter(pathway__contract=psis)
    income = kpis.get(code="SPA-07")
    each_quarter = kpis.get(code="PD-02")
    assert (income.judged_on, income.basis) == ("auto", Basis.YEAR_TO_DATE)
    assert (each_quarter.judged_on, each_quarter.basis) == ("quarter", Basis.QUARTER)
    assert set(kpis.exclude(judged_on="auto").values_list("code", flat=True)) == {"PD-02"}


@pytest.mark.django_db
def test_levels_take_the_latest_value_as_their_year_to_date(psis):
    """The carers register's total members (and their breakdown) and "carers on register during
    quarter" are levels; everything else is summed (or is a rate or an average)."""
    kpis = Kpi.objects.filter(pathway__contract=psis)
    levels = set(kpis.filter(ytd="latest").values_list("code", flat=True))
    assert levels == {"AC-04", "AC-05", "DR-04"}
    assert all(k.is_level for k in kpis.filter(ytd="latest"))
    assert kpis.get(code="AC-03").ytd == "sum"  # new members joining: a flow
    assert kpis.get(code="DR-04").basis == Basis.QUARTER


@pytest.mark.django_db
def test_a_bad_judged_on_is_refused(tmp_path):
    data = yaml.safe_load(PSIS_CATALOGUE.read_text())
    data["pathways"][1]["kpis"][2]["judged_on"] = "whenever"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ReferenceDataError, match=r"'judged_on' is 'whenever'"):
        load_reference_data(catalogue_path=bad)


@pytest.mark.django_db
def test_a_bad_catalogue_loads_nothing_and_says_which_kpi(tmp_path):
    data = yaml.safe_load(PSIS_CATALOGUE.read_text())
    data["pathways"][1]["kpis"][2]["measure"] = "guesswork"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    code = data["pathways"][1]["kpis"][2]["code"]
    with pytest.raises(ReferenceDataError, match=rf"{code}: 'measure' is 'guesswork'"):
        load_reference_data(catalogue_path=bad)
    assert not Contract.objects.exists()


@pytest.mark.django_db
def test_export_kpi_catalogue_command_writes_every_kpi(psis, tmp_path, capsys):
    call_command("export_kpi_catalogue", "PSIS", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    assert len(rows) == sum(EXPECTED_COUNTS.values())
    spa = next(r for r in rows if r["KPI code"] == "SPA-05")
    assert spa["Year 1 target"] == "5000"
    assert spa["Target period"] == "Annual"
    assert spa["Headline judged on"] == "Year to date"
    register = next(r for r in rows if r["KPI code"] == "DR-04")
    assert register["Year to date is"].startswith("Latest reported value")
    assert register["Headline judged on"] == "Quarter"
    sitting = next(r for r in rows if "sitting services" in r["Description"])
    assert (sitting["Year 1 target"], sitting["Year 2 target"]) == ("280", "365")

    out = tmp_path / "catalogue.xlsx"
    call_command("export_kpi_catalogue", "PSIS", "--format", "xlsx", "--output", str(out))
    sheet = openpyxl.load_workbook(out, read_only=True)["KPI catalogue"]
    assert sheet.max_row == sum(EXPECTED_COUNTS.values()) + 1
