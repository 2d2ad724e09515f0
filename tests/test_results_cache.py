"""Cached dashboard results: served again while nothing they read has changed, and worked out
afresh after any change to figures, returns, overrides, KPIs, targets, categories, pathways,
quarters or the date, however the change was made."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import QuerySet

from contracts.models import Organisation
from kpis.models import KpiCategory, KpiTarget
from performance import results, results_cache, services
from reports.models import BreakdownFigure, Figure
from tests.builders import LATER, fig, period, ret

D = Decimal


def _cached(cast, year=1, quarter=2, today=LATER, **kwargs):
    return results_cache.contract_results(
        cast.contract, period(cast, year, quarter), today=today, **kwargs
    )


def _fresh(cast, year=1, quarter=2, today=LATER, **kwargs):
    return results.contract_results(
        cast.contract, period(cast, year, quarter), today=today, **kwargs
    )


def _seen(res) -> list:
    """What a reader sees of each KPI and return (KPI and pathway names included)."""
    return [
        (
            r.kpi.code,
            r.kpi.pathway.name,
            r.kpi.pathway.provider.name,
            r.kpi.polarity,
            r.actual,
            r.ytd_actual,
            r.quarter_target,
            r.rag,
            r.rag_source,
            r.explanation,
            r.categories,
        )
        for r in res.results
    ] + [(s.pathway.code, s.status, s.state.is_overdue) for s in res.returns]


@pytest.fixture
def figures(cast):
    """SPA-01 in Year 1 Q1 and Q2, SPA-04's breakdown in Q2 and AC-01 in Q2."""
    fig(cast, "SPA-01", 1, 1, value=D(1300))
    fig(cast, "SPA-01", 1, 2, value=D(1200))
    breakdown = fig(cast, "SPA-04", 1, 2, value=D(30))
    for category, count in zip(cast.kpis["SPA-04"].categories.all(), (20, 10), strict=True):
        BreakdownFigure.objects.create(figure=breakdown, category=category, count=count)
    fig(cast, "AC-01", 1, 2, value=D(140))
    return cast


def test_the_same_quarter_is_served_from_the_cache_with_the_stamp_queries_only(
    figures, django_assert_num_queries
):
    first = _cached(figures)
    all_periods = results.contract_periods(figures.contract)
    p = period(figures, 1, 2)
    # Queries: pathways; the stamp's returns, figure count, figure history, overrides, KPIs.
    with django_assert_num_queries(6):
        again = results_cache.contract_results(
            figures.contract, p, all_periods=all_periods, today=LATER
        )
    assert again is first
    assert _seen(again) == _seen(_fresh(figures))


def test_readers_who_see_different_pathways_get_their_own_results(figures):
    everything = _cached(figures)
    carers_only = _cached(figures, pathways=[figures.carers])
    assert [p.code for p, _ in everything.by_pathway] == ["SPA", "AC"]
    assert [p.code for p, _ in carers_only.by_pathway] == ["AC"]
    assert _cached(figures, oba_class="how_well") is not everything


def _figure(cast, code, year=1, quarter=2):
    return Figure.objects.get(kpi=cast.kpis[code], ret__period=period(cast, year, quarter))


def _change_figure_value(cast):
    # As an administrator correcting a figure on its admin page: the return is not saved.
    figure = _figure(cast, "SPA-01")
    figure.value = D(900)
    figure.save()


def _add_figure_in_bulk(cast):
    spa = ret(cast.spa, period(cast, 1, 2))
    Figure.objects.bulk_create([Figure(ret=spa, kpi=cast.kpis["SPA-02"], value=D(50000))])


def _delete_figure(cast):
    # A submitted return's figure is kept (reports.models.AppendOnlyQuerySet); only the plain
    # QuerySet.delete beneath that guard, as the demo's re-seed uses, can still remove one.
    QuerySet.delete(Figure.objects.filter(pk=_figure(cast, "AC-01").pk))


def _change_breakdown_count(cast):
    count = BreakdownFigure.objects.filter(figure=_figure(cast, "SPA-04")).first()
    count.count = 25
    count.save()
    _figure(cast, "SPA-04").save()  # the admin saves the figure whose counts it shows


def _submit_return(cast):
    ac = ret(cast.carers, period(cast, 1, 2))
    ac.status = "queried"
    ac.save()


def _new_return_in_the_window(cast):
    fig(cast, "AC-01", 1, 1, value=D(150))


def _override(cast):
    services.rag_override_create(
        kpi=cast.kpis["SPA-01"],
        period=period(cast, 1, 2),
        rag="green",
        reason="Recovered after the quarter ended",
        user=cast.commissioner,
    )


def _change_target(cast):
    target = KpiTarget.objects.get(kpi=cast.kpis["SPA-01"])
    target.value = D(2000)
    target.save()


def _delete_target(cast):
    KpiTarget.objects.get(kpi=cast.kpis["AC-01"]).delete()


def _add_category(cast):
    KpiCategory.objects.create(kpi=cast.kpis["SPA-04"], name="Professionals", order=9)


def _change_kpi(cast):
    kpi = cast.kpis["AC-01"]
    kpi.polarity = "lower"
    kpi.save()


def _rename_pathway(cast):
    cast.carers.name = "Carers"
    cast.carers.save()


def _rename_provider(cast):
    Organisation.objects.filter(pk=cast.carers.provider_id).update(name="Carers Bromley Ltd")


