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
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench.system, the e2e council

from bench.system import APPLIED, PRODUCERS, UNPUBLISHED, System, running_system, wait_for
from tests.e2e.council import Council, build_council

CASELOAD_FILES = ("children", "allocations", "assessments", "visits", "reviews", "iro_visits")
#: The council's record lists (each a CSV extract): the fields of ``Council``.
RECORDS = tuple(f.name for f in dataclasses.fields(Council))
ID_COLUMNS = ("external_id", "child_external_id", "worker_external_id")


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


async def one_run(backend: str, council: Council) -> dict[str, Any]:
    async with running_system(backend) as system:
        return await measure(backend, council, system)


async def measure(backend: str, council: Council, system: System) -> dict[str, Any]:
    url, http, databases = system.url, system.http, system.databases
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
            await databases.count(s, "SELECT count(*) FROM directory_workers") for s in ("caseload", "audit")
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
