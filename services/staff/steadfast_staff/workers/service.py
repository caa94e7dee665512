"""Worker use cases: hire, update details, dated changes, leaving, and the registration watch list."""

from __future__ import annotations

from datetime import date, timedelta

from steadfast_shared.domain import Precondition
from steadfast_shared.errors import Conflict, NotFound
from steadfast_staff.teams.service import TeamService
from steadfast_staff.workers.models import Terms, Worker
from steadfast_staff.workers.repository import WorkerRepository
from steadfast_staff.workers.schemas import (
    ExpiringRegistration,
    Leaving,
    TermsChange,
    WorkerCreate,
    WorkerUpdate,
)


class WorkerService:
    def __init__(self, workers: WorkerRepository, teams: TeamService) -> None:
        self.workers = workers
        self.teams = teams

    async def hire(self, body: WorkerCreate) -> Worker:
        if await self.workers.get(body.external_id) is not None:
            raise Conflict(
                f"a worker with external_id {body.external_id!r} already exists",
                errors=[{"field": "external_id", "reason": "already_exists"}],
            )
        await self.teams.ensure([body.team])
        worker = Worker.hire(
            external_id=body.external_id,
            display_name=body.display_name,
            start_date=body.start_date,
            terms=Terms(role=body.role, team=body.team, fte=body.fte, employment_type=body.employment_type),
            end_date=body.end_date,
            leaving_reason=body.leaving_reason,
            asye_start=body.asye_start,
            asye_end=body.asye_end,
            protected_development_pct=body.protected_development_pct,
            swe_registration_number=body.swe_registration_number,
            swe_registration_expiry=body.swe_registration_expiry,
        )
        self.workers.add(worker)
        return worker

    async def get(self, ref: str, *, for_update: bool = False) -> Worker:
        worker = await self.workers.get(ref, for_update=for_update)
        if worker is None:
            raise NotFound(f"no worker {ref!r}", errors=[{"field": "worker", "reason": "unknown_worker"}])
        return worker

    async def update(self, ref: str, body: WorkerUpdate, precondition: Precondition | None = None) -> Worker:
        worker = await self.get(ref, for_update=True)
        if precondition is not None:
            precondition(worker.version)
        worker.update_details(**body.model_dump(exclude_unset=True))
        return worker

    async def change_terms(
        self, ref: str, body: TermsChange, precondition: Precondition | None = None
    ) -> Worker:
        worker = await self.get(ref, for_update=True)
        if precondition is not None:
            precondition(worker.version)
        segment = worker.terms_on(body.effective_date) or worker.current
        base = segment.terms()
        terms = Terms(
            role=body.role or base.role,
            team=body.team or base.team,
            fte=body.fte if body.fte is not None else base.fte,
            employment_type=body.employment_type or base.employment_type,
        )
        if terms.team != base.team:
            await self.teams.ensure([terms.team])
        worker.change_terms(body.effective_date, terms)
        return worker

    async def leave(self, ref: str, body: Leaving, precondition: Precondition | None = None) -> Worker:
        worker = await self.get(ref, for_update=True)
        if precondition is not None:
            precondition(worker.version)
        worker.leave(body.end_date, body.leaving_reason)
        return worker

    async def expiring_registrations(self, *, as_of: date, within_days: int) -> list[ExpiringRegistration]:
        workers = await self.workers.registrations_expiring(
            as_of=as_of, until=as_of + timedelta(days=within_days)
        )
        answer = []
        for worker in workers:
            segment = worker.terms_on(as_of) or worker.current
            if not segment.role.is_qualified:
                continue
            expiry = worker.swe_registration_expiry
            answer.append(
                ExpiringRegistration(
                    worker_id=worker.id,
                    external_id=worker.external_id,
                    display_name=worker.display_name,
                    team=segment.team_code,
                    swe_registration_number=worker.swe_registration_number,
                    swe_registration_expiry=expiry,
                    days_remaining=(expiry - as_of).days if expiry else None,
                )
            )
        return answer
