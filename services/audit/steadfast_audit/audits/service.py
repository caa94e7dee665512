"""Audit use cases: record, revise and moderate audits, agree and close learning actions, and the grade
distribution. The request's unit of work commits; nothing here does."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from steadfast_audit.audits.models import Audit, LearningAction, Outcome
from steadfast_audit.audits.repository import AuditRepository
from steadfast_audit.audits.schemas import (
    AuditCreate,
    AuditFilters,
    AuditUpdate,
    GradeCounts,
    GradeDistribution,
    ModerationCreate,
)
from steadfast_audit.directory.models import DirectoryWorker
from steadfast_audit.directory.repository import DirectoryRepository
from steadfast_shared.codes import Grade
from steadfast_shared.dates import today
from steadfast_shared.domain import Precondition
from steadfast_shared.errors import Conflict, NotFound, ValidationFailed

GOOD_OR_BETTER = (Grade.outstanding, Grade.good)


def team_on(worker: DirectoryWorker, day: date | None, *, field: str = "team") -> str:
    """The worker's team on ``day`` (from the directory), for an audit that does not name one."""
    terms = worker.terms_on(day) if day is not None else None
    if terms is None:
        raise ValidationFailed.field(
            field,
            "team_unknown",
            f"worker {worker.external_id!r} is in no team on {day}: give the team",
        )
    return terms.team


def grade_counts(counts: dict[Grade, int]) -> GradeCounts:
    graded = sum(counts.values())
    good = sum(counts.get(g, 0) for g in GOOD_OR_BETTER)
    return GradeCounts(
        graded=graded,
        counts={g: counts.get(g, 0) for g in Grade},
        good_or_better_pct=round(100 * good / graded, 1) if graded else None,
    )


class AuditService:
    def __init__(
        self, audits: AuditRepository, directory: DirectoryRepository, elements: Sequence[str]
    ) -> None:
        self.audits = audits
        self.directory = directory
        self.elements = tuple(elements)

    async def record(self, body: AuditCreate) -> Audit:
        if (
            body.external_id is not None
            and await self.audits.get(body.external_id, actions=False) is not None
        ):
            raise Conflict(
                f"audit {body.external_id!r} is already recorded",
                errors=[{"field": "external_id", "reason": "already_exists"}],
            )
        worker = await self._worker(body.worker)
        team = body.team or team_on(worker, body.completed_date or body.started_date)
        audit = Audit.record_new(
            audit_type=body.audit_type,
            child_ref=body.child,
            worker_id=worker.id,
            team=team,
            elements=self.elements,
            auditor=body.auditor,
            started_date=body.started_date,
            completed_date=body.completed_date,
            overall_grade=body.overall_grade,
            element_grades=body.element_grades,
            findings=body.findings,
            external_id=body.external_id,
        )
        self.audits.add(audit)
        return audit

    async def get(self, ref: str, *, for_update: bool = False) -> Audit:
        audit = await self.audits.get(ref, for_update=for_update)
        if audit is None:
            raise NotFound(f"no audit {ref!r}", errors=[{"field": "audit", "reason": "unknown_audit"}])
        return audit

    async def revise(self, ref: str, body: AuditUpdate, precondition: Precondition) -> Audit:
        audit = await self.get(ref, for_update=True)
        precondition(audit.version)
        changes: dict[str, Any] = body.model_dump(
            exclude_unset=True, exclude={"child", "worker", "element_grades"}
        )
        if body.child is not None:
            changes["child_ref"] = body.child
        worker: DirectoryWorker | None = None
        if body.worker is not None:
            worker = await self._worker(body.worker)
            changes["worker_id"] = worker.id
        if body.worker is not None and "team" not in body.model_fields_set and worker is not None:
            day = changes.get("completed_date", audit.completed_date) or changes.get(
                "started_date", audit.started_date
            )
            changes["team"] = team_on(worker, day)
        audit.revise(changes, elements=self.elements, element_grades=body.element_grades)
        return audit

    async def moderate(self, ref: str, body: ModerationCreate, precondition: Precondition) -> Audit:
        audit = await self.get(ref, for_update=True)
        precondition(audit.version)
        audit.moderate(
            moderator=body.moderator,
            grade=body.grade,
            reason=body.reason,
            on=body.moderated_date or today(),
        )
        return audit

    async def add_learning_action(
        self, ref: str, *, owner: str, description: str, due_date: date
    ) -> tuple[Audit, LearningAction]:
        audit = await self.get(ref, for_update=True)
        return audit, audit.add_learning_action(owner=owner, description=description, due_date=due_date)

    async def update_learning_action(
        self, ref: str, action_id: uuid.UUID, changes: dict[str, Any], precondition: Precondition
    ) -> tuple[Audit, Outcome, LearningAction]:
        audit = await self.get(ref, for_update=True)
        precondition(audit.version)
        if all(a.id != action_id for a in audit.learning_actions):
            raise NotFound(
                f"audit {ref!r} has no learning action {action_id}",
                errors=[{"field": "learning_action", "reason": "unknown_learning_action"}],
            )
        outcome, action = audit.update_learning_action(action_id, **changes)
        return audit, outcome, action

    async def distribution(self, filters: AuditFilters) -> GradeDistribution:
        audits, overall = await self.audits.overall_grades(filters)
        elements = await self.audits.element_grades(filters)
        return GradeDistribution(
            completed_from=filters.completed_from,
            completed_before=filters.completed_before,
            team=filters.team,
            audit_type=filters.audit_type,
            audits=audits,
            overall=grade_counts(overall),
            elements={
                e: grade_counts(elements.get(e, {}))
                for e in (*self.elements, *sorted(set(elements) - set(self.elements)))
            },
        )

    async def _worker(self, ref: str) -> DirectoryWorker:
        worker = await self.directory.get(ref)
        if worker is None:
            raise ValidationFailed.field(
                "worker",
                "unknown_worker",
                f"no worker {ref!r} is known to the audit service: the directory learns workers from the "
                "staff events, so record the worker in the staff service first",
            )
        return worker
