"""Contract exit: what is held for a contract, and all of it as one ZIP."""

import logging
import re
import secrets
import tempfile

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from contracts.access import (
    get_contract_for_user,
    require_reviewer,
)
from exits import archive, retention
from psis.formatting import person

logger = logging.getLogger(__name__)

# The exit page's script waits for this cookie, carrying its form's token, to say "downloading".
DOWNLOAD_COOKIE = "psis_download"
DOWNLOAD_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}")


@require_http_methods(["GET", "POST"])
def contract_exit(request: HttpRequest, reference: str) -> HttpResponse:
    """Contract exit: what is held for the contract, and (POST) all of it as one ZIP.

    The contract's commissioners only: everyone else party to it gets 403, outsiders 404.
    """

    contract = get_contract_for_user(request.user, reference)
    require_reviewer(request.user, contract)
    today = timezone.localdate()
    filename = archive.archive_filename(contract, today)
    error = ""
    if request.method == "POST":
        # Spills to a temporary file past SPOOL_BYTES, so a large archive stays off the heap;
        # FileResponse closes it once sent.
        spool = tempfile.SpooledTemporaryFile(max_size=archive.SPOOL_BYTES)  # noqa: SIM115
        try:
            result = archive.contract_exit_archive(
                contract, stream=spool, generated_by=person(request.user, with_username=True)
            )
        except archive.ExitArchiveError as exc:
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
        "contents": archive.exit_contents(contract),
        "filename": filename,
        "retention_days": retention.retention_days(),
        "error": error,
        "download_token": secrets.token_urlsafe(16),
        "download_cookie": DOWNLOAD_COOKIE,
    }
    return render(request, "exits/exit.html", context, status=500 if error else 200)
