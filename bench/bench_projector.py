"""Benchmark: the metrics projector's batch path alone, without a broker.

A council's events (``bench/metrics_data.py``: 150 workers, 1,500 open cases, the history oldest first,
each parsed into a ``CloudEvent`` as the consumer does) are applied with
``steadfast_metrics.facts.projector.apply_events`` in batches of ``--batch-size``, one transaction each,
into a fresh database migrated to head (PostgreSQL and a SQLite file), and timed: the events a second of
the database work a live batch does after its tracking rows. Each database in a child process of its
own, ``--repeat`` times, interleaved; the medians are printed.

``--code DIR`` runs the children with another checkout's packages (``DIR/shared``, ``DIR/services/*``
first on ``PYTHONPATH``), to compare two versions of the projector in one run:

    .venv/bin/python bench/bench_projector.py --events 60000 --repeat 3
    .venv/bin/python bench/bench_projector.py --code /tmp/old-checkout --code .   # old against new

PostgreSQL: ``$STEADFAST_BENCH_POSTGRES_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/
postgres``). Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import checkouts  # the bench's own helper, next to this file (the script's folder is on sys.path)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


async def _one(backend: str, events: int, batch_size: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "bench"))
    import metrics_data  # type: ignore[import-not-found]
    from sqlalchemy.engine import make_url

    from steadfast_metrics.bootstrap import definition
    from steadfast_metrics.facts import projector
    from steadfast_shared.db import create_database
    from steadfast_shared.db.migrations import upgrade
    from steadfast_shared.events import CloudEvent
    from steadfast_shared.uow import UnitOfWork

    council = metrics_data.council(2015)
    parsed: list[CloudEvent] = []
    per_day: dict[Any, Any] = {}
    for change in metrics_data.council_changes(council):
        if len(parsed) >= events:
            break
        moment = metrics_data.event_time(change[0], next(per_day.setdefault(change[0], itertools.count())))
        parsed.append(CloudEvent.from_json(metrics_data.envelope(change, moment)))
    with tempfile.TemporaryDirectory(prefix="bench-projector-") as tmp:
        server = make_url(os.environ.get("STEADFAST_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL)
        name = f"bench_projector_{uuid.uuid4().hex[:8]}"
        if backend == "postgresql":
            import asyncpg  # type: ignore[import-untyped]

            admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
            admin = await asyncpg.connect(admin_dsn)
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.close()
            url = server.set(database=name).render_as_string(hide_password=False)
        else:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'metrics.db'}"
        try:
            await asyncio.to_thread(upgrade, definition.alembic_ini, url)
            database = create_database(url)
            began = time.perf_counter()
            for first in range(0, len(parsed), batch_size):
                async with database.sessionmaker() as session:
                    uow = UnitOfWork(session, tables=definition.tables, registry=definition.registry)
                    await projector.apply_events(uow, parsed[first : first + batch_size])
                    await uow.commit()
            seconds = time.perf_counter() - began
            await database.dispose()
        finally:
            if backend == "postgresql":
                admin = await asyncpg.connect(admin_dsn)
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()
    return {"events": len(parsed), "seconds": seconds, "code": projector.__file__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--databases", nargs="+", choices=("sqlite", "postgresql"), default=["postgresql", "sqlite"]
    )
    parser.add_argument("--code", type=Path, action="append", help="a checkout to take the packages from")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        backend, events, batch_size = args.one
        print(json.dumps(asyncio.run(_one(backend, int(events), int(batch_size)))))
        return
    codes = [c.resolve() for c in (args.code or [ROOT])]
    print(f"projector benchmark: {args.events:,} events, batches of {args.batch_size}, {args.repeat} runs")
    print(f"machine: {os.cpu_count()} CPUs, load average at the start {os.getloadavg()[0]:.2f}")
    results: dict[tuple[str, Path], list[float]] = {}
    for _ in range(args.repeat):
        for backend in args.databases:
            for code in codes:
                env = checkouts.environment(code)
                command = [sys.executable, __file__, "--one", backend, str(args.events), str(args.batch_size)]
                done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
                if done.returncode != 0:
                    raise SystemExit(f"{backend} {code} failed:\n{done.stderr[-4000:]}")
                r = json.loads(done.stdout.strip().splitlines()[-1])
                rate = r["events"] / r["seconds"]
                results.setdefault((backend, code), []).append(rate)
                print(
                    f"  {backend:<11} {r['code']:<70} {r['seconds']:7.2f} s  {rate:9,.0f} events/s",
                    flush=True,
                )
    print("\nmedians")
    for backend in args.databases:
        base = statistics.median(results[(backend, codes[0])])
        for code in codes:
            median = statistics.median(results[(backend, code)])
            print(f"  {backend:<11} {code}: {median:,.0f} events/s ({median / base:.2f} x the first)")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
