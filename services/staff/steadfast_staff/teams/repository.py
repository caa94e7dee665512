from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_shared.http.pagination import Page, PageParams, paginate
from steadfast_staff.teams.models import Team
from steadfast_staff.teams.schemas import TeamRead


class TeamRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, code: str, *, for_update: bool = False) -> Team | None:
        query = select(Team).where(Team.code == code)
        if for_update:
            query = query.with_for_update()
        return (await self.session.scalars(query)).one_or_none()

    async def existing_codes(self, codes: Iterable[str]) -> set[str]:
        wanted = set(codes)
        if not wanted:
            return set()
        return set((await self.session.scalars(select(Team.code).where(Team.code.in_(wanted)))).all())

    def add(self, team: Team) -> None:
        self.session.add(team)

    async def page(self, params: PageParams) -> Page[TeamRead]:
        return await paginate(
            self.session,
            select(Team),
            key_columns=[Team.code],
            key_of=lambda t: [t.code],
            params=params,
            to_item=TeamRead.of,
        )
