"""A service running in-process on either database the project supports: PostgreSQL (production, and
most tests) or a SQLite file (``make run``). Tests of behaviour the two databases could disagree on
(SQLite keeps no timezone, say) run on both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from steadfast_shared.db.migrations import upgrade
from steadfast_shared.service import ServiceDefinition
from steadfast_shared.testing import ServiceClient
from steadfast_shared.testing.helpers import service_app

BACKENDS = ("postgresql", "sqlite")


async def migrated_url(
    backend: str,
    definition: ServiceDefinition,
    make_database: Callable[[ServiceDefinition], Awaitable[str]],
    sqlite_file: Path,
) -> str:
    """The URL of a fresh database of ``backend`` migrated to ``definition``'s head: a scratch
    PostgreSQL database (dropped after the test by ``make_database``), or the SQLite file ``sqlite_file``."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{sqlite_file}"
        await asyncio.to_thread(upgrade, definition.alembic_ini, url)
        return url
    return await make_database(definition)


@asynccontextmanager
async def service_on(
    backend: str,
    definition: ServiceDefinition,
    *,
    make_database: Callable[[ServiceDefinition], Awaitable[str]],
    service_settings: Callable[..., Any],
    tmp_path: Path,
    **overrides: Any,
) -> AsyncIterator[ServiceClient]:
    """``definition``'s service on a fresh, migrated database of ``backend`` (one of :data:`BACKENDS`)."""
    url = await migrated_url(backend, definition, make_database, tmp_path / f"{definition.name}.db")
    async with service_app(definition, service_settings(definition, url, **overrides)) as client:
        yield client
