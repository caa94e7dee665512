"""The projector's pure mapping (``facts/mapping.py``), without a database: a batch of events read into
the row changes the store writes. Each record keeps its newest upsert (the first of equal versions, as
applying the events one by one keeps it), whatever order the batch brings them in; a worker's terms
and a post's holdings travel with the upsert that owns them; every event of a followed stream counts for
its source, ignored types included; events of other streams count for nothing; an unreadable payload
raises before anything could be written."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from steadfast_audit.events import AuditChanged, AuditModerated, AuditRecorded
from steadfast_caseload.events import AllocationStarted, ChildRegistered, FeedbackReturned
from steadfast_metrics.facts.mapping import changes_of
from steadfast_metrics.facts.models import FactAllocation, FactAudit, FactSurveyReturn, FactTerms, FactWorker
from steadfast_shared.codes import Grade
from steadfast_shared.events.envelope import new_event
from steadfast_staff.events import TeamCreated, TeamData, WorkerHired, WorkerTermsChanged
from tests.metrics.conftest import allocation, audit, event, feedback, new_id, terms, worker

EARLY = datetime(2015, 3, 1, 9, 0, tzinfo=UTC)
LATE = datetime(2015, 3, 1, 10, 0, tzinfo=UTC)


def test_each_record_keeps_its_newest_upsert_in_any_order() -> None:
    audit_id = new_id()
    versions = [
        event(AuditRecorded, audit(audit_id, audit_version=1, completed_date=None)),
        event(AuditChanged, audit(audit_id, audit_version=2, overall_grade=Grade.good)),
        event(AuditModerated, audit(audit_id, audit_version=3, moderated_grade=Grade.inadequate)),
    ]
    rng = random.Random(9)
    for _ in range(10):
        shuffled = versions + versions[:2]
        rng.shuffle(shuffled)
        [(record_id, kept)] = changes_of(shuffled).upserts[FactAudit].items()
        assert record_id == audit_id
        assert (kept.record_version, kept.values["grade"]) == (3, Grade.inadequate)


def test_of_equal_versions_the_first_is_kept() -> None:
    first = feedback(date(2015, 2, 16), team="PC3", contact_quality=5)
    copy = first.model_copy(update={"contact_quality": 1})  # no version: recorded once
    [kept] = (
        changes_of([event(FeedbackReturned, first), event(FeedbackReturned, copy)])
        .upserts[FactSurveyReturn]
        .values()
    )
    assert kept.values["scores"] == {"contact_quality": 5}


def test_a_worker_upsert_carries_the_terms_it_owns() -> None:
    worker_id = new_id()
    hired = worker(worker_id, version=1, history=[terms(team="ACIN1")])
    moved = worker(
        worker_id,
        version=2,
        history=[
            terms(date(2014, 1, 6), date(2014, 6, 2), team="ACIN1"),
            terms(date(2014, 6, 2), team="PC3"),
        ],
    )
    changes = changes_of([event(WorkerHired, hired), event(WorkerTermsChanged, moved)])
    [kept] = changes.upserts[FactWorker].values()
    assert kept.owned is not None
    assert kept.owned.model is FactTerms
    assert [row["team"] for row in kept.owned.rows] == ["ACIN1", "PC3"]
    assert {row["worker_id"] for row in kept.owned.rows} == {worker_id}


def test_records_are_grouped_by_table_in_the_order_first_met() -> None:
    child, worker_id = new_id(), new_id()
    allocations = [allocation(child, worker_id, date(2014, 7, n), child_version=n) for n in (1, 2, 3)]
    changes = changes_of(
        [event(AllocationStarted, a) for a in allocations] + [event(WorkerHired, worker(worker_id))]
    )
    assert list(changes.upserts) == [FactAllocation, FactWorker]
    assert list(changes.upserts[FactAllocation]) == [a.allocation_id for a in allocations]


def test_every_event_of_a_followed_stream_counts_for_its_source() -> None:
    team = event(TeamCreated, TeamData(code="PC3", name="Permanence 3", version=1), time=EARLY)
    hired = event(WorkerHired, worker(), time=LATE)
    registered = event(
        ChildRegistered,
        ChildRegistered.data_model(child_id=new_id(), child_external_id="C1", child_version=1),
        time=EARLY,
    )
    elsewhere = new_event(source="/elsewhere", type_="org.example.thing.happened.v1", subject="y", data={})
    changes = changes_of([hired, team, hired, registered, elsewhere])
    assert set(changes.upserts) == {FactWorker}
    staff = changes.streams["steadfast.staff"]
    assert (staff.events, staff.newest_event_time) == (3, LATE)
    assert changes.streams["steadfast.caseload"].events == 1
    assert set(changes.streams) == {"steadfast.staff", "steadfast.caseload"}


def test_an_unreadable_payload_raises() -> None:
    broken = event(WorkerHired, worker())
    broken = broken.model_copy(update={"data": {**broken.data, "version": "x"}})
    with pytest.raises(ValidationError):
        changes_of([event(WorkerHired, worker()), broken])
