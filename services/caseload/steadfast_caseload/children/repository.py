"""Loading and storing the child aggregate (with the records it owns)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, Table, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from steadfast_caseload.children.models import Allocation, Child, ChildAllocations, HeldAllocation
from steadfast_shared.codes import AllocationChangeReason
from steadfast_shared.db import as_uuid, by_id_or_external_id
from steadfast_shared.db.bulk import driver_connection, insert_rows, update_rows
from steadfast_shared.events.registry import PendingEvent
from steadfast_shared.http.pagination import Page, PageParams, paginate

T = TypeVar("T")

_CHILDREN: Table = Child.__table__  # type: ignore[assignment]
ALLOCATIONS: Table = Allocation.__table__  # type: ignore[assignment]
_ALLOCATIONS = ALLOCATIONS
#: Values per ``IN (...)`` list of a batch's lookups.
_IN_CHUNK = 1000

#: Every collection of the aggregate; pass a subset to ``load`` when only some are needed.
ALL_RECORDS: tuple[str, ...] = ("episodes", "allocations", "assessments", "visits", "reviews", "iro_visits")


#: A batch's children, each with its allocations to the workers the batch names for it, the children
#: locked (see ``_children_with_allocations``): $1 the children's refs, $2 the workers, pair by pair.
_LOOKUP_COLUMNS = (
    "SELECT c.id, c.external_id, c.version, a.id, a.worker_id, a.start_date, a.end_date, a.reason "
)
_LOOKUP_JOIN = (
    " LEFT OUTER JOIN allocations AS a ON a.child_id = c.id AND a.worker_id = k.worker_id"
    " ORDER BY c.id, a.start_date FOR UPDATE OF c"
)
_LOOKUP_BY_EXTERNAL_ID = (
    _LOOKUP_COLUMNS + "FROM unnest($1::varchar[], $2::uuid[]) AS k (ref, worker_id) "
    "JOIN children AS c ON c.external_id = k.ref" + _LOOKUP_JOIN
)
_LOOKUP_BY_ID = (
    _LOOKUP_COLUMNS + "FROM unnest($1::uuid[], $2::uuid[]) AS k (ref, worker_id) "
    "JOIN children AS c ON c.id = k.ref" + _LOOKUP_JOIN
)
_REASONS = {reason.value: reason for reason in AllocationChangeReason}


def _reason(code: str | None) -> AllocationChangeReason | None:
    return None if code is None else _REASONS.get(code) or AllocationChangeReason(code)


def _loading(query: Select[Any], load: Sequence[str]) -> Select[Any]:
    return query.options(*(selectinload(getattr(Child, name)) for name in load))


class ChildRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, ref: str, *, for_update: bool = False, load: Sequence[str] = ALL_RECORDS
    ) -> Child | None:
        """A child by the service's id or the case-management system's ``external_id``."""
        query = _loading(select(Child).where(by_id_or_external_id(Child.id, Child.external_id, ref)), load)
        if for_update:
            query = query.with_for_update(of=Child)
        child: Child | None = (await self.session.scalars(query)).one_or_none()
        return child

    async def by_external_ids(
        self, external_ids: Iterable[str], *, for_update: bool = False, load: Sequence[str] = ALL_RECORDS
    ) -> dict[str, Child]:
        """The known children among ``external_ids`` (one query per collection, for a batch)."""
        wanted = list(set(external_ids))
        if not wanted:
            return {}
        found: dict[str, Child] = {}
        for start in range(0, len(wanted), 1000):
            query = _loading(select(Child).where(Child.external_id.in_(wanted[start : start + 1000])), load)
            if for_update:
                query = query.with_for_update(of=Child)
            found.update({c.external_id: c for c in (await self.session.scalars(query)).all()})
        return found

    async def allocations_of(
        self, pairs: Iterable[tuple[str, uuid.UUID | None]], record: Callable[[PendingEvent], None]
    ) -> dict[str, ChildAllocations]:
        """The known children among the refs of ``pairs`` (a child's ``external_id`` or the service's id,
        and a worker the batch names for it, or None), as plain values, each child's row locked ``FOR
        UPDATE``, with its allocations to the workers paired with it: the allocation rules only ever
        compare an allocation with the child's others of the same worker (``allocation_rules``). On
        PostgreSQL one query (the pairs joined to the children and their allocations), and one more for
        refs that are the service's ids; elsewhere each child's allocations are all read. Two refs naming
        one child give the same object."""
        workers: dict[str, set[uuid.UUID | None]] = {}
        for ref, worker_id in pairs:
            workers.setdefault(ref, set()).add(worker_id)
        rows = await self._children_with_allocations(False, workers)
        found = {row[1] for row in rows}
        ids = {ref: as_uuid(ref) for ref in workers.keys() - found}
        by_id: dict[uuid.UUID, set[uuid.UUID | None]] = {}
        for ref, child_id in ids.items():
            if child_id is not None:
                by_id.setdefault(child_id, set()).update(workers[ref])
        if by_id:
            rows.extend(await self._children_with_allocations(True, by_id))
        children: dict[uuid.UUID, ChildAllocations] = {}
        seen: set[uuid.UUID] = set()
        for child_id, external_id, version, allocation_id, worker_id, start, end, reason in rows:
            child = children.get(child_id)
            if child is None:
                child = children[child_id] = ChildAllocations(child_id, external_id, version, [], record)
            if allocation_id is not None and allocation_id not in seen:
                seen.add(allocation_id)
                child.allocations.append(HeldAllocation(allocation_id, worker_id, start, end, reason))
        by_ref = {child.external_id: child for child in children.values() if child.external_id in workers}
        by_ref.update({ref: children[i] for ref, i in ids.items() if i is not None and i in children})
        return by_ref

    async def _children_with_allocations(
        self, by_id: bool, workers: Mapping[Any, set[uuid.UUID | None]]
    ) -> list[Any]:
        """(child id, external id, version, then an allocation's id, worker, start, end and reason, or
        nulls for a child without one) for the children whose external id (or, ``by_id``, id) is a key
        of ``workers``, each child's allocations in the order of their start dates, the children locked.
        On PostgreSQL one statement whatever the number of children (the pairs as two arrays, joined by
        ``unnest``; the rows read as plain values by the driver), with only the allocations to the
        workers paired with each child; elsewhere ``IN`` lists of at most ``_IN_CHUNK`` children, with
        all their allocations."""
        c, a = _CHILDREN.c, _ALLOCATIONS.c
        driver = await driver_connection(self.session)
        if driver is not None:
            refs, worker_ids = [], []
            for ref, wanted in workers.items():
                for worker_id in wanted:
                    refs.append(ref)
                    worker_ids.append(worker_id)
            statement = _LOOKUP_BY_ID if by_id else _LOOKUP_BY_EXTERNAL_ID
            return [
                (child_id, external_id, version, allocation_id, worker_id, start, end, _reason(reason))
                for child_id, external_id, version, allocation_id, worker_id, start, end, reason in (
                    await driver.fetch(statement, refs, worker_ids)
                )
            ]
        key = c.id if by_id else c.external_id
        query = (
            select(c.id, c.external_id, c.version, a.id, a.worker_id, a.start_date, a.end_date, a.reason)
            .select_from(_CHILDREN.outerjoin(_ALLOCATIONS, a.child_id == c.id))
            .order_by(c.id, a.start_date)
            .with_for_update(of=_CHILDREN)
        )
        values = list(workers)
        rows: list[Any] = []
        for start in range(0, len(values), _IN_CHUNK):
            chunk = values[start : start + _IN_CHUNK]
            rows.extend((await self.session.execute(query.where(key.in_(chunk)))).all())
        return rows

    async def save_allocations(self, children: Iterable[ChildAllocations]) -> int:
        """Write what :meth:`ChildAllocations.allocate` changed: the new allocations, the changed ones and
        each changed child's version, one statement per table (``COPY`` for the new ones on PostgreSQL).
        Answers how many allocations it inserted."""
        changed = {id(child): child for child in children if child.changed}.values()
        created = [
            {
                "id": a.id,
                "child_id": child.id,
                "worker_id": a.worker_id,
                "start_date": a.start_date,
                "end_date": a.end_date,
                "reason": a.reason,
            }
            for child in changed
            for a in child.created
        ]
        await insert_rows(self.session, _ALLOCATIONS, created)
        await update_rows(
            self.session,
            _ALLOCATIONS,
            "id",
            [
                {"id": a.id, "end_date": a.end_date, "reason": a.reason}
                for child in changed
                for a in child.updated.values()
            ],
        )
        await update_rows(
            self.session, _CHILDREN, "id", [{"id": child.id, "version": child.version} for child in changed]
        )
        for child in changed:
            child.created.clear()
            child.updated.clear()
        return len(created)

    def add(self, child: Child) -> None:
        self.session.add(child)

    async def page(self, params: PageParams, to_item: Callable[[Child], T]) -> Page[T]:
        """One page of children (without their records), in ``external_id`` order."""
        return await paginate(
            self.session,
            select(Child),
            key_columns=[Child.external_id],
            key_of=lambda c: [c.external_id],
            params=params,
            to_item=to_item,
        )
