"""Benchmark: how long ``GET /v1/kpis`` takes for a council, and for a region of a hundred councils.

For each size, in a child process of its own (so that its peak resident memory is its own):

1. a fresh PostgreSQL database migrated to head is filled with the metrics projections that three years
   of a council's events leave behind (``bench/metrics_data.py``: 150 workers in post and 1,500 open
   cases on 2015-03-02, with the leavers, posts and holdings, placements, surveys, the closed cases, every
   episode, allocation and handover, assessment, visit, review and IRO visit, and the audits) -- or of
   ``--region`` such councils (team codes ``C007-CP1``), 15,000 workers and 150,000 open cases by
   default. The rows are the ones the projector writes (checked against it on a small council); they are
   copied in with ``COPY`` (the bench's own shortcut: replaying the events would take hours), the
   revision and stream rows are set, and the tables are vacuumed and analysed (as autovacuum would
   leave them after the inserts; the test server runs without it): the visibility map lets the
   loader's look-ups in the indexes stay in the indexes;
2. the service's app runs in-process (lifespan started, no consumer, no snapshot schedule), and
   ``GET /v1/kpis?as_of=2015-03-02`` is asked with a bearer token through ``httpx.ASGITransport``:

   - **cold**: the app's answer cache emptied before each request (facts loaded, every KPI computed);
   - **warm**: the same request again (the cached answer, judged against the strategy);
   - **team**: ``&team=...`` (a different case-holding team each time) with the day's facts cached but
     not the team's values: the engine picks the team's records out of the council's facts;
   - **team, cold**: ``&team=...`` with the cache emptied;

3. where a cold answer's time goes: ``FactsRepository.load`` and ``compute_kpis`` timed on their own
   (council and one team), with the number of records loaded; ``--profile`` adds a cProfile of each
   (``FactsRepository.load``; ``compute_kpis`` for the council and for one team).

Median and 95th percentile over ``--requests`` requests (20 for the council, 5 for the region by
default), the data-load time, peak RSS, and the ratio region / council.

With ``--concurrency N [N ...]`` it measures throughput instead: the service runs in a uvicorn server of
its own (a child process, the real app), and N concurrent clients (one keep-alive connection each) share
``--warm-requests`` requests (the cached answer) and then ``--cold-requests`` requests that each see an
empty answer cache of their own (``X-Bench-Cache: cold``, honoured by a middleware installed only in the
bench's server: the request gets a runtime of its own, so it loads the facts and computes every KPI
itself instead of sharing another request's load). Requests/s answered 200, p50 and p95, and what was
not answered (status and problem type).

    .venv/bin/python bench/bench_kpis_latency.py                        # council, then region (100x)
    .venv/bin/python bench/bench_kpis_latency.py --sizes council --requests 50
    .venv/bin/python bench/bench_kpis_latency.py --sizes region --region 100 --profile
    .venv/bin/python bench/bench_kpis_latency.py --sizes council --concurrency 1 8 32
    .venv/bin/python bench/bench_kpis_latency.py --keep-database --profile  # fill once, reuse after

PostgreSQL: ``$STEADFAST_BENCH_POSTGRES_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/
postgres``), a user that may CREATE DATABASE. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import dataclasses
import io
import json
import math
import os
import pstats
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sized
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import metrics_data  # the bench's own helper, next to this file (the script's folder is on sys.path)
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from steadfast_metrics.bootstrap import definition
from steadfast_metrics.facts.repository import FactsRepository, collection_paused
from steadfast_metrics.kpis.engine import compute_kpis
from steadfast_metrics.kpis.service import KPI_CACHE, new_kpi_cache
from steadfast_metrics.settings import MetricsSettings
from steadfast_metrics.strategy.document import SLOUGH_2014_17
from steadfast_shared.db.migrations import upgrade
from steadfast_shared.http.app import create_app
from steadfast_shared.logging import configure_logging
from steadfast_shared.service import Runtime
from steadfast_shared.settings import Environment
from steadfast_shared.testing.helpers import ServiceClient, bearer, mint_token, service_app

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
AS_OF = metrics_data.AS_OF
#: The order the tables are filled in (the terms and holdings refer to workers and posts).
TABLES = (
    "fact_workers",
    "fact_worker_terms",
    "fact_posts",
    "fact_post_holdings",
    "fact_student_placements",
    "fact_survey_returns",
    "fact_episodes",
    "fact_allocations",
    "fact_assessments",
    "fact_visits",
    "fact_reviews",
    "fact_iro_visits",
    "fact_audits",
)
#: Headline values printed with each size, to show the data is a working council's.
HEADLINE = (
    "average_caseload",
    "permanent_rate",
    "statutory_visits_in_time_pct",
    "assessments_within_45_days_pct",
    "children_with_at_most_3_workers_pct",
    "audits_good_or_better_pct",
)


def max_rss_mib() -> float:
    """This process's peak resident memory: ``VmHWM`` of its own address space (``ru_maxrss`` would carry
    the parent's peak over ``fork`` and ``exec``), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def settings_for(url: str) -> MetricsSettings:
    """The service's settings in every mode: no relay, no snapshot schedule, warnings only."""
    return MetricsSettings(
        environment=Environment.test,
        database_url=url,
        relay_enabled=False,
        snapshot_interval_days=0,
        log_level="WARNING",
        log_json=False,
    )


