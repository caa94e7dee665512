"""Loading and storing the child aggregate (with the records it owns)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, Table, select
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


#: A batch's children and their allocations, the children locked (see ``_children_with_allocations``).
_LOOKUP_COLUMNS = (
    "SELECT c.id, c.external_id, c.version, a.id, a.worker_id, a.start_date, a.end_date, a.reason "
    "FROM children AS c LEFT OUTER JOIN allocations AS a ON a.child_id = c.id "
)
_LOOKUP_ORDER = " ORDER BY c.id, a.start_date FOR UPDATE OF c"
_LOOKUP_BY_EXTERNAL_ID = _LOOKUP_COLUMNS + "WHERE c.external_id = ANY($1::varchar[])" + _LOOKUP_ORDER
_LOOKUP_BY_ID = _LOOKUP_COLUMNS + "WHERE c.id = ANY($1::uuid[])" + _LOOKUP_ORDER
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
        self, refs: Iterable[str], record: Callable[[PendingEvent], None]
    ) -> dict[str, ChildAllocations]:
        """The known children among ``refs`` (``external_id`` or the service's id) with their allocations,
        as plain values, each child's row locked ``FOR UPDATE``: one query (the children joined to their
        allocations) however many there are, and one more for refs that are the service's ids. Two refs
        naming one child give the same object."""
        wanted = set(refs)
        c = _CHILDREN.c
        rows = await self._children_with_allocations(c.external_id, list(wanted))
        found = {row[1] for row in rows}
        ids = {ref: as_uuid(ref) for ref in wanted - found}
        by_id = [i for i in ids.values() if i is not None]
        if by_id:
            rows.extend(await self._children_with_allocations(c.id, by_id))
        children: dict[uuid.UUID, ChildAllocations] = {}
        for child_id, external_id, version, allocation_id, worker_id, start, end, reason in rows:
            child = children.get(child_id)
            if child is None:
                child = children[child_id] = ChildAllocations(child_id, external_id, version, [], record)
            if allocation_id is not None:
                child.allocations.append(HeldAllocation(allocation_id, worker_id, start, end, reason))
        by_ref = {child.external_id: child for child in children.values() if child.external_id in wanted}
        by_ref.update({ref: children[i] for ref, i in ids.items() if i is not None and i in children})
        return by_ref

    async def _children_with_allocations(self, key: ColumnElement[Any], values: list[Any]) -> list[Any]:
        """(child id, external id, version, then each allocation's id, worker, start, end and reason, or
        nulls for a child with none) for the children whose ``key`` is among ``values``, in the order of
        each child's allocations' start dates, the children locked. On PostgreSQL one statement whatever
        the number of values (``= ANY`` of one array, its rows read as plain values by the driver),
        elsewhere ``IN`` lists of at most ``_IN_CHUNK``."""
        c, a = _CHILDREN.c, _ALLOCATIONS.c
        driver = await driver_connection(self.session)
        if driver is not None:
            statement = _LOOKUP_BY_EXTERNAL_ID if key is c.external_id else _LOOKUP_BY_ID
            return [
                (child_id, external_id, version, allocation_id, worker_id, start, end, _reason(reason))
                for child_id, external_id, version, allocation_id, worker_id, start, end, reason in (
                    await driver.fetch(statement, values)
                )
            ]
        query = (
            select(c.id, c.external_id, c.version, a.id, a.worker_id, a.start_date, a.end_date, a.reason)
            .select_from(_CHILDREN.outerjoin(_ALLOCATIONS, a.child_id == c.id))
            .order_by(c.id, a.start_date)
            .with_for_update(of=_CHILDREN)
        )
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
