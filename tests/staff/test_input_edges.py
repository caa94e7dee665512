"""Inputs at the edges, on the staff service (regression tests of the hardening issue, defects 2 and 9):
a date near the calendar's end was a 500 (the ASYE year on overflowed, and in an import the whole file
was a 500); an ``external_id`` with ``/`` could be created but never fetched; a NUL was accepted in a
name. Each is now a 422 naming the field, or in an import that row's error."""

from __future__ import annotations

from typing import Any

import pytest

from steadfast_shared.testing import ServiceClient
from tests.staff.conftest import READ, WRITE
from tests.staff.test_workers_import_extracts import HEADER, post

pytestmark = pytest.mark.integration

WORKER = {
    "external_id": "HR1",
    "display_name": "Amira Khan",
    "role": "social_worker",
    "employment_type": "permanent",
    "fte": 1,
    "team": "ACIN1",
    "start_date": "2014-09-01",
}


def fields(problem: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["reason"]) for e in problem["errors"]]


async def create(staff: ServiceClient, **changes: Any) -> Any:
    return await staff.http.post("/v1/workers", json={**WORKER, **changes}, headers=staff.auth(*WRITE))


async def test_an_asye_start_near_the_calendars_end_is_a_422_naming_it(staff: ServiceClient) -> None:
    answer = await create(staff, external_id="HR-ASYE", asye_start="9999-06-01")
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert fields(answer.json()) == [("asye_start", "date_out_of_range")]


async def test_an_import_row_with_such_a_date_is_that_rows_error(staff: ServiceClient) -> None:
    body = HEADER + "HR-I1,Ben Ola,social_worker,permanent,1,ACIN1,2014-09-01,,,9999-06-01,,,\n"
    body += "HR-I2,Cara Diaz,social_worker,permanent,1,ACIN1,2014-09-01,,,2014-09-01,,,\n"
    status, result = await post(staff, body.encode())
    assert status == 200, result
    assert [(e["row"], e["column"], e["reason"]) for e in result["rejected"]] == [
        (2, "asye_start", "date_out_of_range")
    ]
    assert [r["key"] for r in result["created"]] == ["HR-I2"]


async def test_a_query_day_outside_the_calendar_is_a_422(staff: ServiceClient) -> None:
    answer = await staff.http.get(
        "/v1/registrations/expiring",
        params={"as_of": "9999-12-31", "within_days": 60},
        headers=staff.auth(*READ),
    )
    assert answer.status_code == 422, answer.text
    assert [(e["field"], e["reason"]) for e in answer.json()["errors"]] == [("as_of", "date_out_of_range")]


@pytest.mark.parametrize("external_id", ["HR/1001", "..", "HR\\1001"])
async def test_an_external_id_that_cannot_be_fetched_is_refused(
    staff: ServiceClient, external_id: str
) -> None:
    answer = await create(staff, external_id=external_id)
    assert answer.status_code == 422, answer.text
    assert fields(answer.json()) == [("external_id", "not_a_path_segment")]


async def test_an_external_id_with_other_punctuation_is_fetched_by_it(staff: ServiceClient) -> None:
    made = await create(staff, external_id="HR.1001:a")
    assert made.status_code == 201, made.text
    got = await staff.http.get("/v1/workers/HR.1001:a", headers=staff.auth(*READ))
    assert got.status_code == 200, got.text
    assert got.json()["id"] == made.json()["id"]


async def test_a_nul_in_a_name_is_a_422(staff: ServiceClient) -> None:
    answer = await create(staff, external_id="HR-NUL", display_name="Amira\u0000Khan")
    assert answer.status_code == 422, answer.text
    assert fields(answer.json()) == [("display_name", "control_character")]


async def test_a_nul_in_an_imported_cell_is_that_rows_error(staff: ServiceClient) -> None:
    body = HEADER + "HR-N1,Ben\x00Ola,social_worker,permanent,1,ACIN1,2014-09-01,,,,,,\n"
    status, result = await post(staff, body.encode())
    assert status == 200, result
    assert [(e["row"], e["column"], e["reason"]) for e in result["rejected"]] == [
        (2, "display_name", "control_character")
    ]


async def test_a_nul_in_a_query_parameter_or_the_path_is_a_422(staff: ServiceClient) -> None:
    listed = await staff.http.get("/v1/workers?team=AC%00IN1", headers=staff.auth(*READ))
    assert listed.status_code == 422, listed.text
    assert [(e["field"], e["reason"]) for e in listed.json()["errors"]] == [("team", "control_character")]
    fetched = await staff.http.get("/v1/workers/HR%001", headers=staff.auth(*READ))
    assert fetched.status_code == 422, fetched.text
    assert [(e["field"], e["reason"]) for e in fetched.json()["errors"]] == [("path", "control_character")]