#: The service without its consumer and tasks (nothing arrives: the data is copied in).
BARE = dataclasses.replace(definition, consumers=(), tasks=())


# -- the data ---------------------------------------------------------------------------------------


async def scratch_database(keep: str | None = None) -> tuple[str, Callable[[], Awaitable[None]], bool]:
    """A PostgreSQL database migrated to head: its URL, a coroutine function that drops it (or, with
    ``keep``, only lets it go), and whether it is already filled. Without ``keep`` the database is a new
    one; with it, it is the database ``keep`` (created when missing), kept after the run so that a
    later run with the same ``keep`` reuses its rows instead of filling it again."""
    server = os.environ.get("STEADFAST_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    name = keep or f"bench_kpis_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as conn:
        exists = keep is not None and bool(
            await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
        )
        if not exists:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)

    async def drop() -> None:
        if keep is None:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    try:
        await asyncio.to_thread(upgrade, definition.alembic_ini, url)
        filled = exists and await _filled(url)
    except BaseException:
        await drop()
        raise
    return url, drop, filled


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _filled(url: str) -> bool:
    """Whether a kept database was filled to the end (the revision row is written last)."""
    connection = await asyncpg.connect(_dsn(url))
    try:
        return bool(await connection.fetchval("SELECT count(*) FROM projection_revision"))
    finally:
        await connection.close()


async def reused(url: str) -> dict[str, Any]:
    """A kept database's rows, counted (nothing generated or copied), after vacuuming and analysing its
    tables (a migration may have added an index since it was filled)."""
    connection = await asyncpg.connect(_dsn(url))
    try:
        began = time.perf_counter()
        await connection.execute("VACUUM (ANALYZE)")
        analyse_seconds = time.perf_counter() - began
        rows = {}
        for table in TABLES:  # the bench's own table names
            rows[table] = int(await connection.fetchval(f"SELECT count(*) FROM {table}"))  # noqa: S608
        size = await connection.fetchval("SELECT pg_database_size(current_database())")
    finally:
        await connection.close()
    return {
        "rows": rows,
        "build_seconds": 0.0,
        "copy_seconds": 0.0,
        "analyse_seconds": analyse_seconds,
        "database_mib": size / 2**20,
        "reused": True,
    }


def kept_name(args_keep: bool, size: str, councils: int, seed: int) -> str | None:
    """The kept database's name for a size (None: a new database, dropped at the end)."""
    if not args_keep:
        return None
    return f"bench_kpis_{size}_{councils if size == 'region' else 1}_{seed}"


