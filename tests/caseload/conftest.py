"""Fixtures of the caseload service's tests: the service in-process on a fresh PostgreSQL database, and
ways to fill its worker directory the way production does (from the staff service's worker events)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest_asyncio

from steadfast_caseload.bootstrap import definition
from steadfast_caseload.directory.projector import apply_staff_event
from steadfast_shared.testing import ServiceClient
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.workers.models import Worker
from tests.support.staff_events import staff_event, staff_worker

__all__ = ["READ", "WRITE", "caseload", "seed_directory", "staff_event", "staff_worker"]

READ = ("caseload:read",)
WRITE = ("caseload:read", "caseload:write")


@pytest_asyncio.fixture(loop_scope="session")
async def caseload(start_service: Callable[..., Awaitable[ServiceClient]]) -> ServiceClient:
    """The caseload service answering requests, with no consumer: tests fill the worker directory with
    :func:`seed_directory` (the directory consumer over the broker is tested in test_caseloads_api)."""
    return await start_service(definition, consumers_enabled=False)


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
