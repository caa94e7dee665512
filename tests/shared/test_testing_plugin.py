"""The test plugin's databases and its in-process service runner, on the ledger test service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from steadfast_shared.db import create_database
from steadfast_shared.db.migrations import heads, version_table
from steadfast_shared.embedded import free_port
from steadfast_shared.testing import (
    MigratedDatabases,
    PostgresUnavailable,
    ServiceClient,
    bearer,
    mint_token,
    read_topic,
)
from steadfast_shared.testing.databases import check_server
from tests.shared.conftest import unit_of_work
from tests.support.ledger import service
from tests.support.ledger.bootstrap import definition
from tests.support.ledger.events import TOPIC, EntryAdjusted, EntryOpened
from tests.support.ledger.models import Base, Entry, tables

StartService = Callable[..., Awaitable[ServiceClient]]


async def test_an_unreachable_server_is_reported_not_skipped() -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"

    with pytest.raises(PostgresUnavailable, match=r"cannot connect to PostgreSQL at .*127\.0\.0\.1"):
        await check_server(url, timeout=5)


async def test_the_migrations_match_the_models(ledger_url: str) -> None:
    def differences(connection: Connection) -> list[object]:
        options = {"compare_type": True, "version_table": version_table("ledger")}
        context = MigrationContext.configure(connection, opts=options)
        return list(compare_metadata(context, Base.metadata))

    engine = create_async_engine(ledger_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(differences) == []
            revision = await conn.scalar(text(f"SELECT version_num FROM {version_table('ledger')}"))
    finally:
        await engine.dispose()
    assert [revision] == heads(definition.alembic_ini)


async def test_each_database_is_fresh_separate_and_dropped(
    make_database: Callable[..., Awaitable[str]], postgres_databases: MigratedDatabases
) -> None:
    first_url, second_url = await make_database(definition), await make_database(definition)
    first, second = create_database(first_url), create_database(second_url)
    try:
        async with unit_of_work(first) as uow:
            await service.open_entry(uow, "rent", 500)
            await uow.commit()
        async with second.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(Entry)) == 0
    finally:
        await first.dispose()
        await second.dispose()

    name = make_url(first_url).database
    assert name is not None
    assert name.startswith(postgres_databases.run_id)
    assert name != make_url(second_url).database
    await postgres_databases.drop(first_url)
    engine = create_async_engine(postgres_databases.url_for("postgres"))
    try:
        async with engine.connect() as conn:
            query = text("SELECT count(*) FROM pg_database WHERE datname = :n")
            assert await conn.scalar(query, {"n": name}) == 0
    finally:
        await engine.dispose()


async def test_the_api_needs_a_token_with_the_right_scope(start_service: StartService) -> None:
    ledger = await start_service(definition, relay_enabled=False)
    body = {"key": "rent", "amount": 500}

    missing = await ledger.http.post("/v1/entries", json=body)
    wrong_scope = await ledger.http.post("/v1/entries", json=body, headers=ledger.auth("ledger:read"))
    expired = await ledger.http.post(
        "/v1/entries",
        json=body,
        headers=bearer(mint_token(ledger.settings, "ledger:write", ttl=timedelta(seconds=-60))),
    )
    created = await ledger.http.post("/v1/entries", json=body, headers=ledger.auth("ledger:write"))

    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert wrong_scope.status_code == 403
    assert expired.status_code == 401
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    entry = created.json()
    assert created.headers["location"] == f"/v1/entries/{entry['id']}"
    fetched = await ledger.http.get(created.headers["location"], headers=ledger.auth("ledger:read"))
    assert fetched.status_code == 200
    assert fetched.json() == entry


async def test_the_services_relay_publishes_what_the_api_changed(
    start_service: StartService,
) -> None:
    ledger = await start_service(definition)
    writer = ledger.auth("ledger:write")

    created = await ledger.http.post("/v1/entries", json={"key": "rent", "amount": 5}, headers=writer)
    location = created.headers["location"]
    adjusted = await ledger.http.post(
        f"{location}/adjustments", json={"delta": 2}, headers={**writer, "If-Match": '"1"'}
    )
    stale = await ledger.http.post(
        f"{location}/adjustments", json={"delta": 2}, headers={**writer, "If-Match": '"1"'}
    )

    assert adjusted.status_code == 200, adjusted.text
    assert adjusted.headers["etag"] == '"2"'
    assert stale.status_code == 412
    entry_id = created.json()["id"]
    events = await read_topic(
        ledger.settings.kafka_bootstrap_servers,
        TOPIC,
        expect=2,
        where=lambda e: e.subject == entry_id,
    )
    assert [e.type for e in events] == [EntryOpened.type, EntryAdjusted.type]
    assert [e.data["amount"] for e in events] == [5, 7]
    assert {e.source for e in events} == {"/steadfast/ledger"}


async def test_an_idempotency_key_replays_the_first_answer(start_service: StartService) -> None:
    ledger = await start_service(definition, relay_enabled=False)
    headers = {**ledger.auth("ledger:write"), "Idempotency-Key": "import-42"}

    first = await ledger.http.post("/v1/entries", json={"key": "rent", "amount": 5}, headers=headers)
    again = await ledger.http.post("/v1/entries", json={"key": "rent", "amount": 5}, headers=headers)
    different = await ledger.http.post("/v1/entries", json={"key": "rates", "amount": 1}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert different.status_code == 422
    async with ledger.runtime.database.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Entry)) == 1
        assert await session.scalar(select(func.count()).select_from(tables.outbox)) == 1


async def test_the_operational_endpoints_answer(start_service: StartService) -> None:
    ledger = await start_service(definition)

    health = await ledger.http.get("/healthz")
    ready = await ledger.http.get("/readyz")
    metrics = await ledger.http.get("/metrics")

    assert health.status_code == 200
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
    assert metrics.status_code == 200
    assert "steadfast_outbox_backlog" in metrics.text
    assert ledger.relay is not None
