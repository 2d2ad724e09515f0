"""The KPI catalogue of a contract, on the page and as CSV or XLSX."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from contracts.access import (
    get_contract_for_user,
)
from kpis import catalogue
from pathways.access import pathways_for
from psis import exports


@require_GET
def kpi_catalogue(request: HttpRequest, reference: str) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    kpis = catalogue.catalogue_kpis(contract, pathways_for(request.user, contract))
    return render(request, "kpis/kpi_catalogue.html", {"contract": contract, "kpis": kpis})


@require_GET
def kpi_catalogue_download(request: HttpRequest, reference: str, fmt: str) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    if fmt not in ("csv", "xlsx"):  # before any work
        raise Http404("Unknown format")
    filename = f"{contract.reference}-kpi-catalogue.{fmt}"
    headers = catalogue.catalogue_headers(contract)
    rows = catalogue.catalogue_rows(contract, pathways_for(request.user, contract))
    if fmt == "csv":
        return exports.csv_response(filename, headers, rows)
    if fmt == "xlsx":
        sheet = exports.Sheet(
            title="KPI catalogue",
            headers=headers,
            rows=rows,
            widths=[24, 30, 10, 60, 18, 10, 16, 18]
            + [10] * len(catalogue.catalogue_years(contract))
            + [18, 18, 22, 50],
        )
        return exports.xlsx_response(filename, [sheet])
    raise Http404("Unknown format")
