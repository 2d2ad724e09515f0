"""Every KPI shape of the real PSIS catalogue, with the demo's figures: page, template, upload."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from contracts.models import User
from demo.seed import seed_demo
from pathways.models import Pathway
from reports import contents
from reports.models import Figure, Return


@pytest.fixture
def lead(db):
    seed_demo()
    client = Client()
    client.force_login(User.objects.get(username="lead"))
    return client


PATHWAYS = ["KEY", "SPA", "EF", "LTHC", "EE", "PD", "LD", "YC", "AC", "DR"]


def test_each_pathways_year_end_return_round_trips_through_excel(lead):
    """Y2Q4 holds every KPI, annual ones included; the demo leaves some of it in draft."""
    uploaded = [code for code in PATHWAYS if round_trip(lead, code)]
    assert uploaded  # at least some of the year-end returns are still open in the demo


def round_trip(lead, code):
    page = f"/contracts/PSIS/returns/{code}/Y2Q4/"
    response = lead.get(page)
    assert response.status_code == 200
    template = lead.get(page + "template.xlsx").content
    pathway = Pathway.objects.get(contract__reference="PSIS", code=code)
    ret = Return.objects.filter(pathway=pathway, period__year=2, period__quarter=4).first()
    kpis, specs = contents.return_specs(
        ret or Return(pathway=pathway, period=pathway.contract.periods.get(year=2, quarter=4))
    )
    wb = openpyxl.load_workbook(io.BytesIO(template))
    assert len([r for r in wb.worksheets[1].iter_rows(min_row=7) if r[6].value]) >= len(kpis)
    if ret is not None and ret.is_locked:
        return False
    before = list(Figure.objects.filter(ret=ret).order_by("pk").values()) if ret else []
    response = lead.post(
        page + "upload/",
        {"file": SimpleUploadedFile("t.xlsx", template), "version": ret.version if ret else 0},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    if ret is not None:
        # The template carried the draft's own figures: uploading it back changes nothing.
        assert list(Figure.objects.filter(ret=ret).order_by("pk").values()) == before
    return True


def test_each_pathways_returns_read_well(lead):
    for code in PATHWAYS:
        for quarter in ("Y1Q1", "Y2Q3", "Y3Q1"):
            response = lead.get(f"/contracts/PSIS/returns/{code}/{quarter}/")
            assert response.status_code == 200, (code, quarter)
            assert b"Last return" in response.content
