"""Faults on PostgreSQL and the real broker, and afterwards the KPIs an independent calculation gives.

The four services run as processes (:mod:`.platform`) on a PostgreSQL cluster of this test's own
(:mod:`.postgres`, so that it can be restarted) and a Tansu broker of its own. The caseload outbox
relay runs as a process of its own. A realistic council's extracts (:mod:`tests.e2e.council`) are
posted, in chunks, to the services' CSV import endpoints, and while they stream in:

- the caseload relay is SIGKILLed at random points while it publishes, and started again;
- the broker is frozen (SIGSTOP) for a few seconds and thawed (SIGCONT): unreachable, with no data lost,
  as a replicated Kafka is during a network partition;
- two poison messages go into the caseload topic: bytes that are not a CloudEvent, and a CloudEvent
  whose handler fails; both must reach ``steadfast.caseload.dlq`` while the consumer carries on;
- the metrics service, the consumer of every stream, is SIGKILLed in the middle of a batch, and
  started again;
- PostgreSQL is restarted (a crash, ``pg_ctl restart -m immediate``; in later rounds a clean
  ``-m fast``) under every service;

and at the end the broker is restarted *empty* (Tansu keeps nothing on disk) and every producer's
outbox republished, as the runbook in docs/architecture.md says. Then:

- the rows in the source databases are exactly the rows loaded (nothing lost or doubled by a retry);
- GET /v1/kpis, on three days, equals :func:`tests.e2e.council.expected_kpis` computed from the rows
  the staff, caseload and audit databases hold;
- every consumer tracked every event of its topics' outboxes exactly once, and the metrics projections
  counted each event once per stream.

``STEADFAST_SOAK_ROUNDS`` (``make soak``) runs the whole council, and each fault that many times over.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.exc import DBAPIError

from steadfast_audit.bootstrap import definition as audit
from steadfast_caseload.bootstrap import definition as caseload
from steadfast_metrics.bootstrap import definition as metrics
from steadfast_shared.embedded.broker import TansuBroker
from steadfast_shared.events.envelope import CloudEvent
from steadfast_shared.testing import MigratedDatabases, produce, read_records, wait_until
from steadfast_staff.bootstrap import definition as staff
from tests.e2e.council import Council, build_council, expected_kpis
from tests.faults.platform import Platform, Process
from tests.faults.postgres import PostgresBinariesMissing, PrivatePostgres
from tests.faults.sources import council_from_databases, outbox, query, row_counts, tracked

ROUNDS = max(1, int(os.environ.get("STEADFAST_SOAK_ROUNDS", "1")))
#: Children of the council loaded: a quick default, the whole council in a soak.
CHILDREN = 36 if ROUNDS == 1 else 120
AS_OF_DAYS = (date(2014, 12, 1), date(2015, 3, 2), date(2015, 6, 1))
METRICS_CONSUMER = "metrics-projections"
TOPICS = ("steadfast.staff", "steadfast.caseload", "steadfast.audit")
PRODUCERS = ("staff", "caseload", "audit")
KINDS = {
    "staff": ("workers",),
    "caseload": ("children", "allocations", "assessments", "visits", "reviews", "iro_visits"),
    "audit": ("audits",),
}

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240 + 240 * ROUNDS)]


# --------------------------------------------------------------------------------------------------
# The council, in chunks
# --------------------------------------------------------------------------------------------------


def council_of(children: int) -> Council:
    """The end-to-end council, keeping every worker and the first ``children`` children's records."""
    full = build_council()
    kept = {f"C{c:04d}" for c in range(1, children + 1)}

    def mine(rows: list[dict[str, str]], column: str) -> list[dict[str, str]]:
        return [r for r in rows if r[column] in kept]

    return Council(
        workers=full.workers,
        episodes=mine(full.episodes, "external_id"),
        allocations=mine(full.allocations, "child_external_id"),
        assessments=mine(full.assessments, "child_external_id"),
        visits=mine(full.visits, "child_external_id"),
        reviews=mine(full.reviews, "child_external_id"),
        iro_visits=mine(full.iro_visits, "child_external_id"),
        audits=mine(full.audits, "child_external_id"),
    )


