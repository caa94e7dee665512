"""Stopping ``make run`` in the middle of a stream of writes and starting it again loses nothing.

The handbook's promise, tested the way a user meets it: the embedded runner (what ``make run`` starts)
runs as a subprocess on its own ``var/`` folder, broker port and service ports; writers post workers
and dated changes to the staff service over HTTP without pause; the runner is stopped in the middle
of that stream (SIGTERM, as Ctrl-C does, or SIGKILL of the runner, its broker and its services at
once) and started again, and the writers carry on.

A consumer, :class:`~steadfast_shared.consumer.IdempotentConsumer` on a fresh PostgreSQL database
(the ledger test service's schema: its tracking table and its ``receipts``, one row per handler run),
runs in this process throughout. When the runner restarts, its broker comes back *empty*: the
consumer's committed offsets are gone, and the staff relay republishes the whole retained outbox. At
the end, every event of every worker and team that exists in the staff service must have been
handled exactly once: once in the tracking table, once in the handler's side effects, nothing else.

The chain checked: the staff API (what exists, at which version) == the staff outbox (one event per
version of each aggregate) == what the consumer applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from steadfast_shared.consumer import IdempotentConsumer
from steadfast_shared.db.engine import Database, create_database
from steadfast_shared.embedded.runner import (
    discover_services,
)
from steadfast_shared.service import ServiceDefinition
from steadfast_shared.testing.helpers import TEST_SESSION_TIMEOUT_MS, wait_until
from tests.e2e.embedded import EmbeddedRun, Stop
from tests.support.ledger.bootstrap import definition as ledger
from tests.support.ledger.consumers import receipt_handler
from tests.support.ledger.models import receipts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

TOPIC = "steadfast.staff"
TEAMS = ("E2E-A", "E2E-B", "E2E-C")
WRITERS = 4
#: Successful writes wanted before the stop and after the restart.
WRITES_PER_PHASE = 60


# --------------------------------------------------------------------------------------------------
# The stream of writes
# --------------------------------------------------------------------------------------------------


@dataclass
class WriteStream:
    """Writers posting hires and dated changes of team without pause, whatever the server's state."""

    client: httpx.AsyncClient
    phase: str = "before"
    succeeded: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, writers: int = WRITERS) -> None:
        await asyncio.gather(*(self._writer(i) for i in range(writers)))

    def stop(self) -> None:
        self._stopping.set()

    async def _writer(self, index: int) -> None:
        rng = random.Random(index)
        hired: list[str] = []
        serial = 0
        while not self._stopping.is_set():
            phase = self.phase
            try:
                if hired and rng.random() < 0.4:
                    answer = await self.client.post(
                        f"/v1/workers/{rng.choice(hired)}/changes",
                        json={
                            "effective_date": (
                                date(2024, 1, 1) + timedelta(days=rng.randint(1, 300))
                            ).isoformat(),
                            "team": rng.choice(TEAMS),
                        },
                    )
                else:
                    serial += 1
                    external_id = f"E2E-{index}-{serial}"
                    answer = await self.client.post(
                        "/v1/workers",
                        json={
                            "external_id": external_id,
                            "display_name": f"Worker {index}.{serial}",
                            "role": "social_worker",
                            "employment_type": rng.choice(["permanent", "agency"]),
                            "fte": 1.0,
                            "team": rng.choice(TEAMS),
                            "start_date": "2024-01-01",
                        },
                    )
                    if answer.status_code == 201:
                        hired.append(external_id)
                if answer.is_success:
                    self.succeeded[phase] += 1
                else:
                    self.failed[phase] += 1
                    await asyncio.sleep(0.05)
            except httpx.HTTPError:
                self.failed[phase] += 1
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.005)


