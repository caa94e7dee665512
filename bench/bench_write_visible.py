"""Benchmark: how soon a write shows in ``GET /v1/kpis``, at a steady rate of writes.

In one run, for each database and each answer-cache grace (``METRICS_KPI_CACHE_SECONDS``) asked for:

1. starts the whole system as ``make run`` does (``bench/system.py``: a Tansu broker and the four
   services as processes, each with its relay and consumers);
2. sends ``--rate`` writes a second for ``--seconds`` seconds to the staff service, open loop (each
   write at its scheduled time, whatever the answers before it; at most ``--in-flight`` at once): each
   hires a permanent, full-time qualified social worker (``POST /v1/workers``), which adds 1 FTE to the
   denominator of the ``permanent_rate`` KPI;
3. meanwhile asks ``GET /v1/kpis`` every ``--poll-ms`` milliseconds, as a dashboard would, and notes
   each answer's ``permanent_rate`` denominator and when the answer arrived.

Before the clock starts, one write is made and waited for until an answer counts it (the metrics
consumer has joined its group, the answer cache is warm). A write is *committed* when its 201 arrives
and *visible* at the first answer that counts it: the k-th write committed is visible at the first
answer whose denominator counts k workers hired (one FTE each, so the denominator is the number
visible; the writes are taken to become visible in the order they were committed, which is the order
their events reach the metrics service, give or take the writes in flight together). The figures are
the write -> visible latency's median, p95, p99 and maximum over every write, the writes a second
achieved, and how long after the last write everything was visible. ``--timeline`` prints, second by
second, the writes committed and visible.

    .venv/bin/python bench/bench_write_visible.py                         # 200/s for 60 s, both databases
    .venv/bin/python bench/bench_write_visible.py --seconds 20 --databases postgresql --cache-seconds 2 0.25

Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench.system

from bench import checkouts
from bench.system import System, running_system, wait_for

KPI = "permanent_rate"


@dataclass
class Observed:
    committed: list[float] = field(default_factory=list)  # when each write's 201 arrived
    write_latency: list[float] = field(default_factory=list)
    failed: dict[int, int] = field(default_factory=dict)
    answers: list[tuple[float, float]] = field(default_factory=list)  # (arrived, denominator)
    computed: list[str] = field(default_factory=list)  # each answer's freshness.computed_at
    skipped: int = 0  # writes not sent at their time (too many in flight)
    #: (when, how many of the run's hires the metrics projections hold): read from its database.
    applied: list[tuple[float, int]] = field(default_factory=list)
    #: (when, how many hires the staff service's relay has published): read from its outbox.
    published: list[tuple[float, int]] = field(default_factory=list)


def _hire(n: int, run: str) -> dict[str, Any]:
    return {
        "external_id": f"BENCH-{run}-{n}",
        "display_name": f"Bench Worker {n}",
        "role": "social_worker",
        "employment_type": "permanent",
        "fte": 1.0,
        "team": f"T{n % 20:02d}",
        "start_date": (date.today() - timedelta(days=30)).isoformat(),
    }


def _denominator(answer: dict[str, Any]) -> float | None:
    for kpi in answer.get("kpis", []):
        if kpi.get("id") == KPI:
            value = kpi.get("denominator")
            return float(value) if value is not None else 0.0
    return None


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def _poll(system: System, observed: Observed, interval: float, until: asyncio.Event) -> None:
    url = f"{system.url['metrics']}/v1/kpis"
    while not until.is_set():
        began = time.perf_counter()
        answer = await system.http.get(url)
        if answer.status_code == 200:
            report = answer.json()
            denominator = _denominator(report)
            if denominator is not None:
                observed.answers.append((time.perf_counter(), denominator))
                observed.computed.append(report.get("freshness", {}).get("computed_at", ""))
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - began)))


async def _poll_applied(
    system: System, observed: Observed, run: str, interval: float, until: asyncio.Event
) -> None:
    """How many of the run's hires the metrics service's projections hold, read from its database: the
    consumer's part of write -> visible, apart from the answers' recompute."""
    sql = f"SELECT count(*) FROM fact_workers WHERE external_id LIKE 'BENCH-{run}-%'"  # noqa: S608 (hex)
    published = (
        "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL AND event_type LIKE '%worker.hired%'"
    )
    while not until.is_set():
        began = time.perf_counter()
        count = await system.databases.count("metrics", sql)
        observed.applied.append((time.perf_counter(), count))
        sent = await system.databases.count("staff", published)
        observed.published.append((time.perf_counter(), sent))
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - began)))


async def _write(system: System, observed: Observed, n: int, run: str, gate: asyncio.Semaphore) -> None:
    async with gate:
        began = time.perf_counter()
        answer = await system.http.post(f"{system.url['staff']}/v1/workers", json=_hire(n, run))
        arrived = time.perf_counter()
    if answer.status_code == 201:
        observed.committed.append(arrived)
        observed.write_latency.append(arrived - began)
    else:
        observed.failed[answer.status_code] = observed.failed.get(answer.status_code, 0) + 1


async def measure(system: System, args: argparse.Namespace) -> dict[str, Any]:
    run = uuid.uuid4().hex[:6]
    observed = Observed()
    stop_polling = asyncio.Event()
    poller = asyncio.create_task(_poll(system, observed, args.poll_ms / 1000, stop_polling))
    applier = asyncio.create_task(_poll_applied(system, observed, run, args.poll_ms / 1000, stop_polling))
    # Before the clock starts: a first write, and an answer counting it (the metrics consumer has joined
    # its group and applied an event; the cache holds an answer).
    warm = await system.http.post(f"{system.url['staff']}/v1/workers", json=_hire(-1, run))
    if warm.status_code != 201:
        raise SystemExit(f"the warm-up write: {warm.status_code} {warm.text[:500]}")
    await wait_for(
        lambda: _true(bool(observed.answers) and observed.answers[-1][1] >= 1),
        180,
        "the warm-up write visible",
    )
    base = 1
    gate = asyncio.Semaphore(args.in_flight)
    writes: list[asyncio.Task[None]] = []
    total = int(args.rate * args.seconds)
    began = time.perf_counter()
    for n in range(total):
        due = began + n / args.rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if gate.locked():
            observed.skipped += 1
            continue
        writes.append(asyncio.create_task(_write(system, observed, n, run, gate)))
    await asyncio.gather(*writes)
    sent_seconds = time.perf_counter() - began
    written = len(observed.committed)
    last_write = max(observed.committed, default=began)

    async def all_visible() -> bool:
        system.alive()
        return bool(observed.answers) and observed.answers[-1][1] >= base + written

    await wait_for(all_visible, args.settle_timeout, "every write visible", interval=0.05)
    stop_polling.set()
    await poller
    await applier
    committed = sorted(observed.committed)
    arrivals = [t for t, _ in observed.answers]
    counts = [d for _, d in observed.answers]
    latencies = []
    for k, at in enumerate(committed, start=1):
        # The first answer arriving after the commit that counts k workers.
        first = bisect.bisect_right(arrivals, at)
        for i in range(first, len(arrivals)):
            if counts[i] >= base + k:
                latencies.append(arrivals[i] - at)
                break
    applied_latencies = _reached(committed, observed.applied, base)
    published_latencies = _reached(committed, observed.published, base)
    if args.timeline:
        print("  seconds  committed  visible  computed_at (of the last answer in the second)")
        for second in range(int((arrivals[-1] - began) if arrivals else 0) + 1):
            edge = began + second + 1
            done = bisect.bisect_right(committed, edge)
            i = bisect.bisect_right(arrivals, edge) - 1
            if i >= 0:
                print(f"  {second + 1:>7}  {done:>9}  {counts[i] - base:>7.0f}  {observed.computed[i]}")
    return {
        "writes": written,
        "skipped": observed.skipped,
        "failed": observed.failed,
        "rate": written / sent_seconds,
        "write_p50": statistics.median(observed.write_latency),
        "write_p99": _percentile(observed.write_latency, 99),
        "p50": statistics.median(latencies),
        "p95": _percentile(latencies, 95),
        "p99": _percentile(latencies, 99),
        "max": max(latencies),
        "applied_p50": statistics.median(applied_latencies) if applied_latencies else float("nan"),
        "applied_p99": _percentile(applied_latencies, 99) if applied_latencies else float("nan"),
        "published_p50": statistics.median(published_latencies) if published_latencies else float("nan"),
        "published_p99": _percentile(published_latencies, 99) if published_latencies else float("nan"),
        "caught_up": observed.answers[-1][0] - last_write,
        "answers": len(observed.answers),
    }


def _reached(committed: list[float], samples: list[tuple[float, int]], base: int) -> list[float]:
    """For the k-th write committed, how long until a sample counted ``base + k`` (the warm-up write
    counts too)."""
    times = [t for t, _ in samples]
    counts = [c for _, c in samples]
    latencies = []
    for k, at in enumerate(committed, start=1):
        for i in range(bisect.bisect_right(times, at), len(times)):
            if counts[i] >= base + k:
                latencies.append(times[i] - at)
                break
    return latencies


async def _true(value: bool) -> bool:
    return value


async def one_run(
    backend: str, cache_seconds: float, args: argparse.Namespace, code: Path | None = None
) -> dict[str, Any]:
    # One token writes everything here: the per-client write limit (600 a minute) would refuse most.
    environment = {"METRICS_KPI_CACHE_SECONDS": str(cache_seconds), "STAFF_RATE_LIMIT_WRITES_PER_MINUTE": "0"}
    if code is not None:  # the services run another checkout's packages
        environment["PYTHONPATH"] = checkouts.pythonpath(code)
    async with running_system(backend, environment) as system:
        return await measure(system, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="writes a second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the writes go on")
    parser.add_argument("--in-flight", type=int, default=64, help="writes in flight at most")
    parser.add_argument("--poll-ms", type=float, default=50.0, help="GET /v1/kpis every so often")
    parser.add_argument(
        "--cache-seconds",
        type=float,
        nargs="+",
        default=None,
        help="METRICS_KPI_CACHE_SECONDS values to compare (default: the service's own)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--code",
        type=Path,
        action="append",
        default=None,
        help="run the services with this checkout's packages (repeat it, and name . for this one, to "
        "compare versions in one run; each round runs every version in turn)",
    )
    parser.add_argument(
        "--timeline", action="store_true", help="print writes committed and visible per second"
    )
    parser.add_argument("--settle-timeout", type=float, default=300.0)
    parser.add_argument(
        "--databases", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    from steadfast_metrics.settings import MetricsSettings

    graces = args.cache_seconds or [MetricsSettings.model_fields["kpi_cache_seconds"].default]
    print(
        f"write -> visible benchmark: {args.rate:g} writes/s for {args.seconds:g} s, GET /v1/kpis every "
        f"{args.poll_ms:g} ms, {args.repeat} runs per database and cache grace"
    )
    print(f"machine: {os.cpu_count()} CPUs, load average at the start {os.getloadavg()[0]:.2f}")
    print(
        f"\n{'database':<11}{'grace s':>8}{'writes':>8}{'writes/s':>9}{'write p99':>10}"
        f"{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'caught up':>10}"
    )
    results: list[tuple[str, float, dict[str, Any]]] = []
    codes: list[Path | None] = [c.resolve() for c in args.code] if args.code else [None]
    for _ in range(args.repeat):
        for backend in args.databases:
            for grace in graces:
                for code in codes:
                    r = asyncio.run(one_run(backend, grace, args, code))
                    label = backend if code is None else f"{backend} {code}"
                    results.append((label, grace, r))
                    print(
                        f"{label:<11}{grace:>8g}{r['writes']:>8,}{r['rate']:>9.1f}{r['write_p99']:>10.3f}"
                        f"{r['p50']:>8.3f}{r['p95']:>8.3f}{r['p99']:>8.3f}{r['max']:>8.3f}{r['caught_up']:>10.3f}"
                        f"   (published p50 {r['published_p50']:.3f} p99 {r['published_p99']:.3f}; "
                        f"applied p50 {r['applied_p50']:.3f} p99 {r['applied_p99']:.3f}; skipped "
                        f"{r['skipped']}, failed {r['failed'] or 0}, answers {r['answers']})",
                        flush=True,
                    )
    print("\nmedians of the runs (seconds)")
    for backend in dict.fromkeys(b for b, _, _ in results):
        for grace in graces:
            mine = [r for b, g, r in results if b == backend and g == grace]
            print(
                f"  {backend}, grace {grace:g} s: writes/s {statistics.median(r['rate'] for r in mine):.1f}, "
                f"write -> visible p50 {statistics.median(r['p50'] for r in mine):.3f}, "
                f"p99 {statistics.median(r['p99'] for r in mine):.3f}, "
                f"max {statistics.median(r['max'] for r in mine):.3f}"
            )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
