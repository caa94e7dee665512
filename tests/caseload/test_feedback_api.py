"""Child and family feedback: POST /v1/feedback and the list by team and period, paged."""

from __future__ import annotations

from datetime import date

import pytest

from steadfast_caseload.events import TOPIC, FeedbackReturned
from steadfast_shared.codes import EpisodeType
from steadfast_shared.testing import ServiceClient, read_topic
from tests.caseload.casework import given_child
from tests.caseload.conftest import READ, WRITE, seed_directory, staff_worker

pytestmark = pytest.mark.integration


async def test_feedback_is_recorded_with_the_team_of_the_childs_worker_and_published(
    caseload: ServiceClient,
) -> None:
    ids = await seed_directory(caseload, staff_worker("SW20", team="PC3"))
    child_id = await given_child(
        caseload,
        "FB1",
        [(EpisodeType.cp, date(2015, 1, 5), None)],
        [(ids["SW20"], date(2015, 1, 5), None)],
    )
    answer = await caseload.http.post(
        "/v1/feedback",
        json={"returned_date": "2015-02-10", "child": "FB1", "external_id": "FORM1", "contact_quality": 4},
        headers=caseload.auth(*WRITE),
    )
    assert answer.status_code == 201, answer.text
    feedback = answer.json()
    assert answer.headers["location"] == f"/v1/feedback/{feedback['id']}"
    assert feedback["child_id"] == str(child_id)
    assert feedback["team"] == "PC3"
    assert (feedback["contact_quality"], feedback["worker_stability"]) == (4, None)
    by_external = await caseload.http.get("/v1/feedback/FORM1", headers=caseload.auth(*READ))
    assert by_external.json() == feedback
    events = await read_topic(
        caseload.settings.kafka_bootstrap_servers,
        TOPIC,
        expect=1,
        where=lambda e: e.subject == feedback["id"],
    )
    assert events[0].type == FeedbackReturned.type
    assert events[0].data["team"] == "PC3"

    duplicate = await caseload.http.post(
        "/v1/feedback",
        json={"returned_date": "2015-02-11", "external_id": "FORM1", "worker_stability": 2},
        headers=caseload.auth(*WRITE),
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["reason"] == "already_exists"


async def test_bad_feedback_is_a_problem_naming_the_field(caseload: ServiceClient) -> None:
    cases = [
        ({"returned_date": "2015-02-10"}, "scores", "no_answers"),
        ({"returned_date": "2015-02-10", "contact_quality": 6}, "contact_quality", "less_than_equal"),
        ({"returned_date": "2015-02-10", "contact_quality": 3, "child": "GHOST"}, "child", "unknown_child"),
        ({"returned_date": "2015-02-10", "contact_quality": 3, "kindness": 5}, "kindness", "extra_forbidden"),
    ]
    for body, field, reason in cases:
        answer = await caseload.http.post("/v1/feedback", json=body, headers=caseload.auth(*WRITE))
        assert answer.status_code == 422, body
        assert answer.headers["content-type"] == "application/problem+json"
        assert (answer.json()["errors"][0]["field"], answer.json()["errors"][0]["reason"]) == (field, reason)
    missing = await caseload.http.get("/v1/feedback/NOFORM", headers=caseload.auth(*READ))
    assert missing.status_code == 404
    reader = await caseload.http.post(
        "/v1/feedback",
        json={"returned_date": "2015-02-10", "contact_quality": 3},
        headers=caseload.auth(*READ),
    )
    assert reader.status_code == 403


async def test_feedback_is_listed_by_team_and_period_a_page_at_a_time(caseload: ServiceClient) -> None:
    returns = [
        ("2015-01-10", "ACIN1"),
        ("2015-02-01", "ACIN1"),
        ("2015-02-15", "ACIN1"),
        ("2015-02-20", "PC3"),
        ("2015-03-01", "ACIN1"),
    ]
    for returned, team in returns:
        answer = await caseload.http.post(
            "/v1/feedback",
            json={"returned_date": returned, "team": team, "involved_in_decisions": 5},
            headers={**caseload.auth(*WRITE), "Idempotency-Key": f"fb-{returned}"},
        )
        assert answer.status_code == 201, answer.text

    params: dict[str, str | int] = {
        "team": "ACIN1",
        "returned_from": "2015-02-01",
        "returned_before": "2015-03-01",
        "limit": 1,
    }
    first = (await caseload.http.get("/v1/feedback", params=params, headers=caseload.auth(*READ))).json()
    assert [f["returned_date"] for f in first["items"]] == ["2015-02-01"]
    second = (
        await caseload.http.get(
            "/v1/feedback", params={**params, "cursor": first["next_cursor"]}, headers=caseload.auth(*READ)
        )
    ).json()
    assert [f["returned_date"] for f in second["items"]] == ["2015-02-15"]
    assert second["next_cursor"] is None

    everything = (await caseload.http.get("/v1/feedback", headers=caseload.auth(*READ))).json()
    assert [(f["returned_date"], f["team"]) for f in everything["items"]] == returns
