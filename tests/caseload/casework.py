"""Helpers of the casework and feedback tests: children set up through the child aggregate itself, in a
unit of work on the service's database (the same rules the endpoints and imports apply)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from steadfast_caseload.children.models import Child
from steadfast_caseload.children.repository import ChildRepository
from steadfast_shared.codes import EpisodeType
from steadfast_shared.testing import ServiceClient
from steadfast_shared.uow import UnitOfWork

Episode = tuple[EpisodeType, date, date | None]
Allocation = tuple[uuid.UUID, date, date | None]


async def given_child(
    caseload: ServiceClient,
    external_id: str,
    episodes: Sequence[Episode] = (),
    allocations: Sequence[Allocation] = (),
) -> uuid.UUID:
    """Register a child (if new) with these episodes and allocations, and answer its id."""
    runtime = caseload.runtime
    async with runtime.database.sessionmaker() as session:
        uow = UnitOfWork(session, tables=runtime.definition.tables, registry=runtime.definition.registry)
        children = ChildRepository(session)
        child = await children.get(external_id, for_update=True)
        if child is None:
            child = Child.register(external_id)
            children.add(child)
        for episode_type, start, end in episodes:
            child.record_episode(episode_type, start, end)
        for worker_id, start, end in allocations:
            child.allocate(worker_id, start, end)
        child_id = child.id
        await uow.commit()
    return child_id
