"""The children, episodes and allocations endpoints, in-process on real PostgreSQL and the real broker."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from steadfast_caseload.db import tables
from steadfast_caseload.events import AllocationChanged, AllocationStarted, ChildRegistered
from steadfast_shared.testing import ServiceClient
from tests.caseload.conftest import READ, WRITE, seed_directory, staff_worker

pytestmark = pytest.mark.integration


async def outbox_types(caseload: ServiceClient, subject: str) -> list[str]:
    outbox = tables.outbox
    query = select(outbox.c.event_type).where(outbox.c.message_key == subject).order_by(outbox.c.id)
    async with caseload.runtime.database.sessionmaker() as session:
        return list((await session.scalars(query)).all())


async def register(caseload: ServiceClient, external_id: str) -> dict[str, object]:
    answer = await caseload.http.post(
        "/v1/children", json={"external_id": external_id}, headers=caseload.auth(*WRITE)
    )
    assert answer.status_code == 201, answer.text
    child: dict[str, object] = answer.json()
    return child


async def test_registering_a_child_answers_201_publishes_and_replays_with_the_same_key(
    caseload: ServiceClient,
) -> None:
    headers = {**caseload.auth(*WRITE), "Idempotency-Key": "k-1"}
    answer = await caseload.http.post("/v1/children", json={"external_id": "LL1"}, headers=headers)
    assert answer.status_code == 201, answer.text
    child = answer.json()
    assert answer.headers["location"] == f"/v1/children/{child['id']}"
    assert answer.headers["etag"] == '"1"'
    assert (child["external_id"], child["episodes"], child["allocations"]) == ("LL1", [], [])
    replay = await caseload.http.post("/v1/children", json={"external_id": "LL1"}, headers=headers)
    assert (replay.status_code, replay.json()["id"]) == (201, child["id"])
    assert replay.headers["idempotent-replayed"] == "true"
    again = await caseload.http.post(
        "/v1/children", json={"external_id": "LL1"}, headers=caseload.auth(*WRITE)
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["reason"] == "already_exists"
    assert await outbox_types(caseload, child["id"]) == [ChildRegistered.type]


async def test_a_child_is_found_by_id_or_external_id_and_children_are_paged(caseload: ServiceClient) -> None:
    created = [await register(caseload, f"LL{n}") for n in (3, 1, 2)]
    by_id = await caseload.http.get(f"/v1/children/{created[0]['id']}", headers=caseload.auth(*READ))
    by_external = await caseload.http.get("/v1/children/LL3", headers=caseload.auth(*READ))
    assert by_id.status_code == 200
    assert by_id.json() == by_external.json()
    missing = await caseload.http.get("/v1/children/NOPE", headers=caseload.auth(*READ))
    assert (missing.status_code, missing.json()["errors"][0]["reason"]) == (404, "unknown_child")
    first = (await caseload.http.get("/v1/children?limit=2", headers=caseload.auth(*READ))).json()
    assert [c["external_id"] for c in first["items"]] == ["LL1", "LL2"]
    rest = (
        await caseload.http.get(
            f"/v1/children?limit=2&cursor={first['next_cursor']}", headers=caseload.auth(*READ)
        )
    ).json()
    assert ([c["external_id"] for c in rest["items"]], rest["next_cursor"]) == (["LL3"], None)
    reader = await caseload.http.post("/v1/children", json={"external_id": "X"}, headers=caseload.auth(*READ))
    assert reader.status_code == 403


async def test_episodes_are_upserted_closed_and_validated(caseload: ServiceClient) -> None:
    await register(caseload, "LL1")
    url = "/v1/children/LL1/episodes"
    body = {"episode_type": "cp", "start_date": "2015-01-05"}
    created = await caseload.http.post(url, json=body, headers=caseload.auth(*WRITE))
    assert (created.status_code, created.headers["x-outcome"], created.headers["etag"]) == (
        201,
        "created",
        '"2"',
    )
    same = await caseload.http.post(url, json=body, headers=caseload.auth(*WRITE))
    assert (same.status_code, same.headers["x-outcome"], same.json()["id"]) == (
        200,
        "unchanged",
        created.json()["id"],
    )
    unknown = await caseload.http.post(
        url, json={**body, "episode_type": "wardship"}, headers=caseload.auth(*WRITE)
    )
    assert unknown.status_code == 422
    assert (unknown.json()["errors"][0]["field"], unknown.json()["errors"][0]["reason"]) == (
        "episode_type",
        "enum",
    )
    backwards = await caseload.http.post(
        url, json={**body, "episode_type": "cin", "end_date": "2015-01-01"}, headers=caseload.auth(*WRITE)
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["rule"] == "end_not_after_start"
    closed = await caseload.http.patch(
        f"{url}/{created.json()['id']}",
        json={"end_date": "2015-06-01"},
        headers={**caseload.auth(*WRITE), "If-Match": '"2"'},
    )
    assert (closed.status_code, closed.json()["end_date"], closed.headers["etag"]) == (
        200,
        "2015-06-01",
        '"3"',
    )
    child = (await caseload.http.get("/v1/children/LL1", headers=caseload.auth(*READ))).json()
    assert [(e["episode_type"], e["end_date"]) for e in child["episodes"]] == [("cp", "2015-06-01")]


async def test_allocations_name_known_workers_reject_overlaps_and_honour_if_match(
    caseload: ServiceClient,
) -> None:
    ids = await seed_directory(caseload, staff_worker("HR-A"), staff_worker("HR-B"))
    await register(caseload, "LL1")
    url = "/v1/children/LL1/allocations"
    unknown = await caseload.http.post(
        url, json={"worker": "HR-NOBODY", "start_date": "2015-01-05"}, headers=caseload.auth(*WRITE)
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0] == {
        "field": "worker",
        "reason": "unknown_worker",
        "rule": "unknown_worker",
        "worker": "HR-NOBODY",
    }
    first = await caseload.http.post(
        url, json={"worker": "HR-A", "start_date": "2015-01-05"}, headers=caseload.auth(*WRITE)
    )
    assert first.status_code == 201, first.text
    allocation = first.json()
    assert (allocation["worker_id"], allocation["worker_external_id"], allocation["worker_name"]) == (
        str(ids["HR-A"]),
        "HR-A",
        "Worker HR-A",
    )
    overlap = await caseload.http.post(
        url, json={"worker": str(ids["HR-A"]), "start_date": "2015-02-02"}, headers=caseload.auth(*WRITE)
    )
    assert overlap.status_code == 422
    error = overlap.json()["errors"][0]
    assert (error["rule"], error["conflicting_allocation"]) == ("overlapping_allocation", allocation["id"])
    backwards = await caseload.http.post(
        url,
        json={"worker": "HR-B", "start_date": "2015-03-02", "end_date": "2015-03-01"},
        headers=caseload.auth(*WRITE),
    )
    assert (backwards.status_code, backwards.json()["errors"][0]["rule"]) == (422, "end_not_after_start")
    etag = first.headers["etag"]
    stale = await caseload.http.patch(
        f"{url}/{allocation['id']}",
        json={"end_date": "2015-03-02", "reason": "LEFTRL"},
        headers={**caseload.auth(*WRITE), "If-Match": '"1"'},
    )
    assert stale.status_code == 412
    ended = await caseload.http.patch(
        f"{url}/{allocation['id']}",
        json={"end_date": "2015-03-02", "reason": "LEFTRL"},
        headers={**caseload.auth(*WRITE), "If-Match": etag},
    )
    assert ended.status_code == 200, ended.text
    assert (ended.json()["end_date"], ended.json()["reason"]) == ("2015-03-02", "LEFTRL")
    handover = await caseload.http.post(
        url,
        json={"worker": "HR-B", "start_date": "2015-03-02", "reason": "LEFTRL"},
        headers=caseload.auth(*WRITE),
    )
    assert handover.status_code == 201, handover.text
    missing = await caseload.http.patch(
        f"{url}/{ids['HR-A']}", json={"end_date": "2015-03-02"}, headers=caseload.auth(*WRITE)
    )
    assert (missing.status_code, missing.json()["errors"][0]["reason"]) == (404, "unknown_allocation")
    child = (await caseload.http.get("/v1/children/LL1", headers=caseload.auth(*READ))).json()
    assert await outbox_types(caseload, child["id"]) == [
        ChildRegistered.type,
        AllocationStarted.type,
        AllocationChanged.type,
        AllocationStarted.type,
    ]


async def test_allocation_history_counts_workers_since_the_start_of_the_current_run(
    caseload: ServiceClient,
) -> None:
    await seed_directory(caseload, staff_worker("HR-A"), staff_worker("HR-B"), staff_worker("HR-C"))
    await register(caseload, "LL1")
    write = caseload.auth(*WRITE)
    for episode in (
        {"episode_type": "cin", "start_date": "2013-01-07", "end_date": "2013-06-03"},
        {"episode_type": "cin", "start_date": "2014-05-01", "end_date": "2014-09-01"},
        {"episode_type": "cp", "start_date": "2014-09-01"},
    ):
        assert (await caseload.http.post("/v1/children/LL1/episodes", json=episode, headers=write)).is_success
    for allocation in (
        {"worker": "HR-C", "start_date": "2013-01-07", "end_date": "2013-06-03"},
        {"worker": "HR-A", "start_date": "2014-05-01", "end_date": "2014-10-01"},
        {"worker": "HR-B", "start_date": "2014-10-01", "end_date": "2015-01-05", "reason": "ABSENC"},
        {"worker": "HR-A", "start_date": "2015-01-05", "reason": "MANAGE"},
    ):
        answer = await caseload.http.post("/v1/children/LL1/allocations", json=allocation, headers=write)
        assert answer.status_code == 201, answer.text
    history = (
        await caseload.http.get("/v1/children/LL1/allocations?as_of=2015-03-02", headers=caseload.auth(*READ))
    ).json()
    assert history["current_run_start"] == "2014-05-01"
    assert history["workers_in_current_run"] == 2  # A, B, A
    assert [(a["worker_external_id"], a["worker_name"], a["active"]) for a in history["allocations"]] == [
        ("HR-C", "Worker HR-C", False),
        ("HR-A", "Worker HR-A", False),
        ("HR-B", "Worker HR-B", False),
        ("HR-A", "Worker HR-A", True),
    ]
    earlier = (
        await caseload.http.get("/v1/children/LL1/allocations?as_of=2014-06-02", headers=caseload.auth(*READ))
    ).json()
    assert (earlier["workers_in_current_run"], len(earlier["allocations"])) == (1, 2)
    between = (
        await caseload.http.get("/v1/children/LL1/allocations?as_of=2014-01-06", headers=caseload.auth(*READ))
    ).json()
    assert (between["current_run_start"], between["workers_in_current_run"]) == (None, None)


async def test_a_childs_created_at_carries_its_offset(caseload: ServiceClient) -> None:
    """Regression (hardening, defect 7): ``date-time`` values always carry a timezone."""
    made = await caseload.http.post(
        "/v1/children", json={"external_id": "LCS-TZ"}, headers=caseload.auth(*WRITE)
    )
    assert made.status_code == 201, made.text
    for answer in (
        made.json(),
        (await caseload.http.get("/v1/children/LCS-TZ", headers=caseload.auth(*READ))).json(),
        (await caseload.http.get("/v1/children", headers=caseload.auth(*READ))).json()["items"][0],
    ):
        stamp = datetime.fromisoformat(answer["created_at"])
        assert stamp.utcoffset() == timedelta(0), answer["created_at"]
