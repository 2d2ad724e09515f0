"""The performance dashboards over HTTP: access for every role, overrides, downloads, and a pinned
number of SQL queries that does not grow with KPIs, quarters or contracts."""

from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from contracts.models import Contract, ReportingPeriod
from contracts.services import contract_sync_periods
from kpis.models import Kpi, KpiTarget
from pathways.models import Pathway
from performance import results_cache
from performance.models import RagOverride
from reports.models import Figure, Return, ReturnComment
from tests.builders import period_of, ret

D = Decimal
QUARTER = "Y1Q2"


@pytest.fixture
def data(cast):
    """Two quarters of SPA and Adult Carers figures: SPA-01 red in Year 1 Q2, AC-01 green."""
    for quarter, spa01, ac01 in ((1, 1300, 150), (2, 200, 160)):
        p = period_of(cast.contract, 1, quarter)
        spa = ret(cast.spa, p)
        Figure.objects.create(
            ret=spa, kpi=cast.kpis["SPA-01"], value=D(spa01), explanation="Staff off"
        )
        Figure.objects.create(ret=spa, kpi=cast.kpis["SPA-02"], value=D(80000))
        Figure.objects.create(ret=spa, kpi=cast.kpis["SPA-04"], value=D(12))
        ac = ret(cast.carers, p)
        Figure.objects.create(ret=ac, kpi=cast.kpis["AC-01"], value=D(ac01))
        Figure.objects.create(ret=ac, kpi=cast.kpis["AC-02"], narrative="Case study")
    return cast


def urls(reference="PSIS"):
    """Every dashboard page and download, with the chosen quarter."""
    q = f"?quarter={QUARTER}"
    pages = [
        reverse("performance_overview", args=[reference]) + q,
        reverse("performance_exceptions", args=[reference]) + q,
        reverse("performance_pathway", args=[reference, "SPA"]) + q,
        reverse("performance_pathway", args=[reference, "AC"]) + q,
        reverse("performance_kpi", args=[reference, "SPA-01"]) + q,
        reverse("performance_kpi", args=[reference, "AC-01"]) + q,
    ]
    downloads = [
        reverse(name, args=[reference, *extra, fmt]) + q
        for fmt in ("csv", "xlsx")
        for name, extra in (
            ("performance_download", []),
            ("performance_exceptions_download", []),
            ("performance_pathway_download", ["SPA"]),
            ("performance_kpi_download", ["SPA-01"]),
        )
    ]
    return pages + downloads


# --- access ---------------------------------------------------------------------------------------


def test_outsider_gets_404_on_every_dashboard_and_download(data, client_for):
    client = client_for(data.outsider)
    for url in urls():
        assert client.get(url).status_code == 404, url
    post = reverse("rag_override_create", args=["PSIS", "SPA-01"])
    assert client.post(post, {"rag": "green", "reason": "x", "quarter": QUARTER}).status_code == 404
    assert not RagOverride.objects.exists()


def test_signed_out_is_sent_to_sign_in(data, client):
    response = client.get(urls()[0])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["commissioner", "officer", "lead", "admin"])
def test_commissioners_officers_and_the_lead_provider_see_every_pathway(data, client_for, who):
    client = client_for(getattr(data, who))
    for url in urls():
        assert client.get(url).status_code == 200, url
    html = client.get(urls()[0]).content.decode()
    assert "Single Point of Access" in html and "Adult Carers" in html


def test_partner_sees_only_its_own_pathways(data, client_for):
    client = client_for(data.partner)
    overview = client.get(urls()[0]).content.decode()
    assert "Adult Carers" in overview
    assert "Single Point of Access" not in overview
    pathway_spa, kpi_spa = urls()[2], urls()[4]
    assert client.get(pathway_spa).status_code == 404
    assert client.get(kpi_spa).status_code == 404
    assert client.get(urls()[3]).status_code == 200
    exported = client.get(
        reverse("performance_download", args=["PSIS", "csv"]) + f"?quarter={QUARTER}"
    )
    text = exported.content.decode("utf-8-sig")
    assert "AC-01" in text and "SPA-01" not in text


def test_other_contracts_kpi_codes_are_not_reachable(data, client_for):
    client = client_for(data.commissioner)
    assert client.get(reverse("performance_kpi", args=["PSIS", "OP-01"])).status_code == 404
    assert client.get(reverse("performance_pathway", args=["PSIS", "OP"])).status_code == 404


# --- what the pages show --------------------------------------------------------------------------


