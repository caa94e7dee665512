"""Every strategy version the metrics service stores is published, whole, on ``steadfast.strategy``
(keyed by the council) through its outbox and relay: in-process on PostgreSQL and the real broker."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select

from steadfast_metrics.bootstrap import definition
from steadfast_shared.strategy import SHIPPED_STRATEGY, STRATEGY_TOPIC, VERSION_RECORDED, StrategyVersionData
from steadfast_shared.testing import ServiceClient, read_topic

pytestmark = pytest.mark.integration

READ = ("metrics:read",)
WRITE = ("metrics:read", "strategy:write")


async def test_a_strategy_change_publishes_the_shipped_version_and_the_new_one_without_who_or_why(
    start_service: Callable[..., Awaitable[ServiceClient]],
) -> None:
    council = f"c{uuid.uuid4().hex[:10]}"
    metrics = await start_service(definition, council=council, snapshot_interval_days=0)
    document = (await metrics.http.get("/v1/strategy", headers=metrics.auth(*READ))).json()["document"]
    document["caseload_limit"] = 12
    changed = await metrics.http.put(
        "/v1/strategy",
        json={"document": document, "note": "board minute 14: Jo Bloggs proposed"},
        headers={**metrics.auth(*WRITE, subject="psw@council"), "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    document["caseload_limit"] = 14
    again = await metrics.http.put(
        "/v1/strategy", json={"document": document}, headers={**metrics.auth(*WRITE), "If-Match": '"2"'}
    )
    assert again.status_code == 200, again.text

    events = await read_topic(
        metrics.settings.kafka_bootstrap_servers,
        STRATEGY_TOPIC,
        expect=3,
        where=lambda e: e.subject == council,
    )
    assert [e.type for e in events] == [VERSION_RECORDED] * 3
    versions = [StrategyVersionData.model_validate(e.data) for e in events]
    assert [(v.council, v.version) for v in versions] == [(council, 1), (council, 2), (council, 3)]
    assert versions[0].document == SHIPPED_STRATEGY
    assert [v.document.caseload_limit for v in versions] == [None, 12, 14]
    assert versions[1].created_at.isoformat() == changed.json()["created_at"].replace("Z", "+00:00")
    for e in events:
        assert e.source == "/steadfast/metrics"
        assert set(e.data) == {"council", "version", "document", "created_at"}
        assert "psw@council" not in str(e.data)
        assert "Jo Bloggs" not in str(e.data)


async def test_a_refused_change_publishes_nothing(
    start_service: Callable[..., Awaitable[ServiceClient]],
) -> None:
    council = f"c{uuid.uuid4().hex[:10]}"
    metrics = await start_service(definition, council=council, snapshot_interval_days=0)
    document = (await metrics.http.get("/v1/strategy", headers=metrics.auth(*READ))).json()["document"]
    stale = await metrics.http.put(
        "/v1/strategy", json={"document": document}, headers={**metrics.auth(*WRITE), "If-Match": '"7"'}
    )
    assert stale.status_code == 412
    async with metrics.runtime.database.sessionmaker() as session:
        outbox = metrics.runtime.definition.tables.outbox
        assert await session.scalar(select(func.count()).select_from(outbox)) == 0
