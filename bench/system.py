"""The whole system as ``make run`` starts it, for the benchmarks that measure it end to end.

:func:`running_system` starts ``python -m steadfast_shared.embedded.runner run`` (a Tansu broker and the
four services as processes, each with its relay and consumers) in a temporary var folder, on ports of
its own, waits until every service is ready, and stops it afterwards. On PostgreSQL each service's
``<PREFIX>DATABASE_URL`` names a scratch database (the runner migrates it; dropped afterwards).

PostgreSQL: ``$STEADFAST_BENCH_POSTGRES_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/
postgres``), a user that may CREATE DATABASE.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the end-to-end test's council generator

from steadfast_audit.bootstrap import definition as audit  # noqa: E402
from steadfast_caseload.bootstrap import definition as caseload  # noqa: E402
from steadfast_metrics.bootstrap import definition as metrics  # noqa: E402
from steadfast_shared.embedded.broker import port_is_free  # noqa: E402
from steadfast_shared.embedded.runner import (  # noqa: E402
    BROKER_PORT_ENV,
    DEMO_ENV,
    PORT_OFFSET_ENV,
    VAR_DIR_ENV,
    token,
)
from steadfast_staff.bootstrap import definition as staff  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
SERVICES = (staff, caseload, audit, metrics)
PRODUCERS = ("staff", "caseload", "audit")
#: The outbox rows a producer's relay has not yet published.
UNPUBLISHED = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
#: The events the metrics projections consumer has applied (its tracking rows).
APPLIED = "SELECT count(*) FROM processed_events WHERE consumer = 'metrics-projections'"


@dataclass
class Databases:
    """Where each service keeps its data: SQLite files in the var folder, or scratch PostgreSQL databases."""

    backend: str
    var_dir: Path
    names: dict[str, str]

    @classmethod
    async def make(cls, backend: str, var_dir: Path) -> Databases:
        names = {}
        if backend == "postgresql":
            admin = await asyncpg.connect(_dsn("postgres"))
            try:
                for service in SERVICES:
                    names[service.name] = f"bench_{service.name}_{uuid.uuid4().hex[:6]}"
                    await admin.execute(f'CREATE DATABASE "{names[service.name]}"')
            finally:
                await admin.close()
        return cls(backend, var_dir, names)

    def environment(self) -> dict[str, str]:
        if self.backend != "postgresql":
            return {}
        server = os.environ.get("STEADFAST_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
        return {
            f"{s.env_prefix}DATABASE_URL": make_url(server)
            .set(database=self.names[s.name])
            .render_as_string(hide_password=False)
            for s in SERVICES
        }

    async def count(self, service: str, sql: str) -> int:
        if self.backend == "postgresql":
            connection = await asyncpg.connect(_dsn(self.names[service]))
            try:
                return int(await connection.fetchval(sql))
            finally:
                await connection.close()
        path = self.var_dir / "data" / f"{service}.db"
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
            return int(db.execute(sql).fetchone()[0])

    async def drop(self) -> None:
        if not self.names:
            return
        admin = await asyncpg.connect(_dsn("postgres"))
        try:
            for name in self.names.values():
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def _dsn(database: str) -> str:
    url = make_url(os.environ.get("STEADFAST_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL)
    return url.set(drivername="postgresql", database=database).render_as_string(hide_password=False)


def free_ports() -> tuple[int, int]:
    """A broker port and a port offset with every service's port free (below the ephemeral range)."""
    for broker in range(21_000, 31_000, 97):
        offset = broker + 1 - min(s.port for s in SERVICES)
        if all(port_is_free(p) for p in [broker, *(s.port + offset for s in SERVICES)]):
            return broker, offset
    raise SystemExit("no free ports")


async def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> float:
    """Seconds until ``await check()`` is true; exits the benchmark after ``timeout``."""
    began = time.perf_counter()
    while True:
        if await check():
            return time.perf_counter() - began
        if time.perf_counter() - began > timeout:
            raise SystemExit(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(interval)


@dataclass
class System:
    """The running system: each service's base URL, a client with a token of every scope, its data."""

    url: dict[str, str]
    http: httpx.AsyncClient
    databases: Databases
    runner: subprocess.Popen[bytes]

    def alive(self) -> None:
        if self.runner.poll() is not None:
            raise SystemExit(f"the runner exited ({self.runner.returncode})")


@contextlib.asynccontextmanager
async def running_system(backend: str, environment: Mapping[str, str] | None = None) -> AsyncIterator[System]:
    """The whole system on ``backend`` (``sqlite``: the embedded default; ``postgresql``), with
    ``environment`` added to the runner's, every service ready."""
    with tempfile.TemporaryDirectory(prefix="bench-system-") as tmp:
        var_dir = Path(tmp)
        databases = await Databases.make(backend, var_dir)
        broker, offset = free_ports()
        env = {
            **os.environ,
            **databases.environment(),
            **(environment or {}),
            VAR_DIR_ENV: str(var_dir),
            DEMO_ENV: "0",  # the benchmarks bring their own council
            PORT_OFFSET_ENV: str(offset),
            BROKER_PORT_ENV: str(broker),
        }
        runner = subprocess.Popen(  # noqa: ASYNC220 (started once, before anything is timed)
            [sys.executable, "-m", "steadfast_shared.embedded.runner", "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd=ROOT,
        )
        try:
            headers = {"Authorization": f"Bearer {token(env)}"}
            async with httpx.AsyncClient(headers=headers, timeout=600) as http:
                system = System(
                    {s.name: f"http://127.0.0.1:{s.port + offset}" for s in SERVICES}, http, databases, runner
                )

                async def ready() -> bool:
                    system.alive()
                    for service_url in system.url.values():
                        with contextlib.suppress(httpx.TransportError):
                            if (await http.get(f"{service_url}/readyz")).status_code == 200:
                                continue
                        return False
                    return True

                await wait_for(ready, 180, "the services ready", interval=0.5)
                yield system
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(runner.pid, signal.SIGTERM)
            try:
                runner.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(runner.pid, signal.SIGKILL)
                runner.wait()
            await databases.drop()
