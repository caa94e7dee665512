"""The caseload queries on dates in the past, in-process on real PostgreSQL and the real broker."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import pytest

from steadfast_caseload.bootstrap import definition as caseload_definition
from steadfast_shared.codes import EmploymentType, Role
from steadfast_shared.testing import ServiceClient, wait_until
from steadfast_staff.bootstrap import definition as staff_definition
from tests.caseload.casework import given_child
from tests.caseload.conftest import READ, WRITE, seed_directory, staff_worker

pytestmark = pytest.mark.integration

AS_OF = date(2015, 3, 2)  # a Monday: SPEC section 3's worked example
DAY_BEFORE = AS_OF - timedelta(days=1)


async def get(caseload: ServiceClient, url: str) -> Any:
    answer = await caseload.http.get(url, headers=caseload.auth(*READ))
    assert answer.status_code == 200, answer.text
    return answer.json()


async def allocate_many(caseload: ServiceClient, prefix: str, worker_id: uuid.UUID, n: int) -> None:
    for i in range(n):
        await given_child(caseload, f"{prefix}{i}", allocations=[(worker_id, date(2014, 10, 6), None)])


async def test_the_worked_example_of_spec_section_3(caseload: ServiceClient) -> None:
    ids = await seed_directory(
        caseload,
        staff_worker("A"),
        staff_worker("B", employment_type=EmploymentType.agency),
        staff_worker("C", role=Role.consultant_practitioner),
        staff_worker("D", fte=0.5, asye_start=date(2014, 9, 1)),
        staff_worker("E", role=Role.practice_manager),
        staff_worker("F", role=Role.student),
    )
    for name, count in (("A", 18), ("B", 15), ("C", 6), ("D", 7), ("F", 3), ("E", 1)):
        await allocate_many(caseload, f"K{name}", ids[name], count)
    # not counted on AS_OF: ended the day before, ended on AS_OF, starting the day after
    await given_child(caseload, "KA-old", allocations=[(ids["A"], date(2014, 1, 6), DAY_BEFORE)])
    await given_child(caseload, "KA-ended", allocations=[(ids["A"], date(2014, 1, 6), AS_OF)])
    await given_child(caseload, "KA-next", allocations=[(ids["A"], AS_OF + timedelta(days=1), None)])

    team = await get(caseload, f"/v1/teams/ACIN1/caseloads?as_of={AS_OF}")
    rows = [
        (w["external_id"], w["caseload"], w["capacity"], w["limit"], w["over_by"], w["nqsw"])
        for w in team["workers"]
    ]
    assert rows == [
        ("A", 18, 1.0, 16, 2, False),
        ("B", 15, 1.0, 16, 0, False),
        ("C", 6, 0.5, 8, 0, False),
        ("D", 7, 0.45, 7, 0, True),
    ]
    assert team["all"] == {
        "workers": 4,
        "caseload_total": 46,
        "capacity": 2.95,
        "average": 15.59,
        "mean_per_head": 11.5,
        "highest": 18,
        "over_limit": 1,
    }
    assert (team["nqsw"]["workers"], team["nqsw"]["average"], team["nqsw"]["highest"]) == (1, 15.56, 7)

    over = await get(caseload, f"/v1/caseloads/over-limit?as_of={AS_OF}&team=ACIN1")
    assert [(w["external_id"], w["over_by"]) for w in over["workers"]] == [("A", 2)]
    summary = await get(caseload, f"/v1/caseloads?as_of={AS_OF}")
    assert [(t["team"], t["all"]["average"], t["all"]["highest"]) for t in summary["teams"]] == [
        ("ACIN1", 15.59, 18)
    ]

    a = await get(caseload, f"/v1/workers/A/caseload?as_of={AS_OF}")
    assert (a["caseload"], a["team"], a["assessment"]["over_by"]) == (18, "ACIN1", 2)
    assert "KA-ended" not in {c["child_external_id"] for c in a["children"]}
    a_before = await get(caseload, f"/v1/workers/{ids['A']}/caseload?as_of={DAY_BEFORE}")
    assert a_before["caseload"] == 19  # KA-old ended on DAY_BEFORE so is not counted; KA-ended still is
    student = await get(caseload, f"/v1/workers/F/caseload?as_of={AS_OF}")
    assert (student["caseload"], student["role"], student["assessment"]) == (3, "student", None)


async def test_handover_leaving_asye_ending_and_team_moves_on_the_day(caseload: ServiceClient) -> None:
    ids = await seed_directory(
        caseload,
        staff_worker("W1", team="PC3"),
        staff_worker("W2", team="PC3"),
        staff_worker("W3", team="PC3", end_date=AS_OF),
        staff_worker("W4", team="PC3", asye_start=date(2014, 3, 2)),
        staff_worker("W5", team="PC3", changes=((AS_OF, {"team": "ACIN9"}),)),
    )
    # a handover on AS_OF: W1's allocation ends the day W2's begins
    await given_child(
        caseload,
        "K1",
        allocations=[(ids["W1"], date(2014, 6, 2), AS_OF), (ids["W2"], AS_OF, None)],
    )
    await given_child(caseload, "K2", allocations=[(ids["W3"], date(2014, 6, 2), None)])
    await given_child(caseload, "K3", allocations=[(ids["W5"], date(2014, 6, 2), None)])

    def by_worker(team: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {w["external_id"]: w for w in team["workers"]}

    before = by_worker(await get(caseload, f"/v1/teams/PC3/caseloads?as_of={DAY_BEFORE}"))
    on_the_day = by_worker(await get(caseload, f"/v1/teams/PC3/caseloads?as_of={AS_OF}"))
    assert {k: w["caseload"] for k, w in before.items()} == {"W1": 1, "W2": 0, "W3": 1, "W4": 0, "W5": 1}
    # W3 left on AS_OF (not in post), W5 moved to ACIN9 on AS_OF
    assert {k: w["caseload"] for k, w in on_the_day.items()} == {"W1": 0, "W2": 1, "W4": 0}
    # the ASYE (2014-03-02 + 12 months) ends on AS_OF: a full caseload from that day
    assert (before["W4"]["nqsw"], before["W4"]["capacity"], before["W4"]["limit"]) == (True, 0.9, 14)
    assert (on_the_day["W4"]["nqsw"], on_the_day["W4"]["capacity"], on_the_day["W4"]["limit"]) == (
        False,
        1.0,
        16,
    )
    nqsw_on_the_day = (await get(caseload, f"/v1/teams/PC3/caseloads?as_of={AS_OF}"))["nqsw"]
    assert (nqsw_on_the_day["workers"], nqsw_on_the_day["average"], nqsw_on_the_day["highest"]) == (
        0,
        None,
        None,
    )
    moved = by_worker(await get(caseload, f"/v1/teams/ACIN9/caseloads?as_of={AS_OF}"))
    assert list(moved) == ["W5"]
    assert moved["W5"]["caseload"] == 1

    leaver = await get(caseload, f"/v1/workers/W3/caseload?as_of={AS_OF}")
    assert (leaver["in_post"], leaver["team"], leaver["caseload"], leaver["assessment"]) == (
        False,
        None,
        1,
        None,
    )
    summary = await get(caseload, f"/v1/caseloads?as_of={AS_OF}")
    assert [(t["team"], t["all"]["workers"]) for t in summary["teams"]] == [("ACIN9", 1), ("PC3", 3)]

    unknown_team = await caseload.http.get("/v1/teams/NOPE/caseloads", headers=caseload.auth(*READ))
    assert (unknown_team.status_code, unknown_team.json()["errors"][0]["reason"]) == (404, "unknown_team")
    unknown_worker = await caseload.http.get("/v1/workers/NOPE/caseload", headers=caseload.auth(*READ))
    assert (unknown_worker.status_code, unknown_worker.json()["errors"][0]["reason"]) == (
        404,
        "unknown_worker",
    )
    anonymous = await caseload.http.get("/v1/caseloads")
    assert anonymous.status_code == 401


async def test_workers_hired_in_the_staff_service_reach_the_caseload_directory_over_the_broker(
    start_service: Callable[..., Awaitable[ServiceClient]],
) -> None:
    staff = await start_service(staff_definition)
    caseload = await start_service(caseload_definition)
    run = uuid.uuid4().hex[:8]
    team = f"T{run}"
    hired = {}
    for name, extra in (("P", {}), ("Q", {"asye_start": "2014-09-01", "fte": 0.5})):
        answer = await staff.http.post(
            "/v1/workers",
            json={
                "external_id": f"{name}-{run}",
                "display_name": f"Worker {name}",
                "role": "social_worker",
                "employment_type": "permanent",
                "fte": 1.0,
                "team": team,
                "start_date": "2014-01-06",
                **extra,
            },
            headers=staff.auth("staff:read", "staff:write"),
        )
        assert answer.status_code == 201, answer.text
        hired[name] = answer.json()
    leaving = await staff.http.post(
        f"/v1/workers/{hired['P']['id']}/leaving",
        json={"end_date": "2015-06-01", "leaving_reason": "resignation"},
        headers=staff.auth("staff:read", "staff:write"),
    )
    assert leaving.status_code == 200, leaving.text

    async def projected() -> bool:
        answers = [
            await caseload.http.get(
                f"/v1/workers/{name}-{run}/caseload?as_of=2015-06-01", headers=caseload.auth(*READ)
            )
            for name in ("P", "Q")
        ]
        return all(a.status_code == 200 for a in answers) and answers[0].json()["in_post"] is False

    await wait_until(
        projected, timeout=60, interval=0.25, message="the staff events did not reach the directory"
    )

    for child, worker in (("K1", "P"), ("K2", "P"), ("K3", "Q")):
        registered = await caseload.http.post(
            "/v1/children", json={"external_id": f"{child}-{run}"}, headers=caseload.auth(*WRITE)
        )
        assert registered.status_code == 201, registered.text
        allocated = await caseload.http.post(
            f"/v1/children/{child}-{run}/allocations",
            json={"worker": f"{worker}-{run}", "start_date": "2015-01-05"},
            headers=caseload.auth(*WRITE),
        )
        assert allocated.status_code == 201, allocated.text
    caseloads = await get(caseload, f"/v1/teams/{team}/caseloads?as_of={AS_OF}")
    assert [(w["external_id"], w["caseload"], w["nqsw"], w["capacity"]) for w in caseloads["workers"]] == [
        (f"P-{run}", 2, False, 1.0),
        (f"Q-{run}", 1, True, 0.45),
    ]
    after_leaving = await get(caseload, f"/v1/teams/{team}/caseloads?as_of=2015-06-01")
    assert [w["external_id"] for w in after_leaving["workers"]] == [f"Q-{run}"]
