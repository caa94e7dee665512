"""The survey endpoints, in-process on a real PostgreSQL database migrated to head."""

from __future__ import annotations

import pytest

from steadfast_shared.testing import ServiceClient
from tests.staff.conftest import READ, WRITE, event_types

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("path", "scores", "event_type"),
    [
        (
            "/v1/recruitment-surveys",
            {"right_post_right_time": 5, "place": 4, "terms_and_conditions": 2},
            "org.steadfast.staff.recruitment_survey.returned.v2",
        ),
        (
            "/v1/exit-surveys",
            {"insufficient_support_supervision": 1, "workload_too_high": 5},
            "org.steadfast.staff.exit_survey.returned.v2",
        ),
        (
            "/v1/staff-health-checks",
            {"private_space": 2, "office_environment": 3, "supervision_quality": 4},
            "org.steadfast.staff.staff_health_check.returned.v2",
        ),
    ],
)
async def test_each_kind_is_recorded_read_back_and_published(
    staff: ServiceClient, path: str, scores: dict[str, int], event_type: str
) -> None:
    answer = await staff.http.post(
        path, json={"returned_date": "2015-01-12", "team": "ACIN1", **scores}, headers=staff.auth(*WRITE)
    )
    assert answer.status_code == 201, answer.text
    survey = answer.json()
    assert answer.headers["Location"] == f"{path}/{survey['id']}"
    for factor, score in scores.items():
        assert survey[factor] == score
    unanswered = [k for k, v in survey.items() if v is None and k not in {"worker_id"}]
    assert unanswered, "a factor left out is null"
    again = await staff.http.get(f"{path}/{survey['id']}", headers=staff.auth(*READ))
    assert again.json() == survey
    assert await event_types(staff, survey["id"]) == [event_type]
    assert await event_types(staff) == ["org.steadfast.staff.team.created.v1", event_type]


async def test_scores_outside_1_to_5_and_empty_returns_are_refused(staff: ServiceClient) -> None:
    high = await staff.http.post(
        "/v1/staff-health-checks",
        json={"returned_date": "2015-01-12", "private_space": 6},
        headers=staff.auth(*WRITE),
    )
    assert high.status_code == 422
    assert high.json()["errors"][0]["field"] == "private_space"
    other_kind = await staff.http.post(
        "/v1/exit-surveys",
        json={"returned_date": "2015-01-12", "private_space": 3},
        headers=staff.auth(*WRITE),
    )
    assert other_kind.status_code == 422
    empty = await staff.http.post(
        "/v1/exit-surveys", json={"returned_date": "2015-01-12"}, headers=staff.auth(*WRITE)
    )
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["reason"] == "no_answers"
    assert await event_types(staff) == []


async def test_the_team_defaults_to_the_workers_team_that_day(staff: ServiceClient) -> None:
    hired = await staff.http.post(
        "/v1/workers",
        json={
            "external_id": "HR-LEAVER",
            "display_name": "A Leaver",
            "role": "social_worker",
            "employment_type": "permanent",
            "fte": 1.0,
            "team": "ACIN1",
            "start_date": "2013-01-07",
        },
        headers=staff.auth(*WRITE),
    )
    assert hired.status_code == 201, hired.text
    moved = await staff.http.post(
        "/v1/workers/HR-LEAVER/changes",
        json={"effective_date": "2014-06-02", "team": "PC3"},
        headers=staff.auth(*WRITE),
    )
    assert moved.status_code == 200, moved.text
    answer = await staff.http.post(
        "/v1/exit-surveys",
        json={"returned_date": "2014-05-30", "worker": "HR-LEAVER", "no_career_path": 4},
        headers=staff.auth(*WRITE),
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["team"] == "ACIN1"
    assert answer.json()["worker_id"] == hired.json()["id"]
    unknown = await staff.http.post(
        "/v1/exit-surveys",
        json={"returned_date": "2014-05-30", "worker": "NOBODY", "no_career_path": 4},
        headers=staff.auth(*WRITE),
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0] == {"field": "worker", "reason": "unknown_worker"}


async def test_returns_are_listed_by_team_and_period_a_page_at_a_time(staff: ServiceClient) -> None:
    for day, team in [
        ("2015-01-05", "ACIN1"),
        ("2015-01-05", "PC3"),
        ("2015-02-02", "ACIN1"),
        ("2015-07-01", "ACIN1"),
    ]:
        answer = await staff.http.post(
            "/v1/staff-health-checks",
            json={"returned_date": day, "team": team, "supervision_quality": 3},
            headers=staff.auth(*WRITE),
        )
        assert answer.status_code == 201, answer.text

    async def listed(**query: str) -> tuple[list[tuple[str, str]], str | None]:
        answer = await staff.http.get("/v1/staff-health-checks", params=query, headers=staff.auth(*READ))
        assert answer.status_code == 200, answer.text
        page = answer.json()
        return [(s["returned_date"], s["team"]) for s in page["items"]], page["next_cursor"]

    in_period, _ = await listed(team="ACIN1", returned_from="2015-01-01", returned_before="2015-07-01")
    assert in_period == [("2015-01-05", "ACIN1"), ("2015-02-02", "ACIN1")]
    first, cursor = await listed(limit="3")
    assert [d for d, _ in first] == ["2015-01-05", "2015-01-05", "2015-02-02"]
    assert cursor is not None
    rest, last = await listed(limit="3", cursor=cursor)
    assert rest == [("2015-07-01", "ACIN1")]
    assert last is None
    forbidden = await staff.http.post(
        "/v1/staff-health-checks",
        json={"returned_date": "2015-01-05", "private_space": 3},
        headers=staff.auth(*READ),
    )
    assert forbidden.status_code == 403
