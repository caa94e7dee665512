"""``POST /v1/imports/workers``: idempotent upserts, atomic and partial modes, precise row errors."""

from __future__ import annotations

from typing import Any

import pytest

from steadfast_shared.testing import ServiceClient
from tests.staff.conftest import READ, WRITE, outbox_count

pytestmark = pytest.mark.integration

HEADER = (
    "external_id,display_name,role,employment_type,fte,team,start_date,end_date,leaving_reason,"
    "asye_start,protected_development_pct,swe_registration_number,swe_registration_expiry\n"
)
GOOD = (
    "HR1,Amira Khan,social_worker,permanent,1.0,ACIN1,2014-09-01,,,2014-09-01,10,SW1001,2016-06-30\n"
    "HR2,Ben Ola,social_worker,agency,1,ACIN1,2013-01-07,,,,,SW1002,2015-12-31\n"
    "HR3,Cara Diaz,consultant_practitioner,permanent,1,PC3,2010-05-04,,,,,SW1003,2016-01-31\n"
)
BAD = "HR4,Dev Patel,wizard,permanent,1.5,PC3,2014-09-01,,,,,,\n"


async def post(staff: ServiceClient, body: str, mode: str = "atomic", **headers: str) -> tuple[int, Any]:
    answer = await staff.http.post(
        f"/v1/imports/workers?mode={mode}",
        content=body.encode(),
        headers={**staff.auth(*WRITE), "Content-Type": "text/csv", **headers},
    )
    return answer.status_code, answer.json()


async def test_an_import_creates_then_finds_everything_unchanged(staff: ServiceClient) -> None:
    status, first = await post(staff, HEADER + GOOD)
    assert status == 200, first
    assert first["counts"] == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    assert [r["key"] for r in first["created"]] == ["HR1", "HR2", "HR3"]
    events_after_first = await outbox_count(staff)
    assert events_after_first == 3 + 2, "three workers hired and two teams set up"

    status, second = await post(staff, HEADER + GOOD)
    assert status == 200
    assert second["counts"] == {"rows": 3, "created": 0, "updated": 0, "unchanged": 3, "rejected": 0}
    assert await outbox_count(staff) == events_after_first, "a second import publishes nothing"


async def test_a_changed_row_updates_the_worker(staff: ServiceClient) -> None:
    await post(staff, HEADER + GOOD)
    leaver = GOOD.replace(
        "HR2,Ben Ola,social_worker,agency,1,ACIN1,2013-01-07,,",
        "HR2,Ben Ola,social_worker,agency,1,ACIN1,2013-01-07,2015-03-31,end_of_contract",
    )
    status, result = await post(staff, HEADER + leaver)
    assert status == 200
    assert result["counts"]["updated"] == 1
    assert result["updated"][0]["key"] == "HR2"
    ben = (await staff.http.get("/v1/workers/HR2", headers=staff.auth(*READ))).json()
    assert (ben["end_date"], ben["leaving_reason"], ben["version"]) == ("2015-03-31", "end_of_contract", 2)


async def test_a_change_of_team_in_the_file_is_a_dated_change(staff: ServiceClient) -> None:
    await post(staff, HEADER + GOOD)
    moved = "HR3,Cara Diaz,consultant_practitioner,permanent,1,ACIN1,2010-05-04,,,,,SW1003,2016-01-31\n"
    status, result = await post(
        staff, HEADER.replace("\n", ",effective_date\n") + moved.replace("\n", ",2015-01-05\n")
    )
    assert status == 200, result
    cara = (await staff.http.get("/v1/workers/HR3", headers=staff.auth(*READ))).json()
    assert [(h["effective_from"], h["team"]) for h in cara["history"]] == [
        ("2010-05-04", "PC3"),
        ("2015-01-05", "ACIN1"),
    ]


async def test_atomic_mode_rejects_the_whole_file_and_names_row_column_and_reason(
    staff: ServiceClient,
) -> None:
    status, problem = await post(staff, HEADER + GOOD + BAD)
    assert status == 422
    assert problem["type"].endswith("/import_rejected")
    assert {(e["row"], e["field"], e["reason"], e["value"]) for e in problem["errors"]} == {
        (5, "role", "enum", "wizard"),
        (5, "fte", "less_than_equal", "1.5"),
    }
    assert problem["result"]["committed"] is False
    assert problem["result"]["created"] == []
    assert (await staff.http.get("/v1/workers", headers=staff.auth(*READ))).json()["items"] == []
    assert await outbox_count(staff) == 0, "a rejected import leaves no event"


