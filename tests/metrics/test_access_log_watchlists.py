"""The metrics service's access log: a watch list naming children logs each child on the page it gave;
the lists of workers and the index (counts only) log nothing. On real PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from steadfast_metrics.db import tables
from steadfast_shared.testing import ServiceClient
from tests.metrics.test_kpis_api import AS_OF, READ, metrics, seed, worked_example

pytestmark = pytest.mark.integration

__all__ = ["metrics"]


async def log_rows(service: ServiceClient) -> list[dict[str, Any]]:
    log = tables.access_log
    assert log is not None, "the metrics service keeps an access log"
    async with service.runtime.database.sessionmaker() as session:
        return [dict(r) for r in (await session.execute(select(log).order_by(log.c.id))).mappings().all()]


async def test_a_watch_list_of_children_logs_the_children_on_its_page(metrics: ServiceClient) -> None:
    await seed(metrics, *worked_example())
    headers = {**metrics.auth(*READ, subject="psw-chidi"), "Purpose": "supervision"}
    index = await metrics.http.get(f"/v1/watch-lists?as_of={AS_OF}", headers=headers)
    workers = await metrics.http.get(
        f"/v1/watch-lists/workers-over-caseload-limit?as_of={AS_OF}", headers=headers
    )
    assert (index.status_code, workers.status_code) == (200, 200)
    assert await log_rows(metrics) == [], "counts and workers name no child"

    page = await metrics.http.get(
        f"/v1/watch-lists/children-with-overdue-visits?as_of={AS_OF}&limit=3", headers=headers
    )
    assert page.status_code == 200, page.text
    named = [item["child_id"] for item in page.json()["items"]]
    rows = await log_rows(metrics)
    assert [r["child"] for r in rows] == named
    assert len(rows) == 3
    assert {(r["who"], r["purpose"], r["route"], r["request_id"]) for r in rows} == {
        ("psw-chidi", "supervision", "/v1/watch-lists/{name}", page.headers["x-request-id"])
    }

    audited = await metrics.http.get(
        "/v1/access-log", params={"child": named[0]}, headers=metrics.auth("access-log:read")
    )
    assert [i["who"] for i in audited.json()["items"]] == ["psw-chidi"]
    refused = await metrics.http.get("/v1/access-log", headers=metrics.auth(*READ, "strategy:write"))
    assert refused.status_code == 403
