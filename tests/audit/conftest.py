"""Fixtures of the audit service's tests: the service in-process on a fresh PostgreSQL database, its
worker directory filled the way production fills it (from the staff service's worker events)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest_asyncio
from sqlalchemy import func, select

from steadfast_audit.bootstrap import definition
from steadfast_audit.db import tables
from steadfast_audit.directory.projector import apply_staff_event
from steadfast_shared.testing import ServiceClient
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.workers.models import Worker
from tests.support.staff_events import staff_event, staff_worker

__all__ = ["READ", "WRITE", "seed_directory", "staff_worker"]

READ = ("audit:read",)
WRITE = ("audit:read", "audit:write")


@pytest_asyncio.fixture(loop_scope="session")
async def audit(start_service: Callable[..., Awaitable[ServiceClient]]) -> ServiceClient:
    """The audit service answering requests, with no consumer: tests fill the worker directory with
    :func:`seed_directory` (the directory consumer over the broker has tests of its own)."""
    return await start_service(definition, consumers_enabled=False)


async def seed_directory(service: ServiceClient, *workers: Worker) -> dict[str, uuid.UUID]:
    """Apply the workers' staff events through the directory's projector, in one unit of work."""
    runtime = service.runtime
    async with runtime.database.sessionmaker() as session:
        uow = UnitOfWork(session, tables=runtime.definition.tables, registry=runtime.definition.registry)
        for worker in workers:
            await apply_staff_event(uow, staff_event(worker))
        await uow.commit()
    return {w.external_id: w.id for w in workers}


async def outbox_types(service: ServiceClient) -> list[str]:
    query = select(tables.outbox.c.event_type).order_by(tables.outbox.c.id)
    async with service.runtime.database.sessionmaker() as session:
        return list((await session.scalars(query)).all())


async def outbox_count(service: ServiceClient) -> int:
    query = select(func.count()).select_from(tables.outbox)
    async with service.runtime.database.sessionmaker() as session:
        return int((await session.execute(query)).scalar_one())


async def post_audit(service: ServiceClient, **body: Any) -> Any:
    answer = await service.http.post("/v1/audits", json=body, headers=service.auth(*WRITE))
    assert answer.status_code == 201, answer.text
    return answer.json()
