"""The embedded default's SQLite under a long writer: reads answer at once, other writers get turns.

SQLite has one write lock per database. A read must not wait for it (WAL readers take no lock), and a
long partial import, which commits batch by batch, must let other writers in between its batches instead
of keeping them waiting (and failing after the 30 s busy timeout) until the end of the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from steadfast_shared.db.migrations import upgrade
from steadfast_shared.testing import ServiceClient
from steadfast_shared.testing.helpers import service_app
from steadfast_staff.bootstrap import definition
from tests.staff.conftest import READ, WRITE, worker_body
from tests.staff.test_workers_import import HEADER

pytestmark = pytest.mark.integration

#: Well under the 30 s busy timeout a queued transaction would wait before failing.
PROMPT_SECONDS = 3.0
#: A file of four batches (the import engine's are 500 rows): several seconds of work on SQLite.
ROWS = 2_000


@pytest_asyncio.fixture(loop_scope="session")
async def staff_on_sqlite(
    tmp_path: Path, service_settings: Callable[..., object]
) -> AsyncIterator[tuple[ServiceClient, Path]]:
    """The staff service in-process on a SQLite file, as ``make run`` runs it."""
    database_file = tmp_path / "staff.db"
    url = f"sqlite+aiosqlite:///{database_file}"
    await asyncio.to_thread(upgrade, definition.alembic_ini, url)
    settings = service_settings(definition, url)
    async with service_app(definition, settings) as staff:  # type: ignore[arg-type]
        yield staff, database_file


@contextlib.contextmanager
def write_lock_held(database_file: Path) -> Iterator[threading.Event]:
    """Another connection holds the database's write lock (an uncommitted write) until the block ends."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(database_file, isolation_level=None, timeout=30)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE workers SET display_name = display_name")
            taken.set()
            release.wait(60)
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        assert taken.wait(10), "the other connection did not get the write lock"
        yield taken
    finally:
        release.set()
        thread.join(30)


async def test_a_read_answers_while_another_transaction_holds_the_write_lock(
    staff_on_sqlite: tuple[ServiceClient, Path],
) -> None:
    staff, database_file = staff_on_sqlite
    created = await staff.http.post("/v1/workers", json=worker_body("HR-L1"), headers=staff.auth(*WRITE))
    assert created.status_code == 201, created.text

    with write_lock_held(database_file):
        for path in ("/v1/workers/HR-L1", "/v1/workers", "/v1/teams"):
            started = time.monotonic()
            answer = await asyncio.wait_for(
                staff.http.get(path, headers=staff.auth(*READ)), PROMPT_SECONDS * 2
            )
            elapsed = time.monotonic() - started
            assert answer.status_code == 200, answer.text
            assert elapsed < PROMPT_SECONDS, f"GET {path} waited {elapsed:.1f}s for the write lock"


def _workers_csv(rows: int) -> bytes:
    lines = [
        f"HR-B{i:05d},Worker {i},social_worker,permanent,1.0,T{i % 7},2014-01-06,,,,,SW{i:06d},2026-01-31\n"
        for i in range(rows)
    ]
    return (HEADER + "".join(lines)).encode()


async def test_a_long_partial_import_lets_another_writer_in_between_its_batches(
    staff_on_sqlite: tuple[ServiceClient, Path],
) -> None:
    staff, _ = staff_on_sqlite
    began = time.monotonic()
    importing = asyncio.create_task(
        staff.http.post(
            "/v1/imports/workers?mode=partial",
            content=_workers_csv(ROWS),
            headers={**staff.auth(*WRITE), "Content-Type": "text/csv"},
            timeout=120,
        )
    )

    await asyncio.sleep(1.0)  # well into the file: past its first batch
    assert not importing.done(), "the import ended before the other writer came: make the file longer"
    started = time.monotonic()
    team = await staff.http.post(
        "/v1/teams", json={"code": "LOCK1", "name": "Lock test"}, headers=staff.auth(*WRITE), timeout=60
    )
    waited = time.monotonic() - started
    assert team.status_code == 201, team.text
    assert not importing.done(), f"the team was created only after the whole import ({waited:.1f}s)"
    # At most about one batch's work (a few seconds on a loaded machine), not the whole file's.
    assert waited < 5 * PROMPT_SECONDS, f"the team waited {waited:.1f}s for the import's lock"

    answer = await importing
    print(f"team waited {waited:.2f}s; import took {time.monotonic() - began:.1f}s")
    assert answer.status_code == 200, answer.text
    assert answer.json()["counts"]["created"] == ROWS


@pytest_asyncio.fixture(loop_scope="session")
async def staff_on_sqlite_impatient(
    tmp_path: Path, service_settings: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[ServiceClient, Path]]:
    """As :func:`staff_on_sqlite`, with a busy timeout of half a second instead of 30 s."""
    monkeypatch.setattr("steadfast_shared.db.engine.SQLITE_BUSY_TIMEOUT_MS", 500)
    database_file = tmp_path / "staff.db"
    url = f"sqlite+aiosqlite:///{database_file}"
    await asyncio.to_thread(upgrade, definition.alembic_ini, url)
    async with service_app(definition, service_settings(definition, url)) as staff:  # type: ignore[arg-type]
        yield staff, database_file


async def test_a_write_that_waited_out_the_busy_timeout_is_a_503_to_retry_and_readiness_holds(
    staff_on_sqlite_impatient: tuple[ServiceClient, Path],
) -> None:
    """Regression (hardening issue, defect 3): "database is locked" was a 500, and /readyz, asking on a
    writing connection, queued behind the writer and reported the service not ready."""
    staff, database_file = staff_on_sqlite_impatient
    assert (await staff.http.get("/readyz")).status_code == 200  # the service has opened the database
    with write_lock_held(database_file):
        refused = await staff.http.post("/v1/workers", json=worker_body("HR-B1"), headers=staff.auth(*WRITE))
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "5"
        assert refused.json()["type"].endswith("/database_busy")
        ready = await staff.http.get("/readyz")
        assert ready.json()["checks"]["database"] == "ok", ready.text
    retried = await staff.http.post("/v1/workers", json=worker_body("HR-B1"), headers=staff.auth(*WRITE))
    assert retried.status_code == 201, retried.text
