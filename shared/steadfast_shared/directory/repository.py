"""Every query on a service's worker directory. A service binds it to its own model::

class DirectoryRepository(WorkerDirectoryRepository[DirectoryWorker]):
    model = DirectoryWorker
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from steadfast_shared.db import as_uuid, by_id_or_external_id
from steadfast_shared.directory.models import DirectoryWorkerColumns

W = TypeVar("W", bound=DirectoryWorkerColumns)


class WorkerDirectoryRepository(Generic[W]):
    #: The service's ``DirectoryWorker`` class.
    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, ref: str, *, for_update: bool = False) -> W | None:
        """A worker by the staff service's id or by the HR system's ``external_id``."""
        query = (
            select(self.model)
            .where(by_id_or_external_id(self.model.id, self.model.external_id, ref))
            .options(selectinload(self.model.terms))
        )
        if for_update:
            query = query.with_for_update(of=self.model)
        return (await self.session.scalars(query)).one_or_none()

    async def resolve(self, refs: Iterable[str]) -> dict[str, uuid.UUID]:
        """Map each reference (an id or an external id) that names a known worker to the worker's id."""
        wanted = set(refs)
        if not wanted:
            return {}
        ids = {ref: as_uuid(ref) for ref in wanted}
        by_id = [i for i in ids.values() if i is not None]
        by_external = [ref for ref, i in ids.items() if i is None]
        found: dict[str, uuid.UUID] = {}
        if by_id:
            rows = await self.session.execute(select(self.model.id).where(self.model.id.in_(by_id)))
            known = {row[0] for row in rows}
            found.update({ref: i for ref, i in ids.items() if i is not None and i in known})
        if by_external:
            pairs = await self.session.execute(
                select(self.model.external_id, self.model.id).where(self.model.external_id.in_(by_external))
            )
            found.update({external_id: worker_id for external_id, worker_id in pairs.all()})
        return found

    async def with_terms(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, W]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        query = select(self.model).where(self.model.id.in_(wanted)).options(selectinload(self.model.terms))
        return {w.id: w for w in (await self.session.scalars(query)).all()}

    def add(self, worker: W) -> None:
        self.session.add(worker)
