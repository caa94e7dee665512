"""Benchmark: the metrics service rebuilding its projections from the topics, against a bare consumer.

In one run on one machine:

1. starts a Tansu broker of its own (in memory) and creates the staff, caseload and audit topics (3
   partitions each);
2. produces ``--events`` messages (default 1,000,000) as the producers publish them: the records of
   councils of 150 workers and 1,500 open cases each (``bench/metrics_data.py``: three years of workers,
   posts, placements, surveys, children's episodes, allocations and handovers, assessments, visits,
   reviews, IRO visits, feedback, audits with moderation and learning actions, the audit programme),
   every change an event built with the producer's payload model in a CloudEvents envelope, keyed by
   its aggregate id, oldest first, council after council; about 1 % of the messages are sent a second
   time a little later (the at-least-once outbox relay retrying), so the stream holds duplicates as well
   as successive versions of the same records. An aiokafka producer with large batches and no
   idempotence (Tansu refuses it) sends them; the time to build and the time to send are both printed;
3. reads every message back with a bare ``AIOKafkaConsumer`` (no group: ``assign`` and
   ``seek_to_beginning``, up to the end offsets), doing nothing but counting; then again decoding each
   value with ``json.loads``; then again parsing each into a ``CloudEvent`` (as the rebuild does);
4. rebuilds the projections into a fresh PostgreSQL database migrated to head with
   ``steadfast_metrics.rebuild.service.rebuild_projections`` (``commit_offsets=False``), then checks that
   every projection table holds one row per record the stream named.

Each read and each rebuild is a child process of its own (so its peak resident memory, ``VmHWM``, is its
own); reads and rebuilds alternate, so that both see the same state of a shared machine. The figure
is the ratio of events per second, bare read / rebuild, with the median of ``--repeat`` runs.

    .venv/bin/python bench/bench_metrics_rebuild.py                          # 1,000,000 events
    .venv/bin/python bench/bench_metrics_rebuild.py --events 100000 --repeat 3

PostgreSQL: ``$STEADFAST_BENCH_POSTGRES_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/
postgres``), a user that may CREATE DATABASE. Not part of ``make test``. ``$BENCH_PROFILE=path`` writes
the live consumer's cProfile statistics to ``path.<database>`` (for diagnosis; the figures then include
the profiler's cost).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any

import checkouts  # the bench's own helpers, next to this file
import metrics_data  # the bench's own helper, next to this file (the script's folder is on sys.path)
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from steadfast_audit import events as audit_events
from steadfast_caseload import events as caseload_events
from steadfast_metrics.bootstrap import definition
from steadfast_metrics.db import Base
from steadfast_metrics.settings import MetricsSettings
from steadfast_shared.db import create_database
from steadfast_shared.db.migrations import upgrade
from steadfast_shared.embedded.broker import TansuBroker
from steadfast_shared.events.envelope import CloudEvent
from steadfast_shared.kafka import ensure_topics
from steadfast_shared.logging import configure_logging
from steadfast_shared.settings import Environment
from steadfast_staff import events as staff_events

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
TOPICS = (staff_events.TOPIC, caseload_events.TOPIC, audit_events.TOPIC)
PARTITIONS = 3
#: The share of messages the relay sends twice, and how far apart (in messages) the copies are.
DUPLICATE_SHARE = 0.01
DUPLICATE_SPREAD = 2000
READ_MODES = ("count", "json", "cloudevent")

#: The projection table each payload model writes, and the field holding the record's id.
RECORDS: dict[type[BaseModel], tuple[str, str]] = {
    staff_events.WorkerData: ("fact_workers", "id"),
    staff_events.PostData: ("fact_posts", "id"),
    staff_events.StudentPlacementData: ("fact_student_placements", "id"),
    staff_events.RecruitmentSurveyData: ("fact_survey_returns", "id"),
    staff_events.ExitSurveyData: ("fact_survey_returns", "id"),
    staff_events.StaffHealthCheckData: ("fact_survey_returns", "id"),
    caseload_events.FeedbackData: ("fact_survey_returns", "feedback_id"),
    caseload_events.EpisodeData: ("fact_episodes", "episode_id"),
    caseload_events.AllocationData: ("fact_allocations", "allocation_id"),
    caseload_events.AssessmentData: ("fact_assessments", "assessment_id"),
    caseload_events.VisitData: ("fact_visits", "visit_id"),
    caseload_events.ReviewData: ("fact_reviews", "review_id"),
    caseload_events.IroVisitData: ("fact_iro_visits", "iro_visit_id"),
    audit_events.AuditData: ("fact_audits", "audit_id"),
}


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


def broker_peak_rss_mib(pid: int | None) -> float | None:
    """The broker process's peak resident memory (``VmHWM``), while it runs."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# -- producing the topics -------------------------------------------------------------------------


