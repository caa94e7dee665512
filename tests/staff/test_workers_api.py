"""The workers and teams endpoints, in-process on a real PostgreSQL database and the real broker."""

from __future__ import annotations

import asyncio

import pytest

from steadfast_shared.testing import ServiceClient, read_topic
from steadfast_staff.events import TOPIC, WorkerHired, WorkerTermsChanged
from tests.staff.conftest import READ, WRITE, outbox_count, worker_body

pytestmark = pytest.mark.integration


async def test_hiring_a_worker_answers_201_and_publishes_the_event(staff: ServiceClient) -> None:
    answer = await staff.http.post(
        "/v1/workers",
        json=worker_body("HR1", asye_start="2014-09-01", swe_registration_number="sw123"),
        headers=staff.auth(*WRITE),
    )
    assert answer.status_code == 201, answer.text
    worker = answer.json()
    assert answer.headers["location"] == f"/v1/workers/{worker['id']}"
    assert answer.headers["etag"] == '"1"'
    assert worker["asye_end"] == "2015-09-01"
    assert worker["swe_registration_number"] == "SW123"
    events = await read_topic(
        staff.settings.kafka_bootstrap_servers, TOPIC, expect=1, where=lambda e: e.subject == worker["id"]
    )
    assert [e.type for e in events] == [WorkerHired.type]
    assert events[0].source == "/steadfast/staff"
    assert events[0].data["external_id"] == "HR1"
    assert events[0].data["history"][0]["team"] == "ACIN1"


async def test_a_worker_is_found_by_id_or_external_id(staff: ServiceClient) -> None:
    created = (
        await staff.http.post("/v1/workers", json=worker_body("HR2"), headers=staff.auth(*WRITE))
    ).json()
    by_id = await staff.http.get(f"/v1/workers/{created['id']}", headers=staff.auth(*READ))
    by_external = await staff.http.get("/v1/workers/HR2", headers=staff.auth(*READ))
    assert by_id.json() == by_external.json()
    missing = await staff.http.get("/v1/workers/NOPE", headers=staff.auth(*READ))
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["errors"][0]["reason"] == "unknown_worker"


async def test_without_a_token_401_and_with_the_wrong_scope_403(staff: ServiceClient) -> None:
    anonymous = await staff.http.post("/v1/workers", json=worker_body("HR3"))
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert anonymous.json()["type"].endswith("/unauthorized")
    forged = await staff.http.get("/v1/workers", headers={"Authorization": "Bearer not.a.jwt"})
    assert forged.status_code == 401
    reader = await staff.http.post("/v1/workers", json=worker_body("HR3"), headers=staff.auth(*READ))
    assert reader.status_code == 403
    assert reader.json()["errors"][0] == {
        "field": "scope",
        "reason": "missing_scope",
        "required": "staff:write",
    }
    other_service = await staff.http.get("/v1/workers", headers=staff.auth("caseload:read"))
    assert other_service.status_code == 403


