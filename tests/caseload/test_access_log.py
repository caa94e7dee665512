"""The access log of the caseload service: every read of a child's records logs who, when, which child
and why, in the read's own transaction; an auditor reads it; nothing changes or deletes it but the
retention purge. On real PostgreSQL (and the embedded default's SQLite where it differs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from steadfast_caseload.bootstrap import definition
from steadfast_caseload.db import tables
from steadfast_shared.access import AccessLogPurge
from steadfast_shared.codes import EpisodeType
from steadfast_shared.db.migrations import upgrade
from steadfast_shared.db.types import utcnow
from steadfast_shared.service import Runtime
from steadfast_shared.testing import ServiceClient
from steadfast_shared.testing.helpers import service_app
from tests.caseload.casework import given_child
from tests.caseload.conftest import READ, WRITE, seed_directory, staff_worker

pytestmark = pytest.mark.integration

AUDITOR = ("access-log:read",)


def _access_log() -> Table:
    assert tables.access_log is not None, "the caseload service keeps an access log"
    return tables.access_log


LOG = _access_log()


async def register(caseload: ServiceClient, external_id: str) -> str:
    answer = await caseload.http.post(
        "/v1/children", json={"external_id": external_id}, headers=caseload.auth(*WRITE)
    )
    assert answer.status_code == 201, answer.text
    child_id: str = answer.json()["id"]
    return child_id


async def log_rows(caseload: ServiceClient) -> list[dict[str, Any]]:
    async with caseload.runtime.database.sessionmaker() as session:
        rows = (await session.execute(select(LOG).order_by(LOG.c.id))).mappings().all()
        return [dict(r) for r in rows]


def read_headers(
    caseload: ServiceClient, *, subject: str = "sw-anna", purpose: str | None = "supervision"
) -> dict[str, str]:
    headers = caseload.auth(*READ, subject=subject)
    if purpose is not None:
        headers["Purpose"] = purpose
    return headers


async def test_a_childs_record_read_logs_who_when_which_child_and_why_and_never_the_data(
    caseload: ServiceClient,
) -> None:
    child_id = await register(caseload, "LL-SECRET-1")
    assert await log_rows(caseload) == [], "a write is not a read: it logs nothing"
    before = utcnow()
    answer = await caseload.http.get(f"/v1/children/{child_id}", headers=read_headers(caseload))
    assert answer.status_code == 200, answer.text
    rows = await log_rows(caseload)
    assert len(rows) == 1
    row = rows[0]
    assert set(row) == {"id", "read_at", "who", "child", "purpose", "route", "request_id"}
    assert (row["who"], row["child"], row["purpose"]) == ("sw-anna", child_id, "supervision")
    assert row["route"] == "/v1/children/{child}"
    assert row["request_id"] == answer.headers["x-request-id"]
    assert before <= row["read_at"] <= utcnow()
    assert "LL-SECRET-1" not in repr(row), "the log holds the pseudonym, not the source system's id"


async def test_each_sub_resource_of_a_child_logs_its_read(caseload: ServiceClient) -> None:
    child_id = await register(caseload, "LL-SUB")
    routes = ["allocations", "assessments", "visits", "reviews", "iro-visits"]
    for route in routes:
        answer = await caseload.http.get(f"/v1/children/LL-SUB/{route}", headers=read_headers(caseload))
        assert answer.status_code == 200, (route, answer.text)
    rows = await log_rows(caseload)
    assert [(r["route"], r["child"]) for r in rows] == [
        (f"/v1/children/{{child}}/{route}", child_id) for route in routes
    ]


async def test_a_list_naming_three_children_logs_three_rows_of_one_request(caseload: ServiceClient) -> None:
    ids = {await register(caseload, f"LL-L{n}") for n in range(3)}
    answer = await caseload.http.get("/v1/children", headers=read_headers(caseload, purpose="Audit"))
    assert answer.status_code == 200, answer.text
    assert {c["id"] for c in answer.json()["items"]} == ids
    rows = await log_rows(caseload)
    assert len(rows) == 3
    assert {r["child"] for r in rows} == ids
    assert {(r["request_id"], r["purpose"], r["route"]) for r in rows} == {
        (answer.headers["x-request-id"], "audit", "/v1/children")
    }


async def test_the_watch_lists_and_a_workers_caseload_log_every_child_they_name(
    caseload: ServiceClient,
) -> None:
    ids = await seed_directory(caseload, staff_worker("SW-W", team="PC3"))
    named = set()
    for n in range(3):
        child = await given_child(
            caseload,
            f"LL-W{n}",
            [(EpisodeType.cp, date(2015, 1, 5), None)],
            [(ids["SW-W"], date(2015, 1, 5), None)],
        )
        named.add(str(child))
    for path, params in [
        ("/v1/visits/due", {"as_of": "2015-03-02"}),
        ("/v1/workers/SW-W/caseload", {"as_of": "2015-03-02"}),
        ("/v1/assessments/approaching", {"as_of": "2015-03-02"}),
    ]:
        answer = await caseload.http.get(path, params=params, headers=read_headers(caseload))
        assert answer.status_code == 200, (path, answer.text)
    rows = await log_rows(caseload)
    by_route: dict[str, set[str]] = {}
    for row in rows:
        by_route.setdefault(row["route"], set()).add(row["child"])
    assert by_route == {"/v1/visits/due": named, "/v1/workers/{worker}/caseload": named}
    assert len(rows) == 6, "no assessment is open, so the approaching list names no child"


async def test_feedback_logs_the_child_it_is_about_and_an_anonymous_form_logs_none(
    caseload: ServiceClient,
) -> None:
    ids = await seed_directory(caseload, staff_worker("SW-F", team="PC3"))
    child = await given_child(
        caseload, "LL-F", [(EpisodeType.cp, date(2015, 1, 5), None)], [(ids["SW-F"], date(2015, 1, 5), None)]
    )
    for body in [
        {"returned_date": "2015-02-10", "child": "LL-F", "external_id": "FORM-F1", "contact_quality": 4},
        {"returned_date": "2015-02-11", "team": "PC3", "external_id": "FORM-F2", "contact_quality": 3},
    ]:
        sent = await caseload.http.post("/v1/feedback", json=body, headers=caseload.auth(*WRITE))
        assert sent.status_code == 201, sent.text
    for path in ["/v1/feedback/FORM-F1", "/v1/feedback/FORM-F2", "/v1/feedback"]:
        answer = await caseload.http.get(path, headers=read_headers(caseload))
        assert answer.status_code == 200, answer.text
    rows = await log_rows(caseload)
    assert [(r["route"], r["child"]) for r in rows] == [
        ("/v1/feedback/{feedback}", str(child)),
        ("/v1/feedback", str(child)),
    ]


async def test_without_a_purpose_the_read_is_logged_as_unstated_and_a_sentence_is_refused(
    caseload: ServiceClient,
) -> None:
    child_id = await register(caseload, "LL-P")
    unstated = await caseload.http.get(
        f"/v1/children/{child_id}", headers=read_headers(caseload, purpose=None)
    )
    assert unstated.status_code == 200
    sentence = await caseload.http.get(
        f"/v1/children/{child_id}", headers=read_headers(caseload, purpose="checking on Jane Doe")
    )
    assert sentence.status_code == 400
    assert sentence.headers["content-type"] == "application/problem+json"
    assert sentence.json()["errors"] == [{"field": "purpose", "reason": "invalid_purpose"}]
    assert [r["purpose"] for r in await log_rows(caseload)] == ["unstated"]


async def test_a_required_purpose_refuses_a_read_without_one(start_service: Callable[..., Any]) -> None:
    caseload: ServiceClient = await start_service(
        definition, consumers_enabled=False, access_log_purpose_required=True
    )
    child_id = await register(caseload, "LL-R")
    missing = await caseload.http.get(
        f"/v1/children/{child_id}", headers=read_headers(caseload, purpose=None)
    )
    assert missing.status_code == 400
    assert missing.json()["errors"] == [{"field": "purpose", "reason": "missing_purpose"}]
    stated = await caseload.http.get(f"/v1/children/{child_id}", headers=read_headers(caseload))
    assert stated.status_code == 200
    assert [r["purpose"] for r in await log_rows(caseload)] == ["supervision"]


async def test_a_read_that_gives_nothing_logs_nothing(caseload: ServiceClient) -> None:
    answer = await caseload.http.get("/v1/children/LL-NOBODY", headers=read_headers(caseload))
    assert answer.status_code == 404
    forbidden = await caseload.http.get("/v1/children", headers=caseload.auth("caseload:write"))
    assert forbidden.status_code == 403
    assert await log_rows(caseload) == []


async def test_no_read_answers_without_its_log_row(caseload: ServiceClient) -> None:
    """The log row is written in the read's transaction: a log that cannot be written fails the read."""
    child_id = await register(caseload, "LL-TX")
    async with caseload.runtime.database.engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'the log is unavailable'; END $$"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER refuse_insert BEFORE INSERT ON access_log "
                "FOR EACH ROW EXECUTE FUNCTION refuse_insert()"
            )
        )
    refused = await caseload.http.get(f"/v1/children/{child_id}", headers=read_headers(caseload))
    assert refused.status_code == 500
    assert refused.headers["content-type"] == "application/problem+json"
    assert "LL-TX" not in refused.text, "no record of the child left with the failed read"
    async with caseload.runtime.database.engine.begin() as conn:
        await conn.execute(text("DROP TRIGGER refuse_insert ON access_log"))
    answered = await caseload.http.get(f"/v1/children/{child_id}", headers=read_headers(caseload))
    assert answered.status_code == 200
    assert [r["request_id"] for r in await log_rows(caseload)] == [answered.headers["x-request-id"]]