@dataclass
class Produced:
    messages: int = 0
    duplicates: int = 0
    councils: int = 0
    build_seconds: float = 0.0
    send_seconds: float = 0.0
    megabytes: float = 0.0
    by_type: Counter[str] = field(default_factory=Counter)
    by_topic: Counter[str] = field(default_factory=Counter)
    #: The ids of the records named, per projection table.
    records: dict[str, set[str]] = field(default_factory=dict)


def council_messages(
    council: metrics_data.Council, rng: random.Random, produced: Produced, limit: int
) -> list[tuple[str, bytes, bytes]]:
    """(topic, key, value) of the council's events, oldest first, with the relay's duplicates, at most
    ``limit`` of them."""
    messages: list[tuple[str, bytes, bytes]] = []
    again: dict[int, list[tuple[str, bytes, bytes]]] = {}
    per_day: dict[date, count[int]] = {}
    for change in metrics_data.council_changes(council):
        if len(messages) >= limit:
            break
        day, key, event_type, data = change
        moment = metrics_data.event_time(day, next(per_day.setdefault(day, count())))
        message = (event_type.topic, key.encode(), metrics_data.envelope(change, moment))
        messages.append(message)
        produced.by_type[event_type.type.split(".", 3)[3]] += 1
        produced.by_topic[event_type.topic] += 1
        record = RECORDS.get(type(data))
        if record is not None:
            produced.records.setdefault(record[0], set()).add(str(getattr(data, record[1])))
        if rng.random() < DUPLICATE_SHARE:
            again.setdefault(len(messages) + rng.randrange(1, DUPLICATE_SPREAD), []).append(message)
        while len(messages) < limit and len(messages) in again:
            for copy in again.pop(len(messages)):
                if len(messages) < limit:
                    messages.append(copy)
                    produced.duplicates += 1
    return messages


async def produce(bootstrap: str, events: int, seed: int) -> Produced:
    """Send ``events`` messages, council after council (see the module docstring)."""
    await ensure_topics(bootstrap, TOPICS, partitions=PARTITIONS)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="bench-producer",
        acks="all",
        enable_idempotence=False,
        linger_ms=20,
        max_batch_size=1024 * 1024,
        max_request_size=8 * 1024 * 1024,
        request_timeout_ms=60_000,
    )
    await producer.start()
    produced = Produced()
    rng = random.Random(seed)
    try:
        for n in count():
            if produced.messages >= events:
                break
            began = time.perf_counter()
            council = metrics_data.council(seed * 1000 + n, prefix=f"C{n:03d}-")
            messages = council_messages(council, rng, produced, events - produced.messages)
            produced.build_seconds += time.perf_counter() - began
            began = time.perf_counter()
            futures = [await producer.send(topic, value=value, key=key) for topic, key, value in messages]
            await asyncio.gather(*futures)
            produced.send_seconds += time.perf_counter() - began
            produced.messages += len(messages)
            produced.megabytes += sum(len(v) for _, _, v in messages) / 2**20
            produced.councils += 1
            print(
                f"  council {n + 1}: {len(messages):,} messages, {produced.messages:,} in all",
                file=sys.stderr,
                flush=True,
            )
    finally:
        await producer.stop()
    return produced


# -- one bare read (a child process) ---------------------------------------------------------------


