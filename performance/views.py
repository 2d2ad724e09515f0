"""Performance dashboards: contract overview, pathway, KPI and exceptions, with downloads.

Every view fetches the contract through ``contracts.access`` (outsiders get 404) and reads only
the pathways the user may see; only the contract's commissioners may override a RAG (others 403).
"""

from collections import defaultdict
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from contracts.access import can_review, get_contract_for_user, require_reviewer
from contracts.models import Contract, ReportingPeriod
from kpis.models import Kpi, ObaClass
from pathways.access import pathways_for
from performance import charts, results, results_cache, services
from performance.forms import RagOverrideForm
from performance.models import RagOverride
from psis import exports, formatting, params
from reports import quarters
from reports.models import ReturnComment
from reports.state import is_overdue_on

FORMATS = ("csv", "xlsx")


# --- shared helpers ------------------------------------------------------------------------------


def _period(
    request: HttpRequest, contract: Contract, all_periods, label: str | None = None
) -> ReportingPeriod:
    """The quarter asked for (``label``, else ?quarter=Y2Q3 or 2024/25 Q1), else the default."""
    label = (label if label is not None else request.GET.get("quarter", "")).strip()
    if not label:
        period = quarters.for_dashboard(contract, all_periods)
        if period is None:
            raise Http404("This contract has no reporting quarters yet.")
        return period
    try:
        return ReportingPeriod.objects.by_label(contract, label, among=all_periods)
    except ReportingPeriod.DoesNotExist as exc:
        raise Http404(str(exc)) from None


def _oba(request: HttpRequest) -> str | None:
    """The OBA class asked for (?oba=better_off), None for all; 400 for anything else."""
    return params.optional_choice(request.GET.get("oba"), ObaClass.values, "oba")


def _filters(period: ReportingPeriod, oba: str | None) -> str:
    """The query string that keeps the chosen quarter and OBA class from page to page."""
    params = {"quarter": period.short_label}
    if oba:
        params["oba"] = oba
    return urlencode(params)


def _base_context(request, contract, all_periods, period, oba) -> dict:
    today = timezone.localdate()
    begun = [p for p in all_periods if p.start <= today] or all_periods[:1]
    later_overdue = []
    if not request.GET.get("quarter"):
        # The default quarter is the latest with returns: say which later ones have none.
        later_overdue = [
            p for p in all_periods if p.index > period.index and is_overdue_on(today, p.due_date)
        ]
    return {
        "contract": contract,
        "period": period,
        "quarter_choices": list(reversed(begun)),
        "oba": oba,
        "oba_label": ObaClass(oba).label if oba else "",
        "oba_choices": ObaClass.choices,
        "filters": _filters(period, oba),
        "later_overdue": later_overdue,
        "is_reviewer": can_review(request.user, contract),
    }


def _svg(svg: str) -> str:
    # charts.history_chart escapes every piece of text it puts in the markup.
    return mark_safe(svg)  # noqa: S308


def _small_chart(result: results.KpiResult) -> str:
    points = [(p.short_label, value) for p, value in result.history]
    return _svg(
        charts.history_chart(
            points,
            target=result.quarter_target,
            title=f"{result.kpi.code}: last {len(points)} quarters",
            width=170,
            height=64,
            unit=formatting.unit(result.kpi.measure),
            chart_id=f"chart-{result.kpi.pk}",
        )
    )


def _download(fmt: str, filename: str, title: str, rows) -> HttpResponse:
    headers = results.RESULT_HEADERS
    if fmt == "csv":
        return exports.csv_response(f"{filename}.csv", headers, rows)
    if fmt == "xlsx":
        sheet = exports.Sheet(title=title, headers=headers, rows=rows, widths=results.RESULT_WIDTHS)
        return exports.xlsx_response(f"{filename}.xlsx", [sheet])
    raise Http404("Unknown format")


def _format(fmt: str) -> str:
    """The download format in the URL (performance.csv): an unknown one is 404, like a file."""
    if fmt not in FORMATS:
        raise Http404("Unknown format")
    return fmt


def _stem(contract: Contract, period: ReportingPeriod, what: str) -> str:
    """e.g. PSIS-2024-25-Q1-performance (the extension is added by the format)."""
    return f"{contract.reference}-{period.fy_slug}-{what}"


def _kpi_for(user, contract: Contract, code: str) -> Kpi:
    """A KPI of a pathway the user may see (404 otherwise), with targets and categories."""
    kpi = (
        Kpi.objects.for_contract(contract)
        .filter(pathway__in=pathways_for(user, contract), code=code)
        .with_targets()
        .order_by("pathway__order", "pk")
        .first()
    )
    if kpi is None:
        raise Http404("No such KPI.")
    return kpi


