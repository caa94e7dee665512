"""Benchmark: a batch's lookup of ids (``id = ANY($1)``) under PostgreSQL's generic and custom plans.

asyncpg prepares every statement, and PostgreSQL plans a prepared statement for no particular parameters
(a *generic* plan) after five runs. For a lookup of a batch's ids in a table that grows between
statistics, that plan is a sequential scan. This bench fills a table the shape of ``fact_visits`` 250
rows a batch, as the metrics consumer does, and before each batch times the consumer's lookup
(``SELECT id, child_version ... WHERE id = ANY($1) FOR UPDATE``, 260 ids) on one connection with the
default ``plan_cache_mode`` and on another with ``force_custom_plan`` (what the services set), the two
interleaved. It prints the lookup's median per 5,000 rows for each, and the ratio.

    .venv/bin/python bench/bench_plan_cache.py [--batches 120]

PostgreSQL: ``$STEADFAST_BENCH_POSTGRES_URL`` (a SQLAlchemy URL; default
``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``), a user that may CREATE DATABASE.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import date

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

LOOKUP = "SELECT id, child_version FROM visits WHERE id = ANY($1::uuid[]) FOR UPDATE"
TABLE = (
    "CREATE TABLE visits (id uuid PRIMARY KEY, child_id uuid NOT NULL, visit_date date NOT NULL, "
    "visit_type varchar(10) NOT NULL, child_version integer NOT NULL)"
)


def dsn(database: str) -> str:
    url = make_url(
        os.environ.get("STEADFAST_BENCH_POSTGRES_URL")
        or "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    return url.set(drivername="postgresql", database=database).render_as_string(hide_password=False)


async def main(batches: int) -> None:
    name = f"bench_plan_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(dsn("postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        generic = await asyncpg.connect(dsn(name))
        custom = await asyncpg.connect(dsn(name), server_settings={"plan_cache_mode": "force_custom_plan"})
        await generic.execute(TABLE)
        ids: list[uuid.UUID] = []
        timings: dict[str, dict[int, list[float]]] = {"generic": {}, "custom": {}}
        for _ in range(batches):
            rows = [(uuid.uuid4(), uuid.uuid4(), date(2015, 1, 1), "cp", 1) for _ in range(250)]
            wanted = [r[0] for r in rows[:200]] + ids[-60:]
            for mode, connection in (("generic", generic), ("custom", custom)):
                async with connection.transaction():
                    began = time.perf_counter()
                    await connection.fetch(LOOKUP, wanted)
                    timings[mode].setdefault(len(ids) // 5000, []).append(time.perf_counter() - began)
            await generic.executemany("INSERT INTO visits VALUES ($1, $2, $3, $4, $5)", rows)
            ids += [r[0] for r in rows]
        await generic.close()
        await custom.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(f"{'rows held':>12}{'generic plan':>15}{'custom plan':>14}{'ratio':>8}")
    for bucket in sorted(timings["generic"]):
        g = statistics.median(timings["generic"][bucket]) * 1000
        c = statistics.median(timings["custom"][bucket]) * 1000
        print(f"{bucket * 5000:>9,}+{g:>13.1f}ms{c:>12.1f}ms{g / c:>8.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=120, help="batches of 250 rows")
    asyncio.run(main(parser.parse_args().batches))
