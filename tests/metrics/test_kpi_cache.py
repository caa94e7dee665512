"""The answer cache (unit, with fakes): values are reused while the projections' revision is unchanged,
recomputed after it moves (once the grace period is over), and one computation serves requests that
arrive while it runs."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any, cast

from steadfast_metrics.facts.records import Facts
from steadfast_metrics.facts.repository import FactsRepository, SourceFreshness
from steadfast_metrics.kpis.cache import KpiCache
from steadfast_metrics.kpis.service import KpiService
from steadfast_metrics.strategy.service import StrategyService

AS_OF = date(2015, 3, 2)


class FakeFacts:
    def __init__(self) -> None:
        self.current_revision = 1
        self.loads = 0

    async def load(self, as_of: date, window_days: int) -> Facts:
        self.loads += 1
        await asyncio.sleep(0.05)  # a slow load: requests pile up behind it
        return Facts()

    async def revision(self) -> int:
        return self.current_revision

    async def sources(self) -> list[SourceFreshness]:
        return []


class FakeStrategies(StrategyService):
    def __init__(self) -> None:
        super().__init__(cast(Any, None), "slough")

    async def current(self) -> Any:
        return self.shipped()


def service(facts: FakeFacts, cache: KpiCache) -> KpiService:
    return KpiService(facts=cast(FactsRepository, facts), strategies=FakeStrategies(), cache=cache)


async def test_concurrent_requests_share_one_load() -> None:
    facts, cache = FakeFacts(), KpiCache(max_age_seconds=0)
    reports = await asyncio.gather(*(service(facts, cache).report(AS_OF) for _ in range(5)))
    assert facts.loads == 1
    assert len({r.freshness.computed_at for r in reports}) == 1


async def test_a_new_revision_recomputes_after_the_grace_period() -> None:
    facts, cache = FakeFacts(), KpiCache(max_age_seconds=0)
    first = await service(facts, cache).report(AS_OF)
    await service(facts, cache).report(AS_OF, team="ACIN1")  # the day's facts are reused for a team
    assert facts.loads == 1
    facts.current_revision = 2
    second = await service(facts, cache).report(AS_OF)
    assert facts.loads == 2
    assert second.freshness.revision == 2
    assert second.freshness.computed_at > first.freshness.computed_at


async def test_within_the_grace_period_a_moving_revision_reuses_the_answer() -> None:
    facts, cache = FakeFacts(), KpiCache(max_age_seconds=60)
    await service(facts, cache).report(AS_OF)
    facts.current_revision = 2
    again = await service(facts, cache).report(AS_OF)
    assert facts.loads == 1
    assert again.freshness.revision == 1  # says which revision the values were computed at


async def test_while_one_request_recomputes_the_others_get_the_previous_answer_at_once() -> None:
    facts, cache = FakeFacts(), KpiCache(max_age_seconds=0)
    first = await service(facts, cache).report(AS_OF)
    facts.current_revision = 2
    recomputing = asyncio.create_task(service(facts, cache).report(AS_OF))
    await asyncio.sleep(0.01)  # it is loading the new revision's facts (a 50 ms load)
    started = asyncio.get_running_loop().time()
    others = await asyncio.gather(*(service(facts, cache).report(AS_OF) for _ in range(4)))
    waited = asyncio.get_running_loop().time() - started
    assert waited < 0.04, "the others did not wait for the load"
    for other in others:
        assert other.freshness.revision == 1
        assert other.freshness.computed_at == first.freshness.computed_at
    newer = await recomputing
    assert newer.freshness.revision == 2
    assert facts.loads == 2
    # Once it is done, everyone gets the new answer.
    assert (await service(facts, cache).report(AS_OF)).freshness.revision == 2


async def test_the_first_answer_of_a_day_is_waited_for_and_shared() -> None:
    facts, cache = FakeFacts(), KpiCache(max_age_seconds=0)
    reports = await asyncio.gather(*(service(facts, cache).report(AS_OF, team="T1") for _ in range(3)))
    assert facts.loads == 1
    assert {r.freshness.revision for r in reports} == {1}
