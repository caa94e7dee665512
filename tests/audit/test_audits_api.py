"""The audit API on PostgreSQL and the broker: record, complete, moderate, query, learning actions and
the programme."""

from __future__ import annotations

from datetime import date

import pytest

from steadfast_audit.events import TOPIC, AuditModerated, AuditRecorded
from steadfast_shared.testing import ServiceClient, read_topic
from tests.audit.conftest import READ, WRITE, outbox_types, post_audit, seed_directory, staff_worker

pytestmark = pytest.mark.integration


async def test_an_audit_is_recorded_with_the_workers_team_then_completed_moderated_and_published(
    audit: ServiceClient,
) -> None:
    ids = await seed_directory(
        audit, staff_worker("HR-1", team="ACIN1", changes=((date(2015, 3, 1), {"team": "PC3"}),))
    )
    started = await post_audit(
        audit,
        audit_type="full",
        child="LCS-1001",
        worker="HR-1",
        auditor="Jo Manager",
        started_date="2015-02-20",
        element_grades={"contact": "good", "planning": "requires_improvement"},
        findings="Child seen alone at every visit.",
    )
    assert (started["team"], started["worker_id"], started["effective_grade"]) == (
        "ACIN1",
        str(ids["HR-1"]),
        None,
    )
    not_graded = await audit.http.patch(
        f"/v1/audits/{started['id']}", json={"completed_date": "2015-03-05"}, headers=audit.auth(*WRITE)
    )
    assert not_graded.status_code == 422
    assert not_graded.headers["content-type"] == "application/problem+json"
    assert not_graded.json()["errors"][0]["reason"] == "overall_grade_required"
    completed = await audit.http.patch(
        f"/v1/audits/{started['id']}",
        json={"completed_date": "2015-03-05", "overall_grade": "requires_improvement"},
        headers={**audit.auth(*WRITE), "If-Match": '"1"'},
    )
    assert completed.status_code == 200, completed.text
    assert completed.headers["etag"] == '"2"'
    same_auditor = await audit.http.post(
        f"/v1/audits/{started['id']}/moderation",
        json={"moderator": "jo manager", "grade": "good", "reason": "fair"},
        headers=audit.auth(*WRITE),
    )
    assert same_auditor.json()["errors"][0]["reason"] == "moderator_is_auditor"
    moderated = await audit.http.post(
        f"/v1/audits/{started['id']}/moderation",
        json={
            "moderator": "Sam Head",
            "grade": "good",
            "reason": "the plan was strong",
            "moderated_date": "2015-03-10",
        },
        headers=audit.auth(*WRITE),
    )
    assert moderated.status_code == 200, moderated.text
    body = moderated.json()
    assert body["moderation"] == {
        "grade": "good",
        "moderator": "Sam Head",
        "reason": "the plan was strong",
        "moderated_date": "2015-03-10",
    }
    assert (body["overall_grade"], body["effective_grade"]) == ("requires_improvement", "good")
    events = await read_topic(
        audit.settings.kafka_bootstrap_servers, TOPIC, expect=3, where=lambda e: e.subject == started["id"]
    )
    assert events[0].type == AuditRecorded.type
    assert events[-1].type == AuditModerated.type
    assert events[-1].data["effective_grade"] == "good"
    assert events[-1].data["element_grades"] == {"contact": "good", "planning": "requires_improvement"}
    assert "findings" not in events[-1].data
    assert "moderation_reason" not in events[-1].data


async def test_problems_and_scopes(audit: ServiceClient) -> None:
    await seed_directory(audit, staff_worker("HR-2"))
    base = {"audit_type": "dip_sample", "child": "C1", "worker": "HR-2", "completed_date": "2015-03-05"}
    cases = [
        ({**base, "worker": "GHOST", "overall_grade": "good"}, "worker", "unknown_worker"),
        (base, "overall_grade", "overall_grade_required"),
        (
            {**base, "overall_grade": "good", "element_grades": {"kindness": "good"}},
            "element_grades.kindness",
            "unknown_element",
        ),
        ({**base, "overall_grade": "great"}, "overall_grade", "enum"),
        (
            {**base, "overall_grade": "good", "started_date": "2015-03-06"},
            "completed_date",
            "completed_before_started",
        ),
    ]
    for body, field, reason in cases:
        answer = await audit.http.post("/v1/audits", json=body, headers=audit.auth(*WRITE))
        assert answer.status_code == 422, body
        assert (answer.json()["errors"][0]["field"], answer.json()["errors"][0]["reason"]) == (field, reason)
    incomplete = await post_audit(
        audit, audit_type="full", child="C2", worker="HR-2", started_date="2015-03-01"
    )
    refused = await audit.http.post(
        f"/v1/audits/{incomplete['id']}/moderation",
        json={"moderator": "Sam", "grade": "good", "reason": "x"},
        headers=audit.auth(*WRITE),
    )
    assert refused.json()["errors"][0]["reason"] == "audit_not_completed"
    assert (await audit.http.get("/v1/audits")).status_code == 401
    assert (await audit.http.post("/v1/audits", json=base, headers=audit.auth(*READ))).status_code == 403
    assert (await audit.http.get("/v1/audits/NOPE", headers=audit.auth(*READ))).status_code == 404


