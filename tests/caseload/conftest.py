"""Fixtures of the caseload service's tests: the service in-process on a fresh PostgreSQL database, and
ways to fill its worker directory the way production does (from the staff service's worker events)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest_asyncio

from steadfast_caseload.bootstrap import definition
from steadfast_caseload.directory.projector import apply_staff_event
from steadfast_shared.events import CloudEvent
from steadfast_shared.events.envelope import new_event
from steadfast_shared.testing import ServiceClient
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.enums import EmploymentType, LeavingReason, Role
from steadfast_staff.events import WorkerHired
from steadfast_staff.events import registry as staff_registry
from steadfast_staff.workers.models import Terms, Worker

READ = ("caseload:read",)
WRITE = ("caseload:read", "caseload:write")


@pytest_asyncio.fixture(loop_scope="session")
async def caseload(start_service: Callable[..., Awaitable[ServiceClient]]) -> ServiceClient:
    """The caseload service, its directory consumer on a topic of its own (so that no other test's staff
    events reach it): tests fill the directory with :func:`seed_directory`."""
    return await start_service(definition, staff_topic=f"test.staff.{uuid.uuid4().hex}")


def staff_worker(
    external_id: str,
    *,
    role: Role = Role.social_worker,
    team: str = "ACIN1",
    fte: float = 1.0,
    employment_type: EmploymentType = EmploymentType.permanent,
    start_date: date = date(2014, 1, 6),
    end_date: date | None = None,
    asye_start: date | None = None,
    changes: tuple[tuple[date, dict[str, Any]], ...] = (),
) -> Worker:
    """A worker as the staff service's own domain builds one (hired, then dated changes, then leaving)."""
    terms = Terms(role=role, team=team, fte=fte, employment_type=employment_type)
    worker = Worker.hire(
        external_id=external_id,
        display_name=f"Worker {external_id}",
        start_date=start_date,
        terms=terms,
        asye_start=asye_start,
    )
    for effective, change in changes:
        base = worker.current
        worker.change_terms(
            effective,
            Terms(
                role=change.get("role", base.role),
                team=change.get("team", base.team_code),
                fte=change.get("fte", float(base.fte)),
                employment_type=change.get("employment_type", base.employment_type),
            ),
        )
    if end_date is not None:
        worker.leave(end_date, LeavingReason.resignation)
    return worker


def staff_event(worker: Worker) -> CloudEvent:
    """The staff event carrying the worker's whole state, as the staff service publishes it."""
    return new_event(
        source=staff_registry.source,
        type_=WorkerHired.type,
        subject=str(worker.id),
        data=worker.snapshot().model_dump(mode="json"),
    )


async def seed_directory(caseload: ServiceClient, *workers: Worker) -> dict[str, uuid.UUID]:
    """Apply the workers' staff events through the directory's projector, in one unit of work, and
    answer their ids by external id."""
    runtime = caseload.runtime
    async with runtime.database.sessionmaker() as session:
        uow = UnitOfWork(session, tables=runtime.definition.tables, registry=runtime.definition.registry)
        for worker in workers:
            await apply_staff_event(uow, staff_event(worker))
        await uow.commit()
    return {w.external_id: w.id for w in workers}