def _copy_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict) else value


async def fill(url: str, councils: Iterable[metrics_data.Council]) -> dict[str, Any]:
    """Copy the councils' projection rows in, set the revision and the streams, vacuum and analyse the tables
    (``build_seconds``: generating the records and their rows; ``copy_seconds``: the ``COPY``)."""
    connection = await asyncpg.connect(_dsn(url))
    rows_by_table: dict[str, int] = dict.fromkeys(TABLES, 0)
    build_seconds = copy_seconds = 0.0
    try:
        remaining = iter(councils)
        while True:
            began = time.perf_counter()  # generating the council's records, then their rows
            council = next(remaining, None)
            if council is None:
                break
            rows = metrics_data.fact_rows(council)
            build_seconds += time.perf_counter() - began
            began = time.perf_counter()
            async with connection.transaction():
                for table in TABLES:
                    records = rows.get(table, [])
                    if not records:
                        continue
                    columns = list(records[0])
                    await connection.copy_records_to_table(
                        table,
                        records=[tuple(_copy_value(r[c]) for c in columns) for r in records],
                        columns=columns,
                    )
                    rows_by_table[table] += len(records)
            copy_seconds += time.perf_counter() - began
        began = time.perf_counter()
        events = sum(rows_by_table.values())
        newest = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 17, tzinfo=UTC)
        await connection.execute("INSERT INTO projection_revision (id, revision) VALUES (1, $1)", events)
        for topic in ("steadfast.staff", "steadfast.caseload", "steadfast.audit"):
            await connection.execute(
                "INSERT INTO projection_sources (topic, newest_event_time, events_applied, last_applied_at) "
                "VALUES ($1, $2, $3, $4)",
                topic,
                newest,
                events,
                newest + timedelta(seconds=2),
            )
        await connection.execute("VACUUM (ANALYZE)")
        analyse_seconds = time.perf_counter() - began
        size = await connection.fetchval("SELECT pg_database_size(current_database())")
    finally:
        await connection.close()
    return {
        "rows": rows_by_table,
        "build_seconds": build_seconds,
        "copy_seconds": copy_seconds,
        "analyse_seconds": analyse_seconds,
        "database_mib": size / 2**20,
    }


# -- the requests -----------------------------------------------------------------------------------


async def timed_get(client: ServiceClient, url: str, headers: dict[str, str]) -> tuple[float, dict[str, Any]]:
    began = time.perf_counter()
    answer = await client.http.get(url, headers=headers, timeout=None)
    seconds = time.perf_counter() - began
    if answer.status_code != 200:
        raise SystemExit(f"GET {url} answered {answer.status_code}: {answer.text[:2000]}")
    body: dict[str, Any] = answer.json()
    return seconds, body


def empty_cache(client: ServiceClient) -> None:
    """Forget every cached fact and value: a new cache in the process's runtime."""
    runtime: Runtime = client.app.state.runtime
    runtime.components[KPI_CACHE] = new_kpi_cache(runtime)


def forget_values(client: ServiceClient) -> None:
    """Forget the cached values, keep the day's facts."""
    runtime: Runtime = client.app.state.runtime
    runtime.components[KPI_CACHE].values.entries.clear()


