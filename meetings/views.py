"""Contract meetings, their action log, and generating, finalising and downloading meeting packs.

Every view fetches the contract through ``contracts.access`` and its objects through
this app's own access helpers: outsiders get 404. Commissioners of the
contract edit meetings and actions and generate packs; every party reads meetings and downloads
final packs; drafts are the commissioners' only (403 for the others).
"""

import logging

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contracts.access import can_review, get_contract_for_user, require_reviewer
from meetings import tasks
from meetings.access import get_action_for_user, get_meeting_for_user, get_pack_for_user
from meetings.forms import ActionForm, GeneratePackForm, MeetingForm
from meetings.models import Action, Meeting, MeetingPack
from psis import exports, params
from reports import quarters

logger = logging.getLogger(__name__)

CONTENT_TYPES = {"pdf": "application/pdf", "xlsx": exports.XLSX_TYPE}


def _packs_for(user, contract):
    packs = MeetingPack.objects.filter(contract=contract).select_related(
        "period", "requested_by", "finalised_by"
    )
    if not can_review(user, contract):
        # Everyone else sees final packs once they are ready to download.
        packs = packs.filter(status=MeetingPack.Status.FINAL, job_status=MeetingPack.JobStatus.DONE)
    return list(packs.order_by("-period__start", "-status", "-requested_at"))


@require_GET
def meeting_list(request: HttpRequest, reference: str) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    is_reviewer = can_review(request.user, contract)
    meetings = list(
        Meeting.objects.filter(contract=contract)
        .select_related("period")
        .annotate(raised=Count("actions_raised"))
        .order_by("-period__start")
    )
    open_actions = list(
        Action.objects.filter(contract=contract)
        .open()
        .select_related("raised_at__period", "owner_organisation", "kpi")
        .order_by("due_date", "pk")
    )
    form = None
    if is_reviewer:
        form = GeneratePackForm(contract=contract)
        begun = list(reversed(form.fields["period"].queryset))
        default = quarters.for_meeting_pack(contract, begun)
        if default is not None:
            form.fields["period"].initial = default.pk
    context = {
        "contract": contract,
        "is_reviewer": is_reviewer,
        "meetings": meetings,
        "open_actions": open_actions,
        "packs": _packs_for(request.user, contract),
        "form": form,
        "today": timezone.localdate(),
    }
    return render(request, "meetings/meeting_list.html", context)


@require_GET
def meeting_detail(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    meeting = get_meeting_for_user(request.user, contract, pk)
    actions = list(
        Action.objects.for_meeting(meeting)
        .select_related("raised_at__period", "owner_organisation", "kpi")
        .order_by("raised_at__period__start", "due_date", "pk")
    )
    packs = [p for p in _packs_for(request.user, contract) if p.period_id == meeting.period_id]
    context = {
        "contract": contract,
        "meeting": meeting,
        "raised_here": [a for a in actions if a.raised_at_id == meeting.pk],
        "carried_forward": [a for a in actions if a.raised_at_id != meeting.pk],
        "packs": packs,
        "is_reviewer": can_review(request.user, contract),
        "attendees": [line.strip() for line in meeting.attendees.splitlines() if line.strip()],
        "today": timezone.localdate(),
    }
    return render(request, "meetings/meeting_detail.html", context)


def _save_meeting(request, contract, form) -> Meeting | None:
    meeting = form.save(commit=False)
    meeting.contract = contract
    meeting._history_user = request.user
    try:
        with transaction.atomic():
            meeting.save()
    except IntegrityError:
        form.add_error("period", "This quarter already has a meeting.")
        return None
    return meeting


@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest, reference: str) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    require_reviewer(request.user, contract)
    form = MeetingForm(request.POST or None, contract=contract)
    if request.method == "POST" and form.is_valid():
        meeting = _save_meeting(request, contract, form)
        if meeting is not None:
            messages.success(request, f"Meeting for {meeting.period.label} recorded.")
            return redirect("meetings:detail", reference=contract.reference, pk=meeting.pk)
    return render(
        request,
        "meetings/meeting_form.html",
        {"contract": contract, "form": form, "meeting": None},
    )


@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    meeting = get_meeting_for_user(request.user, contract, pk)
    require_reviewer(request.user, contract)
    form = MeetingForm(request.POST or None, instance=meeting, contract=contract)
    if request.method == "POST" and form.is_valid():
        meeting = _save_meeting(request, contract, form)
        if meeting is not None:
            messages.success(request, "Meeting saved.")
            return redirect("meetings:detail", reference=contract.reference, pk=meeting.pk)
    return render(
        request,
        "meetings/meeting_form.html",
        {"contract": contract, "form": form, "meeting": meeting},
    )


def _save_action(action: Action, previous_status: str | None, user) -> None:
    """Record when an action was closed (done or dropped), and clear it if it is reopened, and
    who saved it (in the action's history)."""
    if action.status == Action.Status.OPEN:
        action.closed_at = None
    elif previous_status != action.status or action.closed_at is None:
        action.closed_at = timezone.now()
    action._history_user = user
    action.save()


