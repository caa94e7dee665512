"""Async engines and session factories, built in the app's lifespan (never at import).

PostgreSQL (``postgresql+asyncpg://``) is the production database; SQLite (``sqlite+aiosqlite://``) is
the embedded default, run in WAL mode with ``synchronous=FULL`` and foreign keys on.

On SQLite a transaction that may write begins ``BEGIN IMMEDIATE``: it takes the database's one write lock
up front, so concurrent writers queue on the busy timeout instead of failing half-way (a deferred
transaction that read first and then wants to write fails at once, ``SQLITE_BUSY_SNAPSHOT``, when another
writer committed meanwhile). A transaction that only reads has no need of that lock: WAL readers see the
last committed state while a writer works. Sessions from :attr:`Database.read_sessionmaker` (what a
``GET`` request gets) therefore begin a plain deferred ``BEGIN`` and never queue behind a writer, even
one that holds the lock for minutes (a long import). On PostgreSQL both session factories are the same.

A writer that works in many short transactions (a partial import commits every batch) calls
:meth:`SqliteWriteLock.give_way` after each commit, so that writers waiting for the lock get it in turn
rather than only when the whole file is done. An atomic import is one transaction and keeps the lock to
its end: other writers wait up to the busy timeout (30 s) and then fail; import a large file in partial
mode (or on PostgreSQL, whose locks are per row).
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: The execution option that makes a SQLite transaction begin deferred (``BEGIN``), for reads only.
SQLITE_DEFERRED_OPTION = "steadfast_sqlite_deferred"


class SqliteWriteLock:
    """The write lock of one SQLite database as this process sees it: who is waiting for it.

    SQLite has no queue: a connection that finds the lock taken sleeps and tries again (the busy handler,
    every 100 ms at most), so a writer that commits and at once begins again keeps the lock nearly all
    the time. :meth:`give_way`, called right after a commit, waits until the connections of this process
    that were waiting have got the lock (and, now and then, pauses for writers in other processes).
    """

    #: How long :meth:`give_way` waits at most for this process's waiting writers to get the lock.
    max_wait_seconds = 0.5
    #: Every this many seconds of holding the lock, :meth:`give_way` pauses for other processes' writers.
    pause_every_seconds = 2.0
    #: That pause: longer than the busy handler's longest sleep, so every waiting writer tries once.
    pause_seconds = 0.12

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting = 0
        self._paused_at = time.monotonic()

    @property
    def waiting(self) -> int:
        """How many connections of this process are waiting for the lock right now."""
        return self._waiting

    @contextmanager
    def wait(self) -> Iterator[None]:
        """Around ``BEGIN IMMEDIATE`` (runs in the driver's thread)."""
        with self._mutex:
            self._waiting += 1
        try:
            yield
        finally:
            with self._mutex:
                self._waiting -= 1

    async def give_way(self) -> None:
        """Let the writers waiting for the lock (which the caller has just released) have it first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_seconds
        # The count changes in the driver's threads, not on this loop: poll it.
        while self._waiting and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        if time.monotonic() - self._paused_at >= self.pause_every_seconds:
            await asyncio.sleep(self.pause_seconds)
            self._paused_at = time.monotonic()


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, SqliteWriteLock] = weakref.WeakKeyDictionary()


def sqlite_write_lock(session: AsyncSession) -> SqliteWriteLock | None:
    """The write lock of the SQLite database ``session`` writes to; None on PostgreSQL."""
    bind = session.bind
    engine = getattr(bind, "sync_engine", bind)
    return _WRITE_LOCKS.get(engine) if isinstance(engine, Engine) else None


@dataclass
class Database:
    """An engine and its session factories: one for transactions that may write, one for reads."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    #: Sessions for transactions that only read: on SQLite they do not take the write lock (see above).
    read_sessionmaker: async_sessionmaker[AsyncSession]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def dispose(self) -> None:
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine) -> None:
    write_lock = _WRITE_LOCKS.setdefault(engine.sync_engine, SqliteWriteLock())

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see the "begin" hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # The busy timeout first: switching a new database to WAL takes the lock, and waits for it.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        deferred = conn.get_execution_options().get(SQLITE_DEFERRED_OPTION, False)
        if deferred:
            conn.exec_driver_sql("BEGIN")
            return
        with write_lock.wait():
            conn.exec_driver_sql("BEGIN IMMEDIATE")


#: Settings of every PostgreSQL session. asyncpg prepares each statement and PostgreSQL switches a
#: prepared statement to a generic plan after five runs, planned for no particular parameters: for a
#: lookup of a batch's ids (``id = ANY($1)``) in a table that has grown since its statistics were last
#: taken, that plan is a sequential scan, run once a batch for as long as the connection lives (on a
#: 30,000-row table, 35-46 ms against 2 ms planned for the array at hand; docs/benchmarks.md). A plan
#: for the parameters at hand costs well under a millisecond to make.
POSTGRES_SESSION_SETTINGS = {"plan_cache_mode": "force_custom_plan"}


def create_database(
    url: str, *, pool_size: int = 10, pool_timeout: float = 30.0, echo: bool = False
) -> Database:
    """Build the engine and session factory for ``url`` (PostgreSQL or SQLite). On PostgreSQL a pool of
    ``pool_size`` connections (and as many again when busy); a session that waits ``pool_timeout``
    seconds for one raises ``sqlalchemy.exc.TimeoutError`` (a 503 in the API)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs.update(
            pool_size=pool_size, max_overflow=pool_size, pool_timeout=pool_timeout, pool_pre_ping=True
        )
        if parsed.get_driver_name() == "asyncpg":
            kwargs["connect_args"] = {"server_settings": POSTGRES_SESSION_SETTINGS}
    engine = create_async_engine(url, **kwargs)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    read_sessionmaker = sessionmaker
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
        # The same engine and pool, its connections marked for the "begin" hook.
        reader = engine.execution_options(**{SQLITE_DEFERRED_OPTION: True})
        read_sessionmaker = async_sessionmaker(reader, expire_on_commit=False, autoflush=False)
    return Database(engine=engine, sessionmaker=sessionmaker, read_sessionmaker=read_sessionmaker)
