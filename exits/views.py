"""Contract exit: what is held for a contract, and all of it as one ZIP made in the background.

The contract's commissioners only: everyone else party to it gets 403, outsiders 404. The POST
only queues the job (exits.tasks) and sends the browser to the job's page, which shows its
progress (polled by static/js/job-progress.js, or by following its "check progress" link without
script) and then the download.
"""

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from contracts.access import get_contract_for_user, require_reviewer
from exits import archive, retention, tasks
from exits.models import ExitArchive

logger = logging.getLogger(__name__)


def _job_for(request: HttpRequest, reference: str, pk: int):
    contract = get_contract_for_user(request.user, reference)
    require_reviewer(request.user, contract)
    job = get_object_or_404(
        ExitArchive.objects.select_related("contract", "requested_by"), contract=contract, pk=pk
    )
    return contract, job


@require_http_methods(["GET", "POST"])
def contract_exit(request: HttpRequest, reference: str) -> HttpResponse:
    """Contract exit: what is held for the contract, the archives made, and (POST) a new one."""
    contract = get_contract_for_user(request.user, reference)
    require_reviewer(request.user, contract)
    if request.method == "POST":
        try:
            job = tasks.request_archive(contract=contract, user=request.user)
        except ValidationError as exc:
            running = getattr(exc, "job", None)
            messages.info(request, " ".join(exc.messages))
            if running is not None:
                return redirect("contract_exit_job", reference=contract.reference, pk=running.pk)
            return redirect("contract_exit", reference=contract.reference)
        logger.info(
            "Contract exit archive %s for %s requested by %s",
            job.pk,
            contract.reference,
            request.user.username,
        )
        return redirect("contract_exit_job", reference=contract.reference, pk=job.pk)
    jobs = list(
        ExitArchive.objects.filter(contract=contract)
        .select_related("requested_by")
        .order_by("-requested_at", "-pk")
    )
    context = {
        "contract": contract,
        "contents": archive.exit_contents(contract),
        "filename": archive.archive_filename(contract, timezone.localdate()),
        "retention_days": retention.retention_days(),
        "jobs": jobs,
        "active": next((job for job in jobs if job.is_active), None),
        "kept": tasks.kept(),
    }
    return render(request, "exits/exit.html", context)


def _status(job: ExitArchive) -> dict:
    return {
        "job_status": job.job_status,
        "job_label": job.get_job_status_display(),
        "progress": job.progress,
        "message": job.message,
        "finished": not job.is_active,
        "ready": job.is_ready,
        "page": reverse("contract_exit_job", args=[job.contract.reference, job.pk]),
    }


@require_GET
def exit_job(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    """One exit ZIP: its progress while it is made, then its download, size and checksum."""
    contract, job = _job_for(request, reference, pk)
    return render(
        request,
        "exits/job.html",
        {"contract": contract, "job": job, "kept": tasks.kept()},
    )


@require_GET
def exit_job_status(request: HttpRequest, reference: str, pk: int) -> JsonResponse:
    """A small JSON status for the progress script. Reading it changes nothing."""
    _, job = _job_for(request, reference, pk)
    response = JsonResponse(_status(job))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def exit_job_download(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    """The stored ZIP, streamed from media storage (which is never served directly)."""
    contract, job = _job_for(request, reference, pk)
    if not job.is_ready:
        raise Http404("This ZIP file is not ready")
    try:
        handle = job.file.open("rb")
    except FileNotFoundError as exc:
        logger.error("Contract exit archive %s is missing from storage", job.pk)
        raise Http404("This ZIP file is missing from storage; make it again") from exc
    logger.info(
        "Contract exit archive %s for %s (%d bytes) downloaded by %s",
        job.pk,
        contract.reference,
        job.size,
        request.user.username,
    )
    response = FileResponse(
        handle, as_attachment=True, filename=job.filename, content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Checksum-SHA256"] = job.sha256
    return response
