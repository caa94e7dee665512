"""Fixtures of the staff service's HTTP tests: the service in-process on a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest_asyncio
from sqlalchemy import func, select

from steadfast_shared.testing import ServiceClient
from steadfast_staff.bootstrap import definition
from steadfast_staff.db import tables

READ = ("staff:read",)
WRITE = ("staff:read", "staff:write")


@pytest_asyncio.fixture(loop_scope="session")
async def staff(start_service: Callable[..., Awaitable[ServiceClient]]) -> ServiceClient:
    return await start_service(definition)


async def outbox_count(staff: ServiceClient, subject: str | None = None) -> int:
    outbox = tables.outbox
    query = select(func.count()).select_from(outbox)
    if subject is not None:
        query = query.where(outbox.c.message_key == subject)
    async with staff.runtime.database.sessionmaker() as session:
        return int((await session.execute(query)).scalar_one())


async def event_types(staff: ServiceClient, subject: str | None = None) -> list[str]:
    """The types of the events in the staff outbox (about ``subject``), in the order written."""
    outbox = tables.outbox
    query = select(outbox.c.event_type).order_by(outbox.c.id)
    if subject is not None:
        query = query.where(outbox.c.message_key == subject)
    async with staff.runtime.database.sessionmaker() as session:
        return list((await session.scalars(query)).all())


def worker_body(external_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "display_name": f"Worker {external_id}",
        "role": "social_worker",
        "employment_type": "permanent",
        "fte": 1.0,
        "team": "ACIN1",
        "start_date": "2014-01-06",
        **overrides,
    }
