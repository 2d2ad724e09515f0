"""Dashboard results, worked out once for each state of what they are read from.

Working out a quarter's results (``kpis.results.contract_results``) reads eight quarters of
figures with every KPI, target and category and adds them up: tens of milliseconds of CPU for
the PSIS contract, on every dashboard page. Readers ask for the same quarter again and again
while its figures stand still (before a contract meeting, the whole board reads one quarter),
so each process keeps its latest results, under a key made of everything they depend on:

- the contract, the quarter, the pathways shown (with their providers), the OBA class asked for,
  the contract's quarters (with their due dates) and today's date, all already in hand;
- a *stamp* read in five small aggregate queries: the returns of the quarters read (how many,
  the sum of their versions, which every save, submission and review raises, and their latest
  change); their figures (how many, and the latest history record, which any change anywhere,
  the admin's corrections included, adds, numbered by the database); the RAG overrides of the
  quarters shown (how many, the latest made and withdrawn); and the KPIs, targets and
  categories (how many and their latest change).

A change to any of these gives a new key, so a result is never served stale; an entry also
expires after ``RESULTS_CACHE_SECONDS`` as a backstop. The stamp is read before the results, so
a change committed in between is in the results though not in their key: the next request sees
a new stamp and works them out again (no stamp comes back, since its parts only grow or move
on), so an entry is never older than its key. Each app server's processes keep their own
entries; they need nothing shared but the database. Entries are the results objects
themselves (no pickling), shared by the requests of one process: they are read, never changed.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from datetime import date

from django.conf import settings
from django.db.models import Count, Max, Sum
from django.utils import timezone

from contracts.models import Contract, ReportingPeriod
from kpis.models import Kpi
from performance import results
from performance.models import RagOverride
from reports.models import Figure, Return


class _Lru:
    """A small thread-safe least-recently-used store with an age limit."""

    def __init__(self, size: int, seconds: float, clock=time.monotonic):
        self.size, self.seconds, self.clock = size, seconds, clock
        self._items: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable):
        with self._lock:
            found = self._items.get(key)
            if found is None or self.clock() - found[0] > self.seconds:
                self._items.pop(key, None)
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key: Hashable, value: object) -> None:
        with self._lock:
            self._items[key] = (self.clock(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


_store = _Lru(size=settings.RESULTS_CACHE_SIZE, seconds=settings.RESULTS_CACHE_SECONDS)


def clear() -> None:
    """Forget every cached result of this process (tests start from nothing)."""
    _store.clear()


def _values(obj) -> tuple:
    return tuple(f.value_from_object(obj) for f in obj._meta.concrete_fields)


def stamp(
    pathway_ids: Sequence[int],
    window: Sequence[ReportingPeriod],
    shown: Sequence[ReportingPeriod],
) -> tuple:
    """What the results read, summed up so that any change to it changes the stamp."""
    window_ids = [p.pk for p in window]
    in_window = Return.objects.filter(pathway_id__in=pathway_ids, period_id__in=window_ids)
    # Query: the returns of the quarters read.
    returns = in_window.order_by().aggregate(n=Count("pk"), v=Sum("version"), at=Max("updated_at"))
    # Query: how many figures they hold (bulk_create writes no history).
    figures = Figure.objects.filter(ret__in=in_window).aggregate(n=Count("pk"))
    # Query: the newest history record of their figures (created, changed or deleted).
    figures |= Figure.history.filter(ret_id__in=in_window.values("pk")).aggregate(
        last=Max("history_id")
    )
    # Query: the RAG overrides of the quarters shown, withdrawn ones included.
    overrides = RagOverride.objects.filter(
        kpi__pathway_id__in=pathway_ids, period_id__in=[p.pk for p in shown]
    ).aggregate(n=Count("pk"), made=Max("created_at"), withdrawn=Max("withdrawn_at"))
    # Query: the KPIs with their targets and categories.
    kpis = Kpi.objects.filter(pathway_id__in=pathway_ids).aggregate(
        n=Count("pk", distinct=True),
        at=Max("updated_at"),
        n_targets=Count("targets", distinct=True),
        targets_at=Max("targets__updated_at"),
        n_categories=Count("categories", distinct=True),
        categories_at=Max("categories__updated_at"),
    )
    return tuple(tuple(sorted(part.items())) for part in (returns, figures, overrides, kpis))


def contract_results(
    contract: Contract,
    period: ReportingPeriod,
    *,
    pathways=None,
    oba_class: str | None = None,
    all_periods: list[ReportingPeriod] | None = None,
    today: date | None = None,
) -> results.ContractResults:
    """``kpis.results.contract_results``, from this process's cache while nothing has changed.

    Queries: quarters (unless given), pathways, the five of the stamp; and on a miss, those of
    ``kpis.results.contract_results`` (given the quarters and pathways).
    """
    today = today or timezone.localdate()
    if all_periods is None:
        all_periods = results.contract_periods(contract)
    pathway_list = results.reported_pathways(contract, pathways)
    window = results.history_window(all_periods, period, results.HISTORY_QUARTERS)
    previous = [p for p in window if p.index == period.index - 1]
    pathway_ids = [p.pk for p in pathway_list]
    key = (
        "contract",
        _values(contract),
        period.pk,
        oba_class,
        today,
        tuple(_values(p) for p in all_periods),
        tuple(_values(p) + _values(p.provider) for p in pathway_list),
        stamp(pathway_ids, window, [period, *previous]),
    )
    found = _store.get(key)
    if found is None:
        found = results.contract_results(
            contract,
            period,
            pathways=pathway_list,
            oba_class=oba_class,
            today=today,
            all_periods=all_periods,
        )
        _store.put(key, found)
    return found


def kpi_history(
    kpi: Kpi,
    *,
    upto_period: ReportingPeriod,
    all_periods: list[ReportingPeriod] | None = None,
    today: date | None = None,
) -> list[results.KpiResult]:
    """``kpis.results.kpi_history``, from this process's cache while nothing has changed.

    Queries: quarters (unless given), the five of the stamp; and on a miss, those of
    ``kpis.results.kpi_history``.
    """
    today = today or timezone.localdate()
    if all_periods is None:
        all_periods = results.contract_periods(upto_period.contract)
    window = results.history_window(all_periods, upto_period, None)
    pathway = kpi.pathway
    key = (
        "history",
        _values(kpi),
        _values(pathway),
        upto_period.pk,
        today,
        tuple(_values(p) for p in all_periods),
        stamp([kpi.pathway_id], window, window),
    )
    found = _store.get(key)
    if found is None:
        found = results.kpi_history(
            kpi, upto_period=upto_period, today=today, all_periods=all_periods
        )
        _store.put(key, found)
    return found