# --- overview ------------------------------------------------------------------------------------


def _overview_results(request, reference):
    contract = get_contract_for_user(request.user, reference)
    all_periods = results.contract_periods(contract)
    period = _period(request, contract, all_periods)
    oba = _oba(request)
    res = results_cache.contract_results(
        contract,
        period,
        pathways=pathways_for(request.user, contract),
        oba_class=oba,
        all_periods=all_periods,
    )
    return contract, all_periods, period, oba, res


@require_GET
def overview(request: HttpRequest, reference: str) -> HttpResponse:
    contract, all_periods, period, oba, res = _overview_results(request, reference)
    returns = {r.pathway.pk: r for r in res.returns}
    matrix = [
        {
            "pathway": pathway,
            "counts": res.rag_counts["pathways"][pathway.code],
            "not_rated": results.not_rated(res.rag_counts["pathways"][pathway.code]),
            "return": returns[pathway.pk],
            "kpis": len(kpi_results),
        }
        for pathway, kpi_results in res.by_pathway
    ]
    key_outcomes = next((rs for p, rs in res.by_pathway if p.is_cross_cutting), [])
    context = _base_context(request, contract, all_periods, period, oba) | {
        "results": res,
        "matrix": matrix,
        "overall": res.rag_counts["overall"],
        "overall_not_rated": results.not_rated(res.rag_counts["overall"]),
        "key_outcomes": key_outcomes,
    }
    return render(request, "performance/overview.html", context)


@require_GET
def overview_download(request: HttpRequest, reference: str, fmt: str) -> HttpResponse:
    _format(fmt)  # before any work
    contract, _, period, _, res = _overview_results(request, reference)
    stem = _stem(contract, period, "performance")
    return _download(fmt, stem, "Performance", results.result_rows(res.results))


# --- exceptions ----------------------------------------------------------------------------------


@require_GET
def exceptions(request: HttpRequest, reference: str) -> HttpResponse:
    contract, all_periods, period, oba, res = _overview_results(request, reference)
    by_pathway = [(p, [r for r in rs if r.is_exception]) for p, rs in res.by_pathway]
    context = _base_context(request, contract, all_periods, period, oba) | {
        "results": res,
        "by_pathway": [(p, rs) for p, rs in by_pathway if rs],
    }
    return render(request, "performance/exceptions.html", context)


@require_GET
def exceptions_download(request: HttpRequest, reference: str, fmt: str) -> HttpResponse:
    _format(fmt)  # before any work
    contract, _, period, _, res = _overview_results(request, reference)
    stem = _stem(contract, period, "exceptions")
    return _download(fmt, stem, "Exceptions", results.result_rows(res.exceptions))


# --- pathway -------------------------------------------------------------------------------------


def _pathway_results(request, reference, code):
    contract = get_contract_for_user(request.user, reference)
    visible = pathways_for(request.user, contract)
    pathway = get_object_or_404(visible.select_related("provider"), code=code)
    all_periods = results.contract_periods(contract)
    period = _period(request, contract, all_periods)
    oba = _oba(request)
    res = results_cache.contract_results(
        contract,
        period,
        pathways=[pathway],
        oba_class=oba,
        all_periods=all_periods,
    )
    return contract, all_periods, period, oba, pathway, res


@require_GET
def pathway_detail(request: HttpRequest, reference: str, code: str) -> HttpResponse:
    contract, all_periods, period, oba, pathway, res = _pathway_results(request, reference, code)
    kpi_results = res.by_pathway[0][1] if res.by_pathway else []
    context = _base_context(request, contract, all_periods, period, oba) | {
        "pathway": pathway,
        "results": res,
        "rows": [(r, _small_chart(r) if r.kpi.measure != "evidence" else "") for r in kpi_results],
        "counts": res.rag_counts["pathways"].get(pathway.code, {}),
        "return": res.returns[0] if res.returns else None,
    }
    return render(request, "performance/pathway.html", context)


@require_GET
def pathway_download(request: HttpRequest, reference: str, code: str, fmt: str) -> HttpResponse:
    _format(fmt)  # before any work
    contract, _, period, _, pathway, res = _pathway_results(request, reference, code)
    stem = _stem(contract, period, f"{pathway.code}-performance")
    return _download(fmt, stem, pathway.name, results.result_rows(res.results))


# --- KPI -----------------------------------------------------------------------------------------


