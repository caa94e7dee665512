"""Benchmark: the caseload service's bulk ``allocations`` import, through the real HTTP app.

For each database (PostgreSQL, SQLite) and each file size it generates a realistic extract (a council of
``--workers`` workers and ``--children`` children, each child handed over between workers with dated
end dates and SSDA903 reasons, in chronological order as a case-management extract lists them), makes a
scratch database migrated with Alembic, fills the worker directory by applying staff worker events (as
the service's consumer does), imports ``children.csv`` and then ``allocations.csv`` with
``POST /v1/imports/{kind}?mode=atomic`` through the app (lifespan started, ``httpx.ASGITransport``), then
imports the allocations again (every row unchanged), then (PostgreSQL) times PostgreSQL's own ``COPY`` of
the same allocations file into a scratch table of its columns, and drops the database. The ratio
printed is the import's rows/s over the ``COPY``'s (the median of the runs' ratios).

Each run is a child process of its own, so that its peak resident memory (``ru_maxrss``) is its own;
the figures printed are the median of ``--runs`` runs. The outbox relay and the directory consumer are
not started (no broker is needed): the figures are the import's alone. As ``serve`` does, the process
freezes its startup heap once the app has started (``freeze_startup_heap``), before anything is imported.

    .venv/bin/python bench/bench_caseload_import.py                     # PostgreSQL and SQLite, 100k rows
    .venv/bin/python bench/bench_caseload_import.py --rows 10000 100000 --databases postgresql

PostgreSQL: ``$STEADFAST_BENCH_POSTGRES_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/
postgres``), a user that may CREATE DATABASE. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from steadfast_caseload.bootstrap import definition
from steadfast_caseload.directory.projector import apply_staff_event
from steadfast_caseload.settings import CaseloadSettings
from steadfast_shared.cli import freeze_startup_heap
from steadfast_shared.codes import AllocationChangeReason
from steadfast_shared.db.migrations import upgrade
from steadfast_shared.events.envelope import new_event
from steadfast_shared.settings import Environment
from steadfast_shared.testing.helpers import ServiceClient, service_app
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.enums import EmploymentType, LeavingReason, Role
from steadfast_staff.events import WorkerHired
from steadfast_staff.events import registry as staff_registry
from steadfast_staff.workers.models import Terms, Worker

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
TEAMS = ("ACIN1", "ACIN2", "CP1", "CP2", "CP3", "LAC1", "LAC2", "CWD1", "LC1", "MASH")
HANDOVER_REASONS = [r for r in AllocationChangeReason]
FIRST_DAY = date(2012, 4, 2)
CHUNK = 64 * 1024


# -- the extract ------------------------------------------------------------------------------------


def staff_workers(count: int, rng: random.Random) -> list[Worker]:
    """Workers as the staff service builds them: mixed roles, agency staff, NQSWs, moves and leavers."""
    workers = []
    roles = [Role.social_worker] * 6 + [Role.senior_social_worker] * 2 + [Role.consultant_practitioner]
    for n in range(count):
        start = FIRST_DAY - timedelta(days=rng.randrange(0, 3000))
        role = roles[n % len(roles)]
        asye = start if role is Role.social_worker and n % 5 == 0 else None
        worker = Worker.hire(
            external_id=f"HR{n:05d}",
            display_name=f"Worker {n}",
            start_date=start,
            terms=Terms(
                role=role,
                team=TEAMS[n % len(TEAMS)],
                fte=rng.choice((1.0, 1.0, 1.0, 0.8, 0.5)),
                employment_type=EmploymentType.agency if n % 7 == 0 else EmploymentType.permanent,
            ),
            asye_start=asye,
        )
        if n % 4 == 0:  # a move of team, dated
            current = worker.current
            worker.change_terms(
                FIRST_DAY + timedelta(days=rng.randrange(30, 900)),
                Terms(
                    role=current.role,
                    team=TEAMS[(n + 3) % len(TEAMS)],
                    fte=float(current.fte),
                    employment_type=current.employment_type,
                ),
            )
        if n % 9 == 0:  # a leaver
            worker.leave(FIRST_DAY + timedelta(days=rng.randrange(1000, 1400)), LeavingReason.resignation)
        workers.append(worker)
    return workers


def write_extract(
    folder: Path, rows: int, children: int, workers: list[Worker], seed: int
) -> tuple[Path, Path]:
    """``children.csv`` (one row per episode) and ``allocations.csv`` (``rows`` rows, chronological)."""
    rng = random.Random(seed)
    per_child, extra = divmod(rows, children)
    episodes: list[str] = []
    allocations: list[tuple[date, str]] = []
    refs = [w.external_id for w in workers]
    for c in range(children):
        child = f"LCS{c:07d}"
        count = per_child + (1 if c < extra else 0)
        start = FIRST_DAY + timedelta(days=rng.randrange(0, 700))
        episode_type = rng.choice(("cin", "cin", "cp", "cla"))
        episodes.append(f"{child},assessment,{start - timedelta(days=40)},{start}\n")
        episodes.append(f"{child},{episode_type},{start},\n")
        day, worker = start, rng.choice(refs)
        for k in range(count):
            last = k == count - 1
            end = None if last else day + timedelta(days=rng.randrange(14, 120))
            reason = "" if k == 0 else rng.choice(HANDOVER_REASONS).value
            allocations.append((day, f"{child},{worker},{day},{end or ''},{reason}\n"))
            if end is not None:
                day = end  # the handover day: the old allocation ends the day the new one starts
                previous = worker
                while worker == previous:
                    worker = rng.choice(refs)
    allocations.sort(key=lambda pair: pair[0])
    children_csv = folder / "children.csv"
    allocations_csv = folder / "allocations.csv"
    with children_csv.open("w", encoding="utf-8") as out:
        out.write("external_id,episode_type,episode_start,episode_end\n")
        out.writelines(episodes)
    with allocations_csv.open("w", encoding="utf-8") as out:
        out.write("child_external_id,worker_external_id,start_date,end_date,reason\n")
        out.writelines(line for _, line in allocations)
    return children_csv, allocations_csv


# -- one run ----------------------------------------------------------------------------------------


async def scratch_database(database: str, folder: Path) -> tuple[str, Any]:
    """A migrated scratch database: its URL, and a coroutine function that drops it."""
    if database == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'caseload.db'}"

        async def forget() -> None:
            return None

        await asyncio.to_thread(upgrade, definition.alembic_ini, url)
        return url, forget
    server = os.environ.get("STEADFAST_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    name = f"bench_caseload_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)

    async def drop() -> None:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    await asyncio.to_thread(upgrade, definition.alembic_ini, url)
    return url, drop


async def seed_directory(client: ServiceClient, workers: list[Worker]) -> None:
    runtime = client.runtime
    async with runtime.database.sessionmaker() as session:
        uow = UnitOfWork(session, tables=runtime.definition.tables, registry=runtime.definition.registry)
        for worker in workers:
            event = new_event(
                source=staff_registry.source,
                type_=WorkerHired.type,
                subject=str(worker.id),
                data=worker.snapshot().model_dump(mode="json"),
            )
            await apply_staff_event(uow, event)
        await uow.commit()


async def stream(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


async def post(client: ServiceClient, kind: str, path: Path) -> tuple[float, dict[str, Any]]:
    began = time.perf_counter()
    answer = await client.http.post(
        f"/v1/imports/{kind}?mode=atomic",
        content=stream(path),
        headers={**client.auth("caseload:write"), "Content-Type": "text/csv"},
        timeout=None,
    )
    seconds = time.perf_counter() - began
    body = answer.json()
    if answer.status_code != 200:
        raise SystemExit(f"{kind} import failed ({answer.status_code}): {json.dumps(body)[:2000]}")
    counts: dict[str, Any] = body["counts"]
    return seconds, counts


async def copy_seconds(url: str, path: Path) -> float:
    """PostgreSQL's own ``COPY`` of the allocations file into a scratch table of its columns (the bound
    an import could approach): the seconds it took, the table's creation not counted."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(
                text(
                    "CREATE TABLE copy_allocations (child_external_id varchar(100) NOT NULL, "
                    "worker_external_id varchar(100) NOT NULL, start_date date NOT NULL, end_date date, "
                    "reason varchar(40))"
                )
            )
            await conn.commit()
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            began = time.perf_counter()
            await driver.copy_to_table("copy_allocations", source=str(path), format="csv", header=True)
            seconds = time.perf_counter() - began
            await conn.execute(text("DROP TABLE copy_allocations"))
            await conn.commit()
        return seconds
    finally:
        await engine.dispose()


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def one_run(
    database: str, rows: int, children: int, workers: int, seed: int, profile: str | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-caseload-") as tmp:
        folder = Path(tmp)
        rng = random.Random(seed)
        staff = staff_workers(workers, rng)
        children = min(children or max(1, rows // 5), rows)
        children_csv, allocations_csv = write_extract(folder, rows, children, staff, seed)
        url, drop = await scratch_database(database, folder)
        settings = CaseloadSettings(
            environment=Environment.test,
            database_url=url,
            relay_enabled=False,
            log_level="WARNING",
            log_json=False,
        )
        bare = dataclasses.replace(definition, consumers=())
        try:
            async with service_app(bare, settings) as client:
                # As ``serve`` does once the app is built: the app's own objects are left out of the
                # garbage collector's full collections (see steadfast_shared.cli.freeze_startup_heap).
                freeze_startup_heap()
                await seed_directory(client, staff)
                children_seconds, children_counts = await post(client, "children", children_csv)
                rss_before = max_rss_mib()
                profiler = cProfile.Profile() if profile else None
                if profiler is not None:
                    profiler.enable()
                seconds, counts = await post(client, "allocations", allocations_csv)
                if profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(profile)
                rss_after = max_rss_mib()
                again_seconds, again_counts = await post(client, "allocations", allocations_csv)
            copy = await copy_seconds(url, allocations_csv) if database == "postgresql" else None
        finally:
            await drop()
        assert counts["created"] == rows, counts
        assert again_counts["unchanged"] == rows, again_counts
        return {
            "database": database,
            "rows": rows,
            "children_rows": children_counts["rows"],
            "children_seconds": children_seconds,
            "seconds": seconds,
            "rows_per_second": rows / seconds,
            "again_seconds": again_seconds,
            "again_rows_per_second": rows / again_seconds,
            "rss_before_mib": rss_before,
            "peak_rss_mib": rss_after,
            "allocations_csv_mib": allocations_csv.stat().st_size / 2**20,
            "copy_seconds": copy,
            "copy_rows_per_second": rows / copy if copy else None,
            "import_to_copy": (rows / seconds) / (rows / copy) if copy else None,
        }


# -- the orchestration ------------------------------------------------------------------------------


def run_child(database: str, rows: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--one",
        database,
        str(rows),
        "--children",
        str(args.children or max(1, rows // 5)),
        "--workers",
        str(args.workers),
        "--seed",
        str(args.seed),
    ]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-8000:])
        raise SystemExit(f"the run {database} {rows} failed (exit status {done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000])
    parser.add_argument(
        "--databases", nargs="+", choices=("postgresql", "sqlite"), default=["postgresql", "sqlite"]
    )
    parser.add_argument("--children", type=int, default=0, help="children in the extract (default rows / 5)")
    parser.add_argument("--workers", type=int, default=150)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="with --one: write a cProfile of the timed allocations import to FILE (read it with pstats)",
    )
    parser.add_argument("--one", nargs=2, metavar=("DATABASE", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        database, rows = args.one[0], int(args.one[1])
        print(
            json.dumps(
                asyncio.run(one_run(database, rows, args.children, args.workers, args.seed, args.profile))
            )
        )
        return

    medians: dict[tuple[str, int], dict[str, float]] = {}
    print(
        f"allocations import: {args.workers} workers, {args.children or 'rows / 5'} children, "
        f"{args.runs} runs each"
    )
    header = (
        f"{'database':<11}{'rows':>8}{'run':>5}{'seconds':>9}{'rows/s':>9}{'again s':>9}{'again r/s':>10}"
        f"{'rss before':>12}{'peak rss':>10}{'COPY s':>8}{'import/COPY':>12}"
    )
    print(header)
    for database in args.databases:
        for rows in args.rows:
            runs = []
            for n in range(args.runs):
                r = run_child(database, rows, args)
                runs.append(r)
                print(
                    f"{database:<11}{rows:>8}{n + 1:>5}{r['seconds']:>9.1f}{r['rows_per_second']:>9.0f}"
                    f"{r['again_seconds']:>9.1f}{r['again_rows_per_second']:>10.0f}"
                    f"{r['rss_before_mib']:>10.0f}Mi{r['peak_rss_mib']:>8.0f}Mi"
                    + (f"{r['copy_seconds']:>8.2f}{r['import_to_copy']:>12.3f}" if r["copy_seconds"] else ""),
                    flush=True,
                )
            keys = ("seconds", "rows_per_second", "again_rows_per_second", "rss_before_mib", "peak_rss_mib")
            medians[(database, rows)] = {k: statistics.median(r[k] for r in runs) for k in keys}
            if database == "postgresql":
                for k in ("copy_seconds", "copy_rows_per_second", "import_to_copy"):
                    medians[(database, rows)][k] = statistics.median(r[k] for r in runs)
    print("\nmedians")
    for (database, rows), m in medians.items():
        print(
            f"{database:<11}{rows:>8} rows: {m['seconds']:.1f} s, {m['rows_per_second']:.0f} rows/s "
            f"(re-import, all unchanged: {m['again_rows_per_second']:.0f} rows/s), peak RSS "
            f"{m['peak_rss_mib']:.0f} MiB (before the import {m['rss_before_mib']:.0f} MiB)"
        )
    for (database, rows), m in medians.items():
        if database == "postgresql":
            print(
                f"PostgreSQL's COPY of the same {rows}-row file: {m['copy_seconds']:.2f} s, "
                f"{m['copy_rows_per_second']:.0f} rows/s; import rows/s / COPY rows/s = "
                f"{m['import_to_copy']:.3f} "
                f"(median of {args.runs} runs' ratios)"
            )
    if {"postgresql", "sqlite"} <= set(args.databases):
        for rows in args.rows:
            pg, lite = medians[("postgresql", rows)], medians[("sqlite", rows)]
            ratio = pg["rows_per_second"] / lite["rows_per_second"]
            print(f"ratio PostgreSQL / SQLite at {rows} rows: {ratio:.2f}x rows per second")
    if len(args.rows) > 1:
        small, large = min(args.rows), max(args.rows)
        for database in args.databases:
            a, b = medians[(database, small)], medians[(database, large)]
            growth_a = a["peak_rss_mib"] - a["rss_before_mib"]
            growth_b = b["peak_rss_mib"] - b["rss_before_mib"]
            peak_ratio = b["peak_rss_mib"] / a["peak_rss_mib"]
            print(
                f"{database}: {large // small}x the rows -> peak RSS {peak_ratio:.2f}x; "
                f"growth during the import {growth_a:.0f} MiB at {small} rows, {growth_b:.0f} MiB at {large}"
            )


if __name__ == "__main__":
    main()