async def _all_pages(client: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        answer = await client.get(path, params=params)
        answer.raise_for_status()
        page = answer.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items


# --------------------------------------------------------------------------------------------------
# What the staff service holds, and what the consumer did
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxEvent:
    event_id: str
    event_type: str
    subject: str
    version: int


def staff_outbox(database_file: Path) -> list[OutboxEvent]:
    """Every event the staff service wrote to its outbox (published or not), from its SQLite file."""
    with contextlib.closing(sqlite3.connect(database_file, timeout=30)) as conn:
        rows = conn.execute(
            "SELECT event_id, event_type, message_key, payload FROM outbox ORDER BY id"
        ).fetchall()
    return [
        OutboxEvent(event_id, event_type, subject, int(json.loads(payload)["data"]["version"]))
        for event_id, event_type, subject, payload in rows
    ]


async def processed_ids(database: Database, consumer: str) -> list[str]:
    processed = ledger.tables.processed_events
    async with database.sessionmaker() as session:
        return list(
            (
                await session.scalars(select(processed.c.event_id).where(processed.c.consumer == consumer))
            ).all()
        )


async def receipt_rows(database: Database, consumer: str) -> list[tuple[str, str, str]]:
    async with database.sessionmaker() as session:
        result = await session.execute(
            select(receipts.c.event_id, receipts.c.event_type, receipts.c.subject).where(
                receipts.c.consumer == consumer
            )
        )
        return [(row[0], row[1], row[2]) for row in result.all()]


# --------------------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
async def test_stopping_make_run_mid_stream_loses_nothing(
    how: Stop,
    tmp_path: Path,
    make_database: Callable[[ServiceDefinition], Awaitable[str]],
) -> None:
    services = discover_services()
    assert "staff" in {s.name for s in services}
    run = EmbeddedRun(tmp_path / "var", services)
    consumer_database = create_database(await make_database(ledger), pool_size=2)
    name = f"e2e-restart-{uuid.uuid4().hex[:8]}"
    consumer = IdempotentConsumer(
        name=name,
        topics=[TOPIC],
        handler=receipt_handler(name),
        database=consumer_database,
        tables=ledger.tables,
        registry=ledger.registry,
        bootstrap_servers=run.bootstrap_servers,
        session_timeout_ms=TEST_SESSION_TIMEOUT_MS,
    )
    tasks: list[asyncio.Task[None]] = []
    try:
        run.start()
        await run.wait_ready()
        async with _staff_client(run) as client:
            for team in TEAMS:
                assert (await client.post("/v1/teams", json={"code": team})).status_code == 201

            consumer_task = asyncio.create_task(consumer.run(), name=name)
            stream = WriteStream(client)
            stream_task = asyncio.create_task(stream.run())
            tasks = [consumer_task, stream_task]

            # Writes flow, and the consumer has committed offsets on the first broker.
            await wait_until(
                lambda: stream.succeeded["before"] >= WRITES_PER_PHASE and consumer.stats.processed >= 20,
                timeout=30,
                message="writes and consumption before the stop",
            )

            stream.phase = "stopping"
            code = await run.stop(how)
            if how == "sigterm":
                assert code == 0, f"the runner did not stop cleanly on SIGTERM:\n{run.log()}"
            stream.phase = "down"
            await asyncio.sleep(0.5)  # the writers keep hammering a system that is not there

            run.start()
            stream.phase = "restarting"
            await run.wait_ready()
            stream.phase = "after"
            await wait_until(
                lambda: stream.succeeded["after"] >= WRITES_PER_PHASE,
                timeout=30,
                message="writes after the restart",
            )
            stream.stop()
            await stream_task

            database_file = run.var_dir / "data" / "staff.db"

            await _consumer_caught_up(consumer_database, name, database_file, timeout=60)

            workers = {w["id"]: w["version"] for w in await _all_pages(client, "/v1/workers")}
            teams = {t["code"]: t["version"] for t in await _all_pages(client, "/v1/teams")}

        consumer.stop()
        await asyncio.wait_for(consumer_task, 30)
        assert await run.stop("sigterm") == 0, f"the runner did not stop cleanly:\n{run.log()}"

        outbox = staff_outbox(database_file)
        tracked = await processed_ids(consumer_database, name)
        applied = await receipt_rows(consumer_database, name)
    except Exception:
        print(run.log())  # shown with the failure: the runner's output, the services' and broker's logs
        raise
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*tasks, return_exceptions=True)
        run.kill_everything()
        await consumer_database.dispose()

    print(
        f"{how}: writes ok {dict(stream.succeeded)}, failed {dict(stream.failed)}; {len(outbox)} events; "
        f"consumer processed {consumer.stats.processed}, duplicates {consumer.stats.duplicates}"
    )
    # The stream really was cut in the middle, and went on afterwards.
    assert stream.succeeded["before"] >= WRITES_PER_PHASE
    assert stream.succeeded["after"] >= WRITES_PER_PHASE
    assert sum(stream.failed.values()) > 0, "no write ever met the stopped system"

    # The staff service: one outbox event per version of every aggregate, for nothing that does not exist.
    versions: dict[str, list[int]] = {}
    for event in outbox:
        versions.setdefault(event.subject, []).append(event.version)
    assert len({e.event_id for e in outbox}) == len(outbox)
    assert set(versions) == set(workers) | set(teams), "events for aggregates the API does not know"
    for subject, version in {**workers, **teams}.items():
        assert sorted(versions[subject]) == list(range(1, version + 1)), subject

    # The consumer: every one of those events exactly once, in the tracking table and in its effects.
    expected = {e.event_id: (e.event_type, e.subject) for e in outbox}
    assert len(tracked) == len(set(tracked)) == len(expected)
    assert set(tracked) == set(expected)
    applied_count = Counter(event_id for event_id, _, _ in applied)
    assert [i for i, n in applied_count.items() if n != 1] == [], "events applied more than once"
    assert set(applied_count) == set(expected), "events missing from (or unknown to) the handler's effects"
    assert {event_id: (event_type, subject) for event_id, event_type, subject in applied} == expected

    # The interesting case happened: the restarted broker re-delivered what had been consumed already.
    assert consumer.stats.duplicates > 0
    assert consumer.stats.dead_lettered == 0


async def _consumer_caught_up(database: Database, consumer: str, staff_db: Path, *, timeout: float) -> None:
    """Wait until the consumer has processed every event in the staff outbox."""
    deadline = time.monotonic() + timeout
    missing: set[str] = set()
    while time.monotonic() < deadline:
        expected = {e.event_id for e in staff_outbox(staff_db)}
        missing = expected - set(await processed_ids(database, consumer))
        if expected and not missing:
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"the consumer did not catch up in {timeout}s: {len(missing)} events missing")


@contextlib.asynccontextmanager
async def _staff_client(run: EmbeddedRun) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=run.url("staff"),
        headers={"Authorization": f"Bearer {run.token()}"},
        timeout=httpx.Timeout(5.0),
    ) as client:
        yield client