async def bare_read(bootstrap: str, mode: str) -> dict[str, Any]:
    """Read every message of the three topics once, from the beginning to the end offsets."""
    began = time.perf_counter()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        client_id="bench-bare-reader",
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
        request_timeout_ms=60_000,
    )
    await consumer.start()
    read = 0
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in TOPICS
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if end[tp] > 0}
        while remaining:
            batches = await consumer.getmany(timeout_ms=1000, max_records=20_000)
            for tp, records in batches.items():
                if mode == "json":
                    for record in records:
                        json.loads(record.value)
                elif mode == "cloudevent":
                    for record in records:
                        CloudEvent.from_json(record.value)
                read += len(records)
                if records and records[-1].offset + 1 >= end[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    seconds = time.perf_counter() - began
    return {"mode": mode, "events": read, "seconds": seconds, "events_per_second": read / seconds}


async def bare_run(bootstrap: str) -> dict[str, Any]:
    reads = [await bare_read(bootstrap, mode) for mode in READ_MODES]
    return {"reads": reads, "peak_rss_mib": max_rss_mib()}


# -- one rebuild (a child process) -----------------------------------------------------------------


async def scratch_database(pg_settings: Sequence[str] = ()) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A fresh PostgreSQL database migrated to head (with ``pg_settings``, ``NAME=VALUE``, set on it): its
    URL, and a coroutine function that drops it."""
    server = os.environ.get("STEADFAST_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    name = f"bench_metrics_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
        for setting in pg_settings:
            key, value = setting.split("=", 1)
            await conn.execute(text(f"ALTER DATABASE \"{name}\" SET {key} = '{value}'"))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)

    async def drop() -> None:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    try:
        await asyncio.to_thread(upgrade, definition.alembic_ini, url)
    except BaseException:
        await drop()
        raise
    return url, drop


async def rebuild_run(
    bootstrap: str, expected: dict[str, int], batch_size: int, pg_settings: Sequence[str] = ()
) -> dict[str, Any]:
    from steadfast_metrics.rebuild.service import rebuild_projections

    url, drop = await scratch_database(pg_settings)
    try:
        settings = MetricsSettings(
            environment=Environment.test,
            database_url=url,
            kafka_bootstrap_servers=bootstrap,
            log_level="WARNING",
            log_json=False,
        )
        database = create_database(url)
        try:
            rss_before = max_rss_mib()
            began = time.perf_counter()
            result = await rebuild_projections(
                database, settings, batch_size=batch_size, commit_offsets=False
            )
            wall = time.perf_counter() - began
            rows: dict[str, int] = {}
            async with database.engine.connect() as conn:
                for table in expected:
                    rows[table] = int(
                        await conn.scalar(select(func.count()).select_from(Base.metadata.tables[table])) or 0
                    )
        finally:
            await database.dispose()
    finally:
        await drop()
    return {
        "events_read": result.events_read,
        "events_applied": result.events_applied,
        "duplicates": result.duplicates,
        "dead_letters": result.dead_letters,
        "seconds": result.seconds,
        "wall_seconds": wall,
        "events_per_second": result.events_read / result.seconds,
        "rows": rows,
        "rows_expected": expected,
        "rss_before_mib": rss_before,
        "peak_rss_mib": max_rss_mib(),
    }


# -- the live consumer (a child process) -----------------------------------------------------------


async def live_run(
    bootstrap: str, expected: dict[str, int], messages: int, batch_size: int, backend: str
) -> dict[str, Any]:
    """The service's live consumer (the shared ``IdempotentConsumer`` with the projector's batch path,
    as ``facts/consumer.py`` builds it), in a consumer group of its own, from the beginning of the
    topics until every message is handled. Timed from the end of its first batch (the group join,
    seconds on Tansu, is not the consumer's speed), so the events of that batch are not counted."""
    from steadfast_metrics.db import tables
    from steadfast_metrics.events import registry
    from steadfast_metrics.facts.projector import apply_event, apply_events
    from steadfast_shared.consumer import IdempotentConsumer

    drop: Callable[[], Awaitable[None]] | None = None
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="bench-live-")
        url = f"sqlite+aiosqlite:///{folder}/metrics.db"
        await asyncio.to_thread(upgrade, definition.alembic_ini, url)
    else:
        url, drop = await scratch_database()
    database = create_database(url)
    consumer = IdempotentConsumer(
        name=f"bench-live-{uuid.uuid4().hex[:8]}",
        topics=list(TOPICS),
        handler=apply_event,
        batch_handler=apply_events,
        database=database,
        tables=tables,
        registry=registry,
        bootstrap_servers=bootstrap,
        batch_size=batch_size,
    )
    stats = consumer.stats

    def handled() -> int:
        return stats.processed + stats.duplicates + stats.dead_lettered

    try:
        task = asyncio.create_task(consumer.run())
        began = time.perf_counter()
        while stats.batches == 0:
            await asyncio.sleep(0.005)
            if task.done():
                task.result()
        first_batch_at, first = time.perf_counter(), handled()
        while handled() < messages:
            await asyncio.sleep(0.005)
            if task.done():
                task.result()
        seconds = time.perf_counter() - first_batch_at
        consumer.stop()
        await asyncio.wait_for(task, 60)
        rows: dict[str, int] = {}
        async with database.engine.connect() as conn:
            for table in expected:
                rows[table] = int(
                    await conn.scalar(select(func.count()).select_from(Base.metadata.tables[table])) or 0
                )
    finally:
        await database.dispose()
        if drop is not None:
            await drop()
    return {
        "backend": backend,
        "events": handled(),
        "timed_events": handled() - first,
        "applied": stats.processed,
        "duplicates": stats.duplicates,
        "dead_letters": stats.dead_lettered,
        "batches": stats.batches,
        "join_seconds": first_batch_at - began,
        "seconds": seconds,
        "events_per_second": (handled() - first) / seconds,
        "rows": rows,
        "rows_expected": expected,
        "peak_rss_mib": max_rss_mib(),
    }


