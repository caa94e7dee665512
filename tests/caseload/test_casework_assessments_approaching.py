"""GET /v1/assessments/approaching: open assessments near (or past) 45 working days, on past dates, with
the bank holidays of England inside the count."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from steadfast_shared.codes import EpisodeType
from steadfast_shared.testing import ServiceClient
from tests.caseload.casework import given_child
from tests.caseload.conftest import READ, WRITE, seed_directory, staff_worker

pytestmark = pytest.mark.integration


async def approaching(caseload: ServiceClient, **params: Any) -> dict[str, dict[str, Any]]:
    answer = await caseload.http.get(
        "/v1/assessments/approaching", params=params, headers=caseload.auth(*READ)
    )
    assert answer.status_code == 200, answer.text
    return {a["external_id"]: a for a in answer.json()["assessments"]}


async def assessment(
    caseload: ServiceClient, child: str, external_id: str, start: str, completed: str | None
) -> None:
    answer = await caseload.http.post(
        f"/v1/children/{child}/assessments",
        json={"external_id": external_id, "start_date": start, "completed_date": completed},
        headers=caseload.auth(*WRITE),
    )
    assert answer.status_code == 201, answer.text


async def test_an_assessment_over_christmas_reaches_45_working_days_three_days_late(
    caseload: ServiceClient,
) -> None:
    ids = await seed_directory(caseload, staff_worker("SW10", team="ACIN1"))
    await given_child(
        caseload,
        "XM1",
        [(EpisodeType.assessment, date(2014, 12, 1), None)],
        [(ids["SW10"], date(2014, 12, 1), None)],
    )
    await assessment(caseload, "XM1", "AXM1", "2014-12-01", None)
    # 48 weekdays from 1 December 2014 to 5 February 2015, three of them bank holidays (25, 26 Dec, 1 Jan).
    on_the_day = (await approaching(caseload, as_of="2015-02-05", within_working_days=0))["AXM1"]
    assert (on_the_day["working_days_elapsed"], on_the_day["working_days_left"], on_the_day["overdue"]) == (
        45,
        0,
        False,
    )
    assert on_the_day["child_external_id"] == "XM1"
    assert [w["external_id"] for w in on_the_day["workers"]] == ["SW10"]
    assert on_the_day["teams"] == ["ACIN1"]
    next_day = (await approaching(caseload, as_of="2015-02-06", within_working_days=0))["AXM1"]
    assert (next_day["working_days_elapsed"], next_day["overdue"]) == (46, True)
    # Five working days earlier it is not yet within 4 working days of the timescale.
    assert "AXM1" not in await approaching(caseload, as_of="2015-01-29", within_working_days=4)
    assert (await approaching(caseload, as_of="2015-01-29", within_working_days=5))["AXM1"][
        "working_days_left"
    ] == 5


async def test_an_assessment_over_easter_counts_working_days_only(caseload: ServiceClient) -> None:
    await given_child(caseload, "EA1", [(EpisodeType.assessment, date(2015, 3, 2), None)])
    await assessment(caseload, "EA1", "AEA1", "2015-03-02", None)
    # Good Friday 3 April, Easter Monday 6 April and May Day 4 May 2015 are not working days.
    row = (await approaching(caseload, as_of="2015-05-01", within_working_days=5))["AEA1"]
    assert (row["working_days_elapsed"], row["working_days_left"], row["overdue"]) == (42, 3, False)
    assert row["workers"] == []
    assert row["teams"] == []
    assert (await approaching(caseload, as_of="2015-05-07", within_working_days=0))["AEA1"][
        "working_days_left"
    ] == 0


async def test_only_assessments_open_on_as_of_are_listed(caseload: ServiceClient) -> None:
    await given_child(caseload, "OP1", [(EpisodeType.assessment, date(2014, 10, 1), None)])
    await assessment(caseload, "OP1", "DONE", "2014-10-01", "2014-11-20")
    await assessment(caseload, "OP1", "LATER_DONE", "2014-10-01", "2015-01-20")
    await assessment(caseload, "OP1", "NOT_YET", "2015-01-05", None)
    listed = await approaching(caseload, as_of="2015-01-02", within_working_days=45)
    assert set(listed) == {"LATER_DONE"}
    assert listed["LATER_DONE"]["overdue"] is True
    # Completed on as_of: no longer open that day.
    assert "LATER_DONE" not in await approaching(caseload, as_of="2015-01-20", within_working_days=45)
    assert set(await approaching(caseload, as_of="2015-01-19", within_working_days=45)) == {
        "LATER_DONE",
        "NOT_YET",
    }


async def test_the_list_can_be_filtered_by_team_and_worker(caseload: ServiceClient) -> None:
    ids = await seed_directory(caseload, staff_worker("SW11", team="PC3"), staff_worker("SW12", team="ACIN2"))
    start = date(2015, 1, 5)
    await given_child(caseload, "T1", [(EpisodeType.assessment, start, None)], [(ids["SW11"], start, None)])
    await given_child(caseload, "T2", [(EpisodeType.assessment, start, None)], [(ids["SW12"], start, None)])
    await assessment(caseload, "T1", "AT1", "2015-01-05", None)
    await assessment(caseload, "T2", "AT2", "2015-01-05", None)
    assert set(await approaching(caseload, as_of="2015-03-02", within_working_days=10, team="PC3")) == {"AT1"}
    assert set(await approaching(caseload, as_of="2015-03-02", within_working_days=10, worker="SW12")) == {
        "AT2"
    }
    assert set(await approaching(caseload, as_of="2015-03-02", within_working_days=10)) == {"AT1", "AT2"}
    too_far = await caseload.http.get(
        "/v1/assessments/approaching", params={"within_working_days": 46}, headers=caseload.auth(*READ)
    )
    assert too_far.status_code == 422
