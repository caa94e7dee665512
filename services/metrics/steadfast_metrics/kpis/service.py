"""Answering KPIs: the strategy in force, the facts of the day (cached, see :mod:`.cache`), the engine's
values, and each value judged against its target (:mod:`.status`).

The engine (:mod:`.engine`) is pure: all the rules of SPEC section 3 live there. This module only
orchestrates, so the same path serves the API, the snapshots and the consistency check.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_metrics.facts.records import Facts
from steadfast_metrics.facts.repository import FactsRepository
from steadfast_metrics.freshness.schemas import Freshness
from steadfast_metrics.freshness.service import freshness
from steadfast_metrics.kpis.cache import KpiCache
from steadfast_metrics.kpis.catalogue import BY_ID, KPI_IDS, KpiValue
from steadfast_metrics.kpis.engine import compute_kpis
from steadfast_metrics.kpis.schemas import KpiAnswer, KpiReading, KpiReport, TargetRead
from steadfast_metrics.kpis.status import judge
from steadfast_metrics.settings import MetricsSettings, metrics_settings
from steadfast_metrics.strategy.repository import StrategyRepository
from steadfast_metrics.strategy.schemas import StrategyRead
from steadfast_metrics.strategy.service import StrategyService
from steadfast_shared.collector import collection_paused
from steadfast_shared.dates import active_on
from steadfast_shared.db import utcnow
from steadfast_shared.errors import NotFound
from steadfast_shared.service import Runtime

P = ParamSpec("P")
R = TypeVar("R")

#: The name of the process's KPI answer cache among the runtime's components (bootstrap.py makes it).
KPI_CACHE = "kpi_cache"


def new_kpi_cache(runtime: Runtime) -> KpiCache:
    """The process's one answer cache (a component of the service definition)."""
    return KpiCache(metrics_settings(runtime).kpi_cache_seconds)


def kpi_service(
    runtime: Runtime, session: AsyncSession, lag: Mapping[tuple[str, int], int] | None = None
) -> KpiService:
    """The KPI service on ``session``, with the process's cache (and a replica's consumer lag)."""
    cache = runtime.components[KPI_CACHE]
    assert isinstance(cache, KpiCache)
    return KpiService.of(session, metrics_settings(runtime), cache, lag)


@dataclass
class KpiService:
    facts: FactsRepository
    strategies: StrategyService
    cache: KpiCache
    #: This replica's consumer lag per (topic, partition), when it runs a consumer.
    lag: Mapping[tuple[str, int], int] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        session: AsyncSession,
        settings: MetricsSettings,
        cache: KpiCache,
        lag: Mapping[tuple[str, int], int] | None = None,
    ) -> KpiService:
        return cls(
            facts=FactsRepository(session),
            strategies=StrategyService(StrategyRepository(session), settings.council),
            cache=cache,
            lag=lag or {},
        )

    async def report(
        self, as_of: date, team: str | None = None, ids: Iterable[str] | None = None
    ) -> KpiReport:
        strategy = await self.strategies.current()
        values, fresh = await self._values(as_of, team, strategy)
        wanted = list(ids) if ids is not None else list(KPI_IDS)
        return KpiReport(
            as_of=as_of,
            team=team,
            council=strategy.council,
            strategy_version=strategy.version,
            window_days=strategy.document.window_days,
            freshness=fresh,
            kpis=[answer(values[i], strategy, as_of) for i in wanted],
        )

    async def reading(self, kpi_id: str, as_of: date, team: str | None = None) -> KpiReading:
        if kpi_id not in BY_ID:
            raise NotFound(f"there is no KPI {kpi_id!r}; the KPIs are: {', '.join(KPI_IDS)}")
        report = await self.report(as_of, team, [kpi_id])
        return KpiReading(
            **report.kpis[0].model_dump(),
            as_of=report.as_of,
            team=report.team,
            council=report.council,
            strategy_version=report.strategy_version,
            window_days=report.window_days,
            freshness=report.freshness,
        )

    async def teams(self, as_of: date) -> list[str]:
        """The teams that have anything to measure on ``as_of``."""
        facts, strategy, _ = await self.day(as_of)
        return teams_of(facts, as_of, strategy.document.window_days)

    async def day(self, as_of: date) -> tuple[Facts, StrategyRead, Freshness]:
        """The facts of ``as_of`` (cached), the strategy in force and how fresh the facts are."""
        strategy = await self.strategies.current()
        facts, _, fresh = await self._facts(as_of, strategy.document.window_days)
        return facts, strategy, fresh

    async def _facts(self, as_of: date, window_days: int) -> tuple[Facts, int, Freshness]:
        entry = self.cache.previous_facts(as_of, window_days)
        if entry is not None:  # another request is reloading them: these, as they were
            fresh = freshness(entry.revision, await self.facts.sources(), self.lag, entry.computed_at)
            return entry.value, entry.revision, fresh
        async with self.cache.computing("facts", as_of, window_days):
            revision = await self.facts.revision()
            entry = self.cache.get_facts(as_of, window_days, revision)
            if entry is None:
                computed_at = utcnow()
                loaded = await self.facts.load(as_of, window_days)
                entry = self.cache.put_facts(as_of, window_days, revision, loaded, computed_at)
        fresh = freshness(entry.revision, await self.facts.sources(), self.lag, entry.computed_at)
        return entry.value, entry.revision, fresh

    async def _values(
        self, as_of: date, team: str | None, strategy: StrategyRead
    ) -> tuple[Mapping[str, KpiValue], Freshness]:
        previous = self.cache.previous_values(as_of, team, strategy.version)
        if previous is not None:  # another request is recomputing them: the previous answer, as it was
            sources = await self.facts.sources()
            return previous.value, freshness(previous.revision, sources, self.lag, previous.computed_at)
        async with self.cache.computing("values", as_of, team, strategy.version):
            revision = await self.facts.revision()
            entry = self.cache.get_values(as_of, team, strategy.version, revision)
            if entry is not None:
                sources = await self.facts.sources()
                return entry.value, freshness(entry.revision, sources, self.lag, entry.computed_at)
            facts, facts_revision, fresh = await self._facts(as_of, strategy.document.window_days)
            values = await off_the_loop(compute_kpis, facts, strategy.document, as_of, team)
            self.cache.put_values(as_of, team, strategy.version, facts_revision, values, fresh.computed_at)
            return values, fresh


