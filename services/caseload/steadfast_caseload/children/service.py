"""Child use cases: register, episodes, allocations and a child's history of workers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from steadfast_caseload.children.models import Allocation, Child, Episode, Outcome
from steadfast_caseload.children.repository import ChildRepository
from steadfast_caseload.children.schemas import (
    AllocationCreate,
    AllocationHistory,
    AllocationHistoryItem,
    AllocationRead,
    AllocationUpdate,
    ChildRead,
    EpisodeCreate,
    EpisodeUpdate,
)
from steadfast_caseload.directory.models import DirectoryWorker
from steadfast_caseload.directory.repository import DirectoryRepository
from steadfast_shared.domain import Precondition
from steadfast_shared.errors import Conflict, NotFound, ValidationFailed

#: What the child endpoints need of the aggregate (the casework records are not loaded).
CHILD_RECORDS = ("episodes", "allocations")


class ChildService:
    def __init__(self, children: ChildRepository, directory: DirectoryRepository) -> None:
        self.children = children
        self.directory = directory

    async def register(self, external_id: str) -> Child:
        if await self.children.get(external_id, load=()) is not None:
            raise Conflict(
                f"a child with external_id {external_id!r} already exists",
                errors=[{"field": "external_id", "reason": "already_exists"}],
            )
        child = Child.register(external_id)
        self.children.add(child)
        return child

    async def get(
        self,
        ref: str,
        *,
        for_update: bool = False,
        precondition: Precondition | None = None,
        load: Sequence[str] = CHILD_RECORDS,
    ) -> Child:
        child = await self.children.get(ref, for_update=for_update, load=load)
        if child is None:
            raise NotFound(f"no child {ref!r}", errors=[{"field": "child", "reason": "unknown_child"}])
        if precondition is not None:
            precondition(child.version)
        return child

    async def read(self, child: Child) -> ChildRead:
        return ChildRead.full(child, await self.workers_of(child.allocations))

    async def allocation_read(self, allocation: Allocation) -> AllocationRead:
        return AllocationRead.of(allocation, await self.workers_of([allocation]))

    async def workers_of(self, allocations: Sequence[Allocation]) -> dict[uuid.UUID, DirectoryWorker]:
        return await self.directory.with_terms(a.worker_id for a in allocations)

    # -- episodes ---------------------------------------------------------------------------------

    async def record_episode(
        self, ref: str, body: EpisodeCreate, precondition: Precondition | None = None
    ) -> tuple[Outcome, Child, Episode]:
        child = await self.get(ref, for_update=True, precondition=precondition)
        outcome, episode = child.record_episode(body.episode_type, body.start_date, body.end_date)
        return outcome, child, episode

    async def change_episode(
        self, ref: str, episode_id: uuid.UUID, body: EpisodeUpdate, precondition: Precondition | None = None
    ) -> tuple[Outcome, Child, Episode]:
        child = await self.get(ref, for_update=True, precondition=precondition)
        held = next((e for e in child.episodes if e.id == episode_id), None)
        if held is None:
            raise NotFound(
                f"the child has no episode {episode_id}",
                errors=[{"field": "episode", "reason": "unknown_episode"}],
            )
        outcome, episode = child.record_episode(held.episode_type, held.start_date, body.end_date)
        return outcome, child, episode

    # -- allocations ------------------------------------------------------------------------------

    async def resolve_worker(self, ref: str) -> uuid.UUID:
        """The id of the worker ``ref`` names (id or external id); 422 ``unknown_worker`` otherwise."""
        found = (await self.directory.resolve([ref])).get(ref)
        if found is None:
            raise ValidationFailed(
                f"no worker {ref!r} is known to the caseload service: record workers in the staff "
                "service first",
                errors=[
                    {"field": "worker", "reason": "unknown_worker", "rule": "unknown_worker", "worker": ref}
                ],
            )
        return found

    async def allocate(
        self, ref: str, body: AllocationCreate, precondition: Precondition | None = None
    ) -> tuple[Outcome, Child, Allocation]:
        worker_id = await self.resolve_worker(body.worker)
        child = await self.get(ref, for_update=True, precondition=precondition)
        outcome, allocation = child.allocate(worker_id, body.start_date, body.end_date, body.reason)
        return outcome, child, allocation

    async def change_allocation(
        self,
        ref: str,
        allocation_id: uuid.UUID,
        body: AllocationUpdate,
        precondition: Precondition | None = None,
    ) -> tuple[Outcome, Child, Allocation]:
        child = await self.get(ref, for_update=True, precondition=precondition)
        held = next((a for a in child.allocations if a.id == allocation_id), None)
        if held is None:
            raise NotFound(
                f"the child has no allocation {allocation_id}",
                errors=[{"field": "allocation", "reason": "unknown_allocation"}],
            )
        end = body.end_date if "end_date" in body.model_fields_set else held.end_date
        outcome, allocation = child.allocate(held.worker_id, held.start_date, end, body.reason)
        return outcome, child, allocation

    async def allocation_history(self, ref: str, as_of: date) -> AllocationHistory:
        child = await self.get(ref)
        allocations = [a for a in child.allocations if a.start_date <= as_of]
        workers = await self.workers_of(allocations)
        run_start = child.current_run_start(as_of)
        return AllocationHistory(
            child_id=child.id,
            child_external_id=child.external_id,
            as_of=as_of,
            current_run_start=run_start,
            workers_in_current_run=len(child.workers_since(run_start, as_of)) if run_start else None,
            allocations=[
                AllocationHistoryItem(**AllocationRead.of(a, workers).model_dump(), active=a.active_on(as_of))
                for a in allocations
            ],
        )