async def test_the_auditor_reads_the_log_and_read_or_write_scopes_do_not(caseload: ServiceClient) -> None:
    anna_child = await register(caseload, "LL-A1")
    other_child = await register(caseload, "LL-A2")
    await caseload.http.get(f"/v1/children/{anna_child}", headers=read_headers(caseload, subject="sw-anna"))
    await caseload.http.get(f"/v1/children/{other_child}", headers=read_headers(caseload, subject="pm-bola"))
    await caseload.http.get(f"/v1/children/{anna_child}", headers=read_headers(caseload, subject="pm-bola"))

    for scopes in [READ, WRITE, ("ops:admin",)]:
        refused = await caseload.http.get("/v1/access-log", headers=caseload.auth(*scopes))
        assert refused.status_code == 403, scopes
        assert refused.json()["errors"][0]["required"] == "access-log:read"
    assert (await caseload.http.get("/v1/access-log")).status_code == 401

    auditor = caseload.auth(*AUDITOR, subject="ig-auditor")
    everything = await caseload.http.get("/v1/access-log", headers=auditor)
    assert everything.status_code == 200, everything.text
    items = everything.json()["items"]
    assert [(i["who"], i["child"]) for i in items] == [
        ("sw-anna", anna_child),
        ("pm-bola", other_child),
        ("pm-bola", anna_child),
    ]
    assert set(items[0]) == {"id", "read_at", "who", "child", "purpose", "route", "request_id"}

    by_child = await caseload.http.get("/v1/access-log", params={"child": anna_child}, headers=auditor)
    assert [i["who"] for i in by_child.json()["items"]] == ["sw-anna", "pm-bola"]
    by_who = await caseload.http.get("/v1/access-log", params={"who": "pm-bola", "limit": 1}, headers=auditor)
    first = by_who.json()
    assert [i["child"] for i in first["items"]] == [other_child]
    second = await caseload.http.get(
        "/v1/access-log",
        params={"who": "pm-bola", "limit": 1, "cursor": first["next_cursor"]},
        headers=auditor,
    )
    assert [i["child"] for i in second.json()["items"]] == [anna_child]
    assert second.json()["next_cursor"] is None
    later = items[1]["read_at"]
    window = await caseload.http.get("/v1/access-log", params={"read_before": later}, headers=auditor)
    assert [i["child"] for i in window.json()["items"]] == [anna_child]
    since = await caseload.http.get("/v1/access-log", params={"read_from": later}, headers=auditor)
    assert [i["child"] for i in since.json()["items"]] == [other_child, anna_child]
    assert len(await log_rows(caseload)) == 3, "reading the log adds nothing to it"


