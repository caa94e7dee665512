"""Loading and storing the child aggregate (with the records it owns)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from steadfast_caseload.children.models import Child
from steadfast_shared.db import by_id_or_external_id
from steadfast_shared.http.pagination import Page, PageParams, paginate

T = TypeVar("T")

#: Every collection of the aggregate; pass a subset to ``load`` when only some are needed.
ALL_RECORDS: tuple[str, ...] = ("episodes", "allocations", "assessments", "visits", "reviews", "iro_visits")


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
