"""Quarterly returns: the list, the return page, review, history, Excel round trip, documents.

Every view fetches its return through reports.access: outsiders get 404, and a user who may read
but not change (officers; commissioners on provider actions; providers on review) gets 403.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from contracts.access import can_review, get_contract_for_user
from contracts.models import ReportingPeriod
from kpis.models import Kpi, Measure
from pathways.access import can_submit, pathways_for, require_submitter
from psis import exports, formatting, params
from reports import contents as return_data
from reports import history, quarters, round_trip, schedule, validation, workflow
from reports.access import get_return_for_reviewer, get_return_for_submitter, get_return_for_user
from reports.forms import (
    MAX_FILES_PER_SAVE,
    AcceptForm,
    ExcelUploadForm,
    QueryForm,
    ReturnForm,
)
from reports.models import Attachment, Return, ReturnComment
from reports.state import state_of
from reports.validation import FigureValues, KpiSpec


def _url(ret: Return, name: str = "return_edit") -> str:
    return reverse(
        name,
        kwargs={
            "reference": ret.pathway.contract.reference,
            "pathway": ret.pathway.code,
            "quarter": ret.period.short_label,
        },
    )


@require_GET
def return_list(request: HttpRequest, reference: str) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    today = timezone.localdate()
    all_periods = list(contract.periods.filter(start__lte=today).order_by("-start"))
    if not all_periods:
        all_periods = list(contract.periods.order_by("start")[:1])
    try:
        period = ReportingPeriod.objects.by_label(
            contract, request.GET.get("quarter", ""), among=all_periods
        )
    except ReportingPeriod.DoesNotExist:
        period = quarters.for_return_list(all_periods[::-1], today)
    pathways = list(pathways_for(request.user, contract).select_related("provider"))
    slots = (
        schedule.return_slots(pathways=pathways, periods_=[period], today=today) if period else []
    )
    for slot in slots:
        slot.pathway.contract = contract
        slot.can_submit = can_submit(request.user, slot.pathway)
    context = {
        "contract": contract,
        "period": period,
        "periods": all_periods,
        "slots": slots,
        "can_review": can_review(request.user, contract),
    }
    return render(request, "reports/return_list.html", context)


@dataclass
class KpiBlock:
    """What the return page shows for one KPI."""

    kpi: Kpi
    spec: KpiSpec
    target: str
    last: str
    shown: str = ""
    values: FigureValues = field(default_factory=FigureValues)
    fields: list = field(default_factory=list)
    evidence_fields: list = field(default_factory=list)
    remove_fields: list = field(default_factory=list)
    explanation: object = None
    pd_confirm: object = None
    pd_reason: object = None
    pd_open: bool = False
    attachments: list = field(default_factory=list)
    queries: list = field(default_factory=list)
    breakdown: list = field(default_factory=list)
    rating: str = ""
    running_total: str = ""

    @property
    def is_breakdown(self) -> bool:
        return self.kpi.measure == Measure.BREAKDOWN

    @property
    def is_evidence(self) -> bool:
        return self.kpi.measure == Measure.EVIDENCE


def _blocks(
    ret: Return, contents: return_data.Contents, form: ReturnForm | None, comments
) -> list[KpiBlock]:
    kpis, specs, values, figures = contents.kpis, contents.specs, contents.values, contents.figures
    previous = return_data.previous_figures(ret.pathway, ret.period, kpis)
    blocks = []
    for kpi, spec in zip(kpis, specs, strict=True):
        figure = figures.get(kpi.pk)
        before = previous.get(kpi.code)
        value = values.get(spec.code, FigureValues())
        block = KpiBlock(
            kpi=kpi,
            spec=spec,
            target=return_data.target_text(kpi, ret.period),
            last=return_data.last_return(kpi, spec, before),
            shown=return_data.describe_figure(kpi, spec, value),
            values=value,
            attachments=list(figure.attachments.all()) if figure else [],
            queries=[c for c in comments if c.kpi_id == kpi.pk],
            breakdown=[(name, value.categories.get(key)) for key, name in spec.categories],
            rating=figure.get_rating_display() if figure and figure.rating else "",
        )
        if block.is_breakdown and spec.categories:
            block.running_total = _running_total(spec, value, form)
        if form is not None:
            block.fields = [form[spec.field(p.key)] for p in spec.parts()]
            if block.is_evidence:
                block.evidence_fields = block.fields
                block.fields = []
                block.evidence_fields.insert(1, form[spec.field("files")])
                block.remove_fields = [form[f"remove_{a.pk}"] for a in block.attachments]
            if not block.is_evidence:
                block.explanation = form[spec.field("explanation")]
            block.pd_confirm = form[spec.field("pd_confirm")]
            block.pd_reason = form[spec.field("pd_reason")]
            block.pd_open = bool(
                block.pd_confirm.errors
                or block.pd_reason.errors
                or block.pd_confirm.value()
                or value.pd_reason
                or any(
                    validation.Kind.PERSONAL_DATA in form.kinds(f.name)
                    for f in [*block.fields, *block.evidence_fields, block.explanation]
                    if f is not None
                )
            )
        blocks.append(block)
    return blocks


def _running_total(spec: KpiSpec, values: FigureValues, form) -> str:
    """ "Categories add up to 212 but the total is 220", from what is typed or saved."""
    if form is not None and form.is_bound:
        counts, total = [], None
        for key, _ in spec.categories:
            try:
                counts.append(validation.parse_whole(form.data.get(spec.field(f"cat_{key}"), "")))
            except validation.InvalidInput:  # a typo counts as nothing here; the form says why
                counts.append(None)
        try:
            total = validation.parse_whole(form.data.get(spec.field("total"), ""))
        except validation.InvalidInput:
            total = None
    else:
        counts, total = list(values.categories.values()), values.total
    added = sum(c for c in counts if c is not None)
    text = f"Categories add up to {formatting.number(added)}"
    if not spec.has_total or total is None:
        return text + "."
    if total == added:
        return text + ", the same as the total."
    return text + f" but the total is {formatting.number(total)}."


def _form(ret: Return, contents: return_data.Contents, data=None, files=None) -> ReturnForm:
    specs = contents.specs
    initial = {"version": ret.version, **return_data.stored_raw(ret, specs, contents.values)}
    if ret.pk:
        for code, reason in contents.pd_reasons.items():
            if code == validation.COMMENTARY:
                initial[validation.COMMENTARY_PD_CONFIRM] = True
                initial[validation.COMMENTARY_PD_REASON] = reason
            else:
                initial[validation.field_name(code, "pd_confirm")] = True
                initial[validation.field_name(code, "pd_reason")] = reason
    return ReturnForm(
        data,
        files,
        initial=initial,
        specs=specs,
        attachments=contents.attachments,
        stored_pd_reasons=contents.pd_reasons,
        previously_submitted=ret.submitted_at is not None,
        queried=ret.status == Return.Status.QUERIED,
    )


def _comments(ret: Return) -> list[ReturnComment]:
    if ret.pk is None:
        return []
    return list(ret.comments.select_related("author", "kpi"))


def _files_not_kept(request, form) -> list[tuple[str, str]]:
    """(KPI code, file name) of documents chosen in a post that saved nothing.

    The page comes back with what was typed, but a browser never refills a file input: say so.
    """
    if form is None or not form.is_bound or request.method != "POST":
        return []
    return [
        (name.removesuffix("__files"), upload.name)
        for name, uploads in request.FILES.lists()
        if name.endswith("__files")
        for upload in uploads
    ]


def _page(
    request, ret: Return, *, contents=None, form=None, changes=None, status=200, review_forms=None
):
    """The return page: the form when the user may edit it, otherwise the figures read-only.

    ``contents``: ``return_data.return_contents(ret)`` if the caller has read it already.
    """
    if contents is None:
        contents = return_data.return_contents(ret)
    comments = _comments(ret)
    editable = form is not None
    commentary_pd_open = False
    if form is not None:
        commentary_pd_open = bool(
            form[validation.COMMENTARY_PD_CONFIRM].value()
            or validation.Kind.PERSONAL_DATA in form.kinds(validation.COMMENTARY)
            or form.errors.get(validation.COMMENTARY_PD_REASON)
        )
    context = {
        "ret": ret,
        "contract": ret.pathway.contract,
        "pathway": ret.pathway,
        "period": ret.period,
        "today": timezone.localdate(),
        "state": state_of(ret, ret.period, timezone.localdate()),
        "blocks": _blocks(ret, contents, form, comments),
        "comments": comments,
        "form": form,
        "editable": editable,
        "error_summary": form.error_summary() if form is not None and form.is_bound else [],
        "changes": changes or [],
        "commentary_pd_open": commentary_pd_open,
        "files_not_kept": _files_not_kept(request, form),
        "can_submit": can_submit(request.user, ret.pathway),
        "can_review": can_review(request.user, ret.pathway.contract),
        "upload_form": ExcelUploadForm(
            initial={"version": ret.version},
            previously_submitted=ret.submitted_at is not None,
        ),
        "page_url": _url(ret),
        "review": review_forms,
    }
    template = "reports/return_review.html" if review_forms else "reports/return_page.html"
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
def return_edit(request: HttpRequest, reference: str, pathway: str, quarter: str):
    ret = get_return_for_user(request.user, reference, pathway, quarter)
    may_submit = can_submit(request.user, ret.pathway)
    if request.method == "GET":
        contents = return_data.return_contents(ret)
        form = _form(ret, contents) if may_submit and not ret.is_locked else None
        return _page(request, ret, contents=contents, form=form)
    require_submitter(request.user, ret.pathway)
    if ret.is_locked:
        messages.info(
            request,
            f"This return is {ret.get_status_display().lower()} and locked"
            + (
                f": it was submitted on {formatting.long_datetime(ret.submitted_at)}."
                if ret.submitted_at
                else "."
            ),
        )
        return redirect(_url(ret))
    # Which button: "save" (or none: Enter in a field), "submit"; anything else is 400.
    action = params.optional_choice(request.POST.get("action"), ("save", "submit"), "action")
    submitting = action == "submit"
    contents = return_data.return_contents(ret)
    form = _form(ret, contents, request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "The return was not saved. Fix the problems listed below.")
        return _page(request, ret, contents=contents, form=form, status=400)
    try:
        saved = workflow.return_save_draft(
            ret=ret,
            user=request.user,
            data=form.parsed,
            version=form.cleaned_data["version"],
            uploads=workflow.Uploads(add=form.uploads(), remove=form.removals()),
            answer=form.cleaned_data.get("answer") or "",
        )
    except workflow.StaleReturn as stale:
        fresh = get_return_for_user(request.user, reference, pathway, quarter)
        # The same edit saved meanwhile (a button clicked twice) overwrites nothing: no conflict.
        repeat = (
            not any(form.uploads().values())
            and not form.removals()
            and workflow.saves_nothing(
                fresh, form.parsed, answer=form.cleaned_data.get("answer") or ""
            )
        )
        if fresh.is_locked:
            messages.info(request, _locked_meanwhile(fresh, repeat=repeat))
            return redirect(_url(fresh))
        if not repeat:
            contents = return_data.return_contents(fresh)
            form = _form(fresh, contents, _with_version(request.POST, fresh.version), request.FILES)
            form.is_valid()
            messages.error(request, str(stale))
            return _page(
                request, fresh, contents=contents, form=form, changes=stale.changes, status=409
            )
        saved = fresh
    except workflow.ReturnLocked as locked:
        messages.info(request, str(locked))
        return redirect(_url(ret))
    except workflow.ReturnInvalid as invalid:
        for problem in invalid.problems:
            form.add_problem(problem)
        messages.error(request, "The return was not saved. Fix the problems listed below.")
        return _page(request, ret, contents=contents, form=form, status=400)
    if not submitting:
        messages.success(request, "Draft saved. You can come back to it at any time.")
        return redirect(_url(saved))
    try:
        workflow.return_submit(ret=saved, user=request.user)
    except workflow.ReturnLocked as locked:
        messages.info(request, str(locked))
        return redirect(_url(saved))
    except workflow.ReturnInvalid as invalid:
        fresh = get_return_for_user(request.user, reference, pathway, quarter)
        contents = return_data.return_contents(fresh)
        form = _form(fresh, contents, _with_version(request.POST, fresh.version))
        form.is_valid()
        for problem in invalid.problems:
            form.add_problem(problem)
        messages.error(
            request,
            "Your changes are saved as a draft, but the return cannot be submitted yet. "
            "Fix the problems listed below, then submit again.",
        )
        return _page(request, fresh, contents=contents, form=form, status=400)
    messages.success(
        request,
        "Return submitted. It is now locked; the commissioners will review it.",
    )
    return redirect(_url(saved))


def oversized_message(too_big: Exception) -> str:
    """Why an oversized save was refused, and what to do: nothing in it could be read."""
    if isinstance(too_big, TooManyFilesSent):
        why = (
            f"it had more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} documents. Attach at "
            f"most {MAX_FILES_PER_SAVE} documents in one save"
        )
    elif isinstance(too_big, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        why = (
            f"it had more than {limit} MB of typed text. Each box takes at most "
            f"{validation.TEXT_LIMIT:,} characters"
        )
    else:
        why = "it had more boxes than a return has"
    return (
        f"Nothing was saved: this save was too large to read, as {why}. The return below is "
        "as it was last saved; enter your changes again and save."
    )


def _oversized_save(request: HttpRequest, too_big, reference: str, pathway: str, quarter: str):
    """The return page, unchanged, saying why a save too large to read saved nothing (the
    middleware calls this before the CSRF check: it must change nothing)."""
    ret = get_return_for_user(request.user, reference, pathway, quarter)
    contents = return_data.return_contents(ret)
    editable = can_submit(request.user, ret.pathway) and not ret.is_locked
    messages.error(request, oversized_message(too_big))
    form = _form(ret, contents) if editable else None
    return _page(request, ret, contents=contents, form=form, status=413)


return_edit.oversized_post = _oversized_save


def _locked_meanwhile(ret: Return, *, repeat: bool) -> str:
    submitted = f"submitted on {formatting.long_datetime(ret.submitted_at)} by {ret.submitted_by}"
    if repeat:
        return f"This return was already {submitted}, with these figures. It is locked."
    return (
        f"Your changes were not saved: meanwhile this return was {submitted}, and it is "
        f"{ret.get_status_display().lower()} and locked."
    )


def _with_version(data, version: int):
    data = data.copy()
    data["version"] = str(version)
    for name in [k for k in data if k.startswith("remove_")]:
        del data[name]
    return data


@require_http_methods(["GET", "POST"])
def return_review(request: HttpRequest, reference: str, pathway: str, quarter: str):
    ret = get_return_for_reviewer(request.user, reference, pathway, quarter)
    kpis = return_data.kpis_due(ret.pathway, ret.period) if ret.pk else []
    evidence = [k for k in kpis if k.measure == Measure.EVIDENCE]
    query_form = QueryForm(kpis=kpis, prefix="query")
    accept_form = AcceptForm(evidence_kpis=evidence, prefix="accept")
    status = 200
    if request.method == "POST":
        if ret.pk is None:
            raise Http404("This return has not been started.")
        action = request.POST.get("action")
        try:
            if action == "accept":
                accept_form = AcceptForm(request.POST, evidence_kpis=evidence, prefix="accept")
                if accept_form.is_valid():
                    workflow.return_accept(
                        ret=ret,
                        user=request.user,
                        comment=accept_form.cleaned_data["comment"],
                        ratings=accept_form.ratings(),
                    )
                    messages.success(request, "Return accepted.")
                    return redirect(_url(ret, "return_review"))
            elif action == "query":
                query_form = QueryForm(request.POST, kpis=kpis, prefix="query")
                if query_form.is_valid():
                    code = query_form.cleaned_data["kpi"]
                    kpi = next((k for k in kpis if k.code == code), None)
                    workflow.return_query(
                        ret=ret,
                        user=request.user,
                        comment=query_form.cleaned_data["comment"],
                        kpi=kpi,
                    )
                    messages.success(
                        request,
                        "Query sent. The return is unlocked for the provider to answer and "
                        "resubmit.",
                    )
                    return redirect(_url(ret, "return_review"))
        except workflow.ReturnLocked as locked:
            messages.info(request, str(locked))
            return redirect(_url(ret, "return_review"))
        if action in ("accept", "query"):
            messages.error(request, "Nothing was changed. Fix the problem below.")
        else:
            # Posted without either button (a script, or a form that lost its button).
            messages.error(request, "Nothing was changed: choose to accept or to query the return.")
        status = 400
    review = {
        "query_form": query_form,
        "accept_form": accept_form,
        "open": ret.status == Return.Status.SUBMITTED,
    }
    return _page(request, ret, review_forms=review, status=status)


@require_GET
def return_history(request: HttpRequest, reference: str, pathway: str, quarter: str):
    ret = get_return_for_user(request.user, reference, pathway, quarter)
    entries = list(reversed(history.return_history(ret)))
    context = {
        "ret": ret,
        "contract": ret.pathway.contract,
        "pathway": ret.pathway,
        "period": ret.period,
        "entries": entries,
        "page_url": _url(ret),
    }
    return render(request, "reports/return_history.html", context)


@require_GET
def return_template(request: HttpRequest, reference: str, pathway: str, quarter: str):
    ret = get_return_for_submitter(request.user, reference, pathway, quarter)
    name, content = round_trip.return_template(ret, page_url=request.build_absolute_uri(_url(ret)))
    return exports.download(content, name, exports.XLSX_TYPE)


@require_http_methods(["GET", "POST"])
def return_upload(request: HttpRequest, reference: str, pathway: str, quarter: str):
    ret = get_return_for_submitter(request.user, reference, pathway, quarter)
    previously = ret.submitted_at is not None
    problems: list[str] = []
    changes: list[str] = []
    status = 200
    if ret.is_locked:
        messages.info(
            request,
            f"This return is {ret.get_status_display().lower()} and locked, so an upload cannot "
            "change it.",
        )
        return redirect(_url(ret))
    if request.method == "POST":
        form = ExcelUploadForm(request.POST, request.FILES, previously_submitted=previously)
        if form.is_valid():
            try:
                round_trip.return_import_excel(
                    ret=ret,
                    user=request.user,
                    upload=form.cleaned_data["file"],
                    version=form.cleaned_data["version"],
                    change_reason=form.cleaned_data.get(validation.CHANGE_REASON) or "",
                )
            except round_trip.UploadRejected as rejected:
                problems = rejected.problems
            except workflow.StaleReturn as stale:
                problems = [str(stale)]
                changes = stale.changes
            except workflow.ReturnLocked as locked:
                problems = [str(locked)]
            else:
                messages.success(
                    request,
                    "The spreadsheet's figures are in the draft. Check them below, then submit "
                    "the return.",
                )
                return redirect(_url(ret))
        else:
            problems = form.problems()
        status = 400
        fresh = get_return_for_user(request.user, reference, pathway, quarter)
        form = ExcelUploadForm(initial={"version": fresh.version}, previously_submitted=previously)
    else:
        form = ExcelUploadForm(initial={"version": ret.version}, previously_submitted=previously)
    context = {
        "ret": ret,
        "contract": ret.pathway.contract,
        "pathway": ret.pathway,
        "period": ret.period,
        "form": form,
        "problems": problems,
        "changes": changes,
        "page_url": _url(ret),
    }
    return render(request, "reports/return_upload.html", context, status=status)


@require_GET
def attachment_download(
    request: HttpRequest, reference: str, pathway: str, quarter: str, pk: int
) -> FileResponse:
    ret = get_return_for_user(request.user, reference, pathway, quarter)
    if ret.pk is None:
        raise Http404("No such document")
    attachment = get_object_or_404(Attachment, pk=pk, figure__ret=ret)
    if attachment.purged_at is not None or not attachment.file:
        raise Http404("The document was removed under the evidence retention policy")
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The document's file is missing") from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.name)
    response["Content-Type"] = "application/octet-stream"
    return response
