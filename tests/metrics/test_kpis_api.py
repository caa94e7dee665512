"""The metrics API as a council's dashboard and programme board meet it: KPIs on any day and per team,
the strategy and its versions (a change re-judges every status at once, without replaying an event),
snapshots with the forecast, watch lists, and clear problems for bad input.

The facts arrive the way production's do, as the producers' events through the projector, applied into
the running service's own database.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest
import pytest_asyncio

from steadfast_audit.events import AuditModerated, AuditRecorded
from steadfast_caseload.events import AllocationStarted, EpisodeRecorded, VisitRecorded
from steadfast_metrics.bootstrap import definition
from steadfast_metrics.facts.projector import apply_event
from steadfast_shared.codes import EmploymentType, EpisodeType, Grade, Role, VisitType
from steadfast_shared.events import CloudEvent
from steadfast_shared.testing import ServiceClient
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.events import WorkerHired
from tests.metrics.conftest import allocation, audit, episode, event, terms, visit, worker


@pytest_asyncio.fixture(loop_scope="session")
async def metrics(start_service: Callable[..., Awaitable[ServiceClient]]) -> ServiceClient:
    """The service answering requests only: these tests apply the events themselves, so no consumer
    (and no snapshot schedule) runs beside it."""
    return await start_service(definition, consumers_enabled=False, snapshot_interval_days=0)


READ = ("metrics:read",)
WRITE = ("metrics:read", "strategy:write")
AS_OF = date(2015, 3, 2)


async def seed(service: ServiceClient, *events: CloudEvent) -> None:
    runtime = service.runtime
    async with runtime.database.sessionmaker() as session:
        uow = UnitOfWork(session, tables=runtime.definition.tables, registry=runtime.definition.registry)
        for applied in events:
            await apply_event(uow, applied)
        await uow.commit()


def worked_example() -> list[CloudEvent]:
    """SPEC section 3's worked example: A 18, B 15, C 6, D 7 (NQSW), E 1, F 3 children on 2015-03-02;
    A and B in ACIN1, the others in PC3."""
    people = {
        "A": (Role.social_worker, EmploymentType.permanent, 1.0, None, 18, "ACIN1"),
        "B": (Role.social_worker, EmploymentType.agency, 1.0, None, 15, "ACIN1"),
        "C": (Role.consultant_practitioner, EmploymentType.permanent, 1.0, None, 6, "PC3"),
        "D": (Role.social_worker, EmploymentType.permanent, 0.5, date(2014, 9, 1), 7, "PC3"),
        "E": (Role.practice_manager, EmploymentType.permanent, 1.0, None, 1, "PC3"),
        "F": (Role.student, EmploymentType.permanent, 1.0, None, 3, "PC3"),
    }
    events: list[CloudEvent] = []
    for name, (role, employment, fte, asye, children, team) in people.items():
        worker_id = uuid.uuid5(uuid.NAMESPACE_OID, name)
        start = date(2014, 1, 6)
        events.append(
            event(
                WorkerHired,
                worker(
                    worker_id,
                    external_id=name,
                    start_date=start,
                    asye_start=asye,
                    protected_development_pct=10 if asye else None,
                    history=[terms(start, role=role, team=team, fte=fte, employment_type=employment)],
                ),
            )
        )
        for n in range(children):
            child = uuid.uuid5(worker_id, str(n))
            events.append(event(EpisodeRecorded, episode(child, EpisodeType.cp, date(2015, 1, 5))))
            events.append(event(AllocationStarted, allocation(child, worker_id, date(2015, 1, 5))))
            if n % 2 == 0:  # half the children were visited recently, the others never since January
                events.append(event(VisitRecorded, visit(child, date(2015, 2, 23), VisitType.cp)))
    return events


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k["id"]: k for k in report["kpis"]}


async def get_kpis(service: ServiceClient, query: str = f"as_of={AS_OF}") -> dict[str, Any]:
    answer = await service.http.get(f"/v1/kpis?{query}", headers=service.auth(*READ))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_the_worked_example_through_the_api(metrics: ServiceClient) -> None:
    await seed(metrics, *worked_example())
    report = await get_kpis(metrics)
    kpis = by_id(report)
    assert report["as_of"] == "2015-03-02"
    assert report["team"] is None
    assert report["strategy_version"] == 1
    assert kpis["permanent_rate"]["value"] == pytest.approx(77.78, abs=0.01)
    assert (kpis["permanent_rate"]["numerator"], kpis["permanent_rate"]["denominator"]) == (3.5, 4.5)
    assert kpis["permanent_rate"]["status"] == "near"  # 80 by 2017-03-31, within 5 % of it
    assert kpis["permanent_rate"]["target"] == {
        "value": 80.0,
        "date": "2017-03-31",
        "direction": "at_least",
        "tolerance_pct": 5.0,
    }
    assert kpis["average_caseload"]["value"] == pytest.approx(15.59, abs=0.01)
    assert kpis["average_caseload"]["status"] == "met"
    assert kpis["workers_over_caseload_limit"]["value"] == 25.0
    assert kpis["workers_over_caseload_limit"]["breakdown"]["over_by_1_2"] == 1
    assert kpis["workers_over_caseload_limit"]["status"] is None  # monitoring only
    assert kpis["nqsw_student_average_caseload"]["value"] == 5.0
    assert kpis["audits_good_or_better_pct"]["status"] == "no_data"
    assert kpis["audits_good_or_better_pct"]["value"] is None
    # Half the children on CP plans were seen on 2015-02-23 (in time), the others not since 2015-01-05.
    visits = kpis["statutory_visits_in_time_pct"]
    assert (visits["numerator"], visits["denominator"]) == (27, 50)  # 9 + 8 + 3 + 4 + 1 + 2 seen
    assert len(report["kpis"]) == 20
    assert report["freshness"]["revision"] > 0
    # the sources are the three streams, whatever topic names a deployment gives them
    assert {s["topic"] for s in report["freshness"]["sources"]} == {"steadfast.staff", "steadfast.caseload"}

    # Per team: ACIN1 holds A and B only.
    acin1 = by_id(await get_kpis(metrics, f"as_of={AS_OF}&team=ACIN1"))
    assert acin1["average_caseload"]["value"] == pytest.approx(16.5)
    assert acin1["permanent_rate"]["value"] == 50.0
    # A team with nobody in it has no data, not zero and not an error.
    empty = by_id(await get_kpis(metrics, f"as_of={AS_OF}&team=NOBODY"))
    assert empty["average_caseload"] == {**empty["average_caseload"], "value": None, "status": "no_data"}

    one = await metrics.http.get(f"/v1/kpis/average_caseload?as_of={AS_OF}", headers=metrics.auth(*READ))
    assert one.status_code == 200
    assert one.json()["value"] == kpis["average_caseload"]["value"]
    assert one.json()["as_of"] == "2015-03-02"


async def test_a_strategy_change_rejudges_statuses_at_once_and_keeps_the_versions(
    metrics: ServiceClient,
) -> None:
    await seed(metrics, *worked_example())
    assert by_id(await get_kpis(metrics))["average_caseload"]["status"] == "met"
    current = await metrics.http.get("/v1/strategy", headers=metrics.auth(*READ))
    assert current.status_code == 200
    assert current.headers["etag"] == '"1"'
    document = current.json()["document"]
    assert document["targets"]["average_caseload"]["milestones"] == [{"date": "2015-03-31", "value": 16.0}]
    document["targets"]["average_caseload"]["milestones"] = [{"date": "2015-03-31", "value": 14.0}]

    changed = await metrics.http.put(
        "/v1/strategy",
        json={"document": document, "note": "board, March 2015: tighter caseloads"},
        headers={**metrics.auth(*WRITE, subject="psw@slough"), "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    assert changed.json()["changed_by"] == "psw@slough"
    kpis = by_id(await get_kpis(metrics))
    assert kpis["average_caseload"]["status"] == "not_met"  # 15.59 against 14 (band 0.7)
    assert kpis["average_caseload"]["target"]["value"] == 14.0
    # the limit follows the target: A 14, B 14, C 7, D 6 -> A (18), B (15) and D (7) over
    assert kpis["workers_over_caseload_limit"]["value"] == 75.0

    stale = await metrics.http.put(
        "/v1/strategy", json={"document": document}, headers={**metrics.auth(*WRITE), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"].startswith("application/problem+json")

    versions = await metrics.http.get("/v1/strategy/versions", headers=metrics.auth(*READ))
    assert [(v["version"], v["changed_by"]) for v in versions.json()["items"]] == [
        (1, "shipped default"),
        (2, "psw@slough"),
    ]
    first = await metrics.http.get("/v1/strategy/versions/1", headers=metrics.auth(*READ))
    assert first.json()["document"]["targets"]["average_caseload"]["milestones"][0]["value"] == 16.0
    missing = await metrics.http.get("/v1/strategy/versions/9", headers=metrics.auth(*READ))
    assert missing.status_code == 404


async def test_strategy_changes_need_their_scope_and_a_valid_document(metrics: ServiceClient) -> None:
    current = (await metrics.http.get("/v1/strategy", headers=metrics.auth(*READ))).json()
    refused = await metrics.http.put(
        "/v1/strategy", json={"document": current["document"]}, headers=metrics.auth(*READ)
    )
    assert refused.status_code == 403
    anonymous = await metrics.http.get("/v1/kpis")
    assert anonymous.status_code == 401
    bad = dict(current["document"])
    bad["window_days"] = 0
    invalid = await metrics.http.put("/v1/strategy", json={"document": bad}, headers=metrics.auth(*WRITE))
    assert invalid.status_code == 422
    problem = invalid.json()
    assert any(e["field"].endswith("window_days") for e in problem["errors"])


async def test_bad_input_is_a_problem_naming_the_field(metrics: ServiceClient) -> None:
    bad_day = await metrics.http.get("/v1/kpis?as_of=2015-02-30", headers=metrics.auth(*READ))
    assert bad_day.status_code == 422
    assert bad_day.json()["errors"][0]["field"] == "as_of"
    unknown = await metrics.http.get("/v1/kpis/happiness", headers=metrics.auth(*READ))
    assert unknown.status_code == 404
    assert "average_caseload" in unknown.json()["detail"]
    bad_team = await metrics.http.get("/v1/kpis?team=no%20spaces", headers=metrics.auth(*READ))
    assert bad_team.status_code == 422


async def test_snapshots_make_the_history_and_its_forecast(metrics: ServiceClient) -> None:
    await seed(metrics, *worked_example())
    # More children for A each week: the average caseload climbs towards its 2015-03-31 target.
    a_id = uuid.uuid5(uuid.NAMESPACE_OID, "A")
    extra = []
    for week, day in enumerate((date(2015, 2, 9), date(2015, 2, 16), date(2015, 2, 23))):
        for n in range(3):
            child = uuid.uuid5(a_id, f"extra-{week}-{n}")
            extra.append(event(EpisodeRecorded, episode(child, EpisodeType.cin, day)))
            extra.append(event(AllocationStarted, allocation(child, a_id, day)))
    await seed(metrics, *extra)
    for taken_on in ("2015-02-02", "2015-02-09", "2015-02-16", "2015-02-23", "2015-03-02"):
        taken = await metrics.http.post(f"/v1/snapshots?as_of={taken_on}", headers=metrics.auth(*WRITE))
        assert taken.status_code == 201, taken.text
        assert taken.json()["teams"] == ["ACIN1", "PC3"]
    again = await metrics.http.post("/v1/snapshots?as_of=2015-03-02", headers=metrics.auth(*WRITE))
    assert again.json()["rows"] == 3 * 20  # replaced, not doubled

    history = await metrics.http.get(
        "/v1/kpis/average_caseload/history?from=2015-01-01&to=2015-12-31", headers=metrics.auth(*READ)
    )
    assert history.status_code == 200
    body = history.json()
    assert [p["as_of"] for p in body["points"]] == [
        "2015-02-02",
        "2015-02-09",
        "2015-02-16",
        "2015-02-23",
        "2015-03-02",
    ]
    values = [p["value"] for p in body["points"]]
    assert values == sorted(values)
    assert values[0] < values[-1]
    forecast = body["forecast"]
    assert forecast["target_date"] == "2015-03-31"
    assert forecast["value"] > values[-1]
    assert forecast["on_track"] is (forecast["value"] <= 16)
    team = await metrics.http.get(
        "/v1/kpis/average_caseload/history?team=ACIN1&to=2015-12-31", headers=metrics.auth(*READ)
    )
    assert len(team.json()["points"]) == 5
    monitored = await metrics.http.get("/v1/kpis/agency_rate/history", headers=metrics.auth(*READ))
    assert monitored.json()["forecast"] is None
    refused = await metrics.http.post("/v1/snapshots", headers=metrics.auth(*READ))
    assert refused.status_code == 403


async def test_watch_lists_name_the_workers_and_children_to_look_at(metrics: ServiceClient) -> None:
    await seed(metrics, *worked_example())
    index = await metrics.http.get(f"/v1/watch-lists?as_of={AS_OF}", headers=metrics.auth(*READ))
    assert index.status_code == 200
    counts = {w["name"]: w["count"] for w in index.json()["lists"]}
    assert counts["workers-over-caseload-limit"] == 1
    assert counts["children-with-overdue-visits"] == 23  # the children not seen since 2015-01-05
    over = await metrics.http.get(
        f"/v1/watch-lists/workers-over-caseload-limit?as_of={AS_OF}", headers=metrics.auth(*READ)
    )
    assert [(w["external_id"], w["caseload"], w["limit"], w["over_by"]) for w in over.json()["items"]] == [
        ("A", 18, 16, 2)
    ]
    first = await metrics.http.get(
        f"/v1/watch-lists/children-with-overdue-visits?as_of={AS_OF}&limit=10", headers=metrics.auth(*READ)
    )
    page = first.json()
    assert page["total"] == 23
    assert len(page["items"]) == 10
    assert page["items"][0]["child_external_id"].startswith("C-")
    seen = {i["child_id"] for i in page["items"]}
    cursor = page["next_cursor"]
    while cursor:
        more = (
            await metrics.http.get(
                f"/v1/watch-lists/children-with-overdue-visits?as_of={AS_OF}&limit=10&cursor={cursor}",
                headers=metrics.auth(*READ),
            )
        ).json()
        seen |= {i["child_id"] for i in more["items"]}
        cursor = more["next_cursor"]
    assert len(seen) == 23
    nope = await metrics.http.get("/v1/watch-lists/nothing", headers=metrics.auth(*READ))
    assert nope.status_code == 404
    garbage = await metrics.http.get(
        "/v1/watch-lists/registrations-expiring?cursor=%%%", headers=metrics.auth(*READ)
    )
    assert garbage.status_code == 422


async def test_a_moderated_audit_counts_with_its_moderated_grade(metrics: ServiceClient) -> None:
    audit_id = uuid.uuid4()
    await seed(
        metrics,
        event(AuditRecorded, audit(audit_id, overall_grade=Grade.good, completed_date=date(2015, 2, 2))),
        event(
            AuditModerated,
            audit(
                audit_id,
                audit_version=2,
                overall_grade=Grade.good,
                moderated_grade=Grade.inadequate,
                completed_date=date(2015, 2, 2),
            ),
        ),
        event(AuditRecorded, audit(overall_grade=Grade.outstanding, completed_date=date(2015, 2, 9))),
    )
    kpis = by_id(await get_kpis(metrics))
    assert kpis["audits_good_or_better_pct"]["value"] == 50.0
    assert kpis["audits_inadequate_pct"]["value"] == 50.0
    assert kpis["audits_inadequate_pct"]["status"] == "not_met"


async def test_a_day_outside_the_calendar_the_kpis_can_reach_is_a_problem_not_a_crash(
    metrics: ServiceClient,
) -> None:
    for path in ("/v1/kpis", "/v1/kpis/average_caseload", "/v1/watch-lists"):
        for day in ("0001-01-01", "9999-12-31"):
            answer = await metrics.http.get(f"{path}?as_of={day}", headers=metrics.auth(*READ))
            assert answer.status_code == 422, (path, day, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["errors"][0]["field"] == "as_of"
    snapshot = await metrics.http.post("/v1/snapshots?as_of=0001-01-01", headers=metrics.auth(*WRITE))
    assert snapshot.status_code == 422


async def test_a_strategy_with_an_infinite_or_nan_number_is_a_problem_not_a_crash(
    metrics: ServiceClient,
) -> None:
    # Python's JSON reader takes NaN and 1e400 (infinity); a document holding one could not be stored
    # in the strategy's JSON column (a 500 before).
    current = (await metrics.http.get("/v1/strategy", headers=metrics.auth(*READ))).json()
    text = json.dumps({"document": current["document"]})
    for number in ("NaN", "1e400"):
        body = text.replace('"tolerance_pct": 5.0', f'"tolerance_pct": {number}', 1)
        assert body != text
        answer = await metrics.http.put(
            "/v1/strategy",
            content=body,
            headers={**metrics.auth(*WRITE), "Content-Type": "application/json", "If-Match": '"1"'},
        )
        assert answer.status_code == 422, (number, answer.text)
        assert any(e["field"].endswith("tolerance_pct") for e in answer.json()["errors"]), answer.text
