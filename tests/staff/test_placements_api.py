"""The student placement endpoints, in-process on a real PostgreSQL database migrated to head."""

from __future__ import annotations

from typing import Any

import pytest

from steadfast_shared.testing import ServiceClient
from tests.staff.conftest import READ, WRITE, event_types

pytestmark = pytest.mark.integration


async def record(staff: ServiceClient, external_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "external_id": external_id,
        "university": "Keele University",
        "placement": "first",
        "team": "ACIN1",
        "start_date": "2015-09-07",
        "end_date": "2016-01-29",
        **overrides,
    }
    answer = await staff.http.post("/v1/student-placements", json=body, headers=staff.auth(*WRITE))
    assert answer.status_code == 201, answer.text
    assert answer.headers["Location"] == f"/v1/student-placements/{answer.json()['id']}"
    result: dict[str, Any] = answer.json()
    return result


async def test_a_placement_is_recorded_corrected_and_removed(staff: ServiceClient) -> None:
    hired = await staff.http.post(
        "/v1/workers",
        json={
            "external_id": "HR-KRISTY",
            "display_name": "Kristy B",
            "role": "social_worker",
            "employment_type": "permanent",
            "fte": 1.0,
            "team": "ACIN1",
            "start_date": "2016-09-05",
            "asye_start": "2016-09-05",
        },
        headers=staff.auth(*WRITE),
    )
    assert hired.status_code == 201, hired.text
    placement = await record(staff, "PL-1", placement="second")
    url = f"/v1/student-placements/{placement['id']}"
    assert placement["hired_afterwards"] is False
    assert placement["student_worker_id"] is None

    updated = await staff.http.patch(
        url, json={"hired_worker": "HR-KRISTY"}, headers={**staff.auth(*WRITE), "If-Match": '"1"'}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["hired_afterwards"] is True
    assert updated.json()["hired_worker_id"] == hired.json()["id"]
    assert updated.headers["ETag"] == '"2"'

    by_external_id = await staff.http.get("/v1/student-placements/PL-1", headers=staff.auth(*READ))
    assert by_external_id.json() == updated.json()

    stale = await staff.http.delete(url, headers={**staff.auth(*WRITE), "If-Match": '"1"'})
    assert stale.status_code == 412
    removed = await staff.http.delete(url, headers=staff.auth(*WRITE))
    assert removed.status_code == 204
    assert (await staff.http.get(url, headers=staff.auth(*READ))).status_code == 404

    assert await event_types(staff, placement["id"]) == [
        "org.steadfast.staff.student_placement.recorded.v1",
        "org.steadfast.staff.student_placement.updated.v1",
        "org.steadfast.staff.student_placement.removed.v1",
    ]


async def test_worker_references_must_be_known(staff: ServiceClient) -> None:
    body = {
        "external_id": "PL-X",
        "student": "NOBODY",
        "university": "Keele University",
        "placement": "first",
        "team": "ACIN1",
        "start_date": "2015-09-07",
    }
    answer = await staff.http.post("/v1/student-placements", json=body, headers=staff.auth(*WRITE))
    assert answer.status_code == 422
    assert answer.json()["errors"][0] == {"field": "student", "reason": "unknown_worker"}


async def test_rules_are_problems_not_errors(staff: ServiceClient) -> None:
    base = {"university": "Keele", "team": "ACIN1", "start_date": "2015-09-07"}
    bad_stage = await staff.http.post(
        "/v1/student-placements",
        json={**base, "external_id": "A", "placement": "third"},
        headers=staff.auth(*WRITE),
    )
    assert bad_stage.status_code == 422
    backwards = await staff.http.post(
        "/v1/student-placements",
        json={**base, "external_id": "B", "placement": "first", "end_date": "2015-09-01"},
        headers=staff.auth(*WRITE),
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["reason"] == "not_after_start_date"
    await record(staff, "C")
    duplicate = await staff.http.post(
        "/v1/student-placements",
        json={**base, "external_id": "C", "placement": "first"},
        headers=staff.auth(*WRITE),
    )
    assert duplicate.status_code == 409


async def test_placements_are_listed_by_start_date_in_a_financial_year(staff: ServiceClient) -> None:
    await record(staff, "PL-A", start_date="2015-03-31", end_date=None)
    await record(staff, "PL-B", start_date="2015-04-01", end_date=None)
    await record(staff, "PL-C", start_date="2016-03-31", end_date=None, team="PC3", placement="second")
    await record(staff, "PL-D", start_date="2016-04-01", end_date=None)

    async def external_ids(**query: str) -> list[str]:
        answer = await staff.http.get("/v1/student-placements", params=query, headers=staff.auth(*READ))
        assert answer.status_code == 200, answer.text
        return [p["external_id"] for p in answer.json()["items"]]

    assert await external_ids(start_from="2015-04-01", start_before="2016-04-01") == ["PL-B", "PL-C"]
    assert await external_ids(team="PC3") == ["PL-C"]
    assert await external_ids(placement="first") == ["PL-A", "PL-B", "PL-D"]