def test_overview_shows_matrix_returns_changes_and_both_labels(data, client_for):
    html = client_for(data.commissioner).get(urls()[0]).content.decode()
    assert "Performance: Year 1 Q2" in html and "2022/23 Q4" in html
    assert "Year 1 Q2 (2022/23 Q4)" in html  # the quarter picker
    assert "What changed since Year 1 Q1" in html
    assert 'class="rag rag-red">Red</span>' in html  # SPA-01 moved green → red
    assert "Accepted" in html
    assert "How well did we do it?" in html  # the OBA filter


def test_pathway_view_has_explanations_trend_and_charts(data, client_for):
    html = client_for(data.commissioner).get(urls()[2]).content.decode()
    assert "<details" in html and "<summary>" in html
    assert "YTD 1,500 against pro-rata target 2,500 (annual 5,000 × 6/12): 60% → Red" in html
    assert 'role="img"' in html and "SPA-01: last 2 quarters" in html
    assert "Worse" in html and "was 1,300" in html
    assert '<span aria-hidden="true">↓</span> Worse' in html  # SPA-01 fell, higher is better


def test_kpi_view_has_history_targets_and_commentary(data, client_for):
    client = client_for(data.commissioner)
    html = client.get(urls()[4]).content.decode()
    assert "Year 1 Q1" in html and "Year 1 Q2" in html
    assert "From year 1: 5,000 (annual)" in html
    assert 'Year to date is</dt><dd class="col-sm-7">Sum of the quarters' in html
    assert 'Headline judged on</dt><dd class="col-sm-7">Year to date (automatic)' in html
    assert "Staff off" in html
    assert "Record the override" in html  # a commissioner may override


def test_quarterly_money_target_shows_green_year_to_date_with_the_quarter_beside_it(
    cast, client_for
):
    """ "£75,000 (quarterly)": £80,000 then £70,000 meets the year to date."""
    for quarter, value in ((1, 80000), (2, 70000)):
        spa = ret(cast.spa, period_of(cast.contract, 1, quarter))
        Figure.objects.create(ret=spa, kpi=cast.kpis["SPA-02"], value=D(value))
    page = reverse("performance_kpi", args=["PSIS", "SPA-02"]) + f"?quarter={QUARTER}"
    html = client_for(cast.commissioner).get(page).content.decode()
    assert "YTD £150,000 against pro-rata target £150,000" in html
    assert "100% → Green" in html
    assert "This quarter alone: Quarter £70,000 against target £75,000" in html
    assert 'Headline judged on</dt><dd class="col-sm-7">Year to date (automatic)' in html


def test_kpi_view_shows_the_review_thread_per_quarter(data, client_for):
    ret = Return.objects.get(pathway=data.spa, period=period_of(data.contract, 1, 2))
    ReturnComment.objects.create(
        ret=ret,
        kpi=data.kpis["SPA-01"],
        kind="query",
        text="Why the fall?",
        author=data.commissioner,
    )
    ReturnComment.objects.create(
        ret=ret, kpi=data.kpis["SPA-02"], kind="query", text="Other KPI", author=data.commissioner
    )
    html = client_for(data.officer).get(urls()[4]).content.decode()
    assert "Review thread" in html and "Why the fall?" in html
    assert "Other KPI" not in html


def test_exceptions_lists_red_amber_missing_with_the_providers_explanation(data, client_for):
    html = client_for(data.commissioner).get(urls()[1]).content.decode()
    assert "SPA-01" in html and "Staff off" in html
    assert "AC-01" not in html.split("Exceptions:")[1]  # green is not an exception


def test_oba_filter(data, client_for):
    Kpi.objects.filter(code="SPA-01").update(oba_class="better_off")
    url = reverse("performance_overview", args=["PSIS"]) + f"?quarter={QUARTER}&oba=better_off"
    html = client_for(data.commissioner).get(url).content.decode()
    assert "read by OBA class: <strong>Is anyone better off?</strong>" in html
    assert "SPA-01" in html and "AC-01" not in html


def test_quarter_by_financial_year_label_and_unknown_quarters(data, client_for):
    client = client_for(data.commissioner)
    base = reverse("performance_overview", args=["PSIS"])
    assert "Performance: Year 1 Q2" in client.get(base + "?quarter=2022/23 Q4").content.decode()
    assert client.get(base + "?quarter=Y9Q1").status_code == 404
    assert client.get(base + "?quarter=whenever").status_code == 404


def test_default_quarter_is_the_latest_with_returns(data, client_for):
    html = client_for(data.commissioner).get(reverse("performance_overview", args=["PSIS"]))
    text = html.content.decode()
    assert "Performance: Year 1 Q2" in text
    assert "past their due date with no return started" in text


