"""Benchmark: what the outbox costs a write, ``POST /v1/workers`` with it and without it.

The staff service's real app serves each variant from a uvicorn server of its own (a child process on a
free port, lifespan started, bearer tokens checked, the request guard and its rate limit, the
transactional route committing once), each on a scratch database of its own migrated to head:

- **with** the outbox: the normal unit of work: the worker, its terms and its team in one transaction
  with the outbox row of its ``worker.hired`` event (the envelope built and serialised, the row inserted);
- **without** it: the same app, the same endpoint, except that the bench's server process overrides the
  ``get_uow`` dependency (``app.dependency_overrides``, in that process only) with one that takes the
  unit of work ``get_uow`` made and hands on a ``UnitOfWorkWithoutOutbox``: its ``write_outbox`` still
  flushes the changes and collects the events the aggregates recorded, then drops them instead of
  building envelopes and inserting outbox rows. Nothing in the service's own code changes.

The outbox relay runs in neither (``relay_enabled=False``, no broker): the outbox rows are written and
stay unpublished, so the figures are the write path's alone, not the relay's reads and updates.

The load comes from this process: ``--clients`` concurrent clients (one ``httpx.AsyncClient`` and one
keep-alive connection each, a token of its own) send ``--requests`` hires a round between them, each a
new worker in one of nine existing teams. The variants are interleaved (with, without, with, without,
... for ``--rounds`` rounds, after a warm-up round each that also sets the teams up), so both see the
same state of a shared machine. Per variant: the median of the rounds' requests per second, the 50th
and 95th percentile latency over all its requests, and the ratio with / without of the medians. At the
end the bench counts the rows: every hire a worker in both databases, one outbox row each in the first,
none in the second.

    .venv/bin/python bench/bench_outbox_writes.py                          # PostgreSQL, 8 clients
    .venv/bin/python bench/bench_outbox_writes.py --databases postgresql sqlite --clients 1 8 --rounds 5

PostgreSQL: ``$STEADFAST_BENCH_POSTGRES_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/
postgres``), a user that may CREATE DATABASE. SQLite: files in a temporary folder (WAL, as the
embedded default). Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import Request
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from steadfast_shared.db.migrations import upgrade
from steadfast_shared.events.envelope import CloudEvent
from steadfast_shared.http.app import create_app
from steadfast_shared.http.deps import get_uow
from steadfast_shared.settings import Environment
from steadfast_shared.testing.helpers import bearer, mint_token
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.bootstrap import definition
from steadfast_staff.settings import StaffSettings

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
VARIANTS = ("with", "without")
TEAMS = ("ASSESS1", "ASSESS2", "CIN1", "CIN2", "CIN3", "CP1", "CP2", "LAC1", "LAC2")
ROLES = ("social_worker", "senior_social_worker", "social_worker", "consultant_practitioner")
EMPLOYMENT = ("permanent", "permanent", "permanent", "permanent", "agency", "fixed_term")
#: The rate limit stays on (its bookkeeping is part of every write) but high enough never to refuse.
RATE_LIMIT_WRITES_PER_MINUTE = 10_000_000


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def settings_for(url: str) -> StaffSettings:
    """The settings of both servers (and of the tokens the clients mint)."""
    return StaffSettings(
        environment=Environment.test,
        database_url=url,
        relay_enabled=False,
        consumers_enabled=False,
        rate_limit_writes_per_minute=RATE_LIMIT_WRITES_PER_MINUTE,
        log_level="WARNING",
        log_json=False,
    )


# -- the server (a child process) -------------------------------------------------------------------


class UnitOfWorkWithoutOutbox(UnitOfWork):
    """The bench's "without the outbox": flush the changes, collect the aggregates' events and drop them
    (no envelope, no outbox row). Used only inside the bench's own server process."""

    async def write_outbox(self) -> list[CloudEvent]:
        await self.session.flush()
        self._collect()
        return []


def unit_of_work_without_outbox(request: Request) -> UnitOfWork:
    """``get_uow``, its session and all, with the outbox left out."""
    uow = get_uow(request)
    if not isinstance(uow, UnitOfWorkWithoutOutbox):
        uow = UnitOfWorkWithoutOutbox(uow.session, tables=uow.tables, registry=uow.registry)
        request.state.uow = uow
    return uow


