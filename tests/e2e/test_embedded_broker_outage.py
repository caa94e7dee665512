"""``make run`` outlives its broker: the services answer while it is away, and the runner restarts it.

The runner runs as a real process tree (the broker and every service); the test kills the broker
process, writes to the staff service while no broker answers, and then requires the runner to have
started a new broker on the same port, the staff relay to have published the write to it and the
caseload service's consumer of the staff topic to have applied it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from steadfast_shared.embedded.broker import metadata_cluster_id
from steadfast_shared.embedded.runner import discover_services
from steadfast_shared.testing.helpers import wait_until
from tests.e2e.embedded import EmbeddedRun, _alive, _descendants

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@pytest_asyncio.fixture(loop_scope="session")
async def system(tmp_path: Path) -> AsyncIterator[EmbeddedRun]:
    run = EmbeddedRun(tmp_path / "var", discover_services())
    run.start()
    try:
        await run.wait_ready()
        # The runner has seen every service ready too: it is supervising.
        await wait_until(
            lambda: "Steadfast is running" in run.output.read_text(errors="replace"),
            timeout=30,
            message="the runner's summary",
        )
        yield run
    finally:
        with contextlib.suppress(Exception):
            await run.stop("sigterm")
        run.kill_everything()


def broker_pid(run: EmbeddedRun) -> int:
    assert run.process is not None
    for pid in _descendants(run.process.pid):
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if b"broker" in command and b"--listener-url" in command:
                return pid
    raise AssertionError(f"no broker process under the runner:\n{run.log()}")


def cluster_id(run: EmbeddedRun) -> str | None:
    try:
        return metadata_cluster_id("127.0.0.1", run.broker_port, timeout=0.5)
    except OSError:
        return None


def sqlite_rows(database_file: Path, query: str, *params: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(database_file, timeout=30)) as conn:
        return conn.execute(query, params).fetchall()


async def test_the_services_outlive_the_broker_and_the_runner_starts_it_again(system: EmbeddedRun) -> None:
    staff = system.url("staff")
    auth = {"Authorization": f"Bearer {system.token()}"}
    first_cluster = cluster_id(system)
    assert first_cluster is not None
    old_broker = broker_pid(system)

    os.kill(old_broker, signal.SIGKILL)
    await wait_until(lambda: not _alive(old_broker), timeout=10, message="the broker killed")
    killed_at = time.monotonic()

    async with httpx.AsyncClient(base_url=staff, headers=auth, timeout=10) as http:
        # No broker answers (the runner waits a second before it starts another): the service does.
        assert cluster_id(system) is None
        read = await http.get("/v1/teams")
        assert read.status_code == 200, read.text
        created = await http.post("/v1/teams", json={"code": "OUTAGE1", "name": "Written while away"})
        assert created.status_code == 201, created.text
        assert time.monotonic() - killed_at < 1.0, "the write was not made while the broker was away"

    staff_db = system.var_dir / "data" / "staff.db"
    outbox = sqlite_rows(staff_db, "SELECT event_id FROM outbox WHERE payload LIKE ?", '%"OUTAGE1"%')
    assert len(outbox) == 1, outbox
    event_id = str(outbox[0][0])

    new_cluster = await wait_until(
        lambda: (cid := cluster_id(system)) not in (None, first_cluster) and cid,
        timeout=30,
        message=f"a new broker on port {system.broker_port}",
    )
    assert broker_pid(system) != old_broker
    assert system.process is not None
    assert system.process.poll() is None, "the runner exited"

    await wait_until(
        lambda: bool(
            sqlite_rows(
                staff_db, "SELECT 1 FROM outbox WHERE event_id = ? AND published_at IS NOT NULL", event_id
            )
        ),
        timeout=30,
        message="the write relayed to the new broker",
    )
    caseload_db = system.var_dir / "data" / "caseload.db"
    await wait_until(
        lambda: bool(sqlite_rows(caseload_db, "SELECT 1 FROM processed_events WHERE event_id = ?", event_id)),
        timeout=40,
        message="the write consumed by the caseload service",
    )
    assert cluster_id(system) == new_cluster
    assert "running again" in system.log(), system.log()