def test_downloads_are_named_by_financial_quarter_and_hold_one_row_per_kpi(data, client_for):
    client = client_for(data.commissioner)
    csv = client.get(reverse("performance_download", args=["PSIS", "csv"]) + f"?quarter={QUARTER}")
    assert csv["Content-Disposition"] == 'attachment; filename="PSIS-2022-23-Q4-performance.csv"'
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Pathway,KPI code,Description,OBA class,Contract quarter")
    assert len(lines) == 1 + 6
    xlsx = client.get(
        reverse("performance_pathway_download", args=["PSIS", "SPA", "xlsx"])
        + f"?quarter={QUARTER}"
    )
    assert xlsx["Content-Disposition"].endswith('PSIS-2022-23-Q4-SPA-performance.xlsx"')
    import io

    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    rows = list(sheet.values)
    assert rows[0][:3] == ("Pathway", "KPI code", "Description")
    assert [r[1] for r in rows[1:]] == ["SPA-01", "SPA-02", "SPA-03", "SPA-04"]
    history = client.get(
        reverse("performance_kpi_download", args=["PSIS", "SPA-01", "csv"]) + "?quarter=Y1Q2"
    )
    assert history["Content-Disposition"].endswith('PSIS-2022-23-Q4-SPA-01-history.csv"')
    assert len(history.content.decode("utf-8-sig").splitlines()) == 1 + 2
    assert client.get(reverse("performance_download", args=["PSIS", "pdf"])).status_code == 404


def test_download_cells_are_formula_safe(data, client_for):
    Kpi.objects.filter(code="SPA-01").update(description='=HYPERLINK("http://x")')
    csv = client_for(data.commissioner).get(
        reverse("performance_download", args=["PSIS", "csv"]) + f"?quarter={QUARTER}"
    )
    assert "'=HYPERLINK" in csv.content.decode("utf-8-sig")


# --- overrides over HTTP --------------------------------------------------------------------------


def _override_url(code="SPA-01"):
    return reverse("rag_override_create", args=["PSIS", code])