async def test_bad_input_is_a_problem_naming_the_field_and_reason(staff: ServiceClient) -> None:
    answer = await staff.http.post(
        "/v1/workers", json=worker_body("HR4", fte=1.5, role="wizard"), headers=staff.auth(*WRITE)
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert {(e["field"], e["reason"]) for e in problem["errors"]} == {
        ("fte", "less_than_equal"),
        ("role", "enum"),
    }
    rule = await staff.http.post(
        "/v1/workers",
        json=worker_body("HR4", end_date="2014-01-06", leaving_reason="resignation"),
        headers=staff.auth(*WRITE),
    )
    assert rule.status_code == 422
    assert rule.json()["errors"][0] == {"field": "end_date", "reason": "not_after_start_date"}
    assert await outbox_count(staff) == 0


async def test_a_second_worker_with_the_same_external_id_is_a_conflict(staff: ServiceClient) -> None:
    assert (
        await staff.http.post("/v1/workers", json=worker_body("HR5"), headers=staff.auth(*WRITE))
    ).status_code == 201
    again = await staff.http.post("/v1/workers", json=worker_body("HR5"), headers=staff.auth(*WRITE))
    assert again.status_code == 409
    assert again.json()["errors"][0] == {"field": "external_id", "reason": "already_exists"}


async def test_an_idempotency_key_makes_a_retried_create_return_the_first_answer(
    staff: ServiceClient,
) -> None:
    headers = {**staff.auth(*WRITE), "Idempotency-Key": "hire-HR6-attempt"}
    first = await staff.http.post("/v1/workers", json=worker_body("HR6"), headers=headers)
    retry = await staff.http.post("/v1/workers", json=worker_body("HR6"), headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.headers["location"] == first.headers["location"]
    assert await outbox_count(staff, first.json()["id"]) == 1
    reused = await staff.http.post("/v1/workers", json=worker_body("HR7"), headers=headers)
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["reason"] == "key_reused"


async def test_updates_honour_if_match(staff: ServiceClient) -> None:
    worker = (
        await staff.http.post("/v1/workers", json=worker_body("HR8"), headers=staff.auth(*WRITE))
    ).json()
    url = f"/v1/workers/{worker['id']}"
    stale = await staff.http.patch(
        url, json={"protected_development_pct": 10}, headers={**staff.auth(*WRITE), "If-Match": '"7"'}
    )
    assert stale.status_code == 412
    assert stale.json()["errors"][0]["current"] == '"1"'
    fresh = await staff.http.patch(
        url, json={"protected_development_pct": 10}, headers={**staff.auth(*WRITE), "If-Match": '"1"'}
    )
    assert fresh.status_code == 200
    assert fresh.headers["etag"] == '"2"'
    assert fresh.json()["protected_development_pct"] == 10
    same = await staff.http.patch(url, json={"protected_development_pct": 10}, headers=staff.auth(*WRITE))
    assert same.headers["etag"] == '"2"', "a change that changes nothing is not a new version"
    assert await outbox_count(staff, worker["id"]) == 2


async def test_a_dated_change_is_answered_as_of_any_date(staff: ServiceClient) -> None:
    worker = (
        await staff.http.post("/v1/workers", json=worker_body("HR9"), headers=staff.auth(*WRITE))
    ).json()
    changed = await staff.http.post(
        f"/v1/workers/{worker['id']}/changes",
        json={"effective_date": "2015-01-05", "team": "PC3", "employment_type": "agency"},
        headers=staff.auth(*WRITE),
    )
    assert changed.status_code == 200, changed.text
    assert [(h["effective_from"], h["effective_to"], h["team"]) for h in changed.json()["history"]] == [
        ("2014-01-06", "2015-01-05", "ACIN1"),
        ("2015-01-05", None, "PC3"),
    ]
    before = await staff.http.get("/v1/workers?team=ACIN1&as_of=2015-01-04", headers=staff.auth(*READ))
    on_the_day = await staff.http.get("/v1/workers?team=ACIN1&as_of=2015-01-05", headers=staff.auth(*READ))
    assert [(w["external_id"], w["team"], w["employment_type"]) for w in before.json()["items"]] == [
        ("HR9", "ACIN1", "permanent")
    ]
    assert on_the_day.json()["items"] == []
    teams = await staff.http.get("/v1/teams/PC3", headers=staff.auth(*READ))
    assert teams.status_code == 200, "a team named in a change is set up"
    events = await read_topic(
        staff.settings.kafka_bootstrap_servers, TOPIC, expect=2, where=lambda e: e.subject == worker["id"]
    )
    assert [e.type for e in events] == [WorkerHired.type, WorkerTermsChanged.type]


async def test_leaving_ends_the_employment_on_a_half_open_interval(staff: ServiceClient) -> None:
    worker = (
        await staff.http.post("/v1/workers", json=worker_body("HR10"), headers=staff.auth(*WRITE))
    ).json()
    left = await staff.http.post(
        f"/v1/workers/{worker['id']}/leaving",
        json={"end_date": "2015-04-01", "leaving_reason": "resignation"},
        headers=staff.auth(*WRITE),
    )
    assert left.status_code == 200
    in_post = "/v1/workers?in_post=true&as_of="
    assert [
        w["external_id"]
        for w in (await staff.http.get(in_post + "2015-03-31", headers=staff.auth(*READ))).json()["items"]
    ] == ["HR10"]
    assert (await staff.http.get(in_post + "2015-04-01", headers=staff.auth(*READ))).json()["items"] == []


async def test_lists_are_paged_with_a_cursor(staff: ServiceClient) -> None:
    for n in range(5):
        await staff.http.post("/v1/workers", json=worker_body(f"P{n}"), headers=staff.auth(*WRITE))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        url = "/v1/workers?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await staff.http.get(url, headers=staff.auth(*READ))).json()
        seen += [w["external_id"] for w in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["P0", "P1", "P2", "P3", "P4"]
    assert pages == 3
    bad = await staff.http.get("/v1/workers?cursor=garbage", headers=staff.auth(*READ))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"


async def test_registrations_expiring_within_n_days(staff: ServiceClient) -> None:
    rows = [
        ("R1", "2015-03-20", "social_worker"),
        ("R2", "2015-06-30", "social_worker"),
        ("R3", "2015-02-01", "senior_social_worker"),
    ]
    for external_id, expiry, role in rows:
        await staff.http.post(
            "/v1/workers",
            json=worker_body(
                external_id, role=role, swe_registration_number="SW1", swe_registration_expiry=expiry
            ),
            headers=staff.auth(*WRITE),
        )
    answer = await staff.http.get(
        "/v1/registrations/expiring?within_days=60&as_of=2015-03-02", headers=staff.auth(*READ)
    )
    assert [(r["external_id"], r["days_remaining"]) for r in answer.json()] == [("R3", -29), ("R1", 18)]


async def test_teams_are_set_up_renamed_and_listed(staff: ServiceClient) -> None:
    created = await staff.http.post(
        "/v1/teams", json={"code": "ACIN1", "name": "Assessment 1"}, headers=staff.auth(*WRITE)
    )
    assert created.status_code == 201
    duplicate = await staff.http.post("/v1/teams", json={"code": "ACIN1"}, headers=staff.auth(*WRITE))
    assert duplicate.status_code == 409
    renamed = await staff.http.patch(
        "/v1/teams/ACIN1",
        json={"name": "Assessment and CIN 1"},
        headers={**staff.auth(*WRITE), "If-Match": '"1"'},
    )
    assert renamed.json() == {"code": "ACIN1", "name": "Assessment and CIN 1", "version": 2}
    listed = await staff.http.get("/v1/teams", headers=staff.auth(*READ))
    assert [t["code"] for t in listed.json()["items"]] == ["ACIN1"]


async def test_workers_hired_at_once_into_a_new_team_set_it_up_once(staff: ServiceClient) -> None:
    """Each request finds the team missing and sets it up; the ones that lose the race to the first
    leave their copy out (a 201 each, not a 409) and one TeamCreated event is written."""
    answers = await asyncio.gather(
        *(
            staff.http.post(
                "/v1/workers", json=worker_body(f"HR-RACE-{n}", team="NEW9"), headers=staff.auth(*WRITE)
            )
            for n in range(8)
        )
    )
    assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers if a.status_code != 201]
    assert await outbox_count(staff, "NEW9") == 1
    team = await staff.http.get("/v1/teams/NEW9", headers=staff.auth(*READ))
    assert team.status_code == 200, team.text
