"""Keeps the projections in step with the staff, caseload and audit events.

The rules, for every event:

- An event is an upsert by its record's id that ignores anything not newer than what is held: workers,
  posts, student placements and surveys by their ``version``, audits by their ``audit_version``, each
  of a child's records (episodes, allocations, assessments, visits, reviews, IRO visits) by the child's
  ``child_version`` kept on that record. So a duplicate, a replay of the whole stream or events of one
  record arriving out of order leave the state the newest event describes.
- A worker event carries the worker's whole employment history and a post event the post's holdings:
  the held history (holdings) is replaced with the event's.
- A student placement's removal keeps the row, marked removed with the removal's version, so an older
  event replayed after it does not bring the placement back.
- Child/family feedback carries no version: it is recorded once; a second copy changes nothing.
- The audit's grade that counts is its *effective* grade (the moderated one when it was moderated);
  its contact grade is the ``contact`` element grade.
- An event type the KPIs do not need (teams, children registered, learning actions, the audit
  programme), or one not known at all, changes no projection. A payload that cannot be read raises:
  the consumer retries it, then sends it to the dead-letter topic.
- Every event of a stream moves that stream's row of ``projection_sources`` on (newest event time,
  events applied, when); every change to a projection moves ``projection_revision`` on, in the same
  transaction.

:func:`apply_event` is the consumer's handler; tests and the rebuild apply events through it directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from steadfast_metrics.db import Base
from steadfast_metrics.facts.models import (
    FactAllocation,
    FactAssessment,
    FactAudit,
    FactEpisode,
    FactIroVisit,
    FactPlacement,
    FactPost,
    FactPostHolding,
    FactReview,
    FactSurveyReturn,
    FactTerms,
    FactVisit,
    FactWorker,
    ProjectionRevision,
    ProjectionSource,
)
from steadfast_metrics.facts.payloads import (
    AllocationPayload,
    AssessmentPayload,
    AuditPayload,
    EpisodePayload,
    ExitSurveyPayload,
    FeedbackPayload,
    HealthCheckPayload,
    IroVisitPayload,
    PlacementPayload,
    PostPayload,
    RecruitmentSurveyPayload,
    ReviewPayload,
    SurveyPayload,
    VisitPayload,
    WorkerPayload,
)
from steadfast_metrics.kpis.facts import SURVEY_FACTORS
from steadfast_shared.db import utcnow
from steadfast_shared.events import CloudEvent
from steadfast_shared.uow import UnitOfWork

P = TypeVar("P", bound=BaseModel)

#: The streams followed, by the producer named in their event types (``org.steadfast.<producer>.``),
#: each under its topic in the event contract (docs/asyncapi.json), whatever topic a deployment reads
#: it from: so a rebuild from the producers' outboxes records the same sources as live processing.
STREAMS: Mapping[str, str] = {
    "staff": "steadfast.staff",
    "caseload": "steadfast.caseload",
    "audit": "steadfast.audit",
}

_STAFF = "org.steadfast.staff."
_CASELOAD = "org.steadfast.caseload."
_AUDIT = "org.steadfast.audit."

#: Event types of the followed streams that no KPI needs (they only count as the stream followed).
IGNORED_TYPES: frozenset[str] = frozenset(
    {
        _STAFF + "team.created.v1",
        _STAFF + "team.renamed.v1",
        _CASELOAD + "child.registered.v1",
        _AUDIT + "learning_action.recorded.v1",
        _AUDIT + "learning_action.changed.v1",
        _AUDIT + "programme.planned.v1",
    }
)


def stream_topic(event_type: str) -> str | None:
    """The contract topic of the stream an event type belongs to (None: not a followed stream)."""
    parts = event_type.split(".")
    if len(parts) < 3 or parts[:2] != ["org", "steadfast"]:
        return None
    return STREAMS.get(parts[2])


# -- the upsert every projection shares -------------------------------------------------------------


async def _upsert(
    session: AsyncSession,
    model: type[Base],
    key: InstrumentedAttribute[uuid.UUID],
    version: InstrumentedAttribute[int],
    values: dict[str, Any],
) -> bool:
    """Insert ``values`` or update the row with their id, unless the row's version is not older than
    theirs; True when the row was written."""
    record_id = values[key.key]
    held = await session.scalar(select(version).where(key == record_id).with_for_update())
    if held is not None and held >= values[version.key]:
        return False
    if held is None:
        await session.execute(insert(model).values(**values))
    else:
        await session.execute(update(model).where(key == record_id).values(**values))
    return True


# -- staff ------------------------------------------------------------------------------------------


async def _worker(session: AsyncSession, worker: WorkerPayload) -> bool:
    written = await _upsert(
        session,
        FactWorker,
        FactWorker.id,
        FactWorker.version,
        {
            "id": worker.id,
            "external_id": worker.external_id,
            "display_name": worker.display_name,
            "start_date": worker.start_date,
            "end_date": worker.end_date,
            "asye_start": worker.asye_start,
            "asye_end": worker.asye_end,
            "protected_development_pct": worker.protected_development_pct,
            "swe_registration_expiry": worker.swe_registration_expiry,
            "version": worker.version,
        },
    )
    if not written:
        return False
    await session.execute(delete(FactTerms).where(FactTerms.worker_id == worker.id))
    if worker.history:
        await session.execute(
            insert(FactTerms),
            [
                {
                    "worker_id": worker.id,
                    "effective_from": t.effective_from,
                    "effective_to": t.effective_to,
                    "role": t.role,
                    "team": t.team,
                    "fte": t.fte,
                    "employment_type": t.employment_type,
                }
                for t in worker.history
            ],
        )
    return True


async def _post(session: AsyncSession, post: PostPayload) -> bool:
    written = await _upsert(
        session,
        FactPost,
        FactPost.id,
        FactPost.version,
        {
            "id": post.id,
            "external_id": post.external_id,
            "team": post.team,
            "role": post.role,
            "fte": post.fte,
            "start_date": post.start_date,
            "end_date": post.end_date,
            "version": post.version,
        },
    )
    if not written:
        return False
    await session.execute(delete(FactPostHolding).where(FactPostHolding.post_id == post.id))
    if post.holdings:
        await session.execute(
            insert(FactPostHolding),
            [
                {
                    "id": h.id,
                    "post_id": post.id,
                    "worker_id": h.worker_id,
                    "start_date": h.start_date,
                    "end_date": h.end_date,
                }
                for h in post.holdings
            ],
        )
    return True


def _placement(*, removed: bool) -> Callable[[AsyncSession, PlacementPayload], Awaitable[bool]]:
    async def apply(session: AsyncSession, placement: PlacementPayload) -> bool:
        return await _upsert(
            session,
            FactPlacement,
            FactPlacement.id,
            FactPlacement.version,
            {
                "id": placement.id,
                "team": placement.team,
                "start_date": placement.start_date,
                "end_date": placement.end_date,
                "removed": removed,
                "version": placement.version,
            },
        )

    return apply


def _survey(kind: str) -> Callable[[AsyncSession, SurveyPayload], Awaitable[bool]]:
    factors = SURVEY_FACTORS[kind]

    async def apply(session: AsyncSession, survey: SurveyPayload) -> bool:
        answers = survey.model_dump(include=set(factors))
        return await _upsert(
            session,
            FactSurveyReturn,
            FactSurveyReturn.id,
            FactSurveyReturn.version,
            {
                "id": survey.id,
                "kind": kind,
                "returned_date": survey.returned_date,
                "team": survey.team,
                "scores": {f: answers[f] for f in factors if answers.get(f) is not None},
                "version": survey.version,
            },
        )

    return apply


# -- caseload ---------------------------------------------------------------------------------------


async def _episode(session: AsyncSession, e: EpisodePayload) -> bool:
    values = {
        "id": e.episode_id,
        "child_id": e.child_id,
        "episode_type": e.episode_type,
        "start_date": e.start_date,
        "end_date": e.end_date,
        "child_version": e.child_version,
    }
    return await _upsert(session, FactEpisode, FactEpisode.id, FactEpisode.child_version, values)


async def _allocation(session: AsyncSession, a: AllocationPayload) -> bool:
    values = {
        "id": a.allocation_id,
        "child_id": a.child_id,
        "worker_id": a.worker_id,
        "start_date": a.start_date,
        "end_date": a.end_date,
        "child_version": a.child_version,
    }
    return await _upsert(session, FactAllocation, FactAllocation.id, FactAllocation.child_version, values)


async def _assessment(session: AsyncSession, a: AssessmentPayload) -> bool:
    values = {
        "id": a.assessment_id,
        "child_id": a.child_id,
        "start_date": a.start_date,
        "completed_date": a.completed_date,
        "child_version": a.child_version,
    }
    return await _upsert(session, FactAssessment, FactAssessment.id, FactAssessment.child_version, values)


async def _visit(session: AsyncSession, v: VisitPayload) -> bool:
    values = {
        "id": v.visit_id,
        "child_id": v.child_id,
        "visit_date": v.visit_date,
        "visit_type": v.visit_type,
        "child_version": v.child_version,
    }
    return await _upsert(session, FactVisit, FactVisit.id, FactVisit.child_version, values)


async def _review(session: AsyncSession, r: ReviewPayload) -> bool:
    values = {
        "id": r.review_id,
        "child_id": r.child_id,
        "review_date": r.review_date,
        "child_version": r.child_version,
    }
    return await _upsert(session, FactReview, FactReview.id, FactReview.child_version, values)


async def _iro_visit(session: AsyncSession, v: IroVisitPayload) -> bool:
    values = {
        "id": v.iro_visit_id,
        "child_id": v.child_id,
        "visit_date": v.visit_date,
        "child_version": v.child_version,
    }
    return await _upsert(session, FactIroVisit, FactIroVisit.id, FactIroVisit.child_version, values)


async def _feedback(session: AsyncSession, f: FeedbackPayload) -> bool:
    kind = "child_family_experience"
    answers = f.model_dump(include=set(SURVEY_FACTORS[kind]))
    values = {
        "id": f.feedback_id,
        "kind": kind,
        "returned_date": f.returned_date,
        "team": f.team,
        "scores": {k: answers[k] for k in SURVEY_FACTORS[kind] if answers.get(k) is not None},
        "version": 0,  # recorded once: a second copy is never newer
    }
    return await _upsert(session, FactSurveyReturn, FactSurveyReturn.id, FactSurveyReturn.version, values)


# -- audit ------------------------------------------------------------------------------------------


async def _audit(session: AsyncSession, a: AuditPayload) -> bool:
    values = {
        "id": a.audit_id,
        "audit_type": a.audit_type,
        "team": a.team,
        "completed_date": a.completed_date,
        "grade": a.effective_grade,
        "contact_grade": a.element_grades.get("contact"),
        "audit_version": a.audit_version,
    }
    return await _upsert(session, FactAudit, FactAudit.id, FactAudit.audit_version, values)


# -- dispatch ---------------------------------------------------------------------------------------

Apply = Callable[[AsyncSession, dict[str, Any]], Awaitable[bool]]


def _reading(payload: type[P], apply: Callable[[AsyncSession, P], Awaitable[bool]]) -> Apply:
    async def read_and_apply(session: AsyncSession, data: dict[str, Any]) -> bool:
        return await apply(session, payload.model_validate(data))

    return read_and_apply


_worker_apply = _reading(WorkerPayload, _worker)
_post_apply = _reading(PostPayload, _post)

#: What each event type the KPIs need does to the projections.
APPLIERS: Mapping[str, Apply] = {
    **{
        _STAFF + f"worker.{change}.v1": _worker_apply
        for change in ("hired", "updated", "terms_changed", "left")
    },
    **{
        _STAFF + f"post.{change}.v1": _post_apply
        for change in ("established", "updated", "disestablished", "holder_assigned", "holding_ended")
    },
    _STAFF + "student_placement.recorded.v1": _reading(PlacementPayload, _placement(removed=False)),
    _STAFF + "student_placement.updated.v1": _reading(PlacementPayload, _placement(removed=False)),
    _STAFF + "student_placement.removed.v1": _reading(PlacementPayload, _placement(removed=True)),
    _STAFF + "recruitment_survey.returned.v1": _reading(RecruitmentSurveyPayload, _survey("recruit_reasons")),
    _STAFF + "exit_survey.returned.v1": _reading(ExitSurveyPayload, _survey("leaver_reasons")),
    _STAFF + "staff_health_check.returned.v1": _reading(HealthCheckPayload, _survey("staff_health_check")),
    _CASELOAD + "episode.recorded.v1": _reading(EpisodePayload, _episode),
    _CASELOAD + "episode.changed.v1": _reading(EpisodePayload, _episode),
    _CASELOAD + "allocation.started.v1": _reading(AllocationPayload, _allocation),
    _CASELOAD + "allocation.changed.v1": _reading(AllocationPayload, _allocation),
    _CASELOAD + "assessment.recorded.v1": _reading(AssessmentPayload, _assessment),
    _CASELOAD + "assessment.changed.v1": _reading(AssessmentPayload, _assessment),
    _CASELOAD + "visit.recorded.v1": _reading(VisitPayload, _visit),
    _CASELOAD + "visit.changed.v1": _reading(VisitPayload, _visit),
    _CASELOAD + "review.recorded.v1": _reading(ReviewPayload, _review),
    _CASELOAD + "iro_visit.recorded.v1": _reading(IroVisitPayload, _iro_visit),
    _CASELOAD + "feedback.returned.v1": _reading(FeedbackPayload, _feedback),
    _AUDIT + "audit.recorded.v1": _reading(AuditPayload, _audit),
    _AUDIT + "audit.changed.v1": _reading(AuditPayload, _audit),
    _AUDIT + "audit.moderated.v1": _reading(AuditPayload, _audit),
}


async def _bump_revision(session: AsyncSession) -> None:
    held = await session.scalar(
        select(ProjectionRevision.revision).where(ProjectionRevision.id == 1).with_for_update()
    )
    if held is None:
        await session.execute(insert(ProjectionRevision).values(id=1, revision=1))
    else:
        await session.execute(
            update(ProjectionRevision).where(ProjectionRevision.id == 1).values(revision=held + 1)
        )


def _utc(moment: datetime) -> datetime:
    """As UTC (SQLite hands back naive UTC datetimes)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def _record_source(session: AsyncSession, topic: str, event_time: datetime) -> None:
    event_time = _utc(event_time)
    held = (
        await session.execute(
            select(ProjectionSource.newest_event_time, ProjectionSource.events_applied)
            .where(ProjectionSource.topic == topic)
            .with_for_update()
        )
    ).one_or_none()
    if held is None:
        await session.execute(
            insert(ProjectionSource).values(
                topic=topic, newest_event_time=event_time, events_applied=1, last_applied_at=utcnow()
            )
        )
        return
    newest, applied = held
    await session.execute(
        update(ProjectionSource)
        .where(ProjectionSource.topic == topic)
        .values(
            newest_event_time=max(_utc(newest), event_time),
            events_applied=applied + 1,
            last_applied_at=utcnow(),
        )
    )


async def apply_event(uow: UnitOfWork, event: CloudEvent) -> None:
    """Apply one event to the projections, in ``uow``'s transaction (the caller commits)."""
    topic = stream_topic(event.type)
    if topic is None:
        return
    session = uow.session
    apply = APPLIERS.get(event.type)
    if apply is not None and await apply(session, event.data):
        await _bump_revision(session)
    await _record_source(session, topic, event.time)
