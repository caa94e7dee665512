from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from steadfast_audit.audits.models import ActionStatus, Audit, LearningAction
from steadfast_shared.codes import AuditType, Grade
from steadfast_shared.schemas import ExternalId, Input, NotNull, Text, with_examples

#: Jo Okafor's audit of Asha's work with LCS-1001, moderated by Sam Patel (the README's audit tour).
AUDIT_OF_LCS_1001 = {
    "audit_type": "full",
    "child": "LCS-1001",
    "worker": "HR-2001",
    "auditor": "Jo Okafor",
    "started_date": "2015-03-02",
    "completed_date": "2015-03-09",
    "overall_grade": "requires_improvement",
    "element_grades": {"contact": "good", "planning": "requires_improvement", "voice_of_the_child": "good"},
    "findings": "Seen alone at every visit; the plan has no timescales.",
}
LEARNING_ACTION = {
    "id": "b8f2d6a4-1c7e-4b39-8d05-6e3a9c2f7b18",
    "audit_id": "3e9c5a17-8b2d-4f40-9a6e-1d7b3c5f8e02",
    "owner": "HR-2001",
    "description": "add timescales to the plan",
    "due_date": "2015-03-23",
    "status": "open",
    "completed_date": None,
}
AUDIT_READ = {
    **{key: value for key, value in AUDIT_OF_LCS_1001.items() if key != "worker"},
    "id": "3e9c5a17-8b2d-4f40-9a6e-1d7b3c5f8e02",
    "external_id": None,
    "worker_id": "7c2e9a41-0b5d-4f36-8e1a-2d4c6b8f0a13",
    "team": "PC3",
    "moderation": {
        "grade": "good",
        "moderator": "Sam Patel",
        "reason": "timescales are in the CP plan itself",
        "moderated_date": "2015-03-11",
    },
    "effective_grade": "good",
    "version": 2,
}

Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Person = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
TeamCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
    ),
]


class AuditCreate(Input):
    """A casework audit. Completing it (a ``completed_date``) needs an ``overall_grade``."""

    model_config = with_examples(AUDIT_OF_LCS_1001, extra="forbid")

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
    findings: Text | None = None
    external_id: ExternalId | None = Field(default=None, description="the source system's id for the audit")


class AuditUpdate(Input):
    """The fields to change; an element graded ``null`` loses its grade."""

    #: The auditor grades one more element and withdraws another.
    model_config = with_examples(
        {"element_grades": {"management_oversight": "good", "voice_of_the_child": None}}, extra="forbid"
    )

    audit_type: Annotated[AuditType | None, NotNull] = None
    child: Annotated[Ref | None, NotNull] = None
    worker: Annotated[Ref | None, NotNull] = None
    team: Annotated[TeamCode | None, NotNull] = None
    auditor: Person | None = None
    started_date: date | None = None
    completed_date: date | None = None
    overall_grade: Grade | None = None
    element_grades: dict[str, Grade | None] = Field(default_factory=dict)
    findings: Text | None = None


class ModerationCreate(Input):
    model_config = with_examples(
        {
            "moderator": "Sam Patel",
            "grade": "good",
            "reason": "timescales are in the CP plan itself",
            "moderated_date": "2015-03-11",
        },
        extra="forbid",
    )

    moderator: Person = Field(description="who moderated: someone other than the auditor")
    grade: Grade = Field(description="the grade confirmed or changed to; it is the grade that counts")
    reason: Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1)]
    moderated_date: date | None = Field(default=None, description="default today")


class Moderation(BaseModel):
    grade: Grade
    moderator: str | None
    reason: str | None
    moderated_date: date | None


class LearningActionRead(BaseModel):
    model_config = with_examples(LEARNING_ACTION)

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
    model_config = with_examples(AUDIT_READ)

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
    model_config = with_examples({**AUDIT_READ, "learning_actions": [LEARNING_ACTION]})

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
