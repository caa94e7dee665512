from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_shared.domain import pending_events
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

    async def add_unless_set_up(self, team: Team) -> bool:
        """Add ``team`` unless a concurrent transaction has just set up one with its code (two hires
        into a new team at once): then it is left out, with the event it recorded, and False."""
        await self.session.flush()  # the savepoint then holds the team alone
        events = pending_events(self.session.sync_session)
        mark = len(events)
        try:
            async with self.session.begin_nested():
                self.session.add(team)
                await self.session.flush()
        except IntegrityError:
            del events[mark:]
            if team in self.session:
                self.session.expunge(team)
            return False
        return True

    async def page(self, params: PageParams) -> Page[TeamRead]:
        return await paginate(
            self.session,
            select(Team),
            key_columns=[Team.code],
            key_of=lambda t: [t.code],
            params=params,
            to_item=TeamRead.of,
        )