async def test_the_log_refuses_updates_deletes_and_truncation(caseload: ServiceClient) -> None:
    child_id = await register(caseload, "LL-AO")
    await caseload.http.get(f"/v1/children/{child_id}", headers=read_headers(caseload))
    for statement in [
        "UPDATE access_log SET who = 'someone-else'",
        "UPDATE access_log SET purpose = 'audit' WHERE id > 0",
        "DELETE FROM access_log",
        "TRUNCATE access_log",
    ]:
        with pytest.raises(DBAPIError, match="append-only"):
            async with caseload.runtime.database.engine.begin() as conn:
                await conn.execute(text(statement))
    # Pretending to be the purge does not delete a row newer than the purge's own cutoff.
    async with caseload.runtime.database.engine.connect() as conn:
        cutoff = (utcnow() - timedelta(days=1)).isoformat()
        await conn.execute(
            text("SELECT set_config('steadfast.access_log_purge_before', :c, true)"), {"c": cutoff}
        )
        with pytest.raises(DBAPIError, match="append-only"):
            await conn.execute(text("DELETE FROM access_log"))
        await conn.rollback()
    rows = await log_rows(caseload)
    assert [(r["who"], r["child"]) for r in rows] == [("sw-anna", child_id)]


async def seed_ages(caseload: ServiceClient, ages_in_days: list[int]) -> None:
    now = utcnow()
    async with caseload.runtime.database.sessionmaker() as session, session.begin():
        await session.execute(
            insert(LOG),
            [
                {
                    "read_at": now - timedelta(days=age),
                    "who": f"reader-{age}",
                    "child": "00000000-0000-0000-0000-000000000001",
                    "purpose": "supervision",
                    "route": "/v1/children/{child}",
                    "request_id": None,
                }
                for age in ages_in_days
            ],
        )