@require_http_methods(["GET", "POST"])
def action_create(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    meeting = get_meeting_for_user(request.user, contract, pk)
    require_reviewer(request.user, contract)
    form = ActionForm(request.POST or None, contract=contract)
    if request.method == "POST" and form.is_valid():
        action = form.save(commit=False)
        action.contract = contract
        action.raised_at = meeting
        action.submission = form.cleaned_data.get("submission")
        try:
            with transaction.atomic():
                _save_action(action, None, request.user)
        except IntegrityError:
            if not Action.objects.filter(submission=action.submission).exists():
                raise
            # The same form sent again (a double click): the action is in the log already.
            messages.info(request, "This action was already added; it is in the log once.")
        else:
            messages.success(request, "Action added to the log.")
        return redirect("meetings:detail", reference=contract.reference, pk=meeting.pk)
    context = {"contract": contract, "form": form, "meeting": meeting, "action": None}
    return render(request, "meetings/action_form.html", context)


@require_http_methods(["GET", "POST"])
def action_edit(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    action = get_action_for_user(request.user, contract, pk)
    require_reviewer(request.user, contract)
    previous_status = action.status
    # The meeting page to go back to (?meeting=, kept as a hidden field): read before any write,
    # so that a malformed one (400) or another contract's (404) changes nothing.
    back = params.optional_id(request.POST.get("meeting") or request.GET.get("meeting"), "meeting")
    back_meeting = get_meeting_for_user(request.user, contract, back) if back else None
    form = ActionForm(request.POST or None, instance=action, contract=contract)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            _save_action(form.save(commit=False), previous_status, request.user)
        messages.success(request, "Action saved.")
        meeting_id = back_meeting.pk if back_meeting else action.raised_at_id
        return redirect("meetings:detail", reference=contract.reference, pk=meeting_id)
    context = {
        "contract": contract,
        "form": form,
        "meeting": action.raised_at,
        "action": action,
        "back_meeting": back_meeting.pk if back_meeting else "",
    }
    return render(request, "meetings/action_form.html", context)


# --- packs ---------------------------------------------------------------------------------------


@require_POST
def pack_generate(request: HttpRequest, reference: str) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    require_reviewer(request.user, contract)
    form = GeneratePackForm(request.POST, contract=contract)
    if not form.is_valid():
        messages.error(request, "Choose a quarter that has begun.")
        return redirect("meetings:list", reference=contract.reference)
    try:
        pack = tasks.pack_generate(
            contract=contract, period=form.cleaned_data["period"], user=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("meetings:list", reference=contract.reference)
    return redirect("meetings:pack", reference=contract.reference, pk=pack.pk)


@require_POST
def pack_finalise(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    draft = get_pack_for_user(request.user, contract, pk)
    require_reviewer(request.user, contract)
    try:
        final = tasks.pack_finalise(draft=draft, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("meetings:pack", reference=contract.reference, pk=draft.pk)
    return redirect("meetings:pack", reference=contract.reference, pk=final.pk)


def _status(pack: MeetingPack) -> dict:
    reference = pack.contract.reference
    return {
        "job_status": pack.job_status,
        "job_label": pack.get_job_status_display(),
        "progress": pack.progress,
        "message": pack.message,
        "finished": not pack.is_active,
        "ready": pack.is_ready,
        "page": reverse("meetings:pack", args=[reference, pack.pk]),
    }


@require_GET
def pack_detail(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    pack = get_pack_for_user(request.user, contract, pk)
    is_reviewer = can_review(request.user, contract)
    final = (
        MeetingPack.objects.filter(contract=contract, period=pack.period, status="final")
        .exclude(job_status=MeetingPack.JobStatus.FAILED)
        .exclude(pk=pack.pk)
        .first()
    )
    context = {
        "contract": contract,
        "pack": pack,
        "is_reviewer": is_reviewer,
        "final": final,
        "can_finalise": is_reviewer and not pack.is_final and pack.is_ready and final is None,
        "can_retry": is_reviewer
        and pack.job_status == MeetingPack.JobStatus.FAILED
        and final is None,
        "meeting": Meeting.objects.filter(contract=contract, period=pack.period).first(),
        "downloads": [
            (fmt, label, pack.filename(fmt))
            for fmt, label in (("pdf", "PDF"), ("xlsx", "Excel workbook (XLSX)"))
        ],
    }
    return render(request, "meetings/pack_detail.html", context)


@require_GET
def pack_status(request: HttpRequest, reference: str, pk: int) -> JsonResponse:
    """A small JSON status for the progress script. Reading it changes nothing: stuck jobs are
    reaped by the worker and by ``manage.py reap_stuck_jobs``."""
    contract = get_contract_for_user(request.user, reference)
    pack = get_pack_for_user(request.user, contract, pk)
    response = JsonResponse(_status(pack))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def pack_download(request: HttpRequest, reference: str, pk: int, fmt: str) -> HttpResponse:
    """The stored file, byte for byte; a final pack's bytes are checked against its checksum."""
    contract = get_contract_for_user(request.user, reference)
    pack = get_pack_for_user(request.user, contract, pk)
    if fmt not in CONTENT_TYPES or not pack.is_ready:
        raise Http404("No such file")
    stored = pack.pdf if fmt == "pdf" else pack.xlsx
    with stored.open("rb") as handle:
        content = handle.read()
    if pack.is_final:
        expected = pack.pdf_sha256 if fmt == "pdf" else pack.xlsx_sha256
        if tasks.sha256(content) != expected:
            logger.error("Meeting pack %s %s does not match its checksum", pack.pk, fmt)
            return HttpResponseServerError(
                "This pack's stored file does not match the checksum recorded when it was "
                "finalised, so it is not served. Ask an administrator to restore it from backup.",
                content_type="text/plain; charset=utf-8",
            )
    response = exports.download(content, pack.filename(fmt), CONTENT_TYPES[fmt])
    response["Cache-Control"] = "private, no-store" if not pack.is_final else "private"
    if pack.is_final:
        response["X-Checksum-SHA256"] = expected
    return response