CHANGES = [
    _change_figure_value,
    _add_figure_in_bulk,
    _delete_figure,
    _change_breakdown_count,
    _submit_return,
    _new_return_in_the_window,
    _override,
    _change_target,
    _delete_target,
    _add_category,
    _change_kpi,
    _rename_pathway,
    _rename_provider,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__.strip("_"))
def test_any_change_to_what_the_results_read_gives_fresh_results(figures, change):
    before = _cached(figures, today=date(2023, 3, 1))
    seen_before = _seen(before)
    change(figures)
    after = _cached(figures, today=date(2023, 3, 1))
    assert after is not before
    assert _seen(after) == _seen(_fresh(figures, today=date(2023, 3, 1)))
    assert _seen(after) != seen_before


def test_withdrawing_an_override_gives_fresh_results(figures):
    _override(figures)
    overridden = _seen(_cached(figures))
    override = figures.kpis["SPA-01"].rag_overrides.get()
    services.rag_override_withdraw(override=override, user=figures.commissioner)
    after = _cached(figures)
    assert _seen(after) == _seen(_fresh(figures)) != overridden


def test_a_new_day_gives_fresh_results(figures):
    """A return never started is awaited before its due date and overdue after it."""
    due = period(figures, 1, 3).due_date
    before = _cached(figures, 1, 3, today=due - timedelta(days=1))
    after = _cached(figures, 1, 3, today=due + timedelta(days=1))
    assert [s.state.is_overdue for s in before.returns] == [False, False]
    assert [s.state.is_overdue for s in after.returns] == [True, True]


def test_a_moved_due_date_gives_fresh_results(figures):
    p = period(figures, 1, 3)
    today = p.due_date + timedelta(days=1)
    before = _cached(figures, 1, 3, today=today)
    p.due_date = p.due_date + timedelta(days=7)
    p.save()
    after = _cached(figures, 1, 3, today=today)
    assert [s.state.is_overdue for s in before.returns] == [True, True]
    assert [s.state.is_overdue for s in after.returns] == [False, False]


def test_a_draft_saved_after_the_quarter_read_keeps_the_cached_results(figures):
    """Providers typing next quarter's figures do not make the board's dashboards work again."""
    before = _cached(figures)
    fig(figures, "SPA-01", 1, 3, status="draft", value=D(10))
    later = ret(figures.spa, period(figures, 1, 3))
    later.version += 1
    later.save()
    assert _cached(figures) is before


def test_entries_expire_and_the_oldest_go_first():
    clock = iter([0.0, 1.0, 2.0, 30.0, 100.0])
    store = results_cache._Lru(size=2, seconds=60, clock=lambda: next(clock))
    store.put("a", 1)  # at 0
    store.put("b", 2)  # at 1
    store.put("c", 3)  # at 2: "a" is the least recently used and goes
    assert store.get("a") is None
    assert store.get("c") == 3  # at 30
    assert store.get("b") is None  # at 100: older than 60 seconds
    assert (store.hits, store.misses) == (1, 2)


def test_dashboard_pages_read_from_the_cache(figures, client_for):
    client = client_for(figures.commissioner)
    url = "/contracts/PSIS/performance/?quarter=Y1Q2"
    assert client.get(url).status_code == 200
    hits = results_cache._store.hits
    assert client.get(url).status_code == 200
    assert results_cache._store.hits == hits + 1


def _history(cast, code="SPA-01", year=1, quarter=2):
    kpi = cast.kpis[code]
    return results_cache.kpi_history(kpi, upto_period=period(cast, year, quarter), today=LATER)


def _history_seen(history) -> list:
    return [
        (r.period.short_label, r.actual, r.ytd_actual, r.quarter_target, r.rag, r.rag_source)
        for r in history
    ]


def _query_spa_return(cast):
    spa = ret(cast.spa, period(cast, 1, 1))
    spa.status = "draft"  # sent back: its figures no longer count
    spa.save()


@pytest.mark.parametrize(
    "change",
    [_change_figure_value, _query_spa_return, _override, _change_target, _add_figure_in_bulk],
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_kpis_history_is_cached_until_its_figures_change(figures, change):
    code = "SPA-02" if change is _add_figure_in_bulk else "SPA-01"
    first = _history(figures, code)
    assert _history(figures, code) is first
    seen_before = _history_seen(first)
    change(figures)
    after = _history(figures, code)
    kpi = figures.kpis[code]
    kpi.refresh_from_db()
    fresh = results.kpi_history(kpi, upto_period=period(figures, 1, 2), today=LATER)
    assert after is not first
    assert _history_seen(after) == _history_seen(fresh) != seen_before


def test_a_submitted_return_shows_on_the_next_dashboard_page(figures, client_for):
    """Over HTTP: the overview a commissioner has open is worked out again once a return moves."""
    client = client_for(figures.commissioner)
    url = "/contracts/PSIS/performance/?quarter=Y1Q2"
    before = client.get(url).context["results"]
    assert [r.status for r in before.returns] == ["accepted", "accepted"]
    assert client.get(url).context["results"] is before  # nothing changed: served again
    _submit_return(figures)  # Adult Carers' return is queried
    after = client.get(url).context["results"]
    assert [r.status for r in after.returns] == ["accepted", "queried"]
    assert "Queried" in client.get(url).content.decode()
