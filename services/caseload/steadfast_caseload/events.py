"""The caseload service's event contract: every type it publishes, with its payload model.

All caseload events go to the topic ``steadfast.caseload`` keyed by the child's id, so the events about
one child stay in order. Children travel as pseudonymous ids: no names, dates of birth or addresses are
held by this service, let alone published. Each payload carries the record's own id (an upsert key for
consumers) and the child's ``version`` after the change.
"""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel

from steadfast_shared.codes import AllocationChangeReason, EpisodeType, VisitType
from steadfast_shared.events import EventRegistry

TOPIC = "steadfast.caseload"

registry = EventRegistry(source="/steadfast/caseload")


class ChildRecord(BaseModel):
    child_id: uuid.UUID
    child_external_id: str
    child_version: int


class ChildData(ChildRecord):
    pass


class EpisodeData(ChildRecord):
    episode_id: uuid.UUID
    episode_type: EpisodeType
    start_date: date
    end_date: date | None


class AllocationData(ChildRecord):
    allocation_id: uuid.UUID
    worker_id: uuid.UUID
    start_date: date
    end_date: date | None
    reason: AllocationChangeReason | None


class AssessmentData(ChildRecord):
    assessment_id: uuid.UUID
    external_id: str
    start_date: date
    completed_date: date | None


class VisitData(ChildRecord):
    visit_id: uuid.UUID
    visit_date: date
    visit_type: VisitType
    seen_alone: bool | None


class ReviewData(ChildRecord):
    review_id: uuid.UUID
    review_date: date


class IroVisitData(ChildRecord):
    iro_visit_id: uuid.UUID
    visit_date: date


class FeedbackData(BaseModel):
    feedback_id: uuid.UUID
    external_id: str | None
    child_id: uuid.UUID | None
    team: str | None
    returned_date: date
    involved_in_decisions: int | None
    worker_stability: int | None
    contact_quality: int | None


ChildRegistered = registry.register(
    "org.steadfast.caseload.child.registered.v1",
    ChildData,
    topic=TOPIC,
    aggregate="child",
    description="A child became known to the service (a pseudonymous id and the source system's id).",
)
EpisodeRecorded = registry.register(
    "org.steadfast.caseload.episode.recorded.v1",
    EpisodeData,
    topic=TOPIC,
    aggregate="child",
    description="An episode (assessment, CIN, CP, CLA) of a child was recorded.",
)
EpisodeChanged = registry.register(
    "org.steadfast.caseload.episode.changed.v1",
    EpisodeData,
    topic=TOPIC,
    aggregate="child",
    description="An episode's end date changed (closed, reopened or corrected).",
)
AllocationStarted = registry.register(
    "org.steadfast.caseload.allocation.started.v1",
    AllocationData,
    topic=TOPIC,
    aggregate="child",
    description="A child was allocated to a worker from a date.",
)
AllocationChanged = registry.register(
    "org.steadfast.caseload.allocation.changed.v1",
    AllocationData,
    topic=TOPIC,
    aggregate="child",
    description="An allocation's end date or reason changed (ended at a handover, or corrected).",
)
AssessmentRecorded = registry.register(
    "org.steadfast.caseload.assessment.recorded.v1",
    AssessmentData,
    topic=TOPIC,
    aggregate="child",
    description="An assessment of a child was started.",
)
AssessmentChanged = registry.register(
    "org.steadfast.caseload.assessment.changed.v1",
    AssessmentData,
    topic=TOPIC,
    aggregate="child",
    description="An assessment's dates changed (typically: completed and authorised).",
)
VisitRecorded = registry.register(
    "org.steadfast.caseload.visit.recorded.v1",
    VisitData,
    topic=TOPIC,
    aggregate="child",
    description="A statutory visit to a child was recorded.",
)
VisitChanged = registry.register(
    "org.steadfast.caseload.visit.changed.v1",
    VisitData,
    topic=TOPIC,
    aggregate="child",
    description="A visit's details (seen alone) changed.",
)
ReviewRecorded = registry.register(
    "org.steadfast.caseload.review.recorded.v1",
    ReviewData,
    topic=TOPIC,
    aggregate="child",
    description="A review of a child's plan was held.",
)
IroVisitRecorded = registry.register(
    "org.steadfast.caseload.iro_visit.recorded.v1",
    IroVisitData,
    topic=TOPIC,
    aggregate="child",
    description="The independent reviewing officer visited the child.",
)
FeedbackReturned = registry.register(
    "org.steadfast.caseload.feedback.returned.v1",
    FeedbackData,
    topic=TOPIC,
    aggregate="feedback",
    description="Child or family feedback was returned, scored 1-5 per factor.",
)