async def breakdown(client: ServiceClient, team: str, runs: int) -> dict[str, Any]:
    """``FactsRepository.load`` and ``compute_kpis`` timed on their own (median of ``runs``)."""
    document = SLOUGH_2014_17
    loads, council_computes, team_computes = [], [], []
    sizes: dict[str, int] = {}
    for _ in range(runs):
        async with client.runtime.database.sessionmaker() as session:
            began = time.perf_counter()
            facts = await FactsRepository(session).load(AS_OF, document.window_days)
            loads.append(time.perf_counter() - began)
        with collection_paused():  # as the service computes
            began = time.perf_counter()
            compute_kpis(facts, document, AS_OF)
            council_computes.append(time.perf_counter() - began)
            began = time.perf_counter()  # a team's answer over the same facts (what the cache keeps)
            compute_kpis(facts, document, AS_OF, team)
            team_computes.append(time.perf_counter() - began)
        sizes = {
            f.name: len(value)
            for f in dataclasses.fields(facts)
            if f.name not in ("notes", "memo") and isinstance(value := getattr(facts, f.name), Sized)
        }
        del facts
    return {
        "load": statistics.median(loads),
        "compute_council": statistics.median(council_computes),
        "compute_team": statistics.median(team_computes),
        "facts": sizes,
    }


def profile_text(profile: cProfile.Profile, title: str, order: str, lines: int) -> str:
    out = io.StringIO()
    out.write(f"--- {title} (cProfile, by {order}) ---\n")
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats(order).print_stats(lines)
    return out.getvalue()


async def profiled(client: ServiceClient, team: str) -> str:
    """cProfile of ``FactsRepository.load`` and of ``compute_kpis`` (council, then one team), apart."""
    document = SLOUGH_2014_17
    loading = cProfile.Profile()
    async with client.runtime.database.sessionmaker() as session:
        repository = FactsRepository(session)
        loading.enable()
        facts = await repository.load(AS_OF, document.window_days)
        loading.disable()
    computing = cProfile.Profile()
    with collection_paused():
        computing.enable()
        compute_kpis(facts, document, AS_OF)
        computing.disable()
        team_computing = cProfile.Profile()
        team_computing.enable()
        compute_kpis(facts, document, AS_OF, team)
        team_computing.disable()
    return "\n".join(
        (
            profile_text(loading, "FactsRepository.load", "tottime", 20),
            profile_text(computing, "compute_kpis, council", "cumulative", 40),
            profile_text(computing, "compute_kpis, council", "tottime", 15),
            profile_text(team_computing, f"compute_kpis, team {team}", "cumulative", 25),
        )
    )


async def one_size(
    size: str, councils: int, requests: int, seed: int, profile: bool, keep: str | None
) -> dict[str, Any]:
    url, drop, filled = await scratch_database(keep)
    try:
        began = time.perf_counter()
        loaded = (
            await reused(url)
            if filled
            else await fill(
                url, metrics_data.region(councils, seed) if size == "region" else [metrics_data.council(seed)]
            )
        )
        load_seconds = time.perf_counter() - began
        settings = settings_for(url)
        prefixes = [""] if size == "council" else [f"C{n:03d}-" for n in range(councils)]
        teams = [p + t for p in prefixes for t in metrics_data.CASE_TEAMS if t != "MASH"]
        timings: dict[str, list[float]] = {"cold": [], "warm": [], "team": [], "team_cold": []}
        async with service_app(BARE, settings) as client:
            headers = client.auth("metrics:read")
            path = f"/v1/kpis?as_of={AS_OF.isoformat()}"
            rss_before = max_rss_mib()
            report: dict[str, Any] = {}
            for _ in range(requests):
                empty_cache(client)
                seconds, report = await timed_get(client, path, headers)
                timings["cold"].append(seconds)
            for _ in range(requests):
                seconds, _body = await timed_get(client, path, headers)
                timings["warm"].append(seconds)
            for n in range(requests):
                forget_values(client)
                seconds, _body = await timed_get(client, f"{path}&team={teams[n % len(teams)]}", headers)
                timings["team"].append(seconds)
            for n in range(requests):
                empty_cache(client)
                seconds, _body = await timed_get(client, f"{path}&team={teams[-1 - n % len(teams)]}", headers)
                timings["team_cold"].append(seconds)
            parts = await breakdown(client, teams[0], min(3, requests))
            profile_report = await profiled(client, teams[0]) if profile else None
        headline = {k["id"]: k["value"] for k in report["kpis"] if k["id"] in HEADLINE}
    finally:
        await drop()
    return {
        "size": size,
        "councils": councils if size == "region" else 1,
        "load_seconds": load_seconds,
        "loaded": loaded,
        "timings": timings,
        "breakdown": parts,
        "headline": headline,
        "rss_before_mib": rss_before,
        "peak_rss_mib": max_rss_mib(),
        "profile": profile_report,
    }


