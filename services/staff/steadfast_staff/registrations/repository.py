from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from steadfast_shared.http.pagination import Page, PageParams, paginate
from steadfast_staff.enums import Role
from steadfast_staff.registrations.models import CpdEntry
from steadfast_staff.registrations.year import CPD_ENTRIES_PER_YEAR, PEER_REFLECTED_PER_YEAR
from steadfast_staff.workers.models import Worker, WorkerTerms


@dataclass(frozen=True)
class CpdTally:
    entries: int = 0
    peer_reflected: int = 0


class CpdRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, entry: CpdEntry) -> None:
        self.session.add(entry)

    async def page(
        self, worker_id: uuid.UUID, params: PageParams, *, first_day: date | None, last_day: date | None
    ) -> Page[CpdEntry]:
        query = select(CpdEntry).where(CpdEntry.worker_id == worker_id)
        if first_day is not None:
            query = query.where(CpdEntry.entry_date >= first_day)
        if last_day is not None:
            query = query.where(CpdEntry.entry_date <= last_day)
        return await paginate(
            self.session,
            query,
            key_columns=[CpdEntry.entry_date, CpdEntry.id],
            key_of=lambda e: [e.entry_date, e.id],
            params=params,
            to_item=lambda e: e,
        )

    async def tallies(
        self, worker_ids: Iterable[uuid.UUID], first_day: date, last_day: date
    ) -> dict[uuid.UUID, CpdTally]:
        wanted = list(set(worker_ids))
        if not wanted:
            return {}
        rows = await self.session.execute(
            select(
                CpdEntry.worker_id,
                func.count(),
                func.sum(case((CpdEntry.peer_reflection.is_(True), 1), else_=0)),
            )
            .where(
                CpdEntry.worker_id.in_(wanted),
                CpdEntry.entry_date >= first_day,
                CpdEntry.entry_date <= last_day,
            )
            .group_by(CpdEntry.worker_id)
        )
        return {worker_id: CpdTally(int(n), int(peer or 0)) for worker_id, n, peer in rows.all()}

    async def watch_list_page(
        self, params: PageParams, *, as_of: date, first_day: date, window_closes: date
    ) -> Page[Worker]:
        """Workers in post and qualified on ``as_of`` whose registration expiry is unknown or before
        ``window_closes``, or who are behind on CPD from ``first_day`` to ``as_of``; by external id."""
        in_year = and_(
            CpdEntry.worker_id == Worker.id, CpdEntry.entry_date >= first_day, CpdEntry.entry_date <= as_of
        )
        entries = select(func.count()).select_from(CpdEntry).where(in_year).scalar_subquery()
        peer = (
            select(func.count())
            .select_from(CpdEntry)
            .where(in_year, CpdEntry.peer_reflection.is_(True))
            .scalar_subquery()
        )
        qualified = (
            select(WorkerTerms.id)
            .where(
                WorkerTerms.worker_id == Worker.id,
                WorkerTerms.effective_from <= as_of,
                or_(WorkerTerms.effective_to.is_(None), WorkerTerms.effective_to > as_of),
                WorkerTerms.role != Role.student,
            )
            .exists()
        )
        query = (
            select(Worker)
            .options(selectinload(Worker.history))
            .where(
                Worker.start_date <= as_of,
                or_(Worker.end_date.is_(None), Worker.end_date > as_of),
                qualified,
                or_(
                    Worker.swe_registration_expiry.is_(None),
                    Worker.swe_registration_expiry < window_closes,
                    entries < CPD_ENTRIES_PER_YEAR,
                    peer < PEER_REFLECTED_PER_YEAR,
                ),
            )
        )
        return await paginate(
            self.session,
            query,
            key_columns=[Worker.external_id],
            key_of=lambda w: [w.external_id],
            params=params,
            to_item=lambda w: w,
        )