async def test_audits_by_team_worker_grade_and_period_and_the_grade_distribution(
    audit: ServiceClient,
) -> None:
    await seed_directory(audit, staff_worker("HR-3", team="PC3"), staff_worker("HR-4", team="ACIN1"))
    common = {"audit_type": "full", "auditor": "Jo"}
    a = await post_audit(
        audit,
        **common,
        child="A",
        worker="HR-3",
        completed_date="2015-03-02",
        overall_grade="good",
        element_grades={"contact": "good"},
    )
    await post_audit(
        audit,
        **common,
        child="B",
        worker="HR-3",
        completed_date="2015-03-03",
        overall_grade="inadequate",
        element_grades={"contact": "inadequate", "planning": "good"},
    )
    await post_audit(
        audit, **common, child="C", worker="HR-4", completed_date="2015-03-04", overall_grade="outstanding"
    )
    await post_audit(
        audit, **common, child="D", worker="HR-3", completed_date="2015-04-01", overall_grade="good"
    )
    await audit.http.post(
        f"/v1/audits/{a['id']}/moderation",
        json={"moderator": "Sam", "grade": "requires_improvement", "reason": "contact too rare"},
        headers=audit.auth(*WRITE),
    )
    march = {"completed_from": "2015-03-01", "completed_before": "2015-04-01"}
    listed = await audit.http.get(
        "/v1/audits", params={**march, "team": "PC3", "limit": 1}, headers=audit.auth(*READ)
    )
    page = listed.json()
    assert [x["child"] for x in page["items"]] == ["A"]
    assert page["next_cursor"]
    second = await audit.http.get(
        "/v1/audits",
        params={**march, "team": "PC3", "cursor": page["next_cursor"]},
        headers=audit.auth(*READ),
    )
    assert [x["child"] for x in second.json()["items"]] == ["B"]
    by_worker = await audit.http.get("/v1/audits", params={"worker": "HR-4"}, headers=audit.auth(*READ))
    assert [x["child"] for x in by_worker.json()["items"]] == ["C"]
    by_grade = await audit.http.get("/v1/audits", params={"grade": "good"}, headers=audit.auth(*READ))
    assert [x["child"] for x in by_grade.json()["items"]] == ["D"]  # A's moderated grade counts
    grades = (
        await audit.http.get("/v1/audits/grades", params={**march, "team": "PC3"}, headers=audit.auth(*READ))
    ).json()
    assert grades["audits"] == 2
    assert grades["overall"]["counts"] == {
        "outstanding": 0,
        "good": 0,
        "requires_improvement": 1,
        "inadequate": 1,
    }
    assert grades["overall"]["good_or_better_pct"] == 0.0
    assert grades["elements"]["contact"]["counts"]["good"] == 1
    assert grades["elements"]["contact"]["good_or_better_pct"] == 50.0
    assert grades["elements"]["planning"]["graded"] == 1
    assert grades["elements"]["assessment"] == {
        "graded": 0,
        "counts": {"outstanding": 0, "good": 0, "requires_improvement": 0, "inadequate": 0},
        "good_or_better_pct": None,
    }


async def test_learning_actions_and_the_overdue_list(audit: ServiceClient) -> None:
    await seed_directory(audit, staff_worker("HR-5", team="PC3"))
    found = await post_audit(
        audit, audit_type="full", child="E", worker="HR-5", completed_date="2015-03-02", overall_grade="good"
    )
    actions = []
    for owner, due in (("Jo", "2015-03-20"), ("Kim", "2015-03-10"), ("Lee", "2015-05-01")):
        answer = await audit.http.post(
            f"/v1/audits/{found['id']}/learning-actions",
            json={"owner": owner, "description": "review the plan", "due_date": due},
            headers=audit.auth(*WRITE),
        )
        assert answer.status_code == 201, answer.text
        actions.append(answer.json())
    done = await audit.http.patch(
        f"/v1/audits/{found['id']}/learning-actions/{actions[0]['id']}",
        json={"status": "done", "completed_date": "2015-03-25"},
        headers=audit.auth(*WRITE),
    )
    assert done.json()["status"] == "done"
    no_date = await audit.http.patch(
        f"/v1/audits/{found['id']}/learning-actions/{actions[1]['id']}",
        json={"status": "done"},
        headers=audit.auth(*WRITE),
    )
    assert no_date.json()["errors"][0]["reason"] == "completed_date_required"
    overdue = await audit.http.get(
        "/v1/learning-actions/overdue",
        params={"as_of": "2015-04-01", "team": "PC3"},
        headers=audit.auth(*READ),
    )
    items = overdue.json()["items"]
    assert [(i["owner"], i["days_overdue"], i["team"]) for i in items] == [("Kim", 22, "PC3")]
    detail = (await audit.http.get(f"/v1/audits/{found['id']}", headers=audit.auth(*READ))).json()
    assert [a["status"] for a in detail["learning_actions"]] == ["open", "done", "open"]
    assert "org.steadfast.audit.learning_action.changed.v2" in await outbox_types(audit)


