from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from steadfast_audit.audits.models import ActionStatus, Audit, LearningAction
from steadfast_shared.codes import AuditType, Grade

Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Person = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
TeamCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
    ),
]


class AuditCreate(BaseModel):
    """A casework audit. Completing it (a ``completed_date``) needs an ``overall_grade``."""

    model_config = ConfigDict(extra="forbid")

    audit_type: AuditType
    child: Ref = Field(description="the child's caseload id or external_id")
    worker: Ref = Field(description="the worker's staff id or external_id (known from the staff events)")
    team: TeamCode | None = Field(
        default=None, description="default: the worker's team on the completed (else started) date"
    )
    auditor: Person | None = None
    started_date: date | None = None
    completed_date: date | None = None
    overall_grade: Grade | None = None
    element_grades: dict[str, Grade] = Field(
        default_factory=dict, description="grade per element (contact, planning... as configured)"
    )
    findings: str | None = None
    external_id: Ref | None = Field(default=None, description="the source system's id for the audit")


class AuditUpdate(BaseModel):
    """The fields to change; an element graded ``null`` loses its grade."""

    model_config = ConfigDict(extra="forbid")

    audit_type: AuditType | None = None
    child: Ref | None = None
    worker: Ref | None = None
    team: TeamCode | None = None
    auditor: Person | None = None
    started_date: date | None = None
    completed_date: date | None = None
    overall_grade: Grade | None = None
    element_grades: dict[str, Grade | None] = Field(default_factory=dict)
    findings: str | None = None


class ModerationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    moderator: Person = Field(description="who moderated: someone other than the auditor")
    grade: Grade = Field(description="the grade confirmed or changed to; it is the grade that counts")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    moderated_date: date | None = Field(default=None, description="default today")


class Moderation(BaseModel):
    grade: Grade
    moderator: str | None
    reason: str | None
    moderated_date: date | None


class LearningActionRead(BaseModel):
    id: uuid.UUID
    audit_id: uuid.UUID
    owner: str
    description: str
    due_date: date
    status: ActionStatus
    completed_date: date | None

    @classmethod
    def of(cls, action: LearningAction) -> LearningActionRead:
        return cls(
            id=action.id,
            audit_id=action.audit_id,
            owner=action.owner,
            description=action.description,
            due_date=action.due_date,
            status=action.status,
            completed_date=action.completed_date,
        )


class AuditRead(BaseModel):
    id: uuid.UUID
    external_id: str | None
    audit_type: AuditType
    child: str
    worker_id: uuid.UUID
    team: str
    auditor: str | None
    started_date: date | None
    completed_date: date | None
    overall_grade: Grade | None
    element_grades: dict[str, Grade]
    findings: str | None
    moderation: Moderation | None
    effective_grade: Grade | None = Field(
        description="the moderated grade if moderated, else the overall grade"
    )
    version: int

    @classmethod
    def of(cls, audit: Audit) -> AuditRead:
        moderation = (
            Moderation(
                grade=audit.moderated_grade,
                moderator=audit.moderator,
                reason=audit.moderation_reason,
                moderated_date=audit.moderated_date,
            )
            if audit.moderated_grade is not None
            else None
        )
        return cls(
            id=audit.id,
            external_id=audit.external_id,
            audit_type=audit.audit_type,
            child=audit.child_ref,
            worker_id=audit.worker_id,
            team=audit.team,
            auditor=audit.auditor,
            started_date=audit.started_date,
            completed_date=audit.completed_date,
            overall_grade=audit.overall_grade,
            element_grades=audit.grades,
            findings=audit.findings,
            moderation=moderation,
            effective_grade=audit.effective_grade,
            version=audit.version,
        )


class AuditDetail(AuditRead):
    learning_actions: list[LearningActionRead]

    @classmethod
    def detail(cls, audit: Audit) -> AuditDetail:
        return cls(
            **AuditRead.of(audit).model_dump(),
            learning_actions=[LearningActionRead.of(a) for a in audit.learning_actions],
        )


class AuditFilters(BaseModel):
    team: str | None = None
    worker_id: uuid.UUID | None = None
    grade: Grade | None = Field(default=None, description="the effective grade")
    audit_type: AuditType | None = None
    child: str | None = None
    completed_from: date | None = None
    completed_before: date | None = None


class GradeCounts(BaseModel):
    graded: int
    counts: dict[Grade, int]
    good_or_better_pct: float | None


class GradeDistribution(BaseModel):
    """Completed audits in the period: the effective overall grade and each element's grades."""

    completed_from: date | None
    completed_before: date | None
    team: str | None
    audit_type: AuditType | None
    audits: int
    overall: GradeCounts
    elements: dict[str, GradeCounts]