async def off_the_loop(compute: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """A pure computation over the facts (the engine, a watch list), in a worker thread with the cyclic
    collector paused, so the event loop it leaves goes on serving the consumer's batches and other
    requests (the computation is CPU-bound; the loop gets the interpreter back at every switch
    interval instead of waiting for the whole count)."""

    def paused() -> R:
        with collection_paused():
            return compute(*args, **kwargs)

    return await asyncio.to_thread(paused)


def answer(value: KpiValue, strategy: StrategyRead, as_of: date) -> KpiAnswer:
    definition = BY_ID[value.id]
    judgement = judge(value, strategy.document, as_of)
    target = None
    if judgement.target is not None and judgement.milestone is not None:
        tolerance = judgement.target.tolerance_pct
        target = TargetRead(
            value=judgement.milestone.value,
            date=judgement.milestone.date,
            direction=judgement.target.direction,
            tolerance_pct=tolerance if tolerance is not None else strategy.document.tolerance_pct,
        )
    return KpiAnswer(
        id=value.id,
        title=definition.title,
        unit=definition.unit,
        judged=definition.judged,
        value=_round(value.value),
        numerator=_round(value.numerator),
        denominator=_round(value.denominator),
        target=target,
        status=judgement.status,
        trend=judgement.trend,
        breakdown=dict(value.breakdown),
    )


def _round(number: float | None) -> float | None:
    """Two decimal places for a reader (the status was judged on the exact value)."""
    return None if number is None else round(number, 4 if abs(number) < 1 else 2)


def teams_of(facts: Facts, as_of: date, window_days: int) -> list[str]:
    """The teams with a worker or a post on ``as_of``, or an audit, placement or survey in the window."""
    first = as_of - timedelta(days=window_days - 1)
    teams: set[str] = set()
    for worker in facts.workers:
        terms = worker.terms_on(as_of)
        if terms is not None:
            teams.add(terms.team)
    teams.update(p.team for p in facts.posts if active_on(p.start_date, p.end_date, as_of))
    teams.update(a.team for a in facts.audits if a.completed_date and first <= a.completed_date <= as_of)
    teams.update(p.team for p in facts.placements)
    teams.update(s.team for s in facts.surveys if s.team and first <= s.returned_date <= as_of)
    return sorted(teams)
