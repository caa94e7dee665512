"""The casework endpoints (assessments, visits, reviews, IRO visits), in-process on a real PostgreSQL
database and the real broker."""

from __future__ import annotations

from datetime import date

import pytest

from steadfast_caseload.events import TOPIC, AssessmentChanged, AssessmentRecorded, VisitRecorded
from steadfast_shared.codes import EpisodeType
from steadfast_shared.testing import ServiceClient, read_topic
from tests.caseload.casework import given_child
from tests.caseload.conftest import READ, WRITE

pytestmark = pytest.mark.integration


async def test_an_assessment_is_recorded_completed_and_listed_by_id_or_external_id(
    caseload: ServiceClient,
) -> None:
    child_id = await given_child(caseload, "CH1", [(EpisodeType.assessment, date(2014, 12, 1), None)])
    created = await caseload.http.post(
        "/v1/children/CH1/assessments",
        json={"external_id": "AS1", "start_date": "2014-12-01"},
        headers=caseload.auth(*WRITE),
    )
    assert created.status_code == 201, created.text
    assessment = created.json()
    assert assessment["child_id"] == str(child_id)
    assert assessment["completed_date"] is None
    assert created.headers["location"] == f"/v1/children/{child_id}/assessments/{assessment['id']}"

    again = await caseload.http.post(
        f"/v1/children/{child_id}/assessments",
        json={"external_id": "AS1", "start_date": "2014-12-01"},
        headers=caseload.auth(*WRITE),
    )
    assert again.status_code == 200
    assert again.json() == assessment

    completed = await caseload.http.patch(
        "/v1/children/CH1/assessments/AS1",
        json={"completed_date": "2015-02-05"},
        headers=caseload.auth(*WRITE),
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["completed_date"] == "2015-02-05"

    listed = await caseload.http.get(f"/v1/children/{child_id}/assessments", headers=caseload.auth(*READ))
    assert [(a["external_id"], a["completed_date"]) for a in listed.json()] == [("AS1", "2015-02-05")]
    one = await caseload.http.get(
        f"/v1/children/CH1/assessments/{assessment['id']}", headers=caseload.auth(*READ)
    )
    assert one.json()["completed_date"] == "2015-02-05"

    events = await read_topic(
        caseload.settings.kafka_bootstrap_servers,
        TOPIC,
        expect=2,
        where=lambda e: (
            e.subject == str(child_id) and e.type.startswith("org.steadfast.caseload.assessment.")
        ),
    )
    assert [e.type for e in events] == [AssessmentRecorded.type, AssessmentChanged.type]
    assert events[1].data["completed_date"] == "2015-02-05"


async def test_assessment_rules_are_problems_naming_the_rule(caseload: ServiceClient) -> None:
    await given_child(caseload, "CH2")
    await given_child(caseload, "CH3")
    backwards = await caseload.http.post(
        "/v1/children/CH2/assessments",
        json={"external_id": "AS2", "start_date": "2015-01-05", "completed_date": "2015-01-02"},
        headers=caseload.auth(*WRITE),
    )
    assert backwards.status_code == 422
    assert backwards.headers["content-type"] == "application/problem+json"
    assert backwards.json()["errors"][0]["rule"] == "completed_before_start"

    await caseload.http.post(
        "/v1/children/CH2/assessments",
        json={"external_id": "AS2", "start_date": "2015-01-05"},
        headers=caseload.auth(*WRITE),
    )
    elsewhere = await caseload.http.post(
        "/v1/children/CH3/assessments",
        json={"external_id": "AS2", "start_date": "2015-01-05"},
        headers=caseload.auth(*WRITE),
    )
    assert elsewhere.status_code == 409
    assert elsewhere.json()["errors"][0]["reason"] == "assessment_of_another_child"

    unknown = await caseload.http.patch(
        "/v1/children/CH3/assessments/AS2",
        json={"completed_date": "2015-02-01"},
        headers=caseload.auth(*WRITE),
    )
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["reason"] == "unknown_assessment"
    empty = await caseload.http.patch(
        "/v1/children/CH2/assessments/AS2", json={}, headers=caseload.auth(*WRITE)
    )
    assert empty.status_code == 422
    stale = await caseload.http.patch(
        "/v1/children/CH2/assessments/AS2",
        json={"completed_date": "2015-02-01"},
        headers={**caseload.auth(*WRITE), "If-Match": '"999"'},
    )
    assert stale.status_code == 412


async def test_an_unknown_child_is_a_404_problem(caseload: ServiceClient) -> None:
    for path in ("assessments", "visits", "reviews", "iro-visits"):
        answer = await caseload.http.get(f"/v1/children/NOBODY/{path}", headers=caseload.auth(*READ))
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0] == {"field": "child", "reason": "unknown_child"}
    posted = await caseload.http.post(
        "/v1/children/NOBODY/reviews", json={"review_date": "2015-01-05"}, headers=caseload.auth(*WRITE)
    )
    assert posted.status_code == 404


