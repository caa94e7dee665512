"""What the staff, caseload and audit events change in the projections: pure functions, no database.

:func:`changes_of` reads a batch of events, in delivery order, into the row changes they make
(:class:`Changes`); :class:`steadfast_metrics.facts.store.ProjectionStore` applies them. The rules:

- An event is an upsert of its record's row by the record's id that ignores anything not newer than
  what is held: workers, posts, student placements and surveys by their ``version``, audits by their
  ``audit_version``, each of a child's records (episodes, allocations, assessments, visits, reviews,
  IRO visits) by the child's ``child_version`` kept on that record. So a duplicate, a replay of the
  whole stream or events of one record arriving out of order leave the state the newest event
  describes. Within a batch only each record's newest upsert is kept (the first of equal versions, as
  applying them one by one would keep it); the store writes it unless the row held is as new.
- A worker event carries the worker's whole employment history and a post event the post's holdings:
  the rows a record owns (:class:`Owned`) are replaced whenever the record is written.
- A student placement's removal keeps the row, marked removed with the removal's version, so an older
  event replayed after it does not bring the placement back.
- Child/family feedback carries no version: it is recorded once; a second copy changes nothing.
- The audit's grade that counts is its *effective* grade (the moderated one when it was moderated);
  its contact grade is the ``contact`` element grade.
- An event type the KPIs do not need (teams, children registered, learning actions, the audit
  programme), or one not known at all, changes no projection. A payload that cannot be read raises
  (pydantic's ``ValidationError``) before anything is written: the consumer bisects the batch and
  dead-letters the event.
- Every event of a followed stream counts for that stream's row of ``projection_sources`` (events
  applied, newest event time).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel
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
from steadfast_metrics.facts.records import SURVEY_FACTORS
from steadfast_shared.events import CloudEvent

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
        # The DfE census's own figures (start origin, leaver destination, cases at 30 September, days
        # lost) and Social Work England CPD: no KPI of the strategy reads them yet.
        _STAFF + "census_record.recorded.v1",
        _STAFF + "census_record.changed.v1",
        _STAFF + "cpd_entry.recorded.v1",
        _CASELOAD + "child.registered.v1",
        *(_AUDIT + f"learning_action.{change}.v{v}" for change in ("recorded", "changed") for v in (1, 2)),
        _AUDIT + "programme.planned.v1",
    }
)


@cache
def stream_topic(event_type: str) -> str | None:
    """The contract topic of the stream an event type belongs to (None: not a followed stream)."""
    parts = event_type.split(".")
    if len(parts) < 3 or parts[:2] != ["org", "steadfast"]:
        return None
    return STREAMS.get(parts[2])


# -- what an event writes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Owned:
    """Rows a record owns (a worker's terms, a post's holdings): replaced whenever the record is written."""

    model: type[Base]
    parent: InstrumentedAttribute[uuid.UUID]
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class Upsert:
    """What one event writes: the row of ``model`` with ``values`` (every column), by its ``key``, unless
    the row held is not older by ``version``; and, when written, the rows it owns replaced."""

    model: type[Base]
    key: InstrumentedAttribute[uuid.UUID]
    version: InstrumentedAttribute[int]
    values: dict[str, Any]
    owned: Owned | None = None

    @property
    def record_id(self) -> uuid.UUID:
        record_id: uuid.UUID = self.values[self.key.key]
        return record_id

    @property
    def record_version(self) -> int:
        version: int = self.values[self.version.key]
        return version


# -- staff ------------------------------------------------------------------------------------------


def _worker(worker: WorkerPayload) -> Upsert:
    return Upsert(
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
        Owned(
            FactTerms,
            FactTerms.worker_id,
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
        ),
    )


def _post(post: PostPayload) -> Upsert:
    return Upsert(
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
        Owned(
            FactPostHolding,
            FactPostHolding.post_id,
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
        ),
    )


def _placement(*, removed: bool) -> Callable[[PlacementPayload], Upsert]:
    def read(placement: PlacementPayload) -> Upsert:
        return Upsert(
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

    return read


def _survey(kind: str) -> Callable[[SurveyPayload], Upsert]:
    factors = SURVEY_FACTORS[kind]

    def read(survey: SurveyPayload) -> Upsert:
        answers = survey.model_dump(include=set(factors))
        return Upsert(
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

    return read


# -- caseload ---------------------------------------------------------------------------------------


def _episode(e: EpisodePayload) -> Upsert:
    values = {
        "id": e.episode_id,
        "child_id": e.child_id,
        "child_external_id": e.child_external_id,
        "episode_type": e.episode_type,
        "start_date": e.start_date,
        "end_date": e.end_date,
        "child_version": e.child_version,
    }
    return Upsert(FactEpisode, FactEpisode.id, FactEpisode.child_version, values)


def _allocation(a: AllocationPayload) -> Upsert:
    values = {
        "id": a.allocation_id,
        "child_id": a.child_id,
        "worker_id": a.worker_id,
        "start_date": a.start_date,
        "end_date": a.end_date,
        "child_version": a.child_version,
    }
    return Upsert(FactAllocation, FactAllocation.id, FactAllocation.child_version, values)


def _assessment(a: AssessmentPayload) -> Upsert:
    values = {
        "id": a.assessment_id,
        "child_id": a.child_id,
        "start_date": a.start_date,
        "completed_date": a.completed_date,
        "child_version": a.child_version,
    }
    return Upsert(FactAssessment, FactAssessment.id, FactAssessment.child_version, values)


def _visit(v: VisitPayload) -> Upsert:
    values = {
        "id": v.visit_id,
        "child_id": v.child_id,
        "visit_date": v.visit_date,
        "visit_type": v.visit_type,
        "child_version": v.child_version,
    }
    return Upsert(FactVisit, FactVisit.id, FactVisit.child_version, values)


def _review(r: ReviewPayload) -> Upsert:
    values = {
        "id": r.review_id,
        "child_id": r.child_id,
        "review_date": r.review_date,
        "child_version": r.child_version,
    }
    return Upsert(FactReview, FactReview.id, FactReview.child_version, values)


def _iro_visit(v: IroVisitPayload) -> Upsert:
    values = {
        "id": v.iro_visit_id,
        "child_id": v.child_id,
        "visit_date": v.visit_date,
        "child_version": v.child_version,
    }
    return Upsert(FactIroVisit, FactIroVisit.id, FactIroVisit.child_version, values)


def _feedback(f: FeedbackPayload) -> Upsert:
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
    return Upsert(FactSurveyReturn, FactSurveyReturn.id, FactSurveyReturn.version, values)


# -- audit ------------------------------------------------------------------------------------------


def _audit(a: AuditPayload) -> Upsert:
    values = {
        "id": a.audit_id,
        "audit_type": a.audit_type,
        "team": a.team,
        "completed_date": a.completed_date,
        "grade": a.effective_grade,
        "contact_grade": a.element_grades.get("contact"),
        "audit_version": a.audit_version,
    }
    return Upsert(FactAudit, FactAudit.id, FactAudit.audit_version, values)


# -- dispatch ---------------------------------------------------------------------------------------

#: Reads an event's data (raising when it cannot be read) into what the event writes.
Read = Callable[[dict[str, Any]], Upsert]


def _reading(payload: type[P], read: Callable[[P], Upsert]) -> Read:
    def read_payload(data: dict[str, Any]) -> Upsert:
        return read(payload.model_validate(data))

    return read_payload


_worker_read = _reading(WorkerPayload, _worker)
_post_read = _reading(PostPayload, _post)

#: What each event type the KPIs need writes to the projections.
APPLIERS: Mapping[str, Read] = {
    # Version 2 of the worker, survey and audit events dropped personal fields no KPI reads
    # (docs/security.md); version 1 events, still in topics and outboxes, are read the same way.
    **{
        _STAFF + f"worker.{change}.v{v}": _worker_read
        for change in ("hired", "updated", "terms_changed", "left")
        for v in (1, 2)
    },
    **{
        _STAFF + f"post.{change}.v1": _post_read
        for change in ("established", "updated", "disestablished", "holder_assigned", "holding_ended")
    },
    _STAFF + "student_placement.recorded.v1": _reading(PlacementPayload, _placement(removed=False)),
    _STAFF + "student_placement.updated.v1": _reading(PlacementPayload, _placement(removed=False)),
    _STAFF + "student_placement.removed.v1": _reading(PlacementPayload, _placement(removed=True)),
    **{
        _STAFF + f"{kind}.returned.v{v}": _reading(payload, _survey(name))
        for kind, payload, name in (
            ("recruitment_survey", RecruitmentSurveyPayload, "recruit_reasons"),
            ("exit_survey", ExitSurveyPayload, "leaver_reasons"),
            ("staff_health_check", HealthCheckPayload, "staff_health_check"),
        )
        for v in (1, 2)
    },
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
    **{
        _AUDIT + f"audit.{change}.v{v}": _reading(AuditPayload, _audit)
        for change in ("recorded", "changed", "moderated")
        for v in (1, 2)
    },
}


# -- a batch --------------------------------------------------------------------------------------


_NO_OFFSET = timedelta(0)


def _utc(moment: datetime) -> datetime:
    """As UTC (SQLite hands back naive UTC datetimes)."""
    if moment.tzinfo is not None and moment.utcoffset() == _NO_OFFSET:
        return moment  # UTC already (an event's time as parsed)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class StreamProgress:
    """What a batch adds to one stream's row of ``projection_sources``."""

    events: int
    newest_event_time: datetime


