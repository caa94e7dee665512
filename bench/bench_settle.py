"""Benchmark: how long the KPIs take to settle after a council's bulk imports, against the imports' own time.

In one run, for each database (the embedded default's SQLite, and PostgreSQL):

1. starts the whole system as ``make run`` does (``python -m steadfast_shared.embedded.runner run``: a
   Tansu broker and the four services as processes, each with its relay and consumers) in a var folder,
   on ports of its own; for PostgreSQL each service's ``<PREFIX>DATABASE_URL`` names a scratch database
   (the runner migrates it);
2. imports a council's extracts over HTTP as a council would, one file after another, each
   ``?mode=atomic``: ``--copies`` copies of the end-to-end test's council (``tests/e2e/council.py``: 28
   workers, 120 children, their episodes, allocations with handovers, assessments, visits, reviews, IRO
   visits and audits; each copy with ids of its own), the workers first, then, once the caseload and
   audit services have learnt every worker from the staff events, the caseload files and the audits;
3. measures the imports' own time (the sum of the POSTs) and the **settle time**: from the last
   import's answer until the metrics service has applied every event the three producers wrote (its
   tracking rows for consumer ``metrics-projections`` equal the outbox rows of staff, caseload and
   audit); and, on the way, when the relays had published every outbox row. ``GET /v1/kpis`` must
   then count every one of those events as applied (its freshness, per stream).

The figure is settle time / import time (the median of ``--repeat`` runs, the databases interleaved).

    .venv/bin/python bench/bench_settle.py                     # 6 copies (about 18,500 rows), 3 runs
    .venv/bin/python bench/bench_settle.py --copies 2 --repeat 1 --databases sqlite

PostgreSQL: ``$STEADFAST_BENCH_POSTGRES_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/
postgres``), a user that may CREATE DATABASE. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
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
from steadfast_shared.embedded.runner import BROKER_PORT_ENV, PORT_OFFSET_ENV, VAR_DIR_ENV, token  # noqa: E402
from steadfast_staff.bootstrap import definition as staff  # noqa: E402
from tests.e2e.council import Council, build_council  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
SERVICES = (staff, caseload, audit, metrics)
PRODUCERS = ("staff", "caseload", "audit")
CASELOAD_FILES = ("children", "allocations", "assessments", "visits", "reviews", "iro_visits")
#: The council's record lists (each a CSV extract): the fields of ``Council``.
RECORDS = tuple(f.name for f in dataclasses.fields(Council))
ID_COLUMNS = ("external_id", "child_external_id", "worker_external_id")
#: The outbox rows a producer's relay has not yet published.
UNPUBLISHED = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
#: The events the metrics projections consumer has applied (its tracking rows).
APPLIED = "SELECT count(*) FROM processed_events WHERE consumer = 'metrics-projections'"


def council_copies(copies: int) -> Council:
    """``copies`` copies of the end-to-end council, each with ids (and registration numbers) of its own."""
    base = build_council()
    scaled = Council()
    for k in range(copies):
        for kind in RECORDS:
            for row in getattr(base, kind):
                copy = dict(row)
                for column in ID_COLUMNS:
                    if copy.get(column):
                        copy[column] = f"K{k}{copy[column]}"
                if copy.get("swe_registration_number"):
                    copy["swe_registration_number"] = f"SW{k:02d}{copy['swe_registration_number'][-4:]}"
                getattr(scaled, kind).append(copy)
    return scaled


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
                    names[service.name] = f"bench_settle_{service.name}_{uuid.uuid4().hex[:6]}"
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
    began = time.perf_counter()
    while True:
        if await check():
            return time.perf_counter() - began
        if time.perf_counter() - began > timeout:
            raise SystemExit(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(interval)


async def one_run(backend: str, council: Council) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-settle-") as tmp:
        var_dir = Path(tmp)
        databases = await Databases.make(backend, var_dir)
        broker, offset = free_ports()
        env = {
            **os.environ,
            **databases.environment(),
            VAR_DIR_ENV: str(var_dir),
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
            return await measure(backend, council, databases, offset, token(env), runner)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(runner.pid, signal.SIGTERM)
            try:
                runner.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(runner.pid, signal.SIGKILL)
                runner.wait()
            await databases.drop()


async def measure(
    backend: str,
    council: Council,
    databases: Databases,
    offset: int,
    bearer: str,
    runner: subprocess.Popen[bytes],
) -> dict[str, Any]:
    url = {s.name: f"http://127.0.0.1:{s.port + offset}" for s in SERVICES}
    headers = {"Authorization": f"Bearer {bearer}"}
    async with httpx.AsyncClient(headers=headers, timeout=600) as http:

        async def ready() -> bool:
            if runner.poll() is not None:
                raise SystemExit(f"the runner exited ({runner.returncode})")
            for service_url in url.values():
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{service_url}/readyz")).status_code == 200:
                        continue
                return False
            return True

        await wait_for(ready, 180, "the services ready", interval=0.5)
        imports: list[tuple[str, float, int]] = []

        async def post(service: str, kind: str) -> None:
            body = council.csv(kind).encode()
            began = time.perf_counter()
            answer = await http.post(
                f"{url[service]}/v1/imports/{'children' if kind == 'episodes' else kind}?mode=atomic",
                content=body,
                headers={"Content-Type": "text/csv"},
            )
            seconds = time.perf_counter() - began
            if answer.status_code != 200 or answer.json()["counts"]["rejected"]:
                raise SystemExit(f"{service} {kind}: {answer.status_code} {answer.text[:1000]}")
            imports.append((kind, seconds, body.count(b"\n") - 1))

        await post("staff", "workers")
        workers = len(council.workers)

        async def directories_complete() -> bool:
            held = [
                await databases.count(s, "SELECT count(*) FROM directory_workers")
                for s in ("caseload", "audit")
            ]
            return held == [workers, workers]

        directory_wait = await wait_for(directories_complete, 120, "the worker directories", interval=0.1)
        for kind in CASELOAD_FILES:
            await post("caseload", kind)
        await post("audit", "audits")
        imported_at = time.perf_counter()

        async def expected() -> int:
            return sum([await databases.count(s, "SELECT count(*) FROM outbox") for s in PRODUCERS])

        async def settled() -> bool:
            applied = await databases.count("metrics", APPLIED)
            return applied >= await expected()

        async def published() -> bool:
            waiting = [await databases.count(s, UNPUBLISHED) for s in PRODUCERS]
            return sum(waiting) == 0

        published_after = await wait_for(published, 1800, "the outboxes published", interval=0.05)
        await wait_for(settled, 1800, "the metrics service settled", interval=0.05)
        settle = time.perf_counter() - imported_at
        events = await expected()
        answer = (await http.get(f"{url['metrics']}/v1/kpis?as_of=2015-03-02")).json()
        sources = {s["topic"]: s["events_applied"] for s in answer["freshness"]["sources"]}
        if sum(sources.values()) != events:
            raise SystemExit(f"GET /v1/kpis counts {sources} events applied, not {events}")
    import_seconds = sum(seconds for _, seconds, _ in imports)
    rows = sum(n for _, _, n in imports)
    return {
        "backend": backend,
        "rows": rows,
        "events": events,
        "import_seconds": import_seconds,
        "directory_wait": directory_wait,
        "settle_seconds": settle,
        "published_seconds": published_after,
        "ratio": settle / import_seconds,
        "events_applied_by_topic": sources,
        "files": {kind: round(seconds, 2) for kind, seconds, _ in imports},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=6, help="copies of the end-to-end council")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--databases", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    council = council_copies(args.copies)
    rows = sum(len(getattr(council, kind)) for kind in RECORDS)
    print(f"settle benchmark: {args.copies} councils, {rows:,} CSV rows, {args.repeat} runs per database")
    print(f"machine: {os.cpu_count()} CPUs, load average at the start {os.getloadavg()[0]:.2f}")
    print(f"\n{'database':<11}{'rows':>8}{'events':>8}{'import s':>10}{'settle s':>10}{'settle/import':>15}")
    results: list[dict[str, Any]] = []
    for _ in range(args.repeat):
        for backend in args.databases:
            r = asyncio.run(one_run(backend, council))
            results.append(r)
            print(
                f"{backend:<11}{r['rows']:>8,}{r['events']:>8,}{r['import_seconds']:>10.2f}{r['settle_seconds']:>10.2f}"
                f"{r['ratio']:>15.3f}   (every outbox row published {r['published_seconds']:.2f} s after the "
                f"last import; directories {r['directory_wait']:.1f} s; files {r['files']})",
                flush=True,
            )
    print("\nmedians")
    for backend in args.databases:
        mine = [r for r in results if r["backend"] == backend]
        print(
            f"  {backend}: import {statistics.median(r['import_seconds'] for r in mine):.2f} s, settle "
            f"{statistics.median(r['settle_seconds'] for r in mine):.2f} s -> settle / import = "
            f"{statistics.median(r['ratio'] for r in mine):.3f}"
        )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
