from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from steadfast_staff.census.models import CensusRecord
from steadfast_staff.census.xml import Vacancies
from steadfast_staff.enums import EmploymentType, Role
from steadfast_staff.posts.models import Post, PostHolding
from steadfast_staff.workers.models import Worker, WorkerTerms


def _in_post(day: date) -> ColumnElement[bool]:
    return and_(Worker.start_date <= day, or_(Worker.end_date.is_(None), Worker.end_date > day))


def _terms_on(day: date) -> ColumnElement[bool]:
    return and_(
        WorkerTerms.worker_id == Worker.id,
        WorkerTerms.effective_from <= day,
        or_(WorkerTerms.effective_to.is_(None), WorkerTerms.effective_to > day),
    )


class CensusRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- import -----------------------------------------------------------------------------------

    async def workers_by_numbers(self, numbers: Iterable[str]) -> dict[str, list[Worker]]:
        """Workers by the Social Work England number spellings asked for, with their history, locked."""
        wanted = sorted(set(numbers))
        if not wanted:
            return {}
        query = (
            select(Worker)
            .options(selectinload(Worker.history))
            .where(Worker.swe_registration_number.in_(wanted))
            .order_by(Worker.external_id)
            .with_for_update(of=Worker)
        )
        found: dict[str, list[Worker]] = {}
        for worker in (await self.session.scalars(query)).all():
            assert worker.swe_registration_number is not None
            found.setdefault(worker.swe_registration_number, []).append(worker)
        return found

    async def records(self, worker_ids: Iterable[uuid.UUID], year: int) -> dict[uuid.UUID, CensusRecord]:
        wanted = list(set(worker_ids))
        if not wanted:
            return {}
        query = (
            select(CensusRecord)
            .where(CensusRecord.worker_id.in_(wanted), CensusRecord.census_year == year)
            .with_for_update()
        )
        return {r.worker_id: r for r in (await self.session.scalars(query)).all()}

    def add(self, record: CensusRecord) -> None:
        self.session.add(record)

    # -- export -----------------------------------------------------------------------------------

    async def population_page(
        self, *, first_day: date, reference_date: date, after: str | None, limit: int
    ) -> list[Worker]:
        """Workers in post on some day of ``[first_day, reference_date]``, by external id, after ``after``."""
        query = (
            select(Worker)
            .options(selectinload(Worker.history))
            .where(
                Worker.start_date <= reference_date,
                or_(Worker.end_date.is_(None), Worker.end_date > first_day),
            )
            .order_by(Worker.external_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(Worker.external_id > after)
        return list((await self.session.scalars(query)).all())

    async def records_up_to(
        self, worker_ids: Iterable[uuid.UUID], year: int
    ) -> dict[uuid.UUID, list[CensusRecord]]:
        """Each worker's census records of ``year`` and earlier, the latest first."""
        wanted = list(set(worker_ids))
        if not wanted:
            return {}
        query = (
            select(CensusRecord)
            .where(CensusRecord.worker_id.in_(wanted), CensusRecord.census_year <= year)
            .order_by(CensusRecord.worker_id, CensusRecord.census_year.desc())
        )
        found: dict[uuid.UUID, list[CensusRecord]] = {}
        for record in (await self.session.scalars(query)).all():
            found.setdefault(record.worker_id, []).append(record)
        return found

    async def vacancies(self, day: date) -> Vacancies:
        """``LALevelVacancies`` on ``day``: the FTE of established posts (not students') held by no
        non-agency worker in post (SPEC section 3, vacancy FTE), and the agency workers in post."""
        agency = (
            await self.session.execute(
                select(func.coalesce(func.sum(WorkerTerms.fte), 0), func.count())
                .select_from(Worker)
                .join(WorkerTerms, _terms_on(day))
                .where(
                    _in_post(day),
                    WorkerTerms.employment_type == EmploymentType.agency,
                    WorkerTerms.role != Role.student,
                )
            )
        ).one()
        filled = (
            select(PostHolding.id)
            .join(Worker, Worker.id == PostHolding.worker_id)
            .join(WorkerTerms, _terms_on(day))
            .where(
                PostHolding.post_id == Post.id,
                PostHolding.start_date <= day,
                or_(PostHolding.end_date.is_(None), PostHolding.end_date > day),
                _in_post(day),
                WorkerTerms.employment_type != EmploymentType.agency,
            )
            .exists()
        )
        vacant = await self.session.scalar(
            select(func.coalesce(func.sum(Post.fte), 0)).where(
                Post.start_date <= day,
                or_(Post.end_date.is_(None), Post.end_date > day),
                Post.role != Role.student,
                ~filled,
            )
        )
        return Vacancies(
            vacancies_fte=Decimal(str(vacant or 0)),
            agency_fte=Decimal(str(agency[0] or 0)),
            agency_headcount=int(agency[1]),
        )
