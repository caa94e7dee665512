"""The queries of casework: a child's records, and the rows the watch lists are computed from."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_caseload.children.models import Allocation, Assessment, Child, Episode, IroVisit, Review, Visit
from steadfast_caseload.directory.models import DirectoryTerms
from steadfast_shared.codes import EpisodeType

#: Episodes whose children must be visited at statutory intervals.
STATUTORY_EPISODES = (EpisodeType.cp, EpisodeType.cla)


@dataclass(frozen=True)
class CaseFilter:
    """Only the children allocated on ``as_of`` to ``worker_id``, and/or to a worker in ``team``."""

    worker_id: uuid.UUID | None = None
    team: str | None = None


@dataclass(frozen=True)
class StatutoryEpisodeRow:
    child_id: uuid.UUID
    child_external_id: str
    episode_type: EpisodeType
    start_date: date
    last_visit: date | None


@dataclass(frozen=True)
class OpenAssessmentRow:
    assessment_id: uuid.UUID
    external_id: str
    child_id: uuid.UUID
    child_external_id: str
    start_date: date


def _active(start: Any, end: Any, day: date) -> ColumnElement[bool]:
    """``[start, end)`` covers ``day`` (SPEC section 2: half-open intervals)."""
    return and_(start <= day, or_(end.is_(None), end > day))


def _allocated(child_id: Any, as_of: date, cases: CaseFilter) -> list[ColumnElement[bool]]:
    if cases.worker_id is None and cases.team is None:
        return []
    condition = and_(
        Allocation.child_id == child_id, _active(Allocation.start_date, Allocation.end_date, as_of)
    )
    if cases.worker_id is not None:
        condition = and_(condition, Allocation.worker_id == cases.worker_id)
    if cases.team is not None:
        in_team = exists().where(
            DirectoryTerms.worker_id == Allocation.worker_id,
            DirectoryTerms.team == cases.team,
            _active(DirectoryTerms.effective_from, DirectoryTerms.effective_to, as_of),
        )
        condition = and_(condition, in_team)
    return [exists().where(condition)]


class CaseworkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- a child's records ------------------------------------------------------------------------

    async def assessments_of(self, child_id: uuid.UUID) -> Sequence[Assessment]:
        query = select(Assessment).where(Assessment.child_id == child_id)
        return (
            await self.session.scalars(query.order_by(Assessment.start_date, Assessment.external_id))
        ).all()

    async def visits_of(self, child_id: uuid.UUID) -> Sequence[Visit]:
        query = select(Visit).where(Visit.child_id == child_id).order_by(Visit.visit_date, Visit.visit_type)
        return (await self.session.scalars(query)).all()

    async def reviews_of(self, child_id: uuid.UUID) -> Sequence[Review]:
        query = select(Review).where(Review.child_id == child_id).order_by(Review.review_date)
        return (await self.session.scalars(query)).all()

    async def iro_visits_of(self, child_id: uuid.UUID) -> Sequence[IroVisit]:
        query = select(IroVisit).where(IroVisit.child_id == child_id).order_by(IroVisit.visit_date)
        return (await self.session.scalars(query)).all()

    async def assessment_child(self, external_id: str) -> uuid.UUID | None:
        """The child an assessment (by its ``external_id``) belongs to, if it is known."""
        query = select(Assessment.child_id).where(Assessment.external_id == external_id)
        return (await self.session.scalars(query)).one_or_none()

    # -- the watch lists --------------------------------------------------------------------------

    async def statutory_episodes(self, as_of: date, cases: CaseFilter) -> list[StatutoryEpisodeRow]:
        """Every ``cp`` or ``cla`` episode active on ``as_of``, with the child's latest visit on or after
        the episode's start and on or before ``as_of`` (any visit type)."""
        last_visit = (
            select(func.max(Visit.visit_date))
            .where(
                Visit.child_id == Episode.child_id,
                Visit.visit_date >= Episode.start_date,
                Visit.visit_date <= as_of,
            )
            .scalar_subquery()
        )
        query = (
            select(Episode.child_id, Child.external_id, Episode.episode_type, Episode.start_date, last_visit)
            .join(Child, Child.id == Episode.child_id)
            .where(
                Episode.episode_type.in_(STATUTORY_EPISODES),
                _active(Episode.start_date, Episode.end_date, as_of),
                *_allocated(Episode.child_id, as_of, cases),
            )
            .order_by(Child.external_id, Episode.episode_type, Episode.start_date)
        )
        return [StatutoryEpisodeRow(*row) for row in (await self.session.execute(query))]

    async def open_assessments(self, as_of: date, cases: CaseFilter) -> list[OpenAssessmentRow]:
        """Assessments started on or before ``as_of`` and not completed by then."""
        query = (
            select(
                Assessment.id,
                Assessment.external_id,
                Assessment.child_id,
                Child.external_id,
                Assessment.start_date,
            )
            .join(Child, Child.id == Assessment.child_id)
            .where(
                Assessment.start_date <= as_of,
                or_(Assessment.completed_date.is_(None), Assessment.completed_date > as_of),
                *_allocated(Assessment.child_id, as_of, cases),
            )
            .order_by(Assessment.start_date, Assessment.external_id)
        )
        return [OpenAssessmentRow(*row) for row in (await self.session.execute(query))]

    async def allocated_on(
        self, child_ids: Iterable[uuid.UUID], as_of: date
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """The workers each child is allocated to on ``as_of`` (earliest allocation first)."""
        wanted = list(set(child_ids))
        found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for start in range(0, len(wanted), 1000):
            query = (
                select(Allocation.child_id, Allocation.worker_id)
                .where(
                    Allocation.child_id.in_(wanted[start : start + 1000]),
                    _active(Allocation.start_date, Allocation.end_date, as_of),
                )
                .order_by(Allocation.start_date, Allocation.worker_id)
            )
            for child_id, worker_id in await self.session.execute(query):
                if worker_id not in found[child_id]:
                    found[child_id].append(worker_id)
        return dict(found)
