from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_metrics.history.models import KpiSnapshot


class SnapshotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def replace_day(self, as_of: date, rows: Sequence[KpiSnapshot]) -> None:
        """The day's snapshot becomes ``rows`` (a snapshot taken again the same day replaces it)."""
        await self.session.execute(delete(KpiSnapshot).where(KpiSnapshot.as_of == as_of))
        self.session.add_all(rows)
        await self.session.flush()

    async def latest_day(self, trigger: str) -> date | None:
        """The latest day with a snapshot taken by ``trigger``."""
        latest: date | None = await self.session.scalar(
            select(func.max(KpiSnapshot.as_of)).where(KpiSnapshot.trigger == trigger)
        )
        return latest

    async def points(
        self, kpi_id: str, team: str, first: date | None, last: date | None, limit: int
    ) -> Sequence[KpiSnapshot]:
        """The KPI's snapshots for the team (``""``: the council), oldest first, the latest ``limit``."""
        query = select(KpiSnapshot).where(KpiSnapshot.kpi_id == kpi_id, KpiSnapshot.team == team)
        if first is not None:
            query = query.where(KpiSnapshot.as_of >= first)
        if last is not None:
            query = query.where(KpiSnapshot.as_of <= last)
        rows = (await self.session.scalars(query.order_by(KpiSnapshot.as_of.desc()).limit(limit))).all()
        return list(reversed(rows))

    async def series(self, team: str, first: date, last: date) -> dict[str, list[KpiSnapshot]]:
        """Every KPI's snapshots for the team (``""``: the council) from ``first`` to ``last``, oldest
        first, by KPI id: one query for a page of sparklines."""
        query = (
            select(KpiSnapshot)
            .where(KpiSnapshot.team == team, KpiSnapshot.as_of >= first, KpiSnapshot.as_of <= last)
            .order_by(KpiSnapshot.kpi_id, KpiSnapshot.as_of)
        )
        by_kpi: dict[str, list[KpiSnapshot]] = {}
        for row in await self.session.scalars(query):
            by_kpi.setdefault(row.kpi_id, []).append(row)
        return by_kpi