async def purge_with_retention(caseload: ServiceClient, *, days: int) -> int:
    """One purge with a retention of ``days``. The service's own purge (its default retention of seven
    years, run at start) has nothing to delete among the seeded rows, so the counts are this one's."""
    runtime = caseload.runtime
    settings = runtime.settings.model_copy(update={"access_log_retention_days": days})
    return await AccessLogPurge(Runtime(runtime.definition, settings, runtime.database)).purge_once()


async def test_the_retention_purge_removes_only_rows_older_than_the_retention(
    start_service: Callable[..., Any],
) -> None:
    caseload: ServiceClient = await start_service(definition, consumers_enabled=False)
    await seed_ages(caseload, [0, 29, 31, 400])
    purged = await purge_with_retention(caseload, days=30)
    assert purged == 2
    assert sorted(r["who"] for r in await log_rows(caseload)) == ["reader-0", "reader-29"]
    assert await purge_with_retention(caseload, days=30) == 0


async def test_the_service_runs_the_purge_in_the_background(start_service: Callable[..., Any]) -> None:
    caseload: ServiceClient = await start_service(definition, consumers_enabled=False)
    assert isinstance(caseload.app.state.background_tasks["access-log-purge"], AccessLogPurge)
    assert caseload.settings.access_log_retention_days == 2555


# -- the embedded default's SQLite ------------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def caseload_on_sqlite(
    tmp_path: Path, service_settings: Callable[..., Any]
) -> AsyncIterator[ServiceClient]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'caseload.db'}"
    await asyncio.to_thread(upgrade, definition.alembic_ini, url)
    settings = service_settings(definition, url, consumers_enabled=False)
    async with service_app(definition, settings) as caseload:
        yield caseload


async def test_on_sqlite_a_read_logs_in_its_transaction_updates_are_refused_and_the_purge_works(
    caseload_on_sqlite: ServiceClient,
) -> None:
    caseload = caseload_on_sqlite
    ids = {await register(caseload, f"LL-S{n}") for n in range(3)}
    listed = await caseload.http.get("/v1/children", headers=read_headers(caseload))
    assert listed.status_code == 200, listed.text
    one = next(iter(ids))
    single = await caseload.http.get(f"/v1/children/{one}", headers=read_headers(caseload, purpose=None))
    assert single.status_code == 200
    rows = await log_rows(caseload)
    assert len(rows) == 4
    assert {r["child"] for r in rows[:3]} == ids
    assert (rows[3]["child"], rows[3]["purpose"]) == (one, "unstated")
    assert rows[0]["read_at"].tzinfo is not None
    with pytest.raises(DBAPIError, match="append-only"):
        async with caseload.runtime.database.engine.begin() as conn:
            await conn.execute(text("UPDATE access_log SET who = 'someone-else'"))
    audited = await caseload.http.get(
        "/v1/access-log", params={"child": one}, headers=caseload.auth(*AUDITOR)
    )
    assert [i["purpose"] for i in audited.json()["items"]] == ["supervision", "unstated"]
    await seed_ages(caseload, [45])
    assert await purge_with_retention(caseload, days=30) == 1
    async with caseload.runtime.database.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(LOG)) == 4