# -- the orchestration ------------------------------------------------------------------------------


def run_child(*args: str, code: Path | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--one", *args]
    env = checkouts.environment(code)
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:1])} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def print_production(p: Produced, events: int) -> None:
    seconds = p.build_seconds + p.send_seconds
    print(
        f"produced {p.messages:,} messages ({p.megabytes:,.0f} MiB of CloudEvents JSON, "
        f"{p.duplicates:,} of them sent twice) from {p.councils} councils of 150 workers and "
        f"1,500 open cases, onto {len(TOPICS)} topics x {PARTITIONS} partitions"
    )
    print(
        f"  build (payload models, envelopes, JSON): {p.build_seconds:.1f} s; "
        f"send (aiokafka, acks=all, linger 20 ms, 1 MiB batches): {p.send_seconds:.1f} s "
        f"({p.messages / p.send_seconds:,.0f} messages/s); together {seconds:.1f} s"
    )
    topics = ", ".join(f"{t} {n:,}" for t, n in sorted(p.by_topic.items()))
    print(f"  per topic: {topics}")
    groups = {
        "child records (episodes, allocations, visits, reviews, IRO visits, assessments)": (
            "episode.",
            "allocation.",
            "visit.",
            "review.",
            "iro_visit.",
            "assessment.",
        ),
        "worker events": ("worker.",),
        "posts, placements, surveys, feedback": (
            "post.",
            "student_placement.",
            "recruitment_survey.",
            "exit_survey.",
            "staff_health_check.",
            "feedback.",
        ),
        "audits (recorded, changed, moderated)": ("audit.",),
        "types no KPI needs (teams, children registered, learning actions, programme)": (
            "team.",
            "child.",
            "learning_action.",
            "programme.",
        ),
    }
    total = sum(p.by_type.values())
    for label, prefixes in groups.items():
        n = sum(v for k, v in p.by_type.items() if k.startswith(prefixes))
        print(f"  {n / total:6.1%}  {label}")
    print(f"  {p.duplicates / events:6.1%}  sent twice (same event id)")


