"""End to end: the demo council loaded through the four services' APIs (each on its own PostgreSQL
database, on a broker of this test's own), as ``make run`` loads it into an empty ``var/``: every
extract imported without a row error, the KPIs of today telling the story, two years of weekly
snapshots behind every trend, and a second load doing nothing.

A smaller council (``scale``) than ``make run``'s keeps the test short; the code path is the same.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from steadfast_shared.auth import ALL_SCOPES
from steadfast_shared.dates import today
from steadfast_shared.embedded.demo.loader import DemoState, load_demo, weekly_days
from steadfast_shared.testing import ServiceClient

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SCALE = 0.15


async def kpis(metrics: ServiceClient, **query: str) -> dict[str, Any]:
    answer = await metrics.http.get("/v1/kpis", params=query)
    assert answer.status_code == 200, answer.text
    return {k["id"]: k for k in answer.json()["kpis"]}


async def test_the_demo_council_loads_through_the_apis_once(
    platform: dict[str, ServiceClient], tmp_path: Path
) -> None:
    for service in platform.values():
        service.http.headers.update(service.auth(*ALL_SCOPES))
    clients = {name: service.http for name, service in platform.items()}
    state_file = tmp_path / "demo-council.json"
    day = today()

    report = await load_demo(clients, state_file, today=day, scale=SCALE)

    council = report.council
    assert not report.skipped
    for kind in ("workers", "children", "allocations", "assessments", "visits", "reviews", "audits"):
        counts = report.imported[kind]
        assert counts["rejected"] == 0, kind
        assert counts["created"] == len(council.rows(kind)) > 0, kind
    state = DemoState.read(state_file)
    assert state is not None
    assert state.loaded
    assert state.today == day

    metrics = platform["metrics"]
    now = await kpis(metrics)
    then = await kpis(metrics, as_of=council.history_start.isoformat())
    assert now["permanent_rate"]["value"] is not None
    assert now["permanent_rate"]["value"] > then["permanent_rate"]["value"] + 15
    assert now["permanent_rate"]["target"]["value"] == 80
    assert now["average_caseload"]["target"]["value"] == 16
    assert now["average_caseload"]["value"] < then["average_caseload"]["value"]
    assert now["permanent_rate"]["value"] == pytest.approx(council.permanent_rate(day), abs=0.01)
    assert now["average_caseload"]["value"] == pytest.approx(council.average_caseload(day), abs=0.01)
    for kpi in (
        "assessments_within_45_days_pct",
        "audits_good_or_better_pct",
        "statutory_visits_in_time_pct",
    ):
        assert now[kpi]["value"] is not None, kpi

    # a snapshot a week for two years, for the council and each team
    history = await metrics.http.get("/v1/kpis/permanent_rate/history")
    assert history.status_code == 200, history.text
    points = history.json()["points"]
    assert [p["as_of"] for p in points] == [d.isoformat() for d in weekly_days(day)]
    assert points[0]["as_of"] == council.history_start.isoformat()
    assert points[0]["value"] == pytest.approx(then["permanent_rate"]["value"], abs=0.01)
    team = await metrics.http.get(
        "/v1/kpis/average_caseload/history",
        params={"team": "PC2", "from": (day - timedelta(weeks=4)).isoformat()},
    )
    assert team.status_code == 200, team.text
    assert len(team.json()["points"]) == 5

    # Loaded: a second load changes nothing and publishes nothing.
    applied = sum(
        s["events_applied"] for s in (await metrics.http.get("/v1/kpis")).json()["freshness"]["sources"]
    )
    again = await load_demo(clients, state_file, today=day + timedelta(days=3), scale=SCALE)
    assert again.skipped
    assert again.state.today == day
    assert again.imported == {}
    staff = await platform["staff"].http.post(
        "/v1/imports/workers", content=council.csv("workers").encode(), headers={"Content-Type": "text/csv"}
    )
    assert staff.json()["counts"]["unchanged"] == len(council.workers)
    answer = (await metrics.http.get("/v1/kpis")).json()
    assert sum(s["events_applied"] for s in answer["freshness"]["sources"]) == applied
