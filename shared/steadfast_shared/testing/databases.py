"""Throwaway PostgreSQL databases built by ``alembic upgrade head``, fast enough for one per test.

Each service is migrated once per test session into a *template* database; every test then gets
``CREATE DATABASE <unique> TEMPLATE <template>`` (a file-level copy, tens of milliseconds) and the
database is dropped after the test. Names are ``sft_<host>_<pid>_<run>_...`` so that concurrent test
runs on one server never touch each other's databases; databases left behind by a run whose process
is gone (killed by a timeout, say) are dropped at the start of the next run on the same host.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import socket
import uuid
from itertools import count

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from steadfast_shared.db.migrations import upgrade
from steadfast_shared.service import ServiceDefinition

_PREFIX = "sft_"
_NAME = re.compile(r"^sft_(?P<host>[0-9a-f]{6})_(?P<pid>\d+)_[0-9a-f]{6}_")
_LOOPBACK = {"127.0.0.1", "localhost", "::1", None, ""}


class PostgresUnavailable(RuntimeError):
    """The test PostgreSQL server cannot be reached."""


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def _admin_engine(url: URL) -> AsyncEngine:
    return create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


async def check_server(server_url: str, *, timeout: float = 10.0) -> str:
    """Connect once to ``server_url``; return the server's version or raise :class:`PostgresUnavailable`."""
    engine = _admin_engine(make_url(server_url))
    try:
        async with asyncio.timeout(timeout), engine.connect() as conn:
            version = await conn.scalar(text("SHOW server_version"))
            return str(version)
    except Exception as exc:
        raise PostgresUnavailable(
            f"cannot connect to PostgreSQL at {make_url(server_url).render_as_string(hide_password=True)}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    finally:
        await engine.dispose()


class MigratedDatabases:
    """Creates migrated databases on one PostgreSQL server, and drops them again.

    ``server_url`` is a SQLAlchemy async URL to any database on the server (``.../postgres``); the
    per-test databases get the same URL with their own database name.
    """

    def __init__(self, server_url: str) -> None:
        self.server_url = make_url(server_url)
        self.run_id = f"{_PREFIX}{_host_tag()}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._engine = _admin_engine(self.server_url)
        self._templates: dict[str, str] = {}
        self._template_locks: dict[str, asyncio.Lock] = {}
        self._created: set[str] = set()
        self._counter = count(1)

    def url_for(self, database: str) -> str:
        """The URL of ``database`` on this server (with the password, for engines)."""
        return self.server_url.set(database=database).render_as_string(hide_password=False)

    async def template_for(self, definition: ServiceDefinition) -> str:
        """The name of the service's template database, migrated to head on first use."""
        key = str(definition.alembic_ini)
        lock = self._template_locks.setdefault(key, asyncio.Lock())
        async with lock:
            existing = self._templates.get(key)
            if existing is not None:
                return existing
            name = self._name(f"tpl_{definition.name}")
            await self._execute(f'CREATE DATABASE "{name}"')
            self._created.add(name)
            # Alembic's env.py runs its own event loop (asyncio.run), so it needs a thread of its own.
            await asyncio.to_thread(upgrade, definition.alembic_ini, self.url_for(name))
            self._templates[key] = name
            return name

    async def create(self, definition: ServiceDefinition) -> str:
        """A fresh database for ``definition``, at its migrations' head; returns its URL."""
        template = await self.template_for(definition)
        name = self._name(definition.name)
        await self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self._created.add(name)
        return self.url_for(name)

    async def drop(self, url_or_name: str) -> None:
        """Drop a database made here, closing any connection still open on it."""
        name = make_url(url_or_name).database if "://" in url_or_name else url_or_name
        if not name:
            return
        await self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.discard(name)

    async def drop_all(self) -> None:
        """Drop every database this run made (templates included)."""
        for name in sorted(self._created):
            await self.drop(name)
        self._templates.clear()

    async def drop_abandoned(self) -> list[str]:
        """Drop databases of earlier runs on this host whose process is gone; returns their names."""
        if self.server_url.host not in _LOOPBACK:
            return []
        async with self._engine.connect() as conn:
            names = (
                await conn.scalars(
                    text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": _PREFIX + "%"}
                )
            ).all()
        dropped: list[str] = []
        for name in names:
            match = _NAME.match(name)
            if match is None or match["host"] != _host_tag():
                continue
            if name.startswith(self.run_id) or _process_alive(int(match["pid"])):
                continue
            await self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            dropped.append(name)
        return dropped

    async def close(self) -> None:
        """Close the administrative connection pool (the databases stay)."""
        await self._engine.dispose()

    def _name(self, label: str) -> str:
        safe = re.sub(r"[^a-z0-9_]", "_", label.lower())[:24]
        return f"{self.run_id}_{next(self._counter)}_{safe}"[:63]

    async def _execute(self, statement: str) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(text(statement))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
