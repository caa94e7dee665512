"""The projector, through a real database: every kind of event lands in the facts the KPI engine reads;
older versions, duplicates and replays change nothing; a removed placement stays removed; the grade that
counts is the moderated one; unknown events are ignored and unreadable ones raise."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from steadfast_audit.events import AuditChanged, AuditModerated, AuditRecorded, LearningActionRecorded
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
from steadfast_metrics.facts.mapping import APPLIERS, IGNORED_TYPES, stream_topic
from steadfast_metrics.facts.models import FactPlacement
from steadfast_metrics.facts.records import (
    Allocation,
    Assessment,
    Audit,
    Episode,
    Holding,
    IroVisit,
    Placement,
    Post,
    Review,
    SurveyReturn,
    Terms,
    Visit,
)
from steadfast_metrics.facts.repository import FactsRepository
from steadfast_shared.codes import AuditType, EmploymentType, EpisodeType, Grade, Role, VisitType
from steadfast_shared.events.envelope import new_event
from steadfast_staff.events import (
    ExitSurveyData,
    ExitSurveyReturned,
    PostEstablished,
    PostHolderAssigned,
    RecruitmentSurveyReturned,
    StaffHealthCheckData,
    StaffHealthCheckReturned,
    StudentPlacementRecorded,
    StudentPlacementRemoved,
    StudentPlacementUpdated,
    TeamCreated,
    TeamData,
    WorkerHired,
    WorkerLeft,
    WorkerTermsChanged,
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
    new_id,
    placement,
    post,
    recruitment_survey,
    review,
    terms,
    visit,
    worker,
)

AS_OF = date(2015, 3, 2)


async def test_every_kind_of_event_lands_in_the_facts(projections: Projections) -> None:
    sw = worker(
        version=2,
        start_date=date(2014, 1, 6),
        history=[
            terms(date(2014, 1, 6), date(2014, 9, 1), fte=0.5, employment_type=EmploymentType.agency),
            terms(date(2014, 9, 1), None, team="PC3", fte=1.0),
        ],
        asye_start=date(2014, 9, 1),
        asye_end=date(2015, 9, 1),
        protected_development_pct=10.0,
        swe_registration_expiry=date(2016, 1, 31),
    )
    funded = post(team="PC3", holders=[(sw.id, date(2014, 9, 1), None)])
    student = placement(team="PC3", start_date=date(2014, 10, 6))
    child = new_id()
    await projections.apply(
        event(WorkerTermsChanged, sw),
        event(PostHolderAssigned, funded),
        event(StudentPlacementRecorded, student),
        event(
            RecruitmentSurveyReturned, recruitment_survey(date(2015, 1, 5), place=4, terms_and_conditions=2)
        ),
        event(
            ExitSurveyReturned,
            ExitSurveyData(
                id=new_id(),
                version=1,
                returned_date=date(2015, 2, 2),
                team=None,
                workload_too_high=5,
            ),
        ),
        event(
            StaffHealthCheckReturned,
            StaffHealthCheckData(
                id=new_id(),
                version=1,
                returned_date=date(2015, 2, 9),
                team="PC3",
                private_space=3,
                supervision_quality=4,
            ),
        ),
        event(FeedbackReturned, feedback(date(2015, 2, 16), team="PC3", contact_quality=5)),
        event(EpisodeRecorded, episode(child, EpisodeType.cp, date(2014, 11, 3), child_version=2)),
        event(AllocationStarted, allocation(child, sw.id, date(2014, 11, 3), child_version=3)),
        event(AssessmentRecorded, assessment(child, date(2014, 11, 3), date(2014, 12, 19), child_version=4)),
        event(VisitRecorded, visit(child, date(2015, 2, 20), VisitType.cp, child_version=5)),
        event(ReviewRecorded, review(child, date(2014, 12, 1), child_version=6)),
        event(IroVisitRecorded, iro_visit(child, date(2015, 1, 12), child_version=7)),
        event(ReviewRecorded, review(child, date(2015, 2, 23), child_version=8)),
        event(AuditRecorded, graded := audit(team="PC3", contact_grade=Grade.requires_improvement)),
    )

    facts = await projections.load(AS_OF)

    [held] = facts.workers
    assert (held.id, held.external_id, held.display_name) == (sw.id, sw.external_id, sw.display_name)
    assert (held.start_date, held.end_date) == (date(2014, 1, 6), None)
    assert list(held.terms) == [
        Terms(date(2014, 1, 6), date(2014, 9, 1), Role.social_worker, "ACIN1", 0.5, EmploymentType.agency),
        Terms(date(2014, 9, 1), None, Role.social_worker, "PC3", 1.0, EmploymentType.permanent),
    ]
    assert (held.asye_start, held.asye_end) == (date(2014, 9, 1), date(2015, 9, 1))
    assert held.protected_development_pct == 10.0
    assert held.swe_registration_expiry == date(2016, 1, 31)
    assert list(facts.posts) == [
        Post(
            funded.id,
            "PC3",
            Role.social_worker,
            1.0,
            funded.start_date,
            None,
            (Holding(sw.id, date(2014, 9, 1), None),),
        )
    ]
    assert list(facts.placements) == [Placement(student.id, "PC3", date(2014, 10, 6), None)]
    assert sorted(facts.surveys, key=lambda s: s.returned_date) == [
        SurveyReturn("recruit_reasons", date(2015, 1, 5), "ACIN1", {"place": 4, "terms_and_conditions": 2}),
        SurveyReturn("leaver_reasons", date(2015, 2, 2), None, {"workload_too_high": 5}),
        SurveyReturn(
            "staff_health_check", date(2015, 2, 9), "PC3", {"private_space": 3, "supervision_quality": 4}
        ),
        SurveyReturn("child_family_experience", date(2015, 2, 16), "PC3", {"contact_quality": 5}),
    ]
    assert list(facts.episodes) == [Episode(child, EpisodeType.cp, date(2014, 11, 3), None)]
    assert list(facts.allocations) == [Allocation(child, sw.id, date(2014, 11, 3), None)]
    assert list(facts.assessments) == [Assessment(child, date(2014, 11, 3), date(2014, 12, 19))]
    assert list(facts.visits) == [Visit(child, date(2015, 2, 20), VisitType.cp)]
    assert list(facts.reviews) == [Review(child, date(2014, 12, 1)), Review(child, date(2015, 2, 23))]
    assert list(facts.iro_visits) == [IroVisit(child, date(2015, 1, 12))]
    assert list(facts.audits) == [
        Audit(
            graded.audit_id, AuditType.full, "PC3", date(2015, 2, 2), Grade.good, Grade.requires_improvement
        )
    ]


async def test_an_event_not_newer_than_what_is_held_changes_nothing(projections: Projections) -> None:
    worker_id, child, allocated, assessed = new_id(), new_id(), new_id(), new_id()
    hired = worker(worker_id, version=1, history=[terms(team="ACIN1")])
    moved = worker(
        worker_id,
        version=2,
        history=[
            terms(date(2014, 1, 6), date(2014, 6, 2), team="ACIN1"),
            terms(date(2014, 6, 2), team="PC3"),
        ],
    )
    left = worker(worker_id, version=3, end_date=date(2015, 1, 31), history=moved.history)
    started = allocation(child, worker_id, date(2014, 7, 1), child_version=2, allocation_id=allocated)
    ended = allocation(
        child, worker_id, date(2014, 7, 1), date(2015, 1, 31), child_version=5, allocation_id=allocated
    )
    opened = assessment(child, date(2014, 12, 1), child_version=3, assessment_id=assessed)
    completed = assessment(
        child, date(2014, 12, 1), date(2015, 1, 20), child_version=4, assessment_id=assessed
    )
    recorded = audit(audit_version=1, overall_grade=None, completed_date=None)
    graded = audit(recorded.audit_id, audit_version=2, overall_grade=Grade.outstanding)

    # Newest first, then every older one (a reordering after a rebalance), then the newest again.
    await projections.apply(
        event(WorkerLeft, left),
        event(AllocationChanged, ended),
        event(AssessmentChanged, completed),
        event(AuditChanged, graded),
        event(WorkerHired, hired),
        event(WorkerTermsChanged, moved),
        event(AllocationStarted, started),
        event(AssessmentRecorded, opened),
        event(AuditRecorded, recorded),
        event(WorkerLeft, left),
    )

    facts = await projections.load(AS_OF)
    [held] = facts.workers
    assert held.end_date == date(2015, 1, 31)
    assert [t.team for t in held.terms] == ["ACIN1", "PC3"]
    assert list(facts.assessments) == [Assessment(child, date(2014, 12, 1), date(2015, 1, 20))]
    assert list(facts.audits) == [
        Audit(recorded.audit_id, AuditType.full, "ACIN1", date(2015, 2, 2), Grade.outstanding, None)
    ]
    # The allocation is loaded for the assessment completed in the window (its team is the worker's).
    assert list(facts.allocations) == [Allocation(child, worker_id, date(2014, 7, 1), date(2015, 1, 31))]


async def test_a_removed_placement_stays_removed_when_older_events_are_replayed(
    projections: Projections,
) -> None:
    placement_id = new_id()
    recorded = placement(placement_id, version=1, start_date=date(2014, 9, 1))
    updated = placement(placement_id, version=2, start_date=date(2014, 10, 1))
    removed = placement(placement_id, version=3, start_date=date(2014, 10, 1))
    kept = placement(version=1, start_date=date(2015, 1, 5))

    await projections.apply(
        event(StudentPlacementRecorded, recorded),
        event(StudentPlacementUpdated, updated),
        event(StudentPlacementRecorded, kept),
        event(StudentPlacementRemoved, removed),
        # A replay from the beginning of the topic:
        event(StudentPlacementRecorded, recorded),
        event(StudentPlacementUpdated, updated),
    )

    facts = await projections.load(AS_OF)
    assert [p.id for p in facts.placements] == [kept.id]
    async with projections.database.sessionmaker() as session:
        tombstone = await session.get(FactPlacement, placement_id)
    assert tombstone is not None
    assert (tombstone.removed, tombstone.version) == (True, 3)


async def test_the_moderated_grade_is_the_one_that_counts(projections: Projections) -> None:
    recorded = audit(audit_version=1, overall_grade=Grade.good, contact_grade=Grade.good)
    moderated = audit(
        recorded.audit_id,
        audit_version=2,
        overall_grade=Grade.good,
        moderated_grade=Grade.requires_improvement,
        contact_grade=Grade.good,
    )
    dip = audit(audit_type=AuditType.dip_sample, overall_grade=Grade.inadequate)
    await projections.apply(
        event(AuditRecorded, recorded), event(AuditModerated, moderated), event(AuditRecorded, dip)
    )

    audits = {a.id: a for a in (await projections.load(AS_OF)).audits}
    assert audits[recorded.audit_id].grade is Grade.requires_improvement
    assert audits[recorded.audit_id].contact_grade is Grade.good
    assert (audits[dip.audit_id].audit_type, audits[dip.audit_id].grade) == (
        AuditType.dip_sample,
        Grade.inadequate,
    )


async def test_the_same_episode_changing_keeps_its_newest_end(projections: Projections) -> None:
    child, episode_id = new_id(), new_id()
    opened = episode(child, EpisodeType.cla, date(2014, 5, 1), child_version=1, episode_id=episode_id)
    closed = episode(
        child, EpisodeType.cla, date(2014, 5, 1), date(2015, 1, 1), child_version=4, episode_id=episode_id
    )
    reopened = episode(child, EpisodeType.cla, date(2014, 5, 1), None, child_version=6, episode_id=episode_id)
    await projections.apply(
        event(EpisodeRecorded, opened),
        event(EpisodeChanged, reopened),
        event(EpisodeChanged, closed),
        event(EpisodeRecorded, opened),
    )
    assert list((await projections.load(AS_OF)).episodes) == [
        Episode(child, EpisodeType.cla, date(2014, 5, 1), None)
    ]


async def test_revision_moves_with_every_change_and_sources_follow_every_stream(
    projections: Projections,
) -> None:
    hired = worker(version=1)
    first = datetime(2015, 3, 1, 9, 0, tzinfo=UTC)
    later = datetime(2015, 3, 1, 10, 0, tzinfo=UTC)
    async with projections.database.sessionmaker() as session:
        assert await FactsRepository(session).revision() == 0
        assert await FactsRepository(session).sources() == []

    await projections.apply(event(WorkerHired, hired, time=later))
    await projections.apply(event(WorkerHired, hired, time=first))  # a second copy, older in time
    await projections.apply(
        event(TeamCreated, TeamData(code="PC3", name="Permanence 3", version=1), time=first)
    )
    await projections.apply(event(AuditRecorded, audit(), time=first))

    async with projections.database.sessionmaker() as session:
        repository = FactsRepository(session)
        assert (
            await repository.revision() == 2
        )  # the worker, then the audit: the copy and the team change nothing
        sources = {s.topic: s for s in await repository.sources()}
    assert set(sources) == {"steadfast.staff", "steadfast.audit"}
    staff = sources["steadfast.staff"]
    assert (staff.newest_event_time, staff.events_applied) == (later, 3)
    assert sources["steadfast.audit"].events_applied == 1
    assert abs((datetime.now(UTC) - staff.last_applied_at).total_seconds()) < 60


async def test_unknown_events_are_ignored(projections: Projections) -> None:
    await projections.apply(
        new_event(
            source="/steadfast/staff", type_="org.steadfast.staff.worker.promoted.v9", subject="x", data={}
        ),
        new_event(source="/elsewhere", type_="org.example.thing.happened.v1", subject="y", data={"a": 1}),
        event(
            LearningActionRecorded,
            LearningActionRecorded.data_model(
                learning_action_id=new_id(),
                audit_id=new_id(),
                team="PC3",
                due_date=date(2015, 4, 1),
                status="open",
                completed_date=None,
                audit_version=2,
            ),
        ),
    )
    async with projections.database.sessionmaker() as session:
        repository = FactsRepository(session)
        assert await repository.revision() == 0
        assert [(s.topic, s.events_applied) for s in await repository.sources()] == [
            ("steadfast.audit", 1),
            ("steadfast.staff", 1),
        ]
    assert (await projections.load(AS_OF)).audits == ()


async def test_an_unreadable_payload_raises_and_writes_nothing(projections: Projections) -> None:
    broken = event(WorkerHired, worker()).model_copy(
        update={"data": {"id": str(uuid.uuid4()), "version": "x"}}
    )
    with pytest.raises(ValidationError):
        await projections.apply(broken)
    bad_grade = event(AuditRecorded, audit())
    bad_grade = bad_grade.model_copy(update={"data": {**bad_grade.data, "effective_grade": "splendid"}})
    with pytest.raises(ValidationError):
        await projections.apply(bad_grade)
    async with projections.database.sessionmaker() as session:
        assert await FactsRepository(session).revision() == 0
        assert await FactsRepository(session).sources() == []
        assert (await session.scalars(select(FactPlacement))).all() == []


async def test_a_post_event_replaces_the_holdings(projections: Projections) -> None:
    first, second, post_id = new_id(), new_id(), new_id()
    await projections.apply(
        event(WorkerHired, worker(first)),
        event(WorkerHired, worker(second)),
        event(PostEstablished, post(post_id, version=1, holders=[(first, date(2014, 1, 6), None)])),
        event(
            PostHolderAssigned,
            post(
                post_id,
                version=2,
                holders=[(first, date(2014, 1, 6), date(2015, 1, 5)), (second, date(2015, 1, 5), None)],
            ),
        ),
    )
    [held] = (await projections.load(AS_OF)).posts
    assert list(held.holdings) == [Holding(second, date(2015, 1, 5), None)]


def test_every_event_type_of_the_contract_is_applied_or_deliberately_ignored() -> None:
    document = json.loads((Path(__file__).parents[2] / "docs" / "asyncapi.json").read_text())
    every_type = {message["name"] for message in document["components"]["messages"].values()}
    # The streams the projections follow (staff, caseload, audit); the others are the metrics service's
    # own (the strategy versions it publishes), which it does not consume.
    types = {t for t in every_type if stream_topic(t) is not None}
    assert {t.split(".")[2] for t in every_type - types} == {"metrics"}
    followed = set(APPLIERS) | IGNORED_TYPES
    assert types <= followed
    assert not set(APPLIERS) & IGNORED_TYPES
    # Beyond the contract, only the earlier versions of its types (still in topics and outboxes).
    latest = {t.rsplit(".v", 1)[0]: int(t.rsplit(".v", 1)[1]) for t in types}
    for older in followed - types:
        name, version = older.rsplit(".v", 1)
        assert int(version) < latest[name], older


async def test_version_1_events_carrying_the_dropped_personal_fields_are_still_applied(
    projections: Projections,
) -> None:
    """Version 1 worker and audit events (still in topics and outboxes) carried the registration number
    and the auditor's and moderator's names: they are applied as before, the names left behind."""
    sw = worker(swe_registration_expiry=date(2016, 1, 31))
    moderated = audit(moderated_grade=Grade.outstanding)
    old_worker = event(WorkerHired, sw).model_copy(
        update={
            "type": "org.steadfast.staff.worker.hired.v1",
            "data": {**sw.model_dump(mode="json"), "swe_registration_number": "SW123456"},
        }
    )
    old_audit = event(AuditModerated, moderated).model_copy(
        update={
            "type": "org.steadfast.audit.audit.moderated.v1",
            "data": {**moderated.model_dump(mode="json"), "auditor": "Ann Audit", "moderator": "Mo Derate"},
        }
    )
    await projections.apply(old_worker, old_audit)
    facts = await projections.load(AS_OF)
    [held] = facts.workers
    assert (held.id, held.swe_registration_expiry) == (sw.id, date(2016, 1, 31))
    [graded] = facts.audits
    assert graded.grade == Grade.outstanding
