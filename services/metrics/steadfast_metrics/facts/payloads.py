"""What the projector reads from the staff, caseload and audit events (docs/asyncapi.json).

Only the fields the KPIs need, parsed tolerantly: a field the producer adds later is ignored, a field
that is missing or of the wrong kind fails the event (the consumer retries it, then dead-letters it).
The producers' own packages are never imported: a service depends on the event contract, not on
another service's code.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from steadfast_shared.codes import AuditType, EmploymentType, EpisodeType, Grade, Role, VisitType

Score = Annotated[int, Field(ge=1, le=5)]


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# -- staff ------------------------------------------------------------------------------------------


class TermsPayload(Payload):
    effective_from: date
    effective_to: date | None
    role: Role
    team: str
    fte: float
    employment_type: EmploymentType


class WorkerPayload(Payload):
    """Every ``worker.*`` event: the worker's whole state, employment history included."""

    id: uuid.UUID
    external_id: str
    version: int
    display_name: str
    start_date: date
    end_date: date | None
    asye_start: date | None = None
    asye_end: date | None = None
    protected_development_pct: float | None = None
    swe_registration_expiry: date | None = None
    history: list[TermsPayload]


class HoldingPayload(Payload):
    id: uuid.UUID
    worker_id: uuid.UUID
    start_date: date
    end_date: date | None


class PostPayload(Payload):
    """Every ``post.*`` event: the post's whole state, its holdings included."""

    id: uuid.UUID
    external_id: str
    version: int
    team: str
    role: Role
    fte: float
    start_date: date
    end_date: date | None
    holdings: list[HoldingPayload]


class PlacementPayload(Payload):
    """Every ``student_placement.*`` event (``removed`` carries the last state, with a new version)."""

    id: uuid.UUID
    version: int
    team: str
    start_date: date
    end_date: date | None


class SurveyPayload(Payload):
    """A returned survey: its scores are read by factor name (see ``SURVEY_FACTORS``)."""

    id: uuid.UUID
    version: int
    returned_date: date
    team: str | None = None


class RecruitmentSurveyPayload(SurveyPayload):
    right_post_right_time: Score | None = None
    place: Score | None = None
    development_opportunities: Score | None = None
    advert_and_communications: Score | None = None
    terms_and_conditions: Score | None = None


class ExitSurveyPayload(SurveyPayload):
    insufficient_support_supervision: Score | None = None
    workload_too_high: Score | None = None
    no_career_path: Score | None = None


class HealthCheckPayload(SurveyPayload):
    private_space: Score | None = None
    office_environment: Score | None = None
    supervision_quality: Score | None = None
    senior_manager_visibility: Score | None = None


# -- caseload ---------------------------------------------------------------------------------------


class ChildRecordPayload(Payload):
    child_id: uuid.UUID
    child_external_id: str
    #: The child's version after the change: orders the events about each of the child's records.
    child_version: int


class EpisodePayload(ChildRecordPayload):
    episode_id: uuid.UUID
    episode_type: EpisodeType
    start_date: date
    end_date: date | None


class AllocationPayload(ChildRecordPayload):
    allocation_id: uuid.UUID
    worker_id: uuid.UUID
    start_date: date
    end_date: date | None


class AssessmentPayload(ChildRecordPayload):
    assessment_id: uuid.UUID
    start_date: date
    completed_date: date | None


class VisitPayload(ChildRecordPayload):
    visit_id: uuid.UUID
    visit_date: date
    visit_type: VisitType


class ReviewPayload(ChildRecordPayload):
    review_id: uuid.UUID
    review_date: date


class IroVisitPayload(ChildRecordPayload):
    iro_visit_id: uuid.UUID
    visit_date: date


class FeedbackPayload(Payload):
    """Child/family feedback: a fact recorded once (it carries no version)."""

    feedback_id: uuid.UUID
    team: str | None = None
    returned_date: date
    involved_in_decisions: Score | None = None
    worker_stability: Score | None = None
    contact_quality: Score | None = None


# -- audit ------------------------------------------------------------------------------------------


class AuditPayload(Payload):
    """Every ``audit.*`` event: the whole audit as it now is."""

    audit_id: uuid.UUID
    audit_type: AuditType
    team: str
    completed_date: date | None
    element_grades: dict[str, Grade] = Field(default_factory=dict)
    #: The grade that counts: the moderated grade when the audit was moderated, else the overall grade.
    effective_grade: Grade | None
    audit_version: int
