"""The posts endpoints, in-process on a real PostgreSQL database migrated to head."""

from __future__ import annotations

from typing import Any

import pytest

from steadfast_shared.testing import ServiceClient
from tests.staff.conftest import READ, WRITE, event_types

pytestmark = pytest.mark.integration


async def hire(staff: ServiceClient, external_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "external_id": external_id,
        "display_name": f"Worker {external_id}",
        "role": "social_worker",
        "employment_type": "permanent",
        "fte": 1.0,
        "team": "ACIN1",
        "start_date": "2014-01-06",
        **overrides,
    }
    answer = await staff.http.post("/v1/workers", json=body, headers=staff.auth(*WRITE))
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def establish(staff: ServiceClient, external_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "external_id": external_id,
        "team": "ACIN1",
        "role": "social_worker",
        "fte": 1.0,
        "start_date": "2014-04-01",
        **overrides,
    }
    answer = await staff.http.post("/v1/posts", json=body, headers=staff.auth(*WRITE))
    assert answer.status_code == 201, answer.text
    assert answer.headers["Location"] == f"/v1/posts/{answer.json()['id']}"
    assert answer.headers["ETag"] == '"1"'
    result: dict[str, Any] = answer.json()
    return result


async def test_a_post_is_established_held_handed_over_and_published(staff: ServiceClient) -> None:
    amira = await hire(staff, "HR-AMIRA")
    ben = await hire(staff, "HR-BEN", employment_type="agency")
    post = await establish(staff, "POST-1")
    url = f"/v1/posts/{post['id']}"

    held = await staff.http.post(
        f"{url}/holdings",
        json={"worker": "HR-BEN", "start_date": "2014-04-01"},
        headers=staff.auth(*WRITE),
    )
    assert held.status_code == 200, held.text
    assert held.headers["ETag"] == '"2"'
    [holding] = held.json()["holdings"]
    assert holding["worker_id"] == ben["id"]
    assert holding["end_date"] is None

    double = await staff.http.post(
        f"{url}/holdings",
        json={"worker": amira["id"], "start_date": "2014-09-01"},
        headers=staff.auth(*WRITE),
    )
    assert double.status_code == 422
    assert double.json()["errors"][0]["reason"] == "already_held"

    ended = await staff.http.post(
        f"{url}/holdings/{holding['id']}/ending",
        json={"end_date": "2014-09-01"},
        headers=staff.auth(*WRITE),
    )
    assert ended.status_code == 200, ended.text
    handed = await staff.http.post(
        f"{url}/holdings",
        json={"worker": amira["id"], "start_date": "2014-09-01"},
        headers=staff.auth(*WRITE),
    )
    assert handed.status_code == 200, handed.text
    assert [(h["worker_id"], h["start_date"], h["end_date"]) for h in handed.json()["holdings"]] == [
        (ben["id"], "2014-04-01", "2014-09-01"),
        (amira["id"], "2014-09-01", None),
    ]

    by_external_id = await staff.http.get("/v1/posts/POST-1", headers=staff.auth(*READ))
    assert by_external_id.status_code == 200
    assert by_external_id.json()["version"] == 4
    assert by_external_id.headers["ETag"] == '"4"'

    assert await event_types(staff, post["id"]) == [
        "org.steadfast.staff.post.established.v1",
        "org.steadfast.staff.post.holder_assigned.v1",
        "org.steadfast.staff.post.holding_ended.v1",
        "org.steadfast.staff.post.holder_assigned.v1",
    ]


async def test_a_holder_must_be_a_known_worker(staff: ServiceClient) -> None:
    post = await establish(staff, "POST-1")
    answer = await staff.http.post(
        f"/v1/posts/{post['id']}/holdings",
        json={"worker": "NOBODY", "start_date": "2014-04-01"},
        headers=staff.auth(*WRITE),
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0] == {"field": "worker", "reason": "unknown_worker"}


