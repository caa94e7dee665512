"""The caseload service applies the strategy it hears of from the metrics service's events (SPEC section
5): its consumer of the strategy topic on PostgreSQL and the real broker, and the caseload answers that
follow the version in force (over-limit list, limits, visit intervals)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from steadfast_caseload.bootstrap import definition
from steadfast_caseload.settings import CaseloadSettings
from steadfast_caseload.strategy.models import StrategyVersion
from steadfast_shared.codes import EpisodeType
from steadfast_shared.events import CloudEvent, new_event
from steadfast_shared.strategy import (
    SHIPPED_STRATEGY,
    VERSION_RECORDED,
    StrategyDocument,
    StrategyVersionData,
)
from steadfast_shared.strategy.document import VisitIntervals
from steadfast_shared.testing import ServiceClient, produce, wait_until
from tests.caseload.casework import given_child
from tests.caseload.conftest import READ, seed_directory, staff_worker

pytestmark = pytest.mark.integration

AS_OF = date(2015, 3, 2)


def version_event(council: str, version: int, document: StrategyDocument) -> CloudEvent:
    """What the metrics service publishes when it stores ``version`` of ``council``'s strategy."""
    data = StrategyVersionData(
        council=council, version=version, document=document, created_at=datetime(2015, 3, 1, tzinfo=UTC)
    )
    return new_event(
        source="/steadfast/metrics",
        type_=VERSION_RECORDED,
        subject=council,
        data=data.model_dump(mode="json"),
    )


async def get(caseload: ServiceClient, url: str) -> Any:
    answer = await caseload.http.get(url, headers=caseload.auth(*READ))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_caseload_service_applies_the_highest_version_it_has_heard_of(
    start_service: Callable[..., Awaitable[ServiceClient]],
) -> None:
    run = uuid.uuid4().hex[:10]
    council, topic = f"c{run}", f"test.strategy.{run}"
    caseload = await start_service(
        definition, council=council, strategy_topic=topic, staff_topic=f"test.staff.{run}"
    )
    ids = await seed_directory(caseload, staff_worker("A"), staff_worker("B"))
    for n in range(14):
        await given_child(caseload, f"KA{n}", allocations=[(ids["A"], date(2014, 10, 6), None)])
    for n in range(11):
        await given_child(caseload, f"KB{n}", allocations=[(ids["B"], date(2014, 10, 6), None)])
    await given_child(caseload, "CLA1", episodes=[(EpisodeType.cla, date(2015, 2, 2), None)], allocations=[])

    # Before any event: the shipped strategy (limit 16, CLA visits every 42 days).
    assert (await get(caseload, "/v1/strategy"))["version"] == 1
    before = await get(caseload, f"/v1/caseloads/over-limit?as_of={AS_OF}")
    assert (before["strategy_version"], before["workers"]) == (1, [])
    due = await get(caseload, f"/v1/visits/due?as_of={AS_OF}&within_days=30")
    assert [c["due_date"] for c in due["children"]] == ["2015-03-16"]

    tighter = SHIPPED_STRATEGY.model_copy(
        update={"caseload_limit": 12, "visit_intervals": VisitIntervals(cp_working_days=10, cla_days=28)}
    )
    tightest = SHIPPED_STRATEGY.model_copy(update={"caseload_limit": 10})
    await produce(
        caseload.settings.kafka_bootstrap_servers,
        topic,
        [
            version_event(council, 2, tighter),
            version_event(f"other{run}", 9, tightest),  # another council's: kept, not applied
            version_event(council, 2, tighter),  # the same version again (a republished outbox)
        ],
    )

    async def in_force() -> int:
        return int((await get(caseload, "/v1/strategy"))["version"])

    await wait_until(lambda: _equals(in_force(), 2), timeout=30, interval=0.2, message="version 2 applied")
    over = await get(caseload, f"/v1/caseloads/over-limit?as_of={AS_OF}")
    assert over["strategy_version"] == 2
    assert [(w["external_id"], w["limit"], w["over_by"]) for w in over["workers"]] == [("A", 12, 2)]
    due = await get(caseload, f"/v1/visits/due?as_of={AS_OF}&within_days=30")
    assert [c["due_date"] for c in due["children"]] == ["2015-03-02"]  # 28 days after 2 February
    team = await get(caseload, f"/v1/teams/ACIN1/caseloads?as_of={AS_OF}")
    assert {w["external_id"]: w["limit"] for w in team["workers"]} == {"A": 12, "B": 12}

    # A lower version arriving late (a rebalance, a replay) does not take over; a higher one does.
    await produce(
        caseload.settings.kafka_bootstrap_servers,
        topic,
        [version_event(council, 1, SHIPPED_STRATEGY), version_event(council, 3, tightest)],
    )
    await wait_until(lambda: _equals(in_force(), 3), timeout=30, interval=0.2, message="version 3 applied")
    over = await get(caseload, f"/v1/caseloads/over-limit?as_of={AS_OF}")
    assert [(w["external_id"], w["limit"], w["over_by"]) for w in over["workers"]] == [
        ("A", 10, 4),
        ("B", 10, 1),
    ]

    async with caseload.runtime.database.sessionmaker() as session:
        held = (await session.execute(select(StrategyVersion.council, StrategyVersion.version))).all()
    assert sorted(held) == sorted([(council, 1), (council, 2), (council, 3), (f"other{run}", 9)])


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


def test_the_retired_caseload_settings_are_refused_naming_the_strategy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CASELOAD_CASELOAD_LIMIT", "12")
    with pytest.raises(ValueError, match=r"CASELOAD_CASELOAD_LIMIT \(now the strategy's caseload_limit\)"):
        CaseloadSettings()
    monkeypatch.delenv("CASELOAD_CASELOAD_LIMIT")
    assert CaseloadSettings().council == "slough"
