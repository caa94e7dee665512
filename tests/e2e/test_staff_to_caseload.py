"""End to end, as an integrator meets it: workers imported into the staff service and a caseload extract
imported into the caseload service, over HTTP with the services running (``make run`` in a subprocess,
the real broker between them), and a worker's and a team's caseloads read back.

The caseload service learns the workers only from the staff service's events, so this also proves the
chain staff outbox -> relay -> broker -> caseload's idempotent consumer -> worker directory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from steadfast_shared.embedded.runner import discover_services
from steadfast_shared.testing.helpers import wait_until
from tests.e2e.embedded import EmbeddedRun

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

AS_OF = "2015-03-02"  # a Monday

WORKERS = """\
external_id,display_name,role,employment_type,fte,team,start_date,end_date,leaving_reason,asye_start,protected_development_pct,swe_registration_number,swe_registration_expiry
A1,Amara Okafor,social_worker,permanent,1.0,ACIN1,2012-04-02,,,,,SW100001,2016-03-31
B1,Ben Hughes,social_worker,agency,1.0,ACIN1,2014-06-02,,,,,SW100002,2016-03-31
C1,Chloe Singh,consultant_practitioner,permanent,1.0,ACIN1,2010-01-04,,,,,SW100003,2016-03-31
D1,Dan Price,social_worker,permanent,0.5,ACIN1,2014-09-01,,,2014-09-01,10,SW100004,2016-03-31
E1,Eve Stone,practice_manager,permanent,1.0,ACIN1,2009-05-05,,,,,SW100005,2016-03-31
L1,Leo Marsh,social_worker,permanent,1.0,ACIN1,2011-01-03,2015-03-02,resignation,,,SW100006,2016-03-31
"""

#: Caseloads on AS_OF in the SPEC's worked example: A 18, B 15, C 6, D 7.
CASELOADS = {"A1": 18, "B1": 15, "C1": 6, "D1": 7}


def children_and_allocations() -> tuple[str, str]:
    children = ["external_id,episode_type,episode_start,episode_end"]
    allocations = ["child_external_id,worker_external_id,start_date,end_date"]
    serial = 0
    for worker, count in CASELOADS.items():
        for _ in range(count):
            serial += 1
            child = f"CH{serial:04d}"
            children.append(f"{child},cin,2014-10-01,")
            allocations.append(f"{child},{worker},2014-10-01,")
    # Leo left on AS_OF: his three children were handed to Amara that day (handover, half-open).
    for n in range(3):
        child = f"HO{n}"
        children.append(f"{child},cp,2014-11-03,")
        allocations.append(f"{child},L1,2014-11-03,{AS_OF}")
        allocations.append(f"{child},A1,{AS_OF},")
    return "\n".join(children) + "\n", "\n".join(allocations) + "\n"


@pytest_asyncio.fixture(loop_scope="session")
async def system(tmp_path: Path) -> AsyncIterator[EmbeddedRun]:
    run = EmbeddedRun(tmp_path / "var", discover_services())
    assert {s.name for s in run.services} >= {"staff", "caseload"}
    run.start()
    try:
        await run.wait_ready()
        yield run
    finally:
        try:
            await run.stop("sigterm")
        finally:
            run.kill_everything()


async def import_csv(client: httpx.AsyncClient, url: str, kind: str, body: str) -> dict[str, Any]:
    answer = await client.post(
        f"{url}/v1/imports/{kind}?mode=atomic", content=body.encode(), headers={"Content-Type": "text/csv"}
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    assert result["counts"]["rejected"] == 0, result["rejected"]
    return result


async def test_workers_then_allocations_give_each_worker_and_team_caseload(system: EmbeddedRun) -> None:
    staff, caseload = system.url("staff"), system.url("caseload")
    headers = {"Authorization": f"Bearer {system.token()}"}
    async with httpx.AsyncClient(headers=headers, timeout=30.0) as client:
        hired = await import_csv(client, staff, "workers", WORKERS)
        assert hired["counts"]["created"] == 6

        async def directory_has_everyone() -> bool:
            for external_id in ("A1", "B1", "C1", "D1", "E1", "L1"):
                answer = await client.get(f"{caseload}/v1/workers/{external_id}/caseload?as_of={AS_OF}")
                if answer.status_code != 200:
                    return False
            return True

        await wait_until(
            directory_has_everyone, timeout=60, interval=0.5, message="caseload learnt the workers"
        )

        children, allocations = children_and_allocations()
        await import_csv(client, caseload, "children", children)
        placed = await import_csv(client, caseload, "allocations", allocations)
        assert placed["counts"]["created"] == sum(CASELOADS.values()) + 6

        amara = (await client.get(f"{caseload}/v1/workers/A1/caseload?as_of={AS_OF}")).json()
        assert amara["caseload"] == 18 + 3, "the handed-over children count for the new worker on the day"
        the_day_before = (await client.get(f"{caseload}/v1/workers/A1/caseload?as_of=2015-02-27")).json()
        assert the_day_before["caseload"] == 18
        leo = (await client.get(f"{caseload}/v1/workers/L1/caseload?as_of={AS_OF}")).json()
        assert (leo["in_post"], leo["caseload"]) == (False, 0)

        team = (await client.get(f"{caseload}/v1/teams/ACIN1/caseloads?as_of={AS_OF}")).json()
        by_worker = {w["external_id"]: w for w in team["workers"]}
        assert {k: w["caseload"] for k, w in by_worker.items()} == {"A1": 21, "B1": 15, "C1": 6, "D1": 7}
        assert {k: w["capacity"] for k, w in by_worker.items()} == {
            "A1": 1.0,
            "B1": 1.0,
            "C1": 0.5,
            "D1": 0.45,
        }
        assert {k: w["limit"] for k, w in by_worker.items()} == {"A1": 16, "B1": 16, "C1": 8, "D1": 7}
        assert by_worker["A1"]["over_by"] == 5
        assert team["all"]["highest"] == 21
        assert team["all"]["average"] == pytest.approx((21 + 15 + 6 + 7) / 2.95, abs=0.01)
        assert (team["nqsw"]["workers"], team["nqsw"]["highest"]) == (1, 7)

        # Importing the same extract again changes nothing.
        again = await import_csv(client, caseload, "allocations", allocations)
        assert again["counts"]["unchanged"] == sum(CASELOADS.values()) + 6
