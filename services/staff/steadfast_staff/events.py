"""The staff service's event contract: every type it publishes, with its payload model.

All staff events go to the topic ``steadfast.staff`` keyed by the aggregate id (a worker's id, a team's
code), so one aggregate's events stay in order. Worker events carry the worker's whole current state
(including the dated employment history) and its ``version``: a consumer can apply any of them as an
upsert and ignore one whose version is not newer than what it holds.
"""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from steadfast_shared.events import EventRegistry
from steadfast_staff.enums import EmploymentType, LeavingReason, Role

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
    swe_registration_number: str | None
    swe_registration_expiry: date | None
    history: list[TermsData] = Field(description="the employment history, oldest first")
    changed: list[str] = Field(default_factory=list, description="the fields this change touched")


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
    "org.steadfast.staff.worker.hired.v1",
    WorkerData,
    topic=TOPIC,
    aggregate="worker",
    description="A worker's employment record was created (a starter, or a worker first recorded).",
)
WorkerUpdated = registry.register(
    "org.steadfast.staff.worker.updated.v1",
    WorkerData,
    topic=TOPIC,
    aggregate="worker",
    description="A worker's details changed: name, dates, ASYE, protected development time, registration.",
)
WorkerTermsChanged = registry.register(
    "org.steadfast.staff.worker.terms_changed.v1",
    WorkerData,
    topic=TOPIC,
    aggregate="worker",
    description="A dated change of role, team, FTE or employment type.",
)
WorkerLeft = registry.register(
    "org.steadfast.staff.worker.left.v1",
    WorkerData,
    topic=TOPIC,
    aggregate="worker",
    description="A worker's employment ended (end date and leaving reason).",
)