async def test_partial_mode_applies_the_good_rows(staff: ServiceClient) -> None:
    status, result = await post(staff, HEADER + BAD + GOOD, mode="partial")
    assert status == 200
    assert result["counts"] == {"rows": 4, "created": 3, "updated": 0, "unchanged": 0, "rejected": 1}
    assert {e["row"] for e in result["rejected"]} == {2}
    listed = (await staff.http.get("/v1/workers", headers=staff.auth(*READ))).json()["items"]
    assert [w["external_id"] for w in listed] == ["HR1", "HR2", "HR3"]


async def test_a_row_that_breaks_a_rule_is_rejected_without_touching_the_others(staff: ServiceClient) -> None:
    await post(staff, HEADER + GOOD)
    # Moving Amira's start date after a dated change would rewrite history: refused for that row only.
    await staff.http.post(
        "/v1/workers/HR1/changes",
        json={"effective_date": "2015-01-05", "fte": 0.8},
        headers=staff.auth(*WRITE),
    )
    rows = (
        "HR1,Amira Khan,social_worker,permanent,0.8,ACIN1,2015-02-01,,,2014-09-01,10,SW1001,2016-06-30\n"
        "HR5,Eve Stone,student,permanent,1,ACIN1,2015-01-05,,,,,,\n"
    )
    status, result = await post(staff, HEADER + rows, mode="partial")
    assert status == 200
    assert [(e["row"], e["column"], e["reason"]) for e in result["rejected"]] == [
        (2, "start_date", "conflicts_with_history")
    ]
    assert [r["key"] for r in result["created"]] == ["HR5"]
    amira = (await staff.http.get("/v1/workers/HR1", headers=staff.auth(*READ))).json()
    assert amira["start_date"] == "2014-09-01"


async def test_file_level_problems_are_clear(staff: ServiceClient) -> None:
    status, problem = await post(staff, "external_id,display_name\nHR1,Amira\n")
    assert status == 422
    assert {e["field"] for e in problem["errors"]} == {"role", "employment_type", "fte", "team", "start_date"}
    assert {e["reason"] for e in problem["errors"]} == {"missing_column"}

    status, problem = await post(staff, "")
    assert (status, problem["errors"][0]["reason"]) == (422, "empty_file")

    status, problem = await post(staff, HEADER + "HR1,only,three\n", mode="partial")
    assert status == 200
    assert problem["rejected"][0]["reason"] == "wrong_number_of_cells"

    latin1 = await staff.http.post(
        "/v1/imports/workers",
        content=(HEADER + "HR1,Zo\xeb,social_worker,permanent,1,ACIN1,2014-09-01,,,,,,\n").encode("latin-1"),
        headers={**staff.auth(*WRITE), "Content-Type": "text/csv"},
    )
    assert latin1.status_code == 422
    assert [(e["row"], e["reason"]) for e in latin1.json()["errors"]] == [(2, "not_utf8")]

    json_body = await staff.http.post("/v1/imports/workers", json={}, headers=staff.auth(*WRITE))
    assert json_body.status_code == 415

    unknown = await staff.http.post(
        "/v1/imports/allocations", content=b"a\n", headers={**staff.auth(*WRITE), "Content-Type": "text/csv"}
    )
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["allowed"] == ["workers"]

    reader = await staff.http.post(
        "/v1/imports/workers",
        content=HEADER.encode(),
        headers={**staff.auth(*READ), "Content-Type": "text/csv"},
    )
    assert reader.status_code == 403


async def test_an_excel_export_with_a_bom_and_crlf_lines_imports(staff: ServiceClient) -> None:
    body = "\ufeff" + (HEADER + GOOD).replace("\n", "\r\n")
    status, result = await post(staff, body)
    assert status == 200, result
    assert result["counts"]["created"] == 3


async def test_an_import_retried_with_its_idempotency_key_is_not_applied_twice(staff: ServiceClient) -> None:
    status, first = await post(staff, HEADER + GOOD, **{"Idempotency-Key": "nightly-2015-03-02"})
    status_again, again = await post(staff, HEADER + GOOD, **{"Idempotency-Key": "nightly-2015-03-02"})
    assert status == status_again == 200
    assert again == first