def chunks(council: Council, kind: str, count: int) -> Iterator[str]:
    """The extract of ``kind`` as about ``count`` CSV files; one child's (or worker's) rows stay in one."""
    header, *lines = council.csv(kind).splitlines()
    size = max(1, -(-len(lines) // count))
    chunk: list[str] = []
    for line in lines:
        if len(chunk) >= size and line.split(",")[0] != chunk[-1].split(",")[0]:
            yield "\n".join([header, *chunk]) + "\n"
            chunk = []
        chunk.append(line)
    if chunk:
        yield "\n".join([header, *chunk]) + "\n"


@dataclass
class Imports:
    """Posts CSV files one after another, retrying each (same ``Idempotency-Key``) until it is taken."""

    platform: Platform
    client: httpx.AsyncClient
    posted: int = 0
    total: int = 0
    retries: Counter[str] = field(default_factory=Counter)

    async def post(self, service: str, kind: str, body: str) -> None:
        key = str(uuid.uuid4())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while True:
            try:
                answer = await self.client.post(
                    f"{self.platform.url(service)}/v1/imports/{kind}?mode=atomic",
                    content=body.encode(),
                    headers={"Content-Type": "text/csv", "Idempotency-Key": key},
                )
                if answer.status_code == 200:
                    result = answer.json()
                    assert result["counts"]["rejected"] == 0, (kind, result["rejected"][:3])
                    self.posted += 1
                    return
                assert answer.status_code in {429, 500, 502, 503, 504}, (answer.status_code, answer.text)
                self.retries[f"{answer.status_code}"] += 1
            except httpx.HTTPError as exc:
                self.retries[type(exc).__name__] += 1
            assert loop.time() < deadline, f"{service} {kind} not imported in 120 s: {dict(self.retries)}"
            await asyncio.sleep(0.3)


# --------------------------------------------------------------------------------------------------
# The faults
# --------------------------------------------------------------------------------------------------


async def count(url: str, sql: str) -> int:
    return int((await query(url, sql))[0]["n"])


async def probe(url: str, sql: str) -> dict[str, Any] | None:
    """The first row of ``sql``, or None while the database does not answer (it is restarting)."""
    try:
        return (await query(url, sql))[0]
    except (DBAPIError, OSError):
        return None


async def kill_mid_publish(relay: Process, database: str, rng: random.Random) -> bool:
    """SIGKILL the relay while it publishes (rows being marked, more waiting); True if it was caught so."""
    sql = (
        "SELECT count(*) FILTER (WHERE published_at IS NULL) AS waiting, "
        "count(*) FILTER (WHERE published_at IS NOT NULL) AS published FROM outbox"
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    published: int | None = None
    while loop.time() < deadline:
        await asyncio.sleep(0.02)
        now = await probe(database, sql)
        if now is None:
            continue
        if published is not None and now["published"] > published and now["waiting"] > 0:
            await asyncio.sleep(rng.uniform(0, 0.03))
            relay.kill()
            return True
        published = now["published"]
    relay.kill()  # at a random point after all: nothing was publishing
    return False


async def kill_mid_batch(service: Process, database: str) -> bool:
    """Let the metrics consumer fall behind (SIGSTOP while the imports go on), let it resume, and SIGKILL
    it as soon as it is applying the backlog; True if it was caught applying."""
    sql = f"SELECT count(*) AS n FROM processed_events WHERE consumer = '{METRICS_CONSUMER}'"
    os.kill(service.pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(4.0)
        before = await probe(database, sql)
    finally:
        os.kill(service.pid, signal.SIGCONT)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while loop.time() < deadline:
        await asyncio.sleep(0.02)
        now = await probe(database, sql)
        if before is None:
            before = now
        elif now is not None and now["n"] > before["n"]:
            service.kill()
            return True
    service.kill()
    return False


def poison_event() -> CloudEvent:
    """A CloudEvent the metrics projection cannot apply: a visit whose payload is not a visit."""
    return CloudEvent(
        id=str(uuid.uuid4()),
        source="/steadfast/caseload",
        type="org.steadfast.caseload.visit.recorded.v1",
        subject=str(uuid.uuid4()),
        time=datetime.now(UTC),
        data={"visit_id": "not-a-visit", "child_version": "many"},
    )


@dataclass
class Faults:
    """What was done, for the report and the assertions."""

    relay_kills: int = 0
    relay_kills_mid_publish: int = 0
    consumer_kills: int = 0
    consumer_kills_mid_batch: int = 0
    broker_freezes: int = 0
    postgres_restarts: int = 0
    poison: list[bytes] = field(default_factory=list)


async def relay_killer(platform: Platform, faults: Faults, stop: asyncio.Event, rng: random.Random) -> None:
    relay = platform.relay
    while not stop.is_set() and faults.relay_kills < 4 * ROUNDS:
        await asyncio.sleep(rng.uniform(0.5, 2.0))  # its start-up, and a while publishing
        faults.relay_kills_mid_publish += await kill_mid_publish(relay, platform.databases["caseload"], rng)
        faults.relay_kills += 1
        await asyncio.sleep(rng.uniform(0.1, 1.0))  # rows pile up while no relay runs
        relay.start()


async def inject_faults(
    platform: Platform, broker: TansuBroker, postgres: PrivatePostgres, imports: Imports, faults: Faults
) -> None:
    """The faults other than the relay's, each once the stream of imports is that far through."""

    async def at(fraction: float) -> None:
        await wait_until(lambda: imports.posted >= fraction * imports.total, timeout=180, interval=0.05)

    for round_ in range(ROUNDS):
        start = round_ / ROUNDS
        span = 1 / ROUNDS

        await at(start + 0.15 * span)
        assert broker.pid is not None
        os.kill(broker.pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(3.0)
        finally:
            os.kill(broker.pid, signal.SIGCONT)
        faults.broker_freezes += 1

        if round_ == 0:
            await at(start + 0.3 * span)
            not_an_event = b'{"this is": "not a CloudEvent'
            bad_event = poison_event()
            await produce(broker.bootstrap_servers, "steadfast.caseload", [not_an_event], key="poison")
            await produce(broker.bootstrap_servers, "steadfast.caseload", [bad_event])
            faults.poison = [not_an_event, bad_event.to_json()]

        await at(start + 0.45 * span)
        metrics_process = platform.processes["metrics"]
        killed_mid_batch = await kill_mid_batch(metrics_process, platform.databases["metrics"])
        faults.consumer_kills_mid_batch += killed_mid_batch
        faults.consumer_kills += 1
        metrics_process.start()

        await at(start + 0.65 * span)
        await asyncio.to_thread(postgres.restart, "immediate" if round_ % 2 == 0 else "fast")
        faults.postgres_restarts += 1


# --------------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    problem: PostgresBinariesMissing | None = None
    try:
        server = PrivatePostgres()
    except PostgresBinariesMissing as exc:
        problem = exc
    if problem is not None:
        pytest.fail(str(problem), pytrace=False)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[TansuBroker]:
    with TansuBroker(log_file=tmp_path / "tansu.log") as running:
        yield running


@pytest_asyncio.fixture
async def platform(
    private_postgres: PrivatePostgres, broker: TansuBroker, tmp_path: Path
) -> AsyncIterator[Platform]:
    databases = MigratedDatabases(private_postgres.url)
    try:
        urls = {d.name: await databases.create(d) for d in (staff, caseload, audit, metrics)}
    finally:
        await databases.close()
    running = Platform(tmp_path, urls, broker.bootstrap_servers)
    try:
        await running.start()
        yield running
    except BaseException:
        print(running.logs())
        raise
    finally:
        running.stop()


# --------------------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------------------


async def kpis(client: httpx.AsyncClient, platform: Platform, as_of: date) -> dict[str, float | None]:
    answer = await client.get(f"{platform.url('metrics')}/v1/kpis", params={"as_of": as_of.isoformat()})
    answer.raise_for_status()
    return {k["id"]: k["value"] for k in answer.json()["kpis"]}


def differences(expected: dict[str, float | None], got: dict[str, float | None]) -> dict[str, Any]:
    return {
        kpi: (want, got.get(kpi))
        for kpi, want in expected.items()
        if not (want is None and got.get(kpi) is None)
        and (want is None or got.get(kpi) is None or abs(want - (got[kpi] or 0.0)) > 0.006)
    }


async def all_outbox_events(platform: Platform) -> dict[str, list[Any]]:
    return {name: await outbox(platform.databases[name]) for name in PRODUCERS}


async def test_faults_lose_and_double_nothing_and_the_kpis_match_an_independent_calculation(
    platform: Platform, broker: TansuBroker, private_postgres: PrivatePostgres
) -> None:
    rng = random.Random()
    council = council_of(CHILDREN)
    faults = Faults()
    files = [
        (service, kind, body)
        for service in ("caseload", "audit")
        for kind in KINDS[service]
        for body in chunks(council, kind, 4 * ROUNDS)
    ]
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {platform.token()}"}, timeout=httpx.Timeout(30.0)
    ) as client:
        imports = Imports(platform, client)
        for body in chunks(council, "workers", 3):
            await imports.post("staff", "workers", body)

        async def directory_complete() -> bool:
            sql = "SELECT count(*) AS n FROM directory_workers"
            held = [await count(platform.databases[name], sql) for name in ("caseload", "audit")]
            return held == [len(council.workers)] * 2

        await wait_until(directory_complete, timeout=60, interval=0.3, message="the directories filled")

        imports.posted, imports.total = 0, len(files)
        stop = asyncio.Event()
        killer = asyncio.create_task(relay_killer(platform, faults, stop, rng))
        chaos = asyncio.create_task(inject_faults(platform, broker, private_postgres, imports, faults))
        try:
            for service, kind, body in files:
                await imports.post(service, kind, body)
                if chaos.done():
                    chaos.result()  # a fault that could not be injected fails the test now
            await chaos
            stop.set()
            await killer
        finally:
            stop.set()
            for task in (killer, chaos):
                task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(killer, chaos, return_exceptions=True)
            if not platform.relay.alive:
                platform.relay.start()

        # The poison went to the dead-letter topic, named by the consumer that met it. Dead letters are
        # at least once too: a consumer killed after dead-lettering a batch's poison, before committing
        # the batch, meets it again and sends another copy (docs/architecture.md, section 4).
        dead: list[Any] = []
        for expect in range(2, 9):
            dead = await read_records(
                broker.bootstrap_servers,
                "steadfast.caseload.dlq",
                expect=expect,
                where=lambda r: dict(r.headers).get("dlq_consumer") == METRICS_CONSUMER.encode(),
                timeout=60,
            )
            if {r.value for r in dead} >= set(faults.poison) or len(dead) < expect:
                break
        assert sorted({r.value for r in dead}) == sorted(faults.poison)
        reasons = {dict(r.headers)["dlq_attempts"]: dict(r.headers)["dlq_error"].decode() for r in dead}
        assert set(reasons) == {b"1", b"3"}, reasons
        assert "not a CloudEvents" in reasons[b"1"]

        # The memory-only broker restarted empty, and the producers' outboxes republished (the runbook).
        await broker.restart_async(downtime=1.0)
        for name in PRODUCERS:
            platform.run_command(name, "republish")

        async def caught_up() -> bool:
            events = await all_outbox_events(platform)
            expected = {e.event_id for name in PRODUCERS for e in events[name] if e.topic in TOPICS}
            rows = await tracked(platform.databases["metrics"], METRICS_CONSUMER)
            applied = {event_id for event_id, _ in rows}
            published = all(e.published for name in PRODUCERS for e in events[name])
            return published and applied == expected

        await wait_until(caught_up, timeout=120, interval=0.5, message="the metrics consumer caught up")

        # The source databases hold exactly the rows loaded, and the KPIs are the ones they give.
        held = await council_from_databases(
            platform.databases["staff"], platform.databases["caseload"], platform.databases["audit"]
        )
        assert row_counts(held) == row_counts(council)
        expected = {as_of: expected_kpis(held, as_of) for as_of in AS_OF_DAYS}

        async def kpis_match() -> bool:
            for as_of in AS_OF_DAYS:
                if differences(expected[as_of], await kpis(client, platform, as_of)):
                    return False
            return True

        with contextlib.suppress(AssertionError):
            await wait_until(kpis_match, timeout=20, interval=0.5)
        for as_of in AS_OF_DAYS:
            assert differences(expected[as_of], await kpis(client, platform, as_of)) == {}, as_of

    # Every event exactly once: in each consumer's tracking table, and in the projections' counts.
    events = await all_outbox_events(platform)
    for name, produced in events.items():
        assert len({e.event_id for e in produced}) == len(produced), f"{name}: an event id twice"
    by_topic = Counter(e.topic for name in PRODUCERS for e in events[name])
    applied = await tracked(platform.databases["metrics"], METRICS_CONSUMER)
    assert sorted(event_id for event_id, _ in applied) == sorted(
        e.event_id for name in PRODUCERS for e in events[name] if e.topic in TOPICS
    )
    sql = "SELECT topic, events_applied FROM projection_sources"
    sources = await query(platform.databases["metrics"], sql)
    assert {s["topic"]: s["events_applied"] for s in sources} == {t: by_topic[t] for t in TOPICS}
    staff_events = sorted(e.event_id for e in events["staff"])
    for name in ("caseload", "audit"):
        consumers = await query(platform.databases[name], "SELECT DISTINCT consumer FROM processed_events")
        assert consumers, f"{name} consumed nothing"
        for row in consumers:
            ids = sorted(event_id for event_id, _ in await tracked(platform.databases[name], row["consumer"]))
            assert ids == staff_events, f"{name}'s {row['consumer']} did not apply each staff event once"

    print(f"faults: {faults}; import retries: {dict(imports.retries)}")
    # The faults really happened, in the middle of the work.
    assert faults.relay_kills >= 2 * ROUNDS
    assert faults.relay_kills_mid_publish >= 1
    assert faults.consumer_kills == ROUNDS
    assert faults.consumer_kills_mid_batch >= 1
    assert faults.broker_freezes == ROUNDS
    assert faults.postgres_restarts == private_postgres.restarts == ROUNDS
