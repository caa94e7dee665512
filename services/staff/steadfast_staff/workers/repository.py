from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from steadfast_shared.db import by_id_or_external_id
from steadfast_shared.http.pagination import Page, PageParams, paginate
from steadfast_staff.enums import Role
from steadfast_staff.workers.models import Worker, WorkerTerms
from steadfast_staff.workers.schemas import WorkerRead


def _with_history(query: Select[Worker]) -> Select[Worker]:
    return query.options(selectinload(Worker.history))


class WorkerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, ref: str, *, for_update: bool = False) -> Worker | None:
        """A worker by the service's id or by the HR system's ``external_id``."""
        query = _with_history(select(Worker).where(by_id_or_external_id(Worker.id, Worker.external_id, ref)))
        if for_update:
            query = query.with_for_update(of=Worker)
        return (await self.session.scalars(query)).one_or_none()

    async def by_external_ids(
        self, external_ids: Iterable[str], *, for_update: bool = False
    ) -> dict[str, Worker]:
        wanted = list(set(external_ids))
        if not wanted:
            return {}
        query = _with_history(select(Worker).where(Worker.external_id.in_(wanted)))
        if for_update:
            query = query.with_for_update(of=Worker)
        return {w.external_id: w for w in (await self.session.scalars(query)).all()}

    def add(self, worker: Worker) -> None:
        self.session.add(worker)

    async def page(
        self,
        params: PageParams,
        *,
        as_of: date,
        team: str | None = None,
        role: Role | None = None,
        in_post: bool | None = None,
    ) -> Page[WorkerRead]:
        query = _with_history(select(Worker))
        if team is not None or role is not None:
            segment = and_(
                WorkerTerms.worker_id == Worker.id,
                WorkerTerms.effective_from <= as_of,
                or_(WorkerTerms.effective_to.is_(None), WorkerTerms.effective_to > as_of),
            )
            if team is not None:
                segment = and_(segment, WorkerTerms.team_code == team)
            if role is not None:
                segment = and_(segment, WorkerTerms.role == role)
            query = query.where(select(WorkerTerms.id).where(segment).exists())
        if in_post is not None:
            active = and_(Worker.start_date <= as_of, or_(Worker.end_date.is_(None), Worker.end_date > as_of))
            query = query.where(active if in_post else ~active)
        return await paginate(
            self.session,
            query,
            key_columns=[Worker.external_id],
            key_of=lambda w: [w.external_id],
            params=params,
            to_item=lambda w: WorkerRead.of(w, as_of),
        )

    async def registrations_expiring(self, *, as_of: date, until: date) -> list[Worker]:
        """Workers in post on ``as_of`` who are registered social workers (not students) and whose
        registration expires on or before ``until`` (already expired included), soonest first."""
        query = _with_history(
            select(Worker)
            .where(
                Worker.start_date <= as_of,
                or_(Worker.end_date.is_(None), Worker.end_date > as_of),
                Worker.swe_registration_expiry.is_not(None),
                Worker.swe_registration_expiry <= until,
            )
            .order_by(Worker.swe_registration_expiry, Worker.external_id)
        )
        return list((await self.session.scalars(query)).all())
