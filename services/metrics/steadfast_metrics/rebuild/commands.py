"""The metrics service's own commands (``steadfast-metrics <command>``, beside the shared ones):

- ``rebuild [--into URL] [--batch-size N]``: without ``--into``, rebuild the service's own database in
  place and commit the consumer group's offsets at the end offsets read up to. **Stop every instance
  of the service first**: the command refuses while one consumes. With ``--into``, migrate that
  database to head and rebuild into it, leaving the group's offsets alone (the live service may keep
  running). Prints a JSON summary.
- ``check-consistency [--as-of YYYY-MM-DD ...] [--scratch-url URL]``: rebuild into a scratch database
  and compare it with the live one (:mod:`.consistency`); prints the JSON report and exits 1 on any
  difference. The scratch database is, unless given, a new database ``<dbname>_consistency_<random>``
  on the live PostgreSQL server (the user needs ``CREATEDB``) or a temporary SQLite file, created and
  dropped by the command. A given ``--scratch-url`` is migrated, emptied and rebuilt, and kept.
- ``snapshot [--as-of YYYY-MM-DD]``: take a KPI snapshot now, as the ``POST /v1/snapshots`` endpoint
  does (default: today), and print its summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from steadfast_metrics.history.repository import SnapshotRepository
from steadfast_metrics.history.service import HistoryService
from steadfast_metrics.kpis.service import kpi_service
from steadfast_metrics.rebuild.consistency import check_consistency
from steadfast_metrics.rebuild.service import RebuildRefused, RebuildResult, rebuild_projections
from steadfast_metrics.settings import metrics_settings
from steadfast_shared.dates import today
from steadfast_shared.db import Database, create_database
from steadfast_shared.db.migrations import upgrade
from steadfast_shared.service import Runtime, ServiceCommand

#: Events a transaction of the rebuild applies.
DEFAULT_BATCH_SIZE = 1000


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _batch_size(raw: str) -> int:
    size = int(raw)
    if size < 1:
        raise argparse.ArgumentTypeError("the batch size is at least 1")
    return size


async def _migrate(runtime: Runtime, url: str) -> None:
    # Alembic's env.py runs an event loop of its own (asyncio.run), so it needs a thread of its own.
    await asyncio.to_thread(upgrade, runtime.definition.alembic_ini, url)


async def _rebuild_into(runtime: Runtime, url: str, batch_size: int) -> tuple[Database, RebuildResult]:
    """Migrate ``url`` to head and rebuild its projections (offsets untouched); the caller disposes."""
    await _migrate(runtime, url)
    database = create_database(url, pool_size=2)
    try:
        return database, await rebuild_projections(database, metrics_settings(runtime), batch_size=batch_size)
    except BaseException:
        await database.dispose()
        raise


# -- rebuild ----------------------------------------------------------------------------------------


def _configure_rebuild(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--into",
        metavar="URL",
        help="rebuild into this database (migrated to head first) instead of the service's own",
    )
    parser.add_argument("--batch-size", type=_batch_size, default=DEFAULT_BATCH_SIZE, metavar="N")


async def _rebuild(runtime: Runtime, args: argparse.Namespace) -> int:
    settings = metrics_settings(runtime)
    try:
        if args.into is None:
            result = await rebuild_projections(
                runtime.database, settings, batch_size=args.batch_size, commit_offsets=True
            )
            target = "in place"
        else:
            database, result = await _rebuild_into(runtime, args.into, args.batch_size)
            await database.dispose()
            target = _shown(args.into)
    except RebuildRefused as exc:
        print(f"steadfast-metrics rebuild: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"service": "metrics", "rebuilt": target, **result.summary()}))
    return 0


# -- check-consistency ------------------------------------------------------------------------------


def _configure_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        nargs="+",
        action="extend",
        metavar="YYYY-MM-DD",
        help="the days to compare the KPIs on (default: today)",
    )
    parser.add_argument(
        "--scratch-url",
        metavar="URL",
        help="rebuild into this database (kept) instead of a scratch database made and dropped here",
    )
    parser.add_argument("--batch-size", type=_batch_size, default=DEFAULT_BATCH_SIZE, metavar="N")


@asynccontextmanager
async def scratch_database(live_url: str) -> AsyncIterator[str]:
    """A new empty database beside the live one, dropped afterwards: ``<dbname>_consistency_<random>``
    on the same PostgreSQL server, or a SQLite file in a temporary folder."""
    url = make_url(live_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="steadfast-consistency-"))
        try:
            yield url.set(database=str(folder / "metrics.db")).render_as_string(hide_password=False)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if backend != "postgresql":
        raise ValueError(f"no scratch database on {backend}: give --scratch-url")
    suffix = f"_consistency_{secrets.token_hex(4)}"
    name = (url.database or "metrics")[: 63 - len(suffix)] + suffix
    quoted = '"' + name.replace('"', '""') + '"'
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f"CREATE DATABASE {quoted}"))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
    finally:
        await admin.dispose()


async def _check(runtime: Runtime, args: argparse.Namespace) -> int:
    settings = metrics_settings(runtime)
    days = sorted(set(args.as_of or [today()]))

    async def compare(url: str, shown: str) -> int:
        scratch, result = await _rebuild_into(runtime, url, args.batch_size)
        try:
            report = await check_consistency(runtime.database, scratch, settings, days)
        finally:
            await scratch.dispose()
        print(
            json.dumps(
                {
                    "service": "metrics",
                    "scratch": shown,
                    "rebuild": result.summary(),
                    **report.summary(),
                }
            )
        )
        return 0 if report.consistent else 1

    if args.scratch_url is not None:
        return await compare(args.scratch_url, _shown(args.scratch_url))
    async with scratch_database(settings.database_url) as url:
        return await compare(url, f"{_shown(url)} (created and dropped)")


# -- snapshot ---------------------------------------------------------------------------------------


def _configure_snapshot(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of", type=date.fromisoformat, metavar="YYYY-MM-DD", help="the day (default: today)"
    )


async def _snapshot(runtime: Runtime, args: argparse.Namespace) -> int:
    settings = metrics_settings(runtime)
    async with runtime.database.sessionmaker() as session:
        kpis = kpi_service(runtime, session)
        history = HistoryService(SnapshotRepository(session), kpis, settings.forecast_points)
        taken = await history.take(args.as_of or today(), "on_demand")
        await session.commit()
    print(json.dumps({"service": "metrics", "snapshot": taken.model_dump(mode="json")}))
    return 0


REBUILD = ServiceCommand(
    name="rebuild",
    help="rebuild the projections from the topics (in place: stop the service first; or --into URL)",
    configure=_configure_rebuild,
    run=_rebuild,
)
CHECK_CONSISTENCY = ServiceCommand(
    name="check-consistency",
    help="rebuild into a scratch database and compare its KPIs and tables with the live ones",
    configure=_configure_check,
    run=_check,
)
SNAPSHOT = ServiceCommand(
    name="snapshot",
    help="take a snapshot of every KPI, for the council and each team (default: today)",
    configure=_configure_snapshot,
    run=_snapshot,
)

COMMANDS = (REBUILD, CHECK_CONSISTENCY, SNAPSHOT)
