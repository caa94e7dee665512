"""A property of the projections: however a history of events is delivered (once in order, every event
twice, the whole history replayed, or old events redelivered after newer ones) the projections end up
the same, so the KPI engine loads the same facts; and applying them many at a time, as the rebuild does
(:func:`~steadfast_metrics.facts.projector.apply_events`), gives what live processing gave.

The history is generated: workers whose details and terms change over several versions, children whose
episodes, allocations and assessments change under the child's version, audits graded then moderated,
student placements recorded, updated and removed, surveys and feedback. One aggregate's events keep
their order (one Kafka key, one partition); the aggregates interleave in any order. One database serves
every example; its tables are emptied before each delivery.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from steadfast_audit.events import AuditChanged, AuditModerated, AuditRecorded
from steadfast_caseload.events import (
    AllocationChanged,
    AllocationStarted,
    AssessmentChanged,
    AssessmentRecorded,
    EpisodeChanged,
    EpisodeRecorded,
    FeedbackReturned,
    IroVisitRecorded,
    ReviewRecorded,
    VisitRecorded,
)
from steadfast_metrics.bootstrap import definition
from steadfast_metrics.db import Base
from steadfast_metrics.facts import models
from steadfast_metrics.facts.projector import apply_events
from steadfast_metrics.facts.records import Facts
from steadfast_metrics.facts.repository import FactsRepository
from steadfast_shared.codes import EpisodeType, Grade, VisitType
from steadfast_shared.events import CloudEvent
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.events import (
    RecruitmentSurveyReturned,
    StudentPlacementRecorded,
    StudentPlacementRemoved,
    StudentPlacementUpdated,
    WorkerHired,
    WorkerLeft,
    WorkerTermsChanged,
    WorkerUpdated,
)
from tests.metrics.conftest import (
    Projections,
    allocation,
    assessment,
    audit,
    episode,
    event,
    feedback,
    iro_visit,
    placement,
    recruitment_survey,
    review,
    terms,
    visit,
    worker,
)

FIRST_DAY = date(2014, 1, 1)
LAST_DAY = date(2015, 12, 31)
TEAMS = ("ACIN1", "PC3")
#: The days the facts are loaded for, with the window of each.
LOADS = ((date(2014, 9, 30), 182), (date(2015, 3, 2), 182), (date(2015, 12, 31), 365))
PROJECTION_TABLES = tuple(getattr(models, name).__tablename__ for name in models.__all__)

days = st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)
uuids = st.uuids(version=4)
History = list[CloudEvent]


def _later(day: date, draw: st.DrawFn) -> date:
    return day + timedelta(days=draw(st.integers(1, 400)))


@st.composite
def worker_history(draw: st.DrawFn) -> History:
    worker_id, start = draw(uuids), draw(days)
    history, end = [terms(start, team=draw(st.sampled_from(TEAMS)))], None
    events = [event(WorkerHired, worker(worker_id, version=1, start_date=start, history=history))]
    for version in range(2, draw(st.integers(1, 4)) + 1):
        change = draw(st.sampled_from(["terms", "left", "details"]))
        if change == "terms":
            moved = _later(history[-1].effective_from, draw)
            history = [
                *history[:-1],
                history[-1].model_copy(update={"effective_to": moved}),
                terms(moved, team=draw(st.sampled_from(TEAMS)), fte=draw(st.sampled_from([0.5, 1.0]))),
            ]
            kind = WorkerTermsChanged
        elif change == "left":
            end, kind = _later(start, draw), WorkerLeft
        else:
            kind = WorkerUpdated
        pct = draw(st.sampled_from([None, 10.0]))
        events.append(
            event(
                kind,
                worker(
                    worker_id,
                    version=version,
                    start_date=start,
                    end_date=end,
                    history=history,
                    protected_development_pct=pct,
                ),
            )
        )
    return events


@st.composite
def child_history(draw: st.DrawFn, workers: Sequence[uuid.UUID]) -> History:
    """A child's events: every change moves the child's version on, whichever record it is about."""
    child = draw(uuids)
    version = 0
    events: History = []

    def bump() -> int:
        nonlocal version
        version += 1
        return version

    for _ in range(draw(st.integers(1, 2))):
        episode_id, start = draw(uuids), draw(days)
        kind = draw(st.sampled_from(list(EpisodeType)))
        events.append(
            event(EpisodeRecorded, episode(child, kind, start, child_version=bump(), episode_id=episode_id))
        )
        if draw(st.booleans()):
            ended = episode(
                child, kind, start, _later(start, draw), child_version=bump(), episode_id=episode_id
            )
            events.append(event(EpisodeChanged, ended))
    for _ in range(draw(st.integers(0, 2))):
        allocation_id, start, to = draw(uuids), draw(days), draw(st.sampled_from(workers))
        events.append(
            event(
                AllocationStarted,
                allocation(child, to, start, child_version=bump(), allocation_id=allocation_id),
            )
        )
        if draw(st.booleans()):
            handed_over = allocation(
                child, to, start, _later(start, draw), child_version=bump(), allocation_id=allocation_id
            )
            events.append(event(AllocationChanged, handed_over))
    if draw(st.booleans()):
        assessment_id, start = draw(uuids), draw(days)
        events.append(
            event(
                AssessmentRecorded,
                assessment(child, start, child_version=bump(), assessment_id=assessment_id),
            )
        )
        done = assessment(
            child, start, _later(start, draw), child_version=bump(), assessment_id=assessment_id
        )
        events.append(event(AssessmentChanged, done))
    for day in draw(st.sets(days, max_size=2)):
        events.append(
            event(
                VisitRecorded, visit(child, day, draw(st.sampled_from(list(VisitType))), child_version=bump())
            )
        )
    for day in draw(st.sets(days, max_size=2)):
        events.append(event(ReviewRecorded, review(child, day, child_version=bump())))
    for day in draw(st.sets(days, max_size=1)):
        events.append(event(IroVisitRecorded, iro_visit(child, day, child_version=bump())))
    return events


@st.composite
def audit_history(draw: st.DrawFn) -> History:
    audit_id, completed = draw(uuids), draw(days)
    grades = st.sampled_from(list(Grade))
    events = [event(AuditRecorded, audit(audit_id, audit_version=1, completed_date=None, overall_grade=None))]
    graded = draw(grades)
    events.append(
        event(
            AuditChanged,
            audit(
                audit_id,
                audit_version=2,
                completed_date=completed,
                overall_grade=graded,
                contact_grade=draw(grades),
            ),
        )
    )
    if draw(st.booleans()):
        moderated = audit(
            audit_id,
            audit_version=3,
            completed_date=completed,
            overall_grade=graded,
            moderated_grade=draw(grades),
        )
        events.append(event(AuditModerated, moderated))
    return events


@st.composite
def placement_history(draw: st.DrawFn) -> History:
    placement_id, start = draw(uuids), draw(days)
    events = [event(StudentPlacementRecorded, placement(placement_id, version=1, start_date=start))]
    if draw(st.booleans()):
        start = draw(days)
        events.append(event(StudentPlacementUpdated, placement(placement_id, version=2, start_date=start)))
    if draw(st.booleans()):
        events.append(
            event(StudentPlacementRemoved, placement(placement_id, version=len(events) + 1, start_date=start))
        )
    return events


@st.composite
def survey_history(draw: st.DrawFn) -> History:
    returned, team = draw(days), draw(st.sampled_from([*TEAMS, None]))
    score = st.integers(1, 5)
    if draw(st.booleans()):
        return [event(RecruitmentSurveyReturned, recruitment_survey(returned, team=team, place=draw(score)))]
    return [event(FeedbackReturned, feedback(returned, team=team, contact_quality=draw(score)))]


@st.composite
def council_history(draw: st.DrawFn) -> History:
    """Every aggregate's events, interleaved in a drawn order that keeps each aggregate's own order."""
    workers = draw(st.lists(worker_history(), min_size=1, max_size=3))
    worker_ids = [uuid.UUID(w[0].subject) for w in workers]
    aggregates: list[History] = [
        *workers,
        *draw(st.lists(child_history(worker_ids), max_size=3)),
        *draw(st.lists(audit_history(), max_size=2)),
        *draw(st.lists(placement_history(), max_size=2)),
        *draw(st.lists(survey_history(), max_size=2)),
    ]
    turns = draw(st.permutations([i for i, events in enumerate(aggregates) for _ in events]))
    queues = [list(events) for events in aggregates]
    return [queues[i].pop(0) for i in turns]


def redelivered(history: History, copies: Sequence[tuple[int, int]]) -> History:
    """``history`` with a copy of event ``i`` delivered again ``delay`` events after it, for each pair."""
    delivered = [(position, 0, e) for position, e in enumerate(history)]
    for n, (i, delay) in enumerate(copies, start=1):
        delivered.append((i % len(history) + delay, n, history[i % len(history)]))
    return [e for _, _, e in sorted(delivered, key=lambda d: (d[0], d[1]))]


def _comparable(value: Any) -> Any:
    """A fact's field, comparable across loads: collections sorted by their items' reprs."""
    if isinstance(value, Mapping):
        return sorted(map(repr, value.items()))
    if isinstance(value, Sequence) and not isinstance(value, str):
        return sorted(map(repr, value))
    return repr(value)


async def _state(projections: Projections) -> tuple[list[Any], list[Any], bool]:
    """The loaded facts (records sorted), every projected row but the revision's, and whether the
    revision moved."""
    loaded = []
    async with projections.database.sessionmaker() as session:
        repository = FactsRepository(session)
        for as_of, window_days in LOADS:
            facts = await repository.load(as_of, window_days)
            loaded.append({f.name: _comparable(getattr(facts, f.name)) for f in fields(Facts) if f.compare})
        rows = []
        for name in PROJECTION_TABLES:
            if name in ("projection_sources", "projection_revision"):
                continue  # how often each stream was read, and the revision's steps, differ by design
            table = Base.metadata.tables[name]
            columns = [c for c in table.columns if not (name == "fact_worker_terms" and c.name == "id")]
            rows.append((name, sorted(map(repr, (await session.execute(select(*columns))).all()))))
        # The revision moves whenever the projections change; by how much depends on the batching.
        return loaded, rows, await repository.revision() > 0


async def _deliver(
    projections: Projections, events: History, batch: int | None = None
) -> tuple[list[Any], list[Any], bool]:
    """Empty the projections, apply ``events`` (one by one as the consumer does, or ``batch`` at a time
    in one transaction each as the rebuild does) and say what they hold."""
    async with projections.database.sessionmaker() as session:
        await session.execute(text(f"TRUNCATE {', '.join(PROJECTION_TABLES)} RESTART IDENTITY"))
        await session.commit()
    if batch is None:
        await projections.apply(*events)
    else:
        for first in range(0, len(events), batch):
            async with projections.database.sessionmaker() as session:
                uow = UnitOfWork(session, tables=definition.tables, registry=definition.registry)
                await apply_events(uow, events[first : first + batch])
                await uow.commit()
    return await _state(projections)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=council_history(),
    copies=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 30)), min_size=1, max_size=8),
    batch=st.integers(1, 40),
)
async def test_duplicates_replays_and_redeliveries_leave_the_same_projections(
    projections: Projections, history: History, copies: list[tuple[int, int]], batch: int
) -> None:
    once = await _deliver(projections, history)
    assert await _deliver(projections, [e for e in history for _ in (1, 2)]) == once
    assert await _deliver(projections, history + history) == once
    assert await _deliver(projections, redelivered(history, copies)) == once
    # The rebuild's path: many events per transaction, a replay and redeliveries included.
    assert await _deliver(projections, redelivered(history, copies) + history, batch) == once
