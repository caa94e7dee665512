"""The staff service's event contract: every type it publishes, with its payload model.

All staff events go to the topic ``steadfast.staff`` keyed by the aggregate id (a worker's, post's,
placement's or survey's id, a team's code), so one aggregate's events stay in order. Worker, post and
student placement events carry the aggregate's whole current state (a worker's dated employment
history, a post's dated holdings) and its ``version``: a consumer can apply any of them as an upsert and
ignore one whose version is not newer than what it holds. Survey returns are facts recorded once.

Personal data is kept to what a consumer needs (docs/security.md, "Personal data"): a worker's name
travels because the caseload service's caseload answers and the metrics service's watch lists name the
worker to their manager; the Social Work England registration number does not travel (no consumer
needs it: the registration watch list needs only the expiry date), nor does who returned a survey.
The worker and survey event types are at version 2 since those were dropped; consumers still read
version 1 events, which carried them.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from steadfast_shared.events import EventRegistry
from steadfast_staff.enums import (
    CensusRole,
    CfkssStatus,
    EmploymentType,
    LeaverDestination,
    LeavingReason,
    Placement,
    Role,
    StartOrigin,
)

TOPIC = "steadfast.staff"

registry = EventRegistry(source="/steadfast/staff")


class TeamData(BaseModel):
    code: str
    name: str
    version: int


class TermsData(BaseModel):
    """One dated segment of a worker's employment history: ``[effective_from, effective_to)``."""

    effective_from: date
    effective_to: date | None
    role: Role
    team: str
    fte: float
    employment_type: EmploymentType


class WorkerData(BaseModel):
    """A worker's whole state. ``display_name`` is the name a manager knows the worker by."""

    id: uuid.UUID
    external_id: str
    version: int
    display_name: str
    start_date: date
    end_date: date | None
    leaving_reason: LeavingReason | None
    asye_start: date | None
    asye_end: date | None
    protected_development_pct: float | None
    swe_registration_expiry: date | None
    history: list[TermsData] = Field(description="the employment history, oldest first")
    changed: list[str] = Field(default_factory=list, description="the fields this change touched")


class HoldingData(BaseModel):
    """A worker holding a post over ``[start_date, end_date)``; at most one holding of a post is active
    on any day. A holding counts towards the vacancy rate only on days its worker is in post."""

    id: uuid.UUID
    worker_id: uuid.UUID
    start_date: date
    end_date: date | None


class PostData(BaseModel):
    """An established (funded) post, established over ``[start_date, end_date)``."""

    id: uuid.UUID
    external_id: str
    version: int
    team: str
    role: Role
    fte: float
    start_date: date = Field(description="the day the post is established")
    end_date: date | None = Field(description="the day the post is disestablished (no longer exists)")
    holdings: list[HoldingData] = Field(description="who holds the post over time, oldest first")
    changed: list[str] = Field(default_factory=list, description="the fields this change touched")


class StudentPlacementData(BaseModel):
    id: uuid.UUID
    external_id: str
    version: int
    student_worker_id: uuid.UUID | None = Field(description="the student, when recorded as a worker")
    university: str
    placement: Placement
    team: str
    start_date: date
    end_date: date | None
    hired_afterwards: bool
    hired_worker_id: uuid.UUID | None = Field(description="the worker the student became, when hired")
    changed: list[str] = Field(default_factory=list, description="the fields this change touched")


Score = Annotated[int, Field(ge=1, le=5, description="1 (lowest) to 5 (highest); absent: not answered")]


class RecruitmentScores(BaseModel):
    """Why a new recruit applied: high is good."""

    right_post_right_time: Score | None = None
    place: Score | None = None
    development_opportunities: Score | None = None
    advert_and_communications: Score | None = None
    terms_and_conditions: Score | None = None


class ExitScores(BaseModel):
    """Why a leaver left: low is good."""

    insufficient_support_supervision: Score | None = None
    workload_too_high: Score | None = None
    no_career_path: Score | None = None


class HealthCheckScores(BaseModel):
    """The staff health check: high is good."""

    private_space: Score | None = None
    office_environment: Score | None = None
    supervision_quality: Score | None = None
    senior_manager_visibility: Score | None = None


class SurveyReturnData(BaseModel):
    """A returned survey. Who returned it is not published, even when the staff service knows it: the
    scores are counted per team, and a leaver's or a worker's answers stay theirs."""

    id: uuid.UUID
    version: int
    returned_date: date
    team: str | None


class RecruitmentSurveyData(RecruitmentScores, SurveyReturnData):
    pass


class ExitSurveyData(ExitScores, SurveyReturnData):
    pass


class StaffHealthCheckData(HealthCheckScores, SurveyReturnData):
    pass


