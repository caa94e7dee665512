"""The audit aggregate: one casework audit (a full audit or a dip sample) of one child's case, with its
element grades, its moderation and the learning actions arising from it.

Rules (checked before anything changes, so a refused change writes nothing):
- an audit cannot be completed without an overall grade, and is not completed before it was started;
- element grades name configured elements only;
- only a completed audit can be moderated; the moderator is someone other than the auditor and gives a
  reason; the moderated grade is the one that counts (``effective_grade``).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from steadfast_audit.db import Base
from steadfast_audit.events import (
    AuditChanged,
    AuditData,
    AuditModerated,
    AuditRecorded,
    LearningActionChanged,
    LearningActionData,
    LearningActionRecorded,
)
from steadfast_shared.codes import AuditType, Grade
from steadfast_shared.db import code_enum, utcnow
from steadfast_shared.db.types import UtcDateTime
from steadfast_shared.domain import Aggregate
from steadfast_shared.errors import ValidationFailed


class Outcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"


class ActionStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


#: The fields of an audit a revision may change (the child, type and worker included: corrections).
REVISABLE = (
    "audit_type",
    "child_ref",
    "worker_id",
    "team",
    "auditor",
    "started_date",
    "completed_date",
    "overall_grade",
    "findings",
)


def _same_person(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().casefold() == b.strip().casefold()


class ElementGrade(Base):
    __tablename__ = "audit_element_grades"
    __table_args__ = (UniqueConstraint("audit_id", "element"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    audit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"), nullable=False)
    element: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    grade: Mapped[Grade] = mapped_column(code_enum(Grade), nullable=False)


class LearningAction(Base):
    __tablename__ = "learning_actions"
    __table_args__ = (
        CheckConstraint("(status = 'done') = (completed_date IS NOT NULL)", name="completed_date_iff_done"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    audit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("audits.id", ondelete="CASCADE"), nullable=False, index=True
    )
    owner: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    status: Mapped[ActionStatus] = mapped_column(code_enum(ActionStatus), nullable=False, index=True)
    completed_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)

    def is_overdue_on(self, day: date) -> bool:
        return self.status is ActionStatus.open and self.due_date < day


class Audit(Aggregate, Base):
    __tablename__ = "audits"
    __table_args__ = (
        CheckConstraint("completed_date IS NULL OR overall_grade IS NOT NULL", name="completed_has_grade"),
        CheckConstraint(
            "completed_date IS NULL OR started_date IS NULL OR completed_date >= started_date",
            name="completed_not_before_started",
        ),
        CheckConstraint(
            "moderated_grade IS NULL OR completed_date IS NOT NULL", name="moderated_is_completed"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    external_id: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    audit_type: Mapped[AuditType] = mapped_column(code_enum(AuditType), nullable=False)
    #: The child's caseload id or external id: this service knows children by reference only.
    child_ref: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    worker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("directory_workers.id"), nullable=False, index=True
    )
    #: The worker's team at the time of the audit.
    team: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    auditor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    started_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    completed_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    overall_grade: Mapped[Grade | None] = mapped_column(code_enum(Grade), nullable=True)
    findings: Mapped[str | None] = mapped_column(Text, nullable=True)
    moderated_grade: Mapped[Grade | None] = mapped_column(code_enum(Grade), nullable=True)
    moderator: Mapped[str | None] = mapped_column(String(200), nullable=True)
    moderation_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    moderated_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: The moderated grade when there is one, else the overall grade (kept for queries).
    effective_grade: Mapped[Grade | None] = mapped_column(code_enum(Grade), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)

    element_grades: Mapped[list[ElementGrade]] = relationship(
        order_by=ElementGrade.element, cascade="all, delete-orphan", lazy="raise"
    )
    learning_actions: Mapped[list[LearningAction]] = relationship(
        order_by=LearningAction.due_date, cascade="all, delete-orphan", lazy="raise"
    )

    @classmethod
    def record_new(
        cls,
        *,
        audit_type: AuditType,
        child_ref: str,
        worker_id: uuid.UUID,
        team: str,
        elements: Collection[str],
        auditor: str | None = None,
        started_date: date | None = None,
        completed_date: date | None = None,
        overall_grade: Grade | None = None,
        element_grades: Mapping[str, Grade] | None = None,
        findings: str | None = None,
        external_id: str | None = None,
    ) -> Audit:
        grades = dict(element_grades or {})
        _check(started_date, completed_date, overall_grade)
        _check_elements(grades, elements)
        audit = cls(
            id=uuid.uuid4(),
            external_id=external_id,
            audit_type=audit_type,
            child_ref=child_ref,
            worker_id=worker_id,
            team=team,
            auditor=auditor,
            started_date=started_date,
            completed_date=completed_date,
            overall_grade=overall_grade,
            findings=findings,
            effective_grade=overall_grade,
            version=1,
            created_at=utcnow(),
            updated_at=utcnow(),
            element_grades=[ElementGrade(element=e, grade=g) for e, g in sorted(grades.items())],
            learning_actions=[],
        )
        audit.record(AuditRecorded(str(audit.id), audit.snapshot()))
        return audit

    @property
    def grades(self) -> dict[str, Grade]:
        return {g.element: g.grade for g in self.element_grades}

    @property
    def is_completed(self) -> bool:
        return self.completed_date is not None

    def revise(
        self,
        changes: Mapping[str, Any],
        *,
        elements: Collection[str],
        element_grades: Mapping[str, Grade | None] | None = None,
    ) -> Outcome:
        """Change the given fields and element grades (a ``None`` grade removes the element's grade).
        Answers ``unchanged`` (and records nothing) when nothing differs."""
        unknown = set(changes) - set(REVISABLE)
        if unknown:
            raise ValueError(f"not revisable: {sorted(unknown)}")
        after = {name: changes.get(name, getattr(self, name)) for name in REVISABLE}
        _check(after["started_date"], after["completed_date"], after["overall_grade"])
        if after["completed_date"] is None and self.moderated_grade is not None:
            raise ValidationFailed.field(
                "completed_date",
                "moderated_audit_cannot_reopen",
                "a moderated audit stays completed: correct its date instead",
            )
        grades = self.grades
        for element, grade in (element_grades or {}).items():
            if grade is None:
                grades.pop(element, None)
            else:
                grades[element] = grade
        _check_elements({e: g for e, g in (element_grades or {}).items() if g is not None}, elements)
        fields_changed = any(getattr(self, name) != value for name, value in after.items())
        grades_changed = grades != self.grades
        if not fields_changed and not grades_changed:
            return Outcome.unchanged
        for name, value in after.items():
            setattr(self, name, value)
        if grades_changed:
            held = {g.element: g for g in self.element_grades}
            self.element_grades = [_regrade(held.get(e), e, g) for e, g in sorted(grades.items())]
        self._changed(AuditChanged)
        return Outcome.updated

    def moderate(self, *, moderator: str, grade: Grade, reason: str, on: date) -> Outcome:
        """A second reviewer confirms or changes the grade, and says why; their grade is the one that
        counts. Moderating again with the same grade, moderator and reason changes nothing."""
        if not self.is_completed:
            raise ValidationFailed.field(
                "audit", "audit_not_completed", "only a completed audit can be moderated"
            )
        if not moderator.strip():
            raise ValidationFailed.field("moderator", "moderator_required", "say who moderated the audit")
        if _same_person(moderator, self.auditor):
            raise ValidationFailed.field(
                "moderator", "moderator_is_auditor", "the moderator must be someone other than the auditor"
            )
        if not reason.strip():
            raise ValidationFailed.field("reason", "reason_required", "a moderation gives its reason")
        if (self.moderated_grade, self.moderator, self.moderation_reason) == (grade, moderator, reason):
            return Outcome.unchanged
        self.moderated_grade = grade
        self.moderator = moderator
        self.moderation_reason = reason
        self.moderated_date = on
        self._changed(AuditModerated)
        return Outcome.updated

    def add_learning_action(self, *, owner: str, description: str, due_date: date) -> LearningAction:
        action = LearningAction(
            id=uuid.uuid4(),
            audit_id=self.id,
            owner=owner,
            description=description,
            due_date=due_date,
            status=ActionStatus.open,
            completed_date=None,
            created_at=utcnow(),
        )
        self.learning_actions.append(action)
        self.touch()
        self.record(LearningActionRecorded(str(self.id), self.action_snapshot(action)))
        return action

    def update_learning_action(
        self,
        action_id: uuid.UUID,
        *,
        owner: str | None = None,
        due_date: date | None = None,
        status: ActionStatus | None = None,
        completed_date: date | None = None,
    ) -> tuple[Outcome, LearningAction]:
        """Re-own, re-date or close an action. Done needs the date it was done; open and cancelled
        actions have none."""
        action = next((a for a in self.learning_actions if a.id == action_id), None)
        if action is None:
            raise ValidationFailed.field("learning_action", "unknown_learning_action", "no such action")
        new_status = status or action.status
        if new_status is ActionStatus.done:
            done_on = completed_date or action.completed_date
            if done_on is None:
                raise ValidationFailed.field(
                    "completed_date", "completed_date_required", "say when the action was done"
                )
        else:
            if completed_date is not None:
                raise ValidationFailed.field(
                    "completed_date", "not_done", "only a done action has a completed date"
                )
            done_on = None
        after = (owner or action.owner, due_date or action.due_date, new_status, done_on)
        if after == (action.owner, action.due_date, action.status, action.completed_date):
            return Outcome.unchanged, action
        action.owner, action.due_date, action.status, action.completed_date = after
        self.touch()
        self.record(LearningActionChanged(str(self.id), self.action_snapshot(action)))
        return Outcome.updated, action

    def _changed(self, event_type: Any) -> None:
        self.effective_grade = self.moderated_grade or self.overall_grade
        self.updated_at = utcnow()
        self.touch()
        self.record(event_type(str(self.id), self.snapshot()))

    def snapshot(self) -> AuditData:
        return AuditData(
            audit_id=self.id,
            external_id=self.external_id,
            audit_type=self.audit_type,
            child_ref=self.child_ref,
            worker_id=self.worker_id,
            team=self.team,
            started_date=self.started_date,
            completed_date=self.completed_date,
            overall_grade=self.overall_grade,
            element_grades=self.grades,
            moderated_grade=self.moderated_grade,
            moderated_date=self.moderated_date,
            effective_grade=self.moderated_grade or self.overall_grade,
            audit_version=self.version,
        )

    def action_snapshot(self, action: LearningAction) -> LearningActionData:
        return LearningActionData(
            learning_action_id=action.id,
            audit_id=self.id,
            team=self.team,
            due_date=action.due_date,
            status=action.status.value,
            completed_date=action.completed_date,
            audit_version=self.version,
        )


def _regrade(held: ElementGrade | None, element: str, grade: Grade) -> ElementGrade:
    if held is None:
        return ElementGrade(element=element, grade=grade)
    held.grade = grade
    return held


def _check(started: date | None, completed: date | None, overall: Grade | None) -> None:
    if completed is not None and overall is None:
        raise ValidationFailed.field(
            "overall_grade", "overall_grade_required", "an audit cannot be completed without an overall grade"
        )
    if completed is not None and started is not None and completed < started:
        raise ValidationFailed.field(
            "completed_date", "completed_before_started", "an audit is not completed before it was started"
        )
    if started is None and completed is None:
        raise ValidationFailed.field(
            "started_date", "date_required", "an audit has a start date, a completed date or both"
        )


def _check_elements(grades: Mapping[str, Any], elements: Collection[str]) -> None:
    unknown = sorted(set(grades) - set(elements))
    if unknown:
        raise ValidationFailed.field(
            f"element_grades.{unknown[0]}",
            "unknown_element",
            f"not an audit element here: {unknown}; the elements are {sorted(elements)}",
        )
