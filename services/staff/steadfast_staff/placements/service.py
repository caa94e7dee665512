"""Student placement use cases: record, correct, remove."""

from __future__ import annotations

import uuid

from steadfast_shared.domain import Precondition
from steadfast_shared.errors import Conflict, NotFound, ValidationFailed
from steadfast_staff.placements.models import StudentPlacement
from steadfast_staff.placements.repository import StudentPlacementRepository
from steadfast_staff.placements.schemas import StudentPlacementCreate, StudentPlacementUpdate
from steadfast_staff.teams.service import TeamService
from steadfast_staff.workers.repository import WorkerRepository

#: The request fields that name a worker, and the placement field holding that worker's id.
WORKER_FIELDS = {"student": "student_worker_id", "hired_worker": "hired_worker_id"}


class StudentPlacementService:
    def __init__(
        self, placements: StudentPlacementRepository, workers: WorkerRepository, teams: TeamService
    ) -> None:
        self.placements = placements
        self.workers = workers
        self.teams = teams

    async def record(self, body: StudentPlacementCreate) -> StudentPlacement:
        if await self.placements.get(body.external_id) is not None:
            raise Conflict(
                f"a student placement with external_id {body.external_id!r} already exists",
                errors=[{"field": "external_id", "reason": "already_exists"}],
            )
        await self.teams.ensure([body.team])
        placement = StudentPlacement.record_placement(
            external_id=body.external_id,
            university=body.university,
            placement=body.placement,
            team=body.team,
            start_date=body.start_date,
            end_date=body.end_date,
            student_worker_id=await self._worker_id("student", body.student),
            hired_afterwards=body.hired_afterwards,
            hired_worker_id=await self._worker_id("hired_worker", body.hired_worker),
        )
        self.placements.add(placement)
        return placement

    async def get(self, ref: str, *, for_update: bool = False) -> StudentPlacement:
        placement = await self.placements.get(ref, for_update=for_update)
        if placement is None:
            raise NotFound(
                f"no student placement {ref!r}",
                errors=[{"field": "placement", "reason": "unknown_placement"}],
            )
        return placement

    async def update(
        self, ref: str, body: StudentPlacementUpdate, precondition: Precondition | None = None
    ) -> StudentPlacement:
        placement = await self.get(ref, for_update=True)
        if precondition is not None:
            precondition(placement.version)
        changes = body.model_dump(exclude_unset=True)
        for field, column in WORKER_FIELDS.items():
            if field in changes:
                changes[column] = await self._worker_id(field, changes.pop(field))
        if "team" in changes:
            await self.teams.ensure([changes["team"]])
        placement.update(**changes)
        return placement

    async def remove(self, ref: str, precondition: Precondition | None = None) -> None:
        placement = await self.get(ref, for_update=True)
        if precondition is not None:
            precondition(placement.version)
        placement.remove()
        await self.placements.delete(placement)

    async def _worker_id(self, field: str, ref: str | None) -> uuid.UUID | None:
        if ref is None:
            return None
        worker = await self.workers.get(ref)
        if worker is None:
            raise ValidationFailed.field(field, "unknown_worker", f"no worker {ref!r}")
        return worker.id
