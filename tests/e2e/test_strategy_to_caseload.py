"""End to end, in process on PostgreSQL and the real broker: a strategy version written to the metrics
service (``PUT /v1/strategy``) travels through its outbox, relay and ``steadfast.strategy`` to the
caseload service, whose over-limit list then follows the new caseload limit, as the KPI does."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest

from steadfast_caseload.bootstrap import definition as caseload_definition
from steadfast_metrics.bootstrap import definition as metrics_definition
from steadfast_shared.testing import ServiceClient, wait_until
from tests.caseload.casework import given_child
from tests.caseload.conftest import seed_directory, staff_worker

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

AS_OF = date(2015, 3, 2)


async def test_a_changed_strategy_limit_changes_the_caseload_services_over_limit_list(
    start_service: Callable[..., Awaitable[ServiceClient]],
) -> None:
    run = uuid.uuid4().hex[:10]
    council = f"c{run}"
    metrics = await start_service(
        metrics_definition,
        council=council,
        snapshot_interval_days=0,
        staff_topic=f"test.staff.{run}",
        caseload_topic=f"test.caseload.{run}",
        audit_topic=f"test.audit.{run}",
    )
    caseload = await start_service(caseload_definition, council=council, staff_topic=f"test.staff.{run}")
    ids = await seed_directory(caseload, staff_worker("A"), staff_worker("B"))
    for worker, count in (("A", 15), ("B", 13)):
        for n in range(count):
            await given_child(caseload, f"K{worker}{n}", allocations=[(ids[worker], date(2014, 10, 6), None)])

    async def over_limit() -> Any:
        answer = await caseload.http.get(
            f"/v1/caseloads/over-limit?as_of={AS_OF}", headers=caseload.auth("caseload:read")
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    before = await over_limit()
    assert (before["strategy_version"], before["workers"]) == (1, [])  # the shipped limit: 16

    current = await metrics.http.get("/v1/strategy", headers=metrics.auth("metrics:read"))
    document = current.json()["document"]
    document["caseload_limit"] = 14
    changed = await metrics.http.put(
        "/v1/strategy",
        json={"document": document, "note": "board: a limit of 14"},
        headers={**metrics.auth("metrics:read", "strategy:write"), "If-Match": current.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2

    async def applied() -> Any:
        answer = await over_limit()
        return answer if answer["strategy_version"] == 2 else None

    after = await wait_until(applied, timeout=60, interval=0.25, message="the caseload service applied v2")
    assert [(w["external_id"], w["limit"], w["over_by"]) for w in after["workers"]] == [("A", 14, 1)]
    # The metrics service's KPI is judged against the same version.
    kpi = await metrics.http.get(
        f"/v1/kpis/workers_over_caseload_limit?as_of={AS_OF}", headers=metrics.auth("metrics:read")
    )
    assert kpi.status_code == 200, kpi.text
    assert (kpi.json()["council"], kpi.json()["strategy_version"]) == (council, 2)
