"""What the returns read and write: the children a return names with all their allocations, and the
children looked after on a day, a page at a time."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Table, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_caseload.children.models import Allocation, Child, ChildAllocations, Episode, HeldAllocation
from steadfast_caseload.directory.models import DirectoryWorker
from steadfast_caseload.returns.ssda903 import WorkerAllocation
from steadfast_shared.codes import EpisodeType
from steadfast_shared.db.bulk import update_rows
from steadfast_shared.events.registry import PendingEvent

_CHILDREN: Table = Child.__table__  # type: ignore[assignment]
_ALLOCATIONS: Table = Allocation.__table__  # type: ignore[assignment]
_WORKERS: Table = DirectoryWorker.__table__  # type: ignore[assignment]
_EPISODES: Table = Episode.__table__  # type: ignore[assignment]
#: Values per ``IN (...)`` list.
_IN_CHUNK = 1000


class ReturnsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def children_with_all_allocations(
        self, external_ids: Iterable[str], record: Callable[[PendingEvent], None]
    ) -> dict[str, tuple[ChildAllocations, int | None]]:
        """The known children among ``external_ids``, locked ``FOR UPDATE``, each with every allocation it
        has (to any worker: the 903 file has one social worker at a time) as plain values, and the year
        of birth held. One query per thousand children."""
        c, a = _CHILDREN.c, _ALLOCATIONS.c
        query = (
            select(
                c.id,
                c.external_id,
                c.version,
                c.birth_year,
                a.id,
                a.worker_id,
                a.start_date,
                a.end_date,
                a.reason,
            )
            .select_from(_CHILDREN.outerjoin(_ALLOCATIONS, a.child_id == c.id))
            .order_by(c.id, a.start_date)
            .with_for_update(of=_CHILDREN)
        )
        wanted = sorted(set(external_ids))
        found: dict[str, tuple[ChildAllocations, int | None]] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            for child_id, external_id, version, birth_year, *allocation in (
                await self.session.execute(query.where(c.external_id.in_(chunk)))
            ).all():
                held = found.get(external_id)
                if held is None:
                    held = found[external_id] = (
                        ChildAllocations(child_id, external_id, version, [], record),
                        birth_year,
                    )
                allocation_id, worker_id, start_date, end_date, reason = allocation
                if allocation_id is not None:
                    held[0].allocations.append(
                        HeldAllocation(allocation_id, worker_id, start_date, end_date, reason)
                    )
        return found

    async def save_birth_years(self, years: dict[uuid.UUID, int]) -> None:
        await update_rows(
            self.session,
            _CHILDREN,
            "id",
            [{"id": child_id, "birth_year": year} for child_id, year in years.items()],
        )

    async def looked_after_on(self, day: date, after: str | None, limit: int) -> list[tuple[uuid.UUID, str]]:
        """One page of the children looked after on ``day`` (a ``cla`` episode active then), as (id,
        external id) in external id order, those after ``after``."""
        c, e = _CHILDREN.c, _EPISODES.c
        in_care = exists().where(
            and_(
                e.child_id == c.id,
                e.episode_type == EpisodeType.cla,
                e.start_date <= day,
                or_(e.end_date.is_(None), e.end_date > day),
            )
        )
        query = select(c.id, c.external_id).where(in_care).order_by(c.external_id).limit(limit)
        if after is not None:
            query = query.where(c.external_id > after)
        return [
            (child_id, external_id) for child_id, external_id in (await self.session.execute(query)).all()
        ]

    async def allocations_of(self, child_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[WorkerAllocation]]:
        """Every allocation of the children, with the worker's external id."""
        a, w = _ALLOCATIONS.c, _WORKERS.c
        query: Any = (
            select(a.child_id, a.worker_id, w.external_id, a.start_date, a.end_date, a.reason)
            .select_from(_ALLOCATIONS.join(_WORKERS, w.id == a.worker_id))
            .where(a.child_id.in_(list(child_ids)))
            .order_by(a.child_id, a.start_date)
        )
        found: dict[uuid.UUID, list[WorkerAllocation]] = {child_id: [] for child_id in child_ids}
        for child_id, worker_id, external_id, start, end, reason in (await self.session.execute(query)).all():
            found[child_id].append(WorkerAllocation(worker_id, external_id, start, end, reason))
        return found
