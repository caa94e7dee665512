from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_shared.db import by_id_or_external_id
from steadfast_shared.http.pagination import Page, PageParams, paginate
from steadfast_staff.enums import Placement
from steadfast_staff.placements.models import StudentPlacement
from steadfast_staff.placements.schemas import StudentPlacementRead


class StudentPlacementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, ref: str, *, for_update: bool = False) -> StudentPlacement | None:
        """A placement by the service's id or by its ``external_id``."""
        query = select(StudentPlacement).where(
            by_id_or_external_id(StudentPlacement.id, StudentPlacement.external_id, ref)
        )
        if for_update:
            query = query.with_for_update()
        return (await self.session.scalars(query)).one_or_none()

    def add(self, placement: StudentPlacement) -> None:
        self.session.add(placement)

    async def delete(self, placement: StudentPlacement) -> None:
        await self.session.delete(placement)

    async def page(
        self,
        params: PageParams,
        *,
        team: str | None = None,
        university: str | None = None,
        placement: Placement | None = None,
        start_from: date | None = None,
        start_before: date | None = None,
    ) -> Page[StudentPlacementRead]:
        query = select(StudentPlacement)
        if team is not None:
            query = query.where(StudentPlacement.team_code == team)
        if university is not None:
            query = query.where(StudentPlacement.university == university)
        if placement is not None:
            query = query.where(StudentPlacement.placement == placement)
        if start_from is not None:
            query = query.where(StudentPlacement.start_date >= start_from)
        if start_before is not None:
            query = query.where(StudentPlacement.start_date < start_before)
        return await paginate(
            self.session,
            query,
            key_columns=[StudentPlacement.external_id],
            key_of=lambda p: [p.external_id],
            params=params,
            to_item=StudentPlacementRead.of,
        )