# -- concurrent clients through a real server -------------------------------------------------------


COLD_HEADER = (b"x-bench-cache", b"cold")


class _AppWithOwnState:
    """The app as one request sees it: the app's state copied, so that the request's answer cache is
    its own (``request.app`` is ``scope["app"]``); every other attribute is the app's."""

    def __init__(self, app: FastAPI, state: State) -> None:
        self._app = app
        self.state = state

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)


class ColdRequests:
    """The bench server's middleware: a request with ``X-Bench-Cache: cold`` sees an empty answer cache of
    its own (it loads the facts and computes every KPI; a concurrent request neither empties its cache nor
    shares its load). Installed only in the bench's own server process."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and COLD_HEADER in scope["headers"]:
            app: FastAPI = scope["app"]
            # A runtime of its own: the same settings and database, its components (the cache) new.
            runtime = dataclasses.replace(app.state.runtime)
            state = State({**app.state._state, "runtime": runtime})
            scope = {**scope, "app": _AppWithOwnState(app, state)}
        await self.app(scope, receive, send)


def serve(url: str, port: int) -> None:
    app = create_app(BARE, settings_for(url))
    app.add_middleware(ColdRequests)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def spawn_server(url: str, port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    command = [sys.executable, __file__, "--serve", url, "--port", str(port)]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


async def wait_for_server(base_url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        for _ in range(300):
            if process.poll() is not None:
                raise SystemExit(f"the server exited ({process.returncode})")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise SystemExit("the server did not answer /healthz in 30 s")


async def concurrent_level(
    base_url: str, headers: dict[str, str], path: str, clients: int, requests: int
) -> dict[str, Any]:
    """``requests`` requests shared out among ``clients`` concurrent clients, one connection each."""
    remaining = iter(range(requests))
    latencies: list[float] = []
    refused: Counter[str] = Counter()  # the answers that were not a 200, by status and problem type

    async def client_loop(http: httpx.AsyncClient) -> None:
        for _ in remaining:
            began = time.perf_counter()
            answer = await http.get(path)
            if answer.status_code == 200:
                latencies.append(time.perf_counter() - began)
            else:
                problem = answer.json().get("type", "") if answer.content else ""
                refused[f"{answer.status_code} {problem.rsplit('/', 1)[-1]}"] += 1

    async with contextlib.AsyncExitStack() as stack:
        https = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=base_url, headers=headers, limits=httpx.Limits(max_connections=1), timeout=600
                )
            )
            for _ in range(clients)
        ]
        for http in https:  # open each client's connection before the clock starts
            (await http.get("/healthz")).raise_for_status()
        began = time.perf_counter()
        await asyncio.gather(*(client_loop(http) for http in https))
        seconds = time.perf_counter() - began
    return {
        "clients": clients,
        "requests": requests,
        "seconds": seconds,
        "per_second": len(latencies) / seconds,
        "p50": statistics.median(latencies) if latencies else math.nan,
        "p95": p95(latencies) if latencies else math.nan,
        "refused": dict(refused),
    }


async def one_size_concurrent(
    size: str,
    councils: int,
    levels: list[int],
    warm_requests: int,
    cold_requests: int,
    seed: int,
    keep: str | None,
) -> dict[str, Any]:
    """The size's data, the service in a uvicorn server of its own, and the clients in this process:
    at each level of concurrency, warm (the cached answer) then cold (each request empties the cache)."""
    url, drop, filled = await scratch_database(keep)
    results: list[dict[str, Any]] = []
    errors: dict[str, int] = {}
    try:
        began = time.perf_counter()
        loaded = (
            await reused(url)
            if filled
            else await fill(
                url, metrics_data.region(councils, seed) if size == "region" else [metrics_data.council(seed)]
            )
        )
        load_seconds = time.perf_counter() - began
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        token = mint_token(settings_for(url), "metrics:read", subject="bench-reader")
        path = f"/v1/kpis?as_of={AS_OF.isoformat()}"
        with tempfile.TemporaryFile() as log:
            process = spawn_server(url, port, log)
            try:
                await wait_for_server(base_url, process)
                async with httpx.AsyncClient(base_url=base_url, headers=bearer(token), timeout=600) as http:
                    (await http.get(path)).raise_for_status()  # the first answer, cached
                for clients in levels:
                    for mode, requests, headers in (
                        ("warm", warm_requests, bearer(token)),
                        ("cold", cold_requests, {**bearer(token), "X-Bench-Cache": "cold"}),
                    ):
                        level = await concurrent_level(base_url, headers, path, clients, requests)
                        results.append({"mode": mode, **level})
                        print(
                            f"{size} {mode} {clients} clients: {level['per_second']:.1f}/s "
                            f"{level['refused'] or ''}",
                            file=sys.stderr,
                            flush=True,
                        )
            finally:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                log.seek(0)
                errors = server_errors(log.read().decode(errors="replace"))
    finally:
        await drop()
    return {
        "size": size,
        "councils": councils if size == "region" else 1,
        "load_seconds": load_seconds,
        "loaded": loaded,
        "concurrent": results,
        "server_errors": errors,
    }


def server_errors(log: str) -> dict[str, int]:
    """The exceptions the server logged (the last line of each traceback), counted."""
    lines = log.splitlines()
    found: Counter[str] = Counter()
    for n, line in enumerate(lines):
        if line.startswith("Traceback"):
            last = next((x for x in lines[n + 1 :] if x and not x.startswith((" ", "\t", "Traceback"))), "")
            found[last[:300]] += 1
        elif "[error" in line:
            found[line.split("[error", 1)[1][:200]] += 1
    return dict(found)


def print_concurrent(r: dict[str, Any]) -> None:
    print(f"  {'cache':<6}{'clients':>8}{'requests':>9}{'seconds':>9}{'200/s':>9}{'p50':>10}{'p95':>10}")
    for mode in ("warm", "cold"):
        for level in (x for x in r["concurrent"] if x["mode"] == mode):
            refused = ", ".join(f"{n} x {kind}" for kind, n in level["refused"].items())
            print(
                f"  {mode:<6}{level['clients']:>8}{level['requests']:>9}{level['seconds']:>9.2f}"
                f"{level['per_second']:>9.1f}{level['p50'] * 1000:>8.1f}ms{level['p95'] * 1000:>8.1f}ms"
                + (f"  not answered: {refused}" if refused else "")
            )
    for error, n in r["server_errors"].items():
        print(f"  the server logged {n} x {error}")


# -- the orchestration ------------------------------------------------------------------------------


def run_child(size: str, args: argparse.Namespace) -> dict[str, Any]:
    requests = args.requests or (20 if size == "council" else 5)
    command = [
        sys.executable,
        __file__,
        "--one",
        size,
        "--region",
        str(args.region),
        "--requests",
        str(requests),
        "--seed",
        str(args.seed),
        *(["--profile"] if args.profile else []),
        *(["--concurrency", *map(str, args.concurrency)] if args.concurrency else []),
        "--warm-requests",
        str(args.warm_requests),
        "--cold-requests",
        str(args.cold_requests),
        *(["--keep-database"] if args.keep_database else []),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{size} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", choices=("council", "region"), default=["council", "region"])
    parser.add_argument("--region", type=int, default=100, help="councils in the region")
    parser.add_argument(
        "--requests", type=int, default=0, help="requests of each kind (20 council, 5 region)"
    )
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the load and the engine of each size"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        help="instead of the latencies: requests/s with this many concurrent clients (e.g. 1 4 16 64), "
        "through a uvicorn server",
    )
    parser.add_argument("--warm-requests", type=int, default=400, help="warm requests at each concurrency")
    parser.add_argument("--cold-requests", type=int, default=64, help="cold requests at each concurrency")
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="keep each size's database (bench_kpis_<size>_<councils>_<seed>) after the run, and reuse it "
        "when a run finds it filled: migrated to head, vacuumed and analysed, not filled again",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    if args.one:
        configure_logging("WARNING", json=False)
        keep = kept_name(args.keep_database, args.one, args.region, args.seed)
        if args.concurrency:
            result = asyncio.run(
                one_size_concurrent(
                    args.one,
                    args.region,
                    args.concurrency,
                    args.warm_requests,
                    args.cold_requests,
                    args.seed,
                    keep,
                )
            )
        else:
            result = asyncio.run(
                one_size(args.one, args.region, args.requests, args.seed, args.profile, keep)
            )
        print(json.dumps(result))
        return

    print(f"GET /v1/kpis?as_of={AS_OF.isoformat()}: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    results: dict[str, dict[str, Any]] = {}
    for size in args.sizes:
        r = results[size] = run_child(size, args)
        loaded = r["loaded"]
        rows = sum(loaded["rows"].values())
        label = "a council" if size == "council" else f"a region of {r['councils']} councils"
        print(
            f"\n{label}: {rows:,} projection rows ({loaded['database_mib']:,.0f} MiB) "
            + ("reused (kept from an earlier run), " if loaded.get("reused") else "")
            + f"loaded in "
            f"{r['load_seconds']:.1f} s (build {loaded['build_seconds']:.1f} s, "
            f"COPY {loaded['copy_seconds']:.1f} s, "
            f"VACUUM ANALYZE {loaded['analyse_seconds']:.1f} s)"
        )
        print("  " + ", ".join(f"{t.removeprefix('fact_')} {n:,}" for t, n in loaded["rows"].items()))
        if args.concurrency:
            print_concurrent(r)
            continue
        print("  " + ", ".join(f"{k} {v}" for k, v in r["headline"].items()))
        print(f"  {'request':<12}{'n':>4}{'median':>10}{'p95':>10}{'min':>10}{'max':>10}")
        for kind, values in r["timings"].items():
            print(
                f"  {kind:<12}{len(values):>4}{statistics.median(values) * 1000:>8.0f}ms"
                f"{p95(values) * 1000:>8.0f}ms{min(values) * 1000:>8.0f}ms{max(values) * 1000:>8.0f}ms"
            )
        b = r["breakdown"]
        print(
            f"  of a cold answer: FactsRepository.load {b['load'] * 1000:,.0f} ms, compute_kpis "
            f"{b['compute_council'] * 1000:,.0f} ms (one team: {b['compute_team'] * 1000:,.0f} ms)"
        )
        print("  facts loaded: " + ", ".join(f"{k} {v:,}" for k, v in b["facts"].items() if v))
        print(
            f"  peak RSS {r['peak_rss_mib']:,.0f} MiB (after loading the data, before the requests: "
            f"{r['rss_before_mib']:,.0f} MiB)"
        )
        if r["profile"]:
            print(r["profile"])
    if {"council", "region"} <= results.keys() and not args.concurrency:
        council, region = results["council"], results["region"]
        print(f"\nregion ({region['councils']} councils) / council, median latency:")
        for kind in council["timings"]:
            ratio = statistics.median(region["timings"][kind]) / statistics.median(council["timings"][kind])
            print(f"  {kind:<10} {ratio:6.1f}x")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