@dataclass
class Changes:
    """The row changes of a batch of events: per table, each record's newest upsert (in the order the
    records were first met), and per followed stream, its progress."""

    upserts: dict[type[Base], dict[uuid.UUID, Upsert]] = field(default_factory=dict)
    streams: dict[str, StreamProgress] = field(default_factory=dict)

    def add(self, upsert: Upsert) -> None:
        """Keep ``upsert`` unless this batch already holds an upsert of its record at least as new."""
        records = self.upserts.setdefault(upsert.model, {})
        kept = records.get(upsert.record_id)
        if kept is None or kept.record_version < upsert.record_version:
            records[upsert.record_id] = upsert


def changes_of(events: Sequence[CloudEvent]) -> Changes:
    """The row changes ``events`` make, in delivery order (see the module docstring); raises when a
    payload cannot be read."""
    changes = Changes()
    for event in events:
        read = APPLIERS.get(event.type)
        if read is not None:
            changes.add(read(event.data))
    changes.streams = streams_of(events)
    return changes


def streams_of(events: Sequence[CloudEvent]) -> dict[str, StreamProgress]:
    """What ``events`` add to each followed stream's row of ``projection_sources``."""
    counted: dict[str, int] = {}
    newest: dict[str, datetime] = {}
    for event in events:
        topic = stream_topic(event.type)
        if topic is None:
            continue
        time = _utc(event.time)
        counted[topic] = counted.get(topic, 0) + 1
        held = newest.get(topic)
        if held is None or held < time:
            newest[topic] = time
    return {topic: StreamProgress(n, newest[topic]) for topic, n in counted.items()}
