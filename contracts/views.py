import logging
import re
import secrets
import tempfile

from django.contrib import messages
from django.contrib.auth import logout
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contracts import services as contract_services
from kpis import catalogue
from psis import access, exports

logger = logging.getLogger(__name__)

# The exit page's script waits for this cookie, carrying its form's token, to say "downloading".
DOWNLOAD_COOKIE = "psis_download"
DOWNLOAD_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    from reports import services as returns  # the returns app builds on contracts

    contracts = list(
        access.contracts_for(request.user).select_related("lead_commissioner", "lead_provider")
    )
    context = {"contracts": contracts}
    if request.user.role == request.user.Role.PROVIDER:
        context["returns_due"] = returns.returns_due_for(
            request.user, contracts, timezone.localdate()
        )
    elif request.user.role in (request.user.Role.COMMISSIONER, request.user.Role.OFFICER):
        context["to_review"] = returns.returns_to_review(contracts)
    return render(request, "contracts/home.html", context)


@require_GET
def account(request: HttpRequest) -> HttpResponse:
    return render(request, "contracts/account.html", {"person": request.user})


@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    contract_services.user_sign_out_everywhere(user=request.user)
    logout(request)
    messages.success(request, "You have been signed out on every device. Sign in again here.")
    return redirect("login")


@require_GET
def contract_detail(request: HttpRequest, reference: str) -> HttpResponse:
    contract = access.get_contract_for_user(request.user, reference)
    today = timezone.localdate()
    pathways = list(
        access.pathways_for(request.user, contract)
        .select_related("provider")
        .prefetch_related("kpis")
    )
    context = {
        "contract": contract,
        "commissioners": list(contract.commissioners.all()),
        "funding": list(contract.funding.all()),
        "pathways": pathways,
        "current_quarter": contract.quarter_of(today) if today >= contract.start_date else None,
        "is_lead_provider": access.is_lead_provider(request.user, contract),
        "can_review": access.can_review(request.user, contract),
    }
    return render(request, "contracts/contract_detail.html", context)


@require_GET
def kpi_catalogue(request: HttpRequest, reference: str) -> HttpResponse:
    contract = access.get_contract_for_user(request.user, reference)
    kpis = catalogue.catalogue_kpis(contract, access.pathways_for(request.user, contract))
    return render(request, "contracts/kpi_catalogue.html", {"contract": contract, "kpis": kpis})


@require_GET
def kpi_catalogue_download(request: HttpRequest, reference: str, fmt: str) -> HttpResponse:
    contract = access.get_contract_for_user(request.user, reference)
    filename = f"{contract.reference}-kpi-catalogue.{fmt}"
    headers = catalogue.catalogue_headers(contract)
    rows = catalogue.catalogue_rows(contract, access.pathways_for(request.user, contract))
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


@require_http_methods(["GET", "POST"])
def contract_exit(request: HttpRequest, reference: str) -> HttpResponse:
    """Contract exit: what is held for the contract, and (POST) all of it as one ZIP.

    The contract's commissioners only: everyone else party to it gets 403, outsiders 404.
    """
    from contracts import exit as exits  # the export reads returns, which build on contracts

    contract = access.get_contract_for_user(request.user, reference)
    access.require_reviewer(request.user, contract)
    today = timezone.localdate()
    filename = exits.archive_filename(contract, today)
    error = ""
    if request.method == "POST":
        # Spills to a temporary file past SPOOL_BYTES, so a large archive stays off the heap;
        # FileResponse closes it once sent.
        spool = tempfile.SpooledTemporaryFile(max_size=exits.SPOOL_BYTES)  # noqa: SIM115
        try:
            result = exits.contract_exit_archive(
                contract, stream=spool, generated_by=exits.person(request.user)
            )
        except exits.ExitArchiveError as exc:
            spool.close()
            logger.error("Contract exit archive for %s failed: %s", contract.reference, exc)
            error = str(exc)
        else:
            logger.info(
                "Contract exit archive for %s (%d files, %d bytes) downloaded by %s",
                contract.reference,
                len(result.entries),
                result.total_bytes,
                request.user.username,
            )
            spool.seek(0)
            response = FileResponse(
                spool, as_attachment=True, filename=filename, content_type="application/zip"
            )
            response["Cache-Control"] = "private, no-store"
            token = request.POST.get("download_token", "")
            if DOWNLOAD_TOKEN.fullmatch(token):
                # Tells the page (static/js/exit-download.js) that the download has begun.
                response.set_cookie(
                    DOWNLOAD_COOKIE,
                    token,
                    max_age=120,
                    secure=request.is_secure(),
                    httponly=False,  # read by the page's script; it holds nothing secret
                    samesite="Strict",
                )
            return response
    context = {
        "contract": contract,
        "contents": exits.exit_contents(contract),
        "filename": filename,
        "retention_days": exits.retention_days(),
        "error": error,
        "download_token": secrets.token_urlsafe(16),
        "download_cookie": DOWNLOAD_COOKIE,
    }
    return render(request, "contracts/exit.html", context, status=500 if error else 200)
