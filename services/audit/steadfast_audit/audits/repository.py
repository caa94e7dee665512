from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from steadfast_audit.audits.models import Audit, ElementGrade
from steadfast_audit.audits.schemas import AuditFilters, AuditRead
from steadfast_shared.codes import Grade
from steadfast_shared.db import as_uuid
from steadfast_shared.http.pagination import Page, PageParams, paginate

S = TypeVar("S", bound=Select)


def _filtered(query: S, filters: AuditFilters) -> S:
    if filters.team is not None:
        query = query.where(Audit.team == filters.team)
    if filters.worker_id is not None:
        query = query.where(Audit.worker_id == filters.worker_id)
    if filters.grade is not None:
        query = query.where(Audit.effective_grade == filters.grade)
    if filters.audit_type is not None:
        query = query.where(Audit.audit_type == filters.audit_type)
    if filters.child is not None:
        query = query.where(Audit.child_ref == filters.child)
    if filters.completed_from is not None:
        query = query.where(Audit.completed_date >= filters.completed_from)
    if filters.completed_before is not None:
        query = query.where(Audit.completed_date < filters.completed_before)
    return query


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, ref: str, *, for_update: bool = False, actions: bool = True) -> Audit | None:
        """An audit by the service's id or the source system's ``external_id``, with its grades."""
        loads = [selectinload(Audit.element_grades)]
        if actions:
            loads.append(selectinload(Audit.learning_actions))
        audit_id = as_uuid(ref)
        condition = Audit.id == audit_id if audit_id is not None else Audit.external_id == ref
        query = select(Audit).where(condition).options(*loads)
        if for_update:
            query = query.with_for_update(of=Audit)
        return (await self.session.scalars(query)).one_or_none()

    async def by_external_ids(self, external_ids: Sequence[str]) -> dict[str, Audit]:
        query = (
            select(Audit)
            .where(Audit.external_id.in_(list(set(external_ids))))
            .options(selectinload(Audit.element_grades))
            .with_for_update(of=Audit)
        )
        return {a.external_id: a for a in (await self.session.scalars(query)).all() if a.external_id}

    def add(self, audit: Audit) -> None:
        self.session.add(audit)

    async def page(self, params: PageParams, *, filters: AuditFilters) -> Page[AuditRead]:
        """Oldest recorded first, filtered by team, worker, effective grade, type and completed period."""
        query = _filtered(select(Audit), filters).options(selectinload(Audit.element_grades))
        return await paginate(
            self.session,
            query,
            key_columns=[Audit.created_at, Audit.id],
            key_of=lambda a: [a.created_at, a.id],
            params=params,
            to_item=AuditRead.of,
        )

    async def overall_grades(self, filters: AuditFilters) -> tuple[int, dict[Grade, int]]:
        """How many completed audits match, and how many have each effective grade."""
        query = _filtered(
            select(Audit.effective_grade, func.count()).where(Audit.completed_date.is_not(None)), filters
        ).group_by(Audit.effective_grade)
        counts = {grade: n for grade, n in (await self.session.execute(query)).all()}
        return sum(counts.values()), {g: counts.get(g, 0) for g in Grade}

    async def element_grades(self, filters: AuditFilters) -> dict[str, dict[Grade, int]]:
        query = _filtered(
            select(ElementGrade.element, ElementGrade.grade, func.count())
            .join(Audit, Audit.id == ElementGrade.audit_id)
            .where(Audit.completed_date.is_not(None)),
            filters,
        ).group_by(ElementGrade.element, ElementGrade.grade)
        found: dict[str, dict[Grade, int]] = {}
        for element, grade, n in (await self.session.execute(query)).all():
            found.setdefault(element, {})[grade] = n
        return found

    async def completed_per_team_month(
        self, first_month: Any, after_month: Any, team: str | None
    ) -> dict[tuple[str, Any], int]:
        """Completed audits per (team, first day of month), completed in ``[first_month, after_month)``."""
        rows = select(Audit.team, Audit.completed_date).where(
            Audit.completed_date >= first_month, Audit.completed_date < after_month
        )
        if team is not None:
            rows = rows.where(Audit.team == team)
        done: dict[tuple[str, Any], int] = {}
        for row_team, completed in (await self.session.execute(rows)).all():
            if completed is None:
                continue
            key = (row_team, completed.replace(day=1))
            done[key] = done.get(key, 0) + 1
        return done