def test_commissioner_overrides_and_it_shows_everywhere_then_withdraws(data, client_for):
    client = client_for(data.commissioner)
    response = client.post(
        _override_url(), {"rag": "amber", "reason": "Vacancy filled in March", "quarter": QUARTER}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/kpi/SPA-01/?quarter={QUARTER}")
    override = RagOverride.objects.get()
    assert override.created_by == data.commissioner and override.rag == "amber"
    for url in urls()[:3] + [urls()[4]]:
        html = client.get(url).content.decode()
        assert "Overridden" in html, url
        assert "Vacancy filled in March" in html, url
        assert "Cara Commissioner" in html, url
    csv = client.get(reverse("performance_download", args=["PSIS", "csv"]) + f"?quarter={QUARTER}")
    assert ",Amber,override," in csv.content.decode("utf-8-sig")

    withdraw = reverse("rag_override_withdraw", args=["PSIS", "SPA-01", override.pk])
    assert client.post(withdraw).status_code == 302
    override.refresh_from_db()
    assert override.withdrawn_by == data.commissioner
    html = client.get(urls()[4]).content.decode()
    assert "withdrawn by Cara Commissioner" in html
    assert client.post(withdraw).status_code == 404  # already withdrawn


@pytest.mark.parametrize("who", ["officer", "lead", "admin"])
def test_readers_who_are_not_commissioners_get_403_on_override(data, client_for, who):
    client = client_for(getattr(data, who))
    html = client.get(urls()[4]).content.decode()
    assert "Record the override" not in html
    response = client.post(_override_url(), {"rag": "green", "reason": "x", "quarter": QUARTER})
    assert response.status_code == 403
    assert not RagOverride.objects.exists()


def test_partner_cannot_override_even_its_own_kpi(data, client_for):
    response = client_for(data.partner).post(
        _override_url("AC-01"), {"rag": "red", "reason": "x", "quarter": QUARTER}
    )
    assert response.status_code == 403


def test_withdraw_is_403_for_officers(data, client_for):
    from performance import services

    override = services.rag_override_create(
        kpi=data.kpis["SPA-01"],
        period=period_of(data.contract, 1, 2),
        rag="green",
        reason="x",
        user=data.commissioner,
    )
    url = reverse("rag_override_withdraw", args=["PSIS", "SPA-01", override.pk])
    assert client_for(data.officer).post(url).status_code == 403
    override.refresh_from_db()
    assert override.is_active


def test_override_without_a_reason_says_what_is_wrong(data, client_for):
    response = client_for(data.commissioner).post(
        _override_url(), {"rag": "green", "reason": "   ", "quarter": QUARTER}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The override was not saved" in html
    assert 'aria-describedby="reason-help reason-error"' in html
    assert not RagOverride.objects.exists()


def test_second_override_for_the_same_quarter_is_refused(data, client_for):
    client = client_for(data.commissioner)
    client.post(_override_url(), {"rag": "green", "reason": "x", "quarter": QUARTER})
    response = client.post(_override_url(), {"rag": "red", "reason": "y", "quarter": QUARTER})
    assert response.status_code == 400
    assert "withdraw it first" in response.content.decode()
    assert RagOverride.objects.count() == 1


def test_contract_page_links_to_the_dashboard(data, client_for):
    html = client_for(data.partner).get(reverse("contract_detail", args=["PSIS"])).content.decode()
    assert reverse("performance_overview", args=["PSIS"]) in html


# --- query counts ---------------------------------------------------------------------------------


def _grow(cast):
    """Many more KPIs, quarters with figures, a pathway and another contract with its own data."""
    extra = [
        Kpi(
            pathway=cast.spa,
            code=f"SPA-X{i}",
            section="S",
            description="x",
            measure="count",
            target_period="annual",
        )
        for i in range(40)
    ]
    Kpi.objects.bulk_create(extra)
    extra = list(Kpi.objects.filter(code__startswith="SPA-X"))
    KpiTarget.objects.bulk_create(KpiTarget(kpi=k, value=D(400)) for k in extra)
    for year in (1, 2):
        for quarter in (1, 2, 3, 4):
            made = ret(cast.spa, period_of(cast.contract, year, quarter))
            Figure.objects.bulk_create(Figure(ret=made, kpi=k, value=D(90)) for k in extra)
    more = Pathway.objects.create(
        contract=cast.contract, code="MORE", name="More", provider=cast.spa.provider, order=5
    )
    Kpi.objects.create(pathway=more, code="MORE-1", section="S", description="m", measure="count")
    third = Contract.objects.create(
        reference="THIRD",
        name="Third",
        lead_commissioner=cast.contract.lead_commissioner,
        lead_provider=cast.contract.lead_provider,
        start_date=cast.contract.start_date,
    )
    third.commissioners.set([cast.contract.lead_commissioner])
    contract_sync_periods(contract=third)
    pathway = Pathway.objects.create(
        contract=third, code="SPA", name="SPA", provider=cast.spa.provider
    )
    k = Kpi.objects.create(
        pathway=pathway, code="SPA-01", section="S", description="t", measure="count"
    )
    for period in ReportingPeriod.objects.filter(contract=third)[:8]:
        Figure.objects.create(ret=ret(pathway, period), kpi=k, value=D(1))


# Every dashboard page, as a commissioner, runs these queries:
#   session; user; contract (through access); the contract's quarters;
#   [pathway: the pathway (through access)];
#   pathways (not on the pathway or KPI page);
#   the cached results' stamp: returns, figure count, figure history, overrides, KPIs;
#   when the results are not cached yet: [not on the KPI page: KPIs; their targets; their
#   categories]; returns in the window; their figures; [breakdown counts, when a breakdown
#   KPI is shown]; active overrides;
#   may this user review (can_review);
#   [KPI page: the review thread of its quarters; every override of the KPI];
#   the user's organisation (page header);
#   and saving the session: SAVEPOINT, UPDATE, RELEASE.
# Downloads skip can_review, the header's organisation and the override list.
DASHBOARDS = [
    # url, queries when the results are worked out, queries when they are cached
    (reverse("performance_overview", args=["PSIS"]) + f"?quarter={QUARTER}", 22, 15),
    (reverse("performance_exceptions", args=["PSIS"]) + f"?quarter={QUARTER}", 22, 15),
    (reverse("performance_pathway", args=["PSIS", "SPA"]) + f"?quarter={QUARTER}", 22, 15),
    (reverse("performance_kpi", args=["PSIS", "SPA-01"]) + f"?quarter={QUARTER}", 22, 19),
    (reverse("performance_download", args=["PSIS", "csv"]) + f"?quarter={QUARTER}", 20, 13),
    (
        reverse("performance_kpi_download", args=["PSIS", "SPA-01", "xlsx"])
        + f"?quarter={QUARTER}",
        18,
        15,
    ),
]


@pytest.mark.parametrize(("url", "queries", "cached"), DASHBOARDS)
def test_query_count_is_pinned_and_does_not_grow(
    data, client_for, django_assert_num_queries, url, queries, cached
):
    client = client_for(data.commissioner)
    client.get(url)  # warm up: the session's first save differs
    results_cache.clear()
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(cached):
        assert client.get(url).status_code == 200
    _grow(data)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(cached):
        assert client.get(url).status_code == 200


def test_override_for_a_quarter_outside_the_contract_is_404(data, client_for):
    response = client_for(data.commissioner).post(
        _override_url(), {"rag": "green", "reason": "x", "quarter": "Y9Q1"}
    )
    assert response.status_code == 404
    assert not RagOverride.objects.exists()
