"""The KPI catalogue page and its downloads show a user only the pathways they may see."""

import csv
import io

import pytest


def _codes(response) -> set[str]:
    text = response.content.decode("utf-8-sig")
    return {row["KPI code"] for row in csv.DictReader(io.StringIO(text))}


@pytest.mark.django_db
def test_a_partner_downloads_only_its_own_pathways(client, cast):
    client.force_login(cast.partner)
    codes = _codes(client.get("/contracts/PSIS/kpis/catalogue.csv"))
    assert codes == {"AC-01", "AC-02"}
    page = client.get("/contracts/PSIS/kpis/").content.decode()
    assert "AC-01" in page and "SPA-01" not in page


@pytest.mark.django_db
def test_the_lead_provider_and_commissioners_download_every_pathway(client, cast):
    for user in (cast.lead, cast.commissioner, cast.officer):
        client.force_login(user)
        codes = _codes(client.get("/contracts/PSIS/kpis/catalogue.csv"))
        assert codes == {"SPA-01", "SPA-02", "SPA-03", "SPA-04", "AC-01", "AC-02"}


@pytest.mark.django_db
def test_an_outsider_cannot_download_the_catalogue(client, cast):
    client.force_login(cast.outsider)
    assert client.get("/contracts/PSIS/kpis/catalogue.xlsx").status_code == 404