async def test_programme_progress_against_plan(audit: ServiceClient) -> None:
    await seed_directory(audit, staff_worker("HR-6", team="PC3"))
    first = await audit.http.put("/v1/programme/PC3/2015-03", json={"planned": 4}, headers=audit.auth(*WRITE))
    assert first.status_code == 201
    again = await audit.http.put("/v1/programme/PC3/2015-03", json={"planned": 4}, headers=audit.auth(*WRITE))
    assert again.status_code == 200
    assert again.headers["etag"] == '"1"'
    await audit.http.put("/v1/programme/ACIN1/2015-03", json={"planned": 2}, headers=audit.auth(*WRITE))
    bad = await audit.http.put("/v1/programme/PC3/2015-13", json={"planned": 4}, headers=audit.auth(*WRITE))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["reason"] == "not_a_month"
    for child, completed in (("F", "2015-03-02"), ("G", "2015-03-31"), ("H", "2015-04-01")):
        await post_audit(
            audit,
            audit_type="dip_sample",
            child=child,
            worker="HR-6",
            completed_date=completed,
            overall_grade="good",
        )
    await post_audit(
        audit, audit_type="full", child="I", worker="HR-6", started_date="2015-03-05"
    )  # not done
    progress = await audit.http.get(
        "/v1/programme", params={"from": "2015-03", "to": "2015-04"}, headers=audit.auth(*READ)
    )
    assert progress.json() == [
        {"team": "ACIN1", "month": "2015-03", "planned": 2, "done": 0, "remaining": 2, "done_pct": 0.0},
        {"team": "PC3", "month": "2015-03", "planned": 4, "done": 2, "remaining": 2, "done_pct": 50.0},
        {"team": "PC3", "month": "2015-04", "planned": None, "done": 1, "remaining": None, "done_pct": None},
    ]
    assert (await outbox_types(audit)).count("org.steadfast.audit.programme.planned.v1") == 2


async def test_a_stale_if_match_is_refused_and_a_retried_create_is_not_recorded_twice(
    audit: ServiceClient,
) -> None:
    await seed_directory(audit, staff_worker("HR-9", team="ACIN1"))
    body = {
        "audit_type": "dip_sample",
        "child": "LCS-9",
        "worker": "HR-9",
        "auditor": "Jo Manager",
        "started_date": "2015-03-02",
    }
    headers = {**audit.auth(*WRITE), "Idempotency-Key": "dip-LCS-9-2015-03"}
    first = await audit.http.post("/v1/audits", json=body, headers=headers)
    retry = await audit.http.post("/v1/audits", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201, first.text
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    listed = await audit.http.get("/v1/audits?child=LCS-9", headers=audit.auth(*READ))
    assert [a["id"] for a in listed.json()["items"]] == [first.json()["id"]]
    stale = await audit.http.patch(
        f"/v1/audits/{first.json()['id']}",
        json={"completed_date": "2015-03-04", "overall_grade": "good"},
        headers={**audit.auth(*WRITE), "If-Match": '"5"'},
    )
    assert stale.status_code == 412
    assert stale.json()["errors"][0]["reason"] == "stale_etag"


@pytest.mark.parametrize("field", ["audit_type", "team", "child", "worker"])
async def test_an_explicit_null_on_a_field_that_cannot_be_empty_is_a_422(
    audit: ServiceClient, field: str
) -> None:
    """Regression (hardening issue, defect 1): the null reached the aggregate and the event failed: 500."""
    await seed_directory(audit, staff_worker("HR-7", team="ACIN1"))
    recorded = await post_audit(
        audit, audit_type="full", child="LCS-7", worker="HR-7", started_date="2015-03-02"
    )
    answer = await audit.http.patch(
        f"/v1/audits/{recorded['id']}", json={field: None}, headers=audit.auth(*WRITE)
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [(e["field"], e["reason"]) for e in answer.json()["errors"]] == [(field, "null_not_allowed")]
    # A field that may be empty still takes a null.
    cleared = await audit.http.patch(
        f"/v1/audits/{recorded['id']}", json={"findings": None, "auditor": None}, headers=audit.auth(*WRITE)
    )
    assert cleared.status_code == 200, cleared.text
