"""The caseload queries, counted in the database: a worker's caseload on a date is the number of
distinct children with an allocation to them active that day (``start_date <= as_of`` and ``end_date``
null or after ``as_of``: half-open, so on a handover day the child counts only for the new worker)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, distinct, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from steadfast_caseload.caseloads.models import CaseHolder, is_nqsw
from steadfast_caseload.children.models import Allocation, Child
from steadfast_caseload.directory.models import DirectoryTerms, DirectoryWorker
from steadfast_shared.codes import CASE_HOLDING_ROLES


def active_on(
    start: InstrumentedAttribute[date], end: InstrumentedAttribute[date | None], as_of: date
) -> ColumnElement[bool]:
    """The half-open interval ``[start, end)`` covers ``as_of``."""
    return and_(start <= as_of, or_(end.is_(None), end > as_of))


@dataclass(frozen=True)
class AllocatedChild:
    child_id: uuid.UUID
    child_external_id: str
    allocation_id: uuid.UUID
    start_date: date
    end_date: date | None


class CaseloadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def children_of(self, worker_id: uuid.UUID, as_of: date) -> list[AllocatedChild]:
        """The children allocated to the worker on ``as_of`` (one row per child), by external id."""
        rows = await self.session.execute(
            select(Child.id, Child.external_id, Allocation.id, Allocation.start_date, Allocation.end_date)
            .join(Child, Child.id == Allocation.child_id)
            .where(
                Allocation.worker_id == worker_id,
                active_on(Allocation.start_date, Allocation.end_date, as_of),
            )
            .order_by(Child.external_id, Allocation.start_date)
        )
        seen: dict[uuid.UUID, AllocatedChild] = {}
        for child_id, external_id, allocation_id, start, end in rows:
            seen.setdefault(child_id, AllocatedChild(child_id, external_id, allocation_id, start, end))
        return list(seen.values())

    async def case_holders(
        self, as_of: date, *, team: str | None = None, worker_id: uuid.UUID | None = None
    ) -> list[CaseHolder]:
        """The case-holding workers in post on ``as_of`` (in ``team`` by their terms that day), each with
        their caseload that day, by team then external id."""
        caseloads = (
            select(
                Allocation.worker_id.label("worker_id"),
                func.count(distinct(Allocation.child_id)).label("caseload"),
            )
            .where(active_on(Allocation.start_date, Allocation.end_date, as_of))
            .group_by(Allocation.worker_id)
            .subquery()
        )
        conditions: list[ColumnElement[bool]] = [
            active_on(DirectoryWorker.start_date, DirectoryWorker.end_date, as_of),
            active_on(DirectoryTerms.effective_from, DirectoryTerms.effective_to, as_of),
            DirectoryTerms.role.in_(sorted(CASE_HOLDING_ROLES)),
        ]
        if team is not None:
            conditions.append(DirectoryTerms.team == team)
        if worker_id is not None:
            conditions.append(DirectoryWorker.id == worker_id)
        query: Any = (
            select(
                DirectoryWorker.id,
                DirectoryWorker.external_id,
                DirectoryWorker.display_name,
                DirectoryWorker.asye_start,
                DirectoryWorker.asye_end,
                DirectoryTerms.role,
                DirectoryTerms.team,
                DirectoryTerms.fte,
                DirectoryTerms.employment_type,
                func.coalesce(caseloads.c.caseload, 0),
            )
            .join(DirectoryTerms, DirectoryTerms.worker_id == DirectoryWorker.id)
            .outerjoin(caseloads, caseloads.c.worker_id == DirectoryWorker.id)
            .where(*conditions)
            .order_by(DirectoryTerms.team, DirectoryWorker.external_id)
        )
        rows = await self.session.execute(query)
        return [
            CaseHolder(
                worker_id=worker_id,
                external_id=external_id,
                display_name=name,
                role=role,
                team=team_code,
                fte=float(fte),
                employment_type=employment_type,
                nqsw=is_nqsw(asye_start, asye_end, as_of),
                caseload=int(caseload),
            )
            for (
                worker_id,
                external_id,
                name,
                asye_start,
                asye_end,
                role,
                team_code,
                fte,
                employment_type,
                caseload,
            ) in rows
        ]

    async def team_known(self, team: str) -> bool:
        """Whether any worker of the directory has ever been in ``team``."""
        return bool(await self.session.scalar(select(exists().where(DirectoryTerms.team == team))))