async def test_updates_honour_if_match_and_disestablishing_ends_holdings(staff: ServiceClient) -> None:
    await hire(staff, "HR-AMIRA")
    post = await establish(staff, "POST-1")
    url = f"/v1/posts/{post['id']}"
    await staff.http.post(
        f"{url}/holdings",
        json={"worker": "HR-AMIRA", "start_date": "2014-04-01"},
        headers=staff.auth(*WRITE),
    )
    stale = await staff.http.patch(url, json={"fte": 0.5}, headers={**staff.auth(*WRITE), "If-Match": '"1"'})
    assert stale.status_code == 412

    ended = await staff.http.patch(
        url, json={"end_date": "2016-04-01"}, headers={**staff.auth(*WRITE), "If-Match": '"2"'}
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["holdings"][0]["end_date"] == "2016-04-01"
    assert (await event_types(staff, post["id"]))[-1] == "org.steadfast.staff.post.disestablished.v1"

    cleared = await staff.http.patch(url, json={"fte": None}, headers=staff.auth(*WRITE))
    assert cleared.status_code == 422


async def test_posts_are_listed_by_team_and_whether_held_on_a_date(staff: ServiceClient) -> None:
    await hire(staff, "HR-AMIRA")
    await establish(staff, "POST-A")
    await establish(staff, "POST-B")
    await establish(staff, "POST-C", team="PC3")
    await staff.http.post(
        "/v1/posts/POST-A/holdings",
        json={"worker": "HR-AMIRA", "start_date": "2014-09-01"},
        headers=staff.auth(*WRITE),
    )

    async def external_ids(**query: str) -> list[str]:
        answer = await staff.http.get("/v1/posts", params=query, headers=staff.auth(*READ))
        assert answer.status_code == 200, answer.text
        return [p["external_id"] for p in answer.json()["items"]]

    assert await external_ids(team="ACIN1") == ["POST-A", "POST-B"]
    assert await external_ids(held="true", as_of="2014-09-01") == ["POST-A"]
    assert await external_ids(held="false", as_of="2014-09-01") == ["POST-B", "POST-C"]
    assert await external_ids(held="true", as_of="2014-08-31") == []
    assert await external_ids(established="false", as_of="2014-03-31") == ["POST-A", "POST-B", "POST-C"]

    first = await staff.http.get("/v1/posts", params={"limit": 2}, headers=staff.auth(*READ))
    cursor = first.json()["next_cursor"]
    assert cursor is not None
    assert await external_ids(limit="2", cursor=cursor) == ["POST-C"]


async def test_scopes_and_duplicates(staff: ServiceClient) -> None:
    body = {
        "external_id": "P",
        "team": "ACIN1",
        "role": "practice_manager",
        "fte": 1,
        "start_date": "2014-04-01",
    }
    forbidden = await staff.http.post("/v1/posts", json=body, headers=staff.auth(*READ))
    assert forbidden.status_code == 403
    anonymous = await staff.http.get("/v1/posts")
    assert anonymous.status_code == 401
    assert (await staff.http.post("/v1/posts", json=body, headers=staff.auth(*WRITE))).status_code == 201
    again = await staff.http.post("/v1/posts", json=body, headers=staff.auth(*WRITE))
    assert again.status_code == 409
    student = await staff.http.post(
        "/v1/posts", json={**body, "external_id": "S", "role": "student"}, headers=staff.auth(*WRITE)
    )
    assert student.status_code == 422
    assert student.json()["errors"][0]["reason"] == "student_post"


async def test_a_retried_create_with_the_same_idempotency_key_answers_the_first_time(
    staff: ServiceClient,
) -> None:
    body = {
        "external_id": "P",
        "team": "ACIN1",
        "role": "social_worker",
        "fte": 1,
        "start_date": "2014-04-01",
    }
    headers = {**staff.auth(*WRITE), "Idempotency-Key": "post-p-1"}
    first = await staff.http.post("/v1/posts", json=body, headers=headers)
    retry = await staff.http.post("/v1/posts", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.json() == first.json()
    assert await event_types(staff, first.json()["id"]) == ["org.steadfast.staff.post.established.v1"]
