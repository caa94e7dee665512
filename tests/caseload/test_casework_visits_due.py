"""GET /v1/visits/due: children whose statutory visit is overdue or due soon, on dates in the past."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from steadfast_shared.codes import EpisodeType
from steadfast_shared.testing import ServiceClient
from tests.caseload.casework import given_child
from tests.caseload.conftest import READ, WRITE, seed_directory, staff_worker

pytestmark = pytest.mark.integration


async def due(caseload: ServiceClient, **params: Any) -> dict[str, Any]:
    answer = await caseload.http.get("/v1/visits/due", params=params, headers=caseload.auth(*READ))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def by_child(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["child_external_id"]: c for c in report["children"]}


async def visit(caseload: ServiceClient, child: str, on: str, visit_type: str = "cp") -> None:
    answer = await caseload.http.post(
        f"/v1/children/{child}/visits",
        json={"visit_date": on, "visit_type": visit_type},
        headers=caseload.auth(*WRITE),
    )
    assert answer.status_code == 201, answer.text


async def test_a_visit_is_in_time_on_its_due_date_and_overdue_the_day_after(caseload: ServiceClient) -> None:
    ids = await seed_directory(caseload, staff_worker("SW1", team="PC3"))
    await given_child(
        caseload,
        "CP1",
        [(EpisodeType.cp, date(2014, 12, 1), None)],
        [(ids["SW1"], date(2014, 12, 1), None)],
    )
    await visit(caseload, "CP1", "2014-12-19")
    # Ten working days after Friday 19 December 2014, skipping 25, 26 December and 1 January.
    on_the_day = by_child(await due(caseload, as_of="2015-01-07", within_days=0))["CP1"]
    assert on_the_day["reference_date"] == "2014-12-19"
    assert on_the_day["due_date"] == "2015-01-07"
    assert (on_the_day["overdue"], on_the_day["days_overdue"]) == (False, 0)
    assert on_the_day["episode_type"] == "cp"
    assert on_the_day["workers"] == [
        {
            "id": str(ids["SW1"]),
            "external_id": "SW1",
            "display_name": "Worker SW1",
            "role": "social_worker",
            "team": "PC3",
        }
    ]
    day_after = by_child(await due(caseload, as_of="2015-01-08", within_days=0))["CP1"]
    assert (day_after["overdue"], day_after["days_overdue"]) == (True, 1)

    # A visit on the due date moves the reference on; a visit after as_of does not count yet.
    await visit(caseload, "CP1", "2015-01-07")
    assert "CP1" not in by_child(await due(caseload, as_of="2015-01-08", within_days=7))
    still = by_child(await due(caseload, as_of="2015-01-06", within_days=7))["CP1"]
    assert still["reference_date"] == "2014-12-19"


async def test_without_a_visit_the_episode_start_is_the_reference_and_within_days_bounds_the_list(
    caseload: ServiceClient,
) -> None:
    await given_child(caseload, "LA1", [(EpisodeType.cla, date(2015, 1, 5), None)])
    await given_child(caseload, "CIN1", [(EpisodeType.cin, date(2014, 6, 2), None)])
    await given_child(caseload, "OLD1", [(EpisodeType.cp, date(2014, 6, 2), date(2014, 12, 1))])
    # Due 42 days after 5 January 2015: 16 February.
    assert by_child(await due(caseload, as_of="2015-02-01", within_days=14)) == {}
    report = await due(caseload, as_of="2015-02-02", within_days=14)
    assert report["as_of"] == "2015-02-02"
    row = by_child(report)["LA1"]
    assert (row["reference_date"], row["due_date"], row["days_overdue"]) == ("2015-01-05", "2015-02-16", -14)
    assert row["workers"] == []
    assert set(by_child(report)) == {"LA1"}  # a cin child and an ended cp episode are not listed


async def test_a_child_with_cp_and_cla_is_listed_with_both_due_dates_the_earlier_governing(
    caseload: ServiceClient,
) -> None:
    await given_child(
        caseload,
        "BOTH1",
        [(EpisodeType.cla, date(2014, 11, 3), None), (EpisodeType.cp, date(2015, 1, 12), None)],
    )
    await visit(caseload, "BOTH1", "2015-01-12", "cla")
    row = by_child(await due(caseload, as_of="2015-01-30", within_days=7))["BOTH1"]
    # cp: 10 working days after 12 January = 26 January (overdue); cla: 42 days after = 23 February.
    assert [(d["episode_type"], d["reference_date"], d["due_date"], d["overdue"]) for d in row["due"]] == [
        ("cp", "2015-01-12", "2015-01-26", True),
        ("cla", "2015-01-12", "2015-02-23", False),
    ]
    assert (row["episode_type"], row["due_date"], row["days_overdue"], row["overdue"]) == (
        "cp",
        "2015-01-26",
        4,
        True,
    )


async def test_the_list_is_filtered_by_worker_and_team_on_as_of_and_most_overdue_first(
    caseload: ServiceClient,
) -> None:
    ids = await seed_directory(
        caseload,
        staff_worker("SW2", team="ACIN1", changes=((date(2015, 2, 2), {"team": "PC3"}),)),
        staff_worker("SW3", team="ACIN1"),
    )
    cp = [(EpisodeType.cp, date(2015, 1, 5), None)]
    await given_child(caseload, "F1", cp, [(ids["SW2"], date(2015, 1, 5), None)])
    await given_child(
        caseload, "F2", [(EpisodeType.cp, date(2015, 1, 12), None)], [(ids["SW3"], date(2015, 1, 5), None)]
    )
    # Handover of F3 from SW3 to SW2 on 26 January: on that day it is SW2's only.
    await given_child(
        caseload,
        "F3",
        cp,
        [(ids["SW3"], date(2015, 1, 5), date(2015, 1, 26)), (ids["SW2"], date(2015, 1, 26), None)],
    )

    everyone = await due(caseload, as_of="2015-01-26", within_days=7)
    assert [c["child_external_id"] for c in everyone["children"]] == ["F1", "F3", "F2"]
    assert [w["external_id"] for w in by_child(everyone)["F3"]["workers"]] == ["SW2"]

    sw2 = await due(caseload, as_of="2015-01-26", within_days=7, worker="SW2")
    assert [c["child_external_id"] for c in sw2["children"]] == ["F1", "F3"]
    sw3 = await due(caseload, as_of="2015-01-26", within_days=7, worker=str(ids["SW3"]))
    assert [c["child_external_id"] for c in sw3["children"]] == ["F2"]
    sw3_before = await due(caseload, as_of="2015-01-23", within_days=7, worker="SW3")
    assert [c["child_external_id"] for c in sw3_before["children"]] == ["F3", "F2"]

    acin1 = await due(caseload, as_of="2015-01-26", within_days=7, team="ACIN1")
    assert [c["child_external_id"] for c in acin1["children"]] == ["F1", "F3", "F2"]
    # SW2 moved to PC3 on 2 February: the team is the worker's team on as_of.
    pc3 = await due(caseload, as_of="2015-02-02", within_days=7, team="PC3")
    assert [c["child_external_id"] for c in pc3["children"]] == ["F1", "F3"]
    assert {w["team"] for c in pc3["children"] for w in c["workers"]} == {"PC3"}
    assert (await due(caseload, as_of="2015-01-26", team="NOPE"))["children"] == []

    unknown = await caseload.http.get(
        "/v1/visits/due", params={"worker": "GHOST"}, headers=caseload.auth(*READ)
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0] == {"field": "worker", "reason": "unknown_worker"}
