"""End to end, the whole platform: a council's extracts imported through the staff, caseload and audit
services' CSV endpoints reach the metrics service only as events (outbox -> relay -> the real broker ->
the metrics consumer), and its KPIs, on three days, are the ones an independent calculation of the SPEC
gives (:mod:`tests.e2e.council`).

All four services run in-process, each on its own PostgreSQL database, against a broker of this test's
own, so no other test's events reach the metrics service's topics.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from steadfast_audit.directory.models import DirectoryWorker as AuditDirectory
from steadfast_caseload.directory.models import DirectoryWorker as CaseloadDirectory
from steadfast_shared.testing import ServiceClient
from steadfast_shared.testing.helpers import wait_until
from tests.e2e.council import Council, build_council, expected_kpis

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

AS_OF_DAYS = (date(2014, 12, 1), date(2015, 3, 2), date(2015, 6, 1))
WRITE = {
    "staff": ("staff:read", "staff:write"),
    "caseload": ("caseload:read", "caseload:write"),
    "audit": ("audit:read", "audit:write"),
}


async def import_csv(service: ServiceClient, kind: str, body: str) -> dict[str, Any]:
    name = service.runtime.definition.name
    answer = await service.http.post(
        f"/v1/imports/{kind}?mode=atomic",
        content=body.encode(),
        headers={**service.auth(*WRITE[name]), "Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    assert result["counts"]["rejected"] == 0, result["rejected"][:5]
    return result


async def kpis(service: ServiceClient, as_of: date, team: str | None = None) -> dict[str, Any]:
    query = f"as_of={as_of}" + (f"&team={team}" if team else "")
    answer = await service.http.get(f"/v1/kpis?{query}", headers=service.auth("metrics:read"))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def differences(council: Council, answer: dict[str, Any], as_of: date) -> dict[str, tuple[Any, Any]]:
    expected = expected_kpis(council, as_of)
    got = {k["id"]: k["value"] for k in answer["kpis"]}
    return {
        kpi: (want, got[kpi])
        for kpi, want in expected.items()
        if not (want is None and got[kpi] is None)
        and (want is None or got[kpi] is None or abs(want - got[kpi]) > 0.006)
    }


async def test_imported_extracts_give_the_independently_calculated_kpis_on_three_days(
    platform: dict[str, ServiceClient],
) -> None:
    council = build_council()
    hired = await import_csv(platform["staff"], "workers", council.csv("workers"))
    assert hired["counts"]["created"] == len(council.workers)

    async def directory_complete(service: ServiceClient, model: Any) -> bool:
        async with service.runtime.database.sessionmaker() as session:
            held = await session.scalar(select(func.count()).select_from(model))
        return held == len(council.workers)

    await wait_until(
        lambda: directory_complete(platform["caseload"], CaseloadDirectory),
        timeout=60,
        interval=0.3,
        message="caseload learnt the workers",
    )
    await wait_until(
        lambda: directory_complete(platform["audit"], AuditDirectory),
        timeout=60,
        interval=0.3,
        message="audit learnt the workers",
    )
    for kind in ("children", "allocations", "assessments", "visits", "reviews", "iro_visits"):
        await import_csv(platform["caseload"], kind, council.csv(kind))
    await import_csv(platform["audit"], "audits", council.csv("audits"))

    service = platform["metrics"]
    last_day = AS_OF_DAYS[-1]

    async def caught_up() -> bool:
        return not differences(council, await kpis(service, last_day), last_day)

    await wait_until(caught_up, timeout=120, interval=1.0, message="the metrics service caught up")
    for as_of in AS_OF_DAYS:
        answer = await kpis(service, as_of)
        assert differences(council, answer, as_of) == {}, as_of
        assert answer["as_of"] == as_of.isoformat()
        assert answer["strategy_version"] == 1
        sources = {s["topic"]: s for s in answer["freshness"]["sources"]}
        assert set(sources) == {"steadfast.staff", "steadfast.caseload", "steadfast.audit"}
        assert all(s["events_applied"] > 0 for s in sources.values())
        # every KPI is answered, with a status
        assert len(answer["kpis"]) == 20
        for kpi in answer["kpis"]:
            assert kpi["status"] in {"met", "near", "not_met", "no_data", None}
            if kpi["value"] is None:
                assert kpi["status"] == "no_data"

    # Per team: the council's caseload figures are made of the teams' (every case-holder is in a team).
    march = AS_OF_DAYS[1]
    council_answer = {k["id"]: k for k in (await kpis(service, march))["kpis"]}
    teams = [{k["id"]: k for k in (await kpis(service, march, team))["kpis"]} for team in ("ACIN1", "PC3")]
    for kpi in ("average_caseload", "permanent_rate"):
        assert sum(t[kpi]["numerator"] for t in teams) == pytest.approx(council_answer[kpi]["numerator"])
        assert sum(t[kpi]["denominator"] for t in teams) == pytest.approx(council_answer[kpi]["denominator"])
    nobody = {k["id"]: k for k in (await kpis(service, march, "NOBODY"))["kpis"]}
    assert nobody["average_caseload"]["status"] == "no_data"
