from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_audit.programme.models import PlannedAudits


class ProgrammeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, team: str, month: date, *, for_update: bool = False) -> PlannedAudits | None:
        query = select(PlannedAudits).where(PlannedAudits.team == team, PlannedAudits.month == month)
        if for_update:
            query = query.with_for_update()
        return (await self.session.scalars(query)).one_or_none()

    def add(self, plan: PlannedAudits) -> None:
        self.session.add(plan)

    async def between(self, first: date, after: date, team: str | None) -> list[PlannedAudits]:
        query = select(PlannedAudits).where(PlannedAudits.month >= first, PlannedAudits.month < after)
        if team is not None:
            query = query.where(PlannedAudits.team == team)
        return list(
            (await self.session.scalars(query.order_by(PlannedAudits.month, PlannedAudits.team))).all()
        )