def serve(variant: str, url: str, port: int) -> None:
    app = create_app(definition, settings_for(url))
    if variant == "without":
        app.dependency_overrides[get_uow] = unit_of_work_without_outbox
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    variant: str
    url: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def spawn_server(variant: str, url: str, log: Path) -> Server:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, __file__, "--serve", variant, "--url", url, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Server(variant, url, port, process)


async def start_server(variant: str, url: str, log: Path) -> Server:
    """A server of ``variant`` on a free port, once it answers ``/healthz``."""
    server = spawn_server(variant, url, log)
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        for _ in range(300):
            if server.process.poll() is not None:
                break
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/healthz")).status_code == 200:
                    return server
            await asyncio.sleep(0.1)
    stop_server(server)
    output = await asyncio.to_thread(log.read_text)
    raise SystemExit(f"the {variant} server did not answer /healthz:\n{output[-4000:]}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


# -- the databases ----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def scratch_databases(kind: str, folder: Path) -> AsyncIterator[dict[str, str]]:
    """One database per variant, migrated to head; dropped (or deleted) afterwards."""
    if kind == "sqlite":
        urls = {v: f"sqlite+aiosqlite:///{folder / f'staff_{v}.db'}" for v in VARIANTS}
        for url in urls.values():
            await asyncio.to_thread(upgrade, definition.alembic_ini, url)
        yield urls
        return
    server = os.environ.get("STEADFAST_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    names = {v: f"bench_outbox_{v}_{os.getpid()}_{uuid.uuid4().hex[:6]}" for v in VARIANTS}
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        urls = {}
        for variant, name in names.items():
            async with admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
            urls[variant] = make_url(server).set(database=name).render_as_string(hide_password=False)
            await asyncio.to_thread(upgrade, definition.alembic_ini, urls[variant])
        yield urls
    finally:
        async with admin.connect() as conn:
            for name in names.values():
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def count_rows(url: str) -> dict[str, int]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            queries = {
                "workers": "SELECT count(*) FROM workers",
                "hired events": "SELECT count(*) FROM outbox WHERE event_type LIKE '%.worker.hired.%'",
                "outbox": "SELECT count(*) FROM outbox",
            }
            return {k: int((await conn.execute(text(q))).scalar_one()) for k, q in queries.items()}
    finally:
        await engine.dispose()


# -- the load ---------------------------------------------------------------------------------------


@dataclass
class Round:
    variant: str
    clients: int
    requests: int
    seconds: float
    latencies: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def hire_body(label: str, n: int) -> dict[str, Any]:
    return {
        "external_id": f"{label}-{n}",
        "display_name": f"Bench Worker {label} {n}",
        "role": ROLES[n % len(ROLES)],
        "employment_type": EMPLOYMENT[n % len(EMPLOYMENT)],
        "fte": 1.0 if n % 5 else 0.6,
        "team": TEAMS[n % len(TEAMS)],
        "start_date": "2015-03-02",
        "swe_registration_number": f"SW{100000 + n}",
        "swe_registration_expiry": "2016-11-30",
    }


async def one_round(
    server: Server, settings: StaffSettings, clients: int, requests: int, label: str
) -> Round:
    """``requests`` hires shared out among ``clients`` concurrent clients, each on its own connection."""
    numbers = iter(range(requests))
    latencies: list[float] = []

    async def client_loop(http: httpx.AsyncClient) -> None:
        for n in numbers:
            body = hire_body(label, n)
            began = time.perf_counter()
            answer = await http.post("/v1/workers", json=body)
            latencies.append(time.perf_counter() - began)
            if answer.status_code != 201:
                raise SystemExit(f"POST /v1/workers answered {answer.status_code}: {answer.text[:2000]}")

    async with contextlib.AsyncExitStack() as stack:
        https = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=server.base_url,
                    headers=bearer(mint_token(settings, "staff:write", subject=f"bench-client-{i}")),
                    limits=httpx.Limits(max_connections=1),
                    timeout=120,
                )
            )
            for i in range(clients)
        ]
        for http in https:  # open each client's connection before the clock starts
            (await http.get("/healthz")).raise_for_status()
        began = time.perf_counter()
        await asyncio.gather(*(client_loop(http) for http in https))
        seconds = time.perf_counter() - began
    return Round(server.variant, clients, requests, seconds, latencies)