def pg_setting(value: str) -> str:
    """``NAME=VALUE`` with a plain setting name and value (they are spliced into ALTER DATABASE)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_.]*=[A-Za-z0-9_.\-]+", value):
        raise argparse.ArgumentTypeError(f"not NAME=VALUE: {value!r}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="messages on the topics")
    parser.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="runs of the bare reads and of the rebuild (default: 3 reads; 1 rebuild from 1,000,000 "
        "events, else 3)",
    )
    parser.add_argument("--batch-size", type=int, default=1000, help="the rebuild's batch_size (its default)")
    parser.add_argument(
        "--pg-setting",
        action="append",
        default=[],
        type=pg_setting,
        metavar="NAME=VALUE",
        help="a PostgreSQL setting of the rebuild's database (ALTER DATABASE ... SET), for diagnosis: "
        "e.g. plan_cache_mode=force_custom_plan",
    )
    parser.add_argument(
        "--live",
        action="append",
        default=[],
        choices=["postgresql", "sqlite"],
        help="also run the live consumer from the beginning of the topics on this database (repeatable)",
    )
    parser.add_argument(
        "--live-batch-size",
        type=int,
        nargs="+",
        default=[500],
        help="the live consumer's batch_size (500, its default); several compare them in one run "
        "(1 is the old path's one transaction and one offset commit per event)",
    )
    parser.add_argument(
        "--live-code",
        type=Path,
        action="append",
        default=[],
        help="run the live consumer with this checkout's packages (repeatable: compares versions in one "
        "run; default: this checkout)",
    )
    parser.add_argument("--no-rebuild", action="store_true", help="only the bare reads and the live consumer")
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        configure_logging("WARNING", json=False)
        kind, bootstrap = args.one[0], args.one[1]
        if kind == "bare":
            print(json.dumps(asyncio.run(bare_run(bootstrap))))
        elif kind == "live":
            expected = json.loads(Path(args.one[2]).read_text())
            messages, batch, backend = int(args.one[3]), int(args.one[4]), args.one[5]
            profile = os.environ.get("BENCH_PROFILE")  # a file for the live consumer's cProfile stats
            profiler = cProfile.Profile() if profile else None
            if profiler is not None:
                profiler.enable()
            live = asyncio.run(live_run(bootstrap, expected, messages, batch, backend))
            if profiler is not None and profile:
                profiler.disable()
                profiler.dump_stats(f"{profile}.{backend}")
            print(json.dumps(live))
        else:
            expected = json.loads(Path(args.one[2]).read_text())
            result = asyncio.run(rebuild_run(bootstrap, expected, int(args.one[3]), args.one[4:]))
            print(json.dumps(result))
        return

    configure_logging("WARNING", json=False)
    bare_runs = args.repeat or 3
    rebuild_runs = 0 if args.no_rebuild else args.repeat or (1 if args.events >= 1_000_000 else 3)
    live_runs = args.repeat or 3 if args.live else 0
    print(
        f"metrics rebuild benchmark: {args.events:,} events, {bare_runs} bare reads, {rebuild_runs} rebuilds"
    )
    print(f"machine: {os.cpu_count()} CPUs, load average at the start {os.getloadavg()[0]:.2f}")
    if args.pg_setting:
        print(f"the rebuild's database: {', '.join(args.pg_setting)}")
    with (
        tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp,
        TansuBroker(log_file=Path(tmp) / "broker.log") as broker,
    ):
        produced = asyncio.run(produce(broker.bootstrap_servers, args.events, args.seed))
        print_production(produced, args.events)
        expected = Path(tmp) / "expected.json"
        expected.write_text(json.dumps({t: len(ids) for t, ids in sorted(produced.records.items())}))
        produced.records.clear()

        bare: list[dict[str, Any]] = []
        rebuilds: list[dict[str, Any]] = []
        lives: list[dict[str, Any]] = []
        print(f"\n{'run':<17}{'events':>11}{'seconds':>10}{'events/s':>11}{'peak RSS':>11}")
        for n in range(max(bare_runs, rebuild_runs, live_runs)):
            if n < bare_runs:
                r = run_child("bare", broker.bootstrap_servers)
                bare.append(r)
                for read in r["reads"]:
                    print(
                        f"{'bare ' + read['mode']:<17}{read['events']:>11,}{read['seconds']:>10.2f}"
                        f"{read['events_per_second']:>11,.0f}{r['peak_rss_mib']:>9.0f}Mi",
                        flush=True,
                    )
            if n < rebuild_runs:
                r = run_child(
                    "rebuild", broker.bootstrap_servers, str(expected), str(args.batch_size), *args.pg_setting
                )
                rebuilds.append(r)
                print(
                    f"{'rebuild':<17}{r['events_read']:>11,}{r['seconds']:>10.1f}{r['events_per_second']:>11,.0f}"
                    f"{r['peak_rss_mib']:>9.0f}Mi   (applied {r['events_applied']:,}, "
                    f"duplicates {r['duplicates']:,}, dead letters {r['dead_letters']:,}; "
                    f"wall {r['wall_seconds']:.1f} s)",
                    flush=True,
                )
                wrong = {t: (r["rows"][t], n) for t, n in r["rows_expected"].items() if r["rows"][t] != n}
                if wrong:
                    print(f"  projections differ from the records named (rows, expected): {wrong}")
                else:
                    print(
                        "  projections: every table holds one row per record named "
                        f"({sum(r['rows'].values()):,} rows)"
                    )
            codes = args.live_code or [None]
            variants = [(b, size, c) for b in args.live for size in args.live_batch_size for c in codes]
            for backend, batch, code in variants if n < live_runs else []:
                r = run_child(
                    "live",
                    broker.bootstrap_servers,
                    str(expected),
                    str(produced.messages),
                    str(batch),
                    backend,
                    code=code,
                )
                r["batch_size"] = batch
                r["code"] = code
                lives.append(r)
                if code is not None:
                    print(f"  (code: {code})")
                print(
                    f"{f'live {backend[:6]} b{batch}':<17}{r['timed_events']:>11,}{r['seconds']:>10.1f}"
                    f"{r['events_per_second']:>11,.0f}{r['peak_rss_mib']:>9.0f}Mi   (applied "
                    f"{r['applied']:,}, duplicates {r['duplicates']:,}, dead letters {r['dead_letters']:,}, "
                    f"{r['batches']:,} batches; group join {r['join_seconds']:.1f} s, not timed)",
                    flush=True,
                )
                wrong = {t: (r["rows"][t], n) for t, n in r["rows_expected"].items() if r["rows"][t] != n}
                if wrong:
                    print(f"  projections differ from the records named (rows, expected): {wrong}")
        broker_rss = broker_peak_rss_mib(broker.pid)

    print("\nmedians")
    bare_parse = statistics.median(
        read["events_per_second"] for r in bare for read in r["reads"] if read["mode"] == "cloudevent"
    )
    for backend in args.live:
        for batch in args.live_batch_size:
            for code in args.live_code or [None]:
                eps = statistics.median(
                    r["events_per_second"]
                    for r in lives
                    if (r["backend"], r["batch_size"], r["code"]) == (backend, batch, code)
                )
                print(
                    f"  live consumer on {backend}, batch_size {batch}{f', code {code}' if code else ''}: "
                    f"{eps:,.0f} events/s -> live / bare read-and-parse = {eps / bare_parse:.3f}"
                )
    if not rebuilds:
        return
    rebuild_eps = statistics.median(r["events_per_second"] for r in rebuilds)
    print(
        f"  rebuild: {rebuild_eps:,.0f} events/s "
        f"({statistics.median(r['seconds'] for r in rebuilds):.1f} s "
        f"for {rebuilds[0]['events_read']:,} events), "
        f"peak RSS {statistics.median(r['peak_rss_mib'] for r in rebuilds):.0f} MiB"
    )
    for mode in READ_MODES:
        eps = statistics.median(
            read["events_per_second"] for r in bare for read in r["reads"] if read["mode"] == mode
        )
        print(f"  bare read ({mode}): {eps:,.0f} events/s -> bare / rebuild = {eps / rebuild_eps:.1f}x")
    print(f"  bare reader peak RSS {statistics.median(r['peak_rss_mib'] for r in bare):.0f} MiB")
    if broker_rss is not None:
        print(f"  broker (Tansu, in memory) peak RSS {broker_rss:,.0f} MiB")
    print(f"  expected duplicates (sent twice): {produced.duplicates:,}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