TeamCreated = registry.register(
    "org.steadfast.staff.team.created.v1",
    TeamData,
    topic=TOPIC,
    aggregate="team",
    description="A team was set up.",
)
TeamRenamed = registry.register(
    "org.steadfast.staff.team.renamed.v1",
    TeamData,
    topic=TOPIC,
    aggregate="team",
    description="A team's name changed.",
)
WorkerHired = registry.register(
    "org.steadfast.staff.worker.hired.v2",
    WorkerData,
    topic=TOPIC,
    aggregate="worker",
    description="A worker's employment record was created (a starter, or a worker first recorded).",
)
WorkerUpdated = registry.register(
    "org.steadfast.staff.worker.updated.v2",
    WorkerData,
    topic=TOPIC,
    aggregate="worker",
    description="A worker's details changed: name, dates, ASYE, protected development time, registration.",
)
WorkerTermsChanged = registry.register(
    "org.steadfast.staff.worker.terms_changed.v2",
    WorkerData,
    topic=TOPIC,
    aggregate="worker",
    description="A dated change of role, team, FTE or employment type.",
)
WorkerLeft = registry.register(
    "org.steadfast.staff.worker.left.v2",
    WorkerData,
    topic=TOPIC,
    aggregate="worker",
    description="A worker's employment ended (end date and leaving reason).",
)
PostEstablished = registry.register(
    "org.steadfast.staff.post.established.v1",
    PostData,
    topic=TOPIC,
    aggregate="post",
    description="A funded post was established.",
)
PostUpdated = registry.register(
    "org.steadfast.staff.post.updated.v1",
    PostData,
    topic=TOPIC,
    aggregate="post",
    description="A post's team, role, FTE or dates changed.",
)
PostDisestablished = registry.register(
    "org.steadfast.staff.post.disestablished.v1",
    PostData,
    topic=TOPIC,
    aggregate="post",
    description="A post was given the date it is disestablished; holdings still open then end with it.",
)
PostHolderAssigned = registry.register(
    "org.steadfast.staff.post.holder_assigned.v1",
    PostData,
    topic=TOPIC,
    aggregate="post",
    description="A worker was recorded as holding a post from a date.",
)
PostHoldingEnded = registry.register(
    "org.steadfast.staff.post.holding_ended.v1",
    PostData,
    topic=TOPIC,
    aggregate="post",
    description="A worker's holding of a post was given (or moved to) an end date.",
)
StudentPlacementRecorded = registry.register(
    "org.steadfast.staff.student_placement.recorded.v1",
    StudentPlacementData,
    topic=TOPIC,
    aggregate="student_placement",
    description="A social work student's placement with the council was recorded.",
)
StudentPlacementUpdated = registry.register(
    "org.steadfast.staff.student_placement.updated.v1",
    StudentPlacementData,
    topic=TOPIC,
    aggregate="student_placement",
    description="A student placement's details changed (dates, team, whether the student was hired).",
)
StudentPlacementRemoved = registry.register(
    "org.steadfast.staff.student_placement.removed.v1",
    StudentPlacementData,
    topic=TOPIC,
    aggregate="student_placement",
    description="A student placement recorded in error was removed; the payload is its last state.",
)
RecruitmentSurveyReturned = registry.register(
    "org.steadfast.staff.recruitment_survey.returned.v2",
    RecruitmentSurveyData,
    topic=TOPIC,
    aggregate="recruitment_survey",
    description="A new recruit returned the survey of why they applied.",
)
ExitSurveyReturned = registry.register(
    "org.steadfast.staff.exit_survey.returned.v2",
    ExitSurveyData,
    topic=TOPIC,
    aggregate="exit_survey",
    description="A leaver returned the exit survey.",
)
StaffHealthCheckReturned = registry.register(
    "org.steadfast.staff.staff_health_check.returned.v2",
    StaffHealthCheckData,
    topic=TOPIC,
    aggregate="staff_health_check",
    description="A staff health check was returned.",
)


class CensusRecordData(BaseModel):
    """A worker's census record for a year (the year to 30 September), the census's own facts only.
    Kept in the staff service and not published: the registration number, working days lost and absence
    (health data), contract weeks and qualification."""

    id: uuid.UUID
    worker_id: uuid.UUID
    census_year: int = Field(description="the census year: the year to 30 September of this year")
    version: int
    census_role: CensusRole | None
    start_origin: StartOrigin | None
    leaver_destination: LeaverDestination | None
    cases_30_sept: int | None = Field(description="the cases the worker held on 30 September, as returned")
    cfkss_statuses: list[CfkssStatus]
    changed: list[str] = Field(default_factory=list, description="the fields this change touched")


class CpdEntryData(BaseModel):
    """A continuing professional development entry, as Social Work England expects them recorded. Its
    description is not published (free text)."""

    id: uuid.UUID
    worker_id: uuid.UUID
    version: int
    entry_date: date
    peer_reflection: bool
    registration_year: int = Field(
        description="the registration year it counts towards: the one ending 30 November of this year"
    )


CensusRecordRecorded = registry.register(
    "org.steadfast.staff.census_record.recorded.v1",
    CensusRecordData,
    topic=TOPIC,
    aggregate="census_record",
    description="A census return's facts about a worker for a year were recorded (a CSWW import).",
)
CensusRecordChanged = registry.register(
    "org.steadfast.staff.census_record.changed.v1",
    CensusRecordData,
    topic=TOPIC,
    aggregate="census_record",
    description="A later census return for the same worker and year changed its facts.",
)
CpdEntryRecorded = registry.register(
    "org.steadfast.staff.cpd_entry.recorded.v1",
    CpdEntryData,
    topic=TOPIC,
    aggregate="cpd_entry",
    description="A worker's continuing professional development entry was recorded.",
)