async def run_database(kind: str, args: argparse.Namespace) -> list[Round]:
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="bench_outbox_") as folder:
        async with scratch_databases(kind, Path(folder)) as urls:
            servers: dict[str, Server] = {}
            try:
                for variant in VARIANTS:
                    servers[variant] = await start_server(
                        variant, urls[variant], Path(folder) / f"{variant}.log"
                    )
                settings = settings_for(urls["with"])
                hires = 0
                for clients in args.clients:
                    for variant in VARIANTS:  # a warm-up round each (the first also sets up the teams)
                        await one_round(servers[variant], settings, clients, args.warmup, f"warm{clients}")
                    hires += args.warmup
                    for n in range(args.rounds):
                        for variant in VARIANTS:
                            label = f"{kind[0]}{clients}r{n}"
                            r = await one_round(servers[variant], settings, clients, args.requests, label)
                            rounds.append(r)
                            print_round(kind, n, r)
                        hires += args.requests
            finally:
                for server in servers.values():
                    stop_server(server)
            counted = {variant: await count_rows(urls[variant]) for variant in VARIANTS}
    expected = {
        "with": {"workers": hires, "hired events": hires, "outbox": hires + len(TEAMS)},  # + team.created
        "without": {"workers": hires, "hired events": 0, "outbox": 0},
    }
    if counted != expected:
        raise SystemExit(f"{kind}: expected the rows {expected}, found {counted}")
    print(f"{kind:<11}rows: with {counted['with']}, without {counted['without']} (as expected)")
    return rounds


def print_round(kind: str, n: int, r: Round) -> None:
    print(
        f"{kind:<11}{r.clients:>8}{n + 1:>6}  {r.variant:<8}{r.requests:>9}{r.seconds:>9.2f}"
        f"{r.per_second:>9.0f}{statistics.median(r.latencies) * 1000:>9.1f}{p95(r.latencies) * 1000:>9.1f}",
        flush=True,
    )


def summary(kind: str, rounds: list[Round], clients: int) -> None:
    medians = {}
    for variant in VARIANTS:
        mine = [r for r in rounds if r.variant == variant and r.clients == clients]
        latencies = [s for r in mine for s in r.latencies]
        rates = [r.per_second for r in mine]
        medians[variant] = statistics.median(rates)
        print(
            f"{kind:<11}{clients:>8}  {variant:<8} rounds {len(mine)}, median {medians[variant]:.0f} "
            f"requests/s (rounds {min(rates):.0f}-{max(rates):.0f}), latency p50 "
            f"{statistics.median(latencies) * 1000:.1f} ms, p95 {p95(latencies) * 1000:.1f} ms"
        )
    ratio = medians["with"] / medians["without"]
    print(f"{kind:<11}{clients:>8}  ratio with / without (median requests/s): {ratio:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", nargs="+", choices=("postgresql", "sqlite"), default=["postgresql"])
    parser.add_argument("--clients", type=int, nargs="+", default=[8], help="concurrent clients")
    parser.add_argument("--requests", type=int, default=400, help="hires per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each variant, interleaved")
    parser.add_argument("--warmup", type=int, default=100, help="hires in each variant's warm-up round")
    parser.add_argument("--serve", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.url, args.port)
        return

    print(
        f"POST /v1/workers with and without the outbox: {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}, {args.rounds} rounds of {args.requests} hires per variant"
    )
    print(
        f"{'database':<11}{'clients':>8}{'round':>6}  {'variant':<8}{'requests':>9}{'seconds':>9}"
        f"{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
    )
    results: dict[str, list[Round]] = {}
    for kind in args.databases:
        results[kind] = asyncio.run(run_database(kind, args))
    print("\nsummary")
    for kind, rounds in results.items():
        for clients in args.clients:
            summary(kind, rounds, clients)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
