"""The full PSIS demo pack: all nine pathways and the key outcomes, rendered once (~10 s)."""

import io

import pytest
from pypdf import PdfReader

from contracts.models import Contract
from demo.meetings import seed_demo_meetings
from demo.seed import seed_demo
from meetings import pack
from meetings.models import Action, Meeting
from tests.builders import pdf_text

# The marker makes pytest-django set up the test database even when only this module runs.
pytestmark = pytest.mark.django_db

PATHWAYS = [
    "Key outcomes (cross-cutting)",
    "Single Point of Access",
    "Elderly Frail",
    "Long Term Health Conditions",
    "Education and Employment",
    "Physical Disabilities",
    "Learning Disability",
    "Young Carers",
    "Adult Carers",
    "Dementia Respite",
]


@pytest.fixture(scope="module")
def demo_pack(django_db_setup, django_db_blocker):
    """Seed the demo, build the Year 2 Q3 pack, and roll everything back afterwards."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        seed_demo()
        psis = Contract.objects.get(reference="PSIS")
        meetings = seed_demo_meetings(psis)
        period = psis.periods.get(year=2, quarter=3)
        built = pack.build_pack(psis, period, marking="DRAFT")
        meeting = Meeting.objects.get(contract=psis, period=period)
        carried = [a.description for a in Action.objects.carried_forward_to(meeting)]
        transaction.set_rollback(True)
    return built, meetings, carried


def test_demo_meetings_seed_seven_quarters_with_open_and_closed_actions(demo_pack):
    _, meetings, carried = demo_pack
    assert [m.period.label for m in meetings] == [
        "Year 1 Q1",
        "Year 1 Q2",
        "Year 1 Q3",
        "Year 1 Q4",
        "Year 2 Q1",
        "Year 2 Q2",
        "Year 2 Q3",
    ]
    assert len(carried) == 3  # still open from earlier meetings


def test_every_pathway_and_every_kpi_due_with_its_rag(demo_pack):
    built, _, _ = demo_pack
    text = pdf_text(built.pdf)
    for name in PATHWAYS:
        assert name in text
    assert [s.title for s in built.data.all_sections] == PATHWAYS
    lines = pdf_text(built.pdf, layout=True).splitlines()
    due = [row for section in built.data.all_sections for row in section.rows]
    assert len(due) > 100
    for row in due:
        starting = [line for line in lines if line.strip().startswith(f"{row.code} ")]
        assert starting, f"{row.code} is not in the pack"
        word = row.rag_word.split()[0]
        assert any(word in line for line in starting), f"{row.code} lacks its RAG {word}"
    not_due = [row.code for s in built.data.all_sections for row in s.not_due]
    assert not_due  # annual KPIs are listed as not due in Q3
    for code in not_due:
        assert code in text


def test_actions_carried_forward_and_exceptions(demo_pack):
    built, _, carried = demo_pack
    text = pdf_text(built.pdf)
    log = text[text.index("Action log for the") : text.index("How RAG is judged")]
    for description in carried:
        assert description in log
    assert log.count("carried forward") == len(carried)
    exceptions = text[text.index("Exceptions Every KPI") : text.index("Action log Actions")]
    for row in built.data.exceptions:
        assert row.row.code in exceptions


def test_the_pack_is_a_tagged_a4_pdf(demo_pack):
    built, _, _ = demo_pack
    reader = PdfReader(io.BytesIO(built.pdf))
    assert 20 <= len(reader.pages) <= 60
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB" and "/StructTreeRoot" in root