def _kpi_page(request, reference, code, *, quarter=None, form=None, status=200) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    kpi = _kpi_for(request.user, contract, code)
    all_periods = results.contract_periods(contract)
    period = _period(request, contract, all_periods, quarter)
    history = results_cache.kpi_history(kpi, upto_period=period, all_periods=all_periods)
    current = history[-1]
    shown = [r for r in history if r.due]
    chart = charts.history_chart(
        [(r.period.short_label, r.actual) for r in shown],
        target=[r.quarter_target for r in shown],
        title=f"{kpi.code}: every quarter to {period.label}",
        width=720,
        height=200,
        unit=formatting.unit(kpi.measure),
        chart_id=f"kpi-chart-{kpi.pk}",
    )
    # Query: the review thread of those quarters' returns, about this KPI or the whole return.
    thread = defaultdict(list)
    for comment in (
        ReturnComment.objects.filter(
            ret__pathway_id=kpi.pathway_id, ret__period__in=[r.period for r in shown]
        )
        .filter(Q(kpi=kpi) | Q(kpi__isnull=True))
        .select_related("author", "ret")
        .order_by("created_at", "pk")
    ):
        thread[comment.ret.period_id].append(comment)
    context = _base_context(request, contract, all_periods, period, None) | {
        "kpi": kpi,
        "current": current,
        "history": [(r, thread[r.period.pk]) for r in reversed(shown)],
        "chart": _svg(chart),
        "targets": list(kpi.targets.all()),
        # Query: every override of this KPI, withdrawn ones included, for the audit trail.
        "overrides": list(
            RagOverride.objects.filter(kpi=kpi).select_related(
                "period", "created_by", "withdrawn_by"
            )
        ),
        "form": form or RagOverrideForm(initial={"quarter": period.short_label}),
        # Overrides are for quarters that have begun (services.rag_override_create refuses others).
        "period_begun": period.start <= timezone.localdate(),
        "filters": _filters(period, None),
    }
    return render(request, "performance/kpi.html", context, status=status)


@require_GET
def kpi_detail(request: HttpRequest, reference: str, code: str) -> HttpResponse:
    return _kpi_page(request, reference, code)


@require_GET
def kpi_download(request: HttpRequest, reference: str, code: str, fmt: str) -> HttpResponse:
    _format(fmt)  # before any work
    contract = get_contract_for_user(request.user, reference)
    kpi = _kpi_for(request.user, contract, code)
    all_periods = results.contract_periods(contract)
    period = _period(request, contract, all_periods)
    history = results_cache.kpi_history(kpi, upto_period=period, all_periods=all_periods)
    stem = _stem(contract, period, f"{kpi.code}-history")
    return _download(fmt, stem, kpi.code, results.result_rows(history))


def _kpi_url(contract: Contract, kpi: Kpi, period: ReportingPeriod) -> str:
    url = reverse("performance_kpi", args=[contract.reference, kpi.code])
    return f"{url}?{_filters(period, None)}"


@require_POST
def override_create(request: HttpRequest, reference: str, code: str) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    kpi = _kpi_for(request.user, contract, code)
    require_reviewer(request.user, contract)
    form = RagOverrideForm(request.POST)
    if form.is_valid():
        all_periods = results.contract_periods(contract)
        period = _period(request, contract, all_periods, form.cleaned_data["quarter"])
        try:
            services.rag_override_create(
                kpi=kpi,
                period=period,
                rag=form.cleaned_data["rag"],
                reason=form.cleaned_data["reason"],
                user=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            word = RagOverride.Choice(form.cleaned_data["rag"]).label
            messages.success(request, f"{kpi.code} {period.label} is now shown as {word}.")
            return redirect(_kpi_url(contract, kpi, period))
    quarter = request.POST.get("quarter", "")
    return _kpi_page(request, reference, code, quarter=quarter, form=form, status=400)


@require_POST
def override_withdraw(request: HttpRequest, reference: str, code: str, pk: int) -> HttpResponse:
    contract = get_contract_for_user(request.user, reference)
    kpi = _kpi_for(request.user, contract, code)
    require_reviewer(request.user, contract)
    override = get_object_or_404(
        RagOverride.objects.active().select_related("period", "kpi__pathway__contract"),
        pk=pk,
        kpi=kpi,
    )
    services.rag_override_withdraw(override=override, user=request.user)
    messages.success(
        request, f"Override withdrawn: {kpi.code} {override.period.label} shows the rule's RAG."
    )
    return redirect(_kpi_url(contract, kpi, override.period))