async def test_a_visit_is_recorded_and_one_before_the_first_episode_is_refused(
    caseload: ServiceClient,
) -> None:
    child_id = await given_child(caseload, "CH4", [(EpisodeType.cp, date(2015, 1, 5), None)])
    early = await caseload.http.post(
        "/v1/children/CH4/visits",
        json={"visit_date": "2015-01-02", "visit_type": "cp"},
        headers=caseload.auth(*WRITE),
    )
    assert early.status_code == 422
    problem = early.json()
    assert problem["errors"][0]["rule"] == "visit_before_first_episode"
    assert problem["errors"][0]["field"] == "visit_date"
    assert "2015-01-05" in problem["detail"]

    visit = await caseload.http.post(
        f"/v1/children/{child_id}/visits",
        json={"visit_date": "2015-01-09", "visit_type": "cp", "seen_alone": True},
        headers=caseload.auth(*WRITE),
    )
    assert visit.status_code == 201, visit.text
    assert visit.json()["seen_alone"] is True
    seen_with_parent = await caseload.http.post(
        "/v1/children/CH4/visits",
        json={"visit_date": "2015-01-09", "visit_type": "cp", "seen_alone": False},
        headers=caseload.auth(*WRITE),
    )
    assert seen_with_parent.status_code == 200
    assert seen_with_parent.json()["id"] == visit.json()["id"]
    bad_type = await caseload.http.post(
        "/v1/children/CH4/visits",
        json={"visit_date": "2015-01-09", "visit_type": "home"},
        headers=caseload.auth(*WRITE),
    )
    assert bad_type.status_code == 422
    assert bad_type.json()["errors"][0]["field"] == "visit_type"

    listed = await caseload.http.get("/v1/children/CH4/visits", headers=caseload.auth(*READ))
    assert [(v["visit_date"], v["visit_type"], v["seen_alone"]) for v in listed.json()] == [
        ("2015-01-09", "cp", False)
    ]
    events = await read_topic(
        caseload.settings.kafka_bootstrap_servers,
        TOPIC,
        expect=1,
        where=lambda e: e.subject == str(child_id) and e.type == VisitRecorded.type,
    )
    assert events[0].data["visit_date"] == "2015-01-09"


async def test_reviews_and_iro_visits_are_recorded_once_and_listed(caseload: ServiceClient) -> None:
    await given_child(caseload, "CH5", [(EpisodeType.cla, date(2014, 10, 1), None)])
    for review_date in ("2015-01-05", "2014-10-20", "2015-01-05"):
        answer = await caseload.http.post(
            "/v1/children/CH5/reviews", json={"review_date": review_date}, headers=caseload.auth(*WRITE)
        )
        assert answer.status_code in (200, 201), answer.text
    iro = await caseload.http.post(
        "/v1/children/CH5/iro-visits", json={"visit_date": "2014-11-25"}, headers=caseload.auth(*WRITE)
    )
    assert iro.status_code == 201
    repeat = await caseload.http.post(
        "/v1/children/CH5/iro-visits", json={"visit_date": "2014-11-25"}, headers=caseload.auth(*WRITE)
    )
    assert (repeat.status_code, repeat.json()["id"]) == (200, iro.json()["id"])

    reviews = await caseload.http.get("/v1/children/CH5/reviews", headers=caseload.auth(*READ))
    assert [r["review_date"] for r in reviews.json()] == ["2014-10-20", "2015-01-05"]
    iro_visits = await caseload.http.get("/v1/children/CH5/iro-visits", headers=caseload.auth(*READ))
    assert [v["visit_date"] for v in iro_visits.json()] == ["2014-11-25"]


async def test_creates_honour_the_idempotency_key_and_need_the_write_scope(caseload: ServiceClient) -> None:
    await given_child(caseload, "CH6", [(EpisodeType.cin, date(2015, 1, 5), None)])
    headers = {**caseload.auth(*WRITE), "Idempotency-Key": "review-CH6-1"}
    first = await caseload.http.post(
        "/v1/children/CH6/reviews", json={"review_date": "2015-02-02"}, headers=headers
    )
    retry = await caseload.http.post(
        "/v1/children/CH6/reviews", json={"review_date": "2015-02-02"}, headers=headers
    )
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    reused = await caseload.http.post(
        "/v1/children/CH6/reviews", json={"review_date": "2015-03-02"}, headers=headers
    )
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["reason"] == "key_reused"

    reader = await caseload.http.post(
        "/v1/children/CH6/reviews", json={"review_date": "2015-02-03"}, headers=caseload.auth(*READ)
    )
    assert reader.status_code == 403
    anonymous = await caseload.http.get("/v1/children/CH6/reviews")
    assert anonymous.status_code == 401
