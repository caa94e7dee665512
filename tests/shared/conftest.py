"""Fixtures for the shared library's tests, on the ledger test service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
import pytest_asyncio

from steadfast_shared.db import Database, create_database
from steadfast_shared.embedded import TansuBroker
from steadfast_shared.kafka import REQUEST_TIMEOUT_MS
from steadfast_shared.outbox import OutboxRelay
from steadfast_shared.uow import UnitOfWork
from tests.support.ledger.bootstrap import definition
from tests.support.ledger.events import TOPIC, registry
from tests.support.ledger.models import tables


@pytest_asyncio.fixture(loop_scope="session")
async def ledger_url(make_database: Callable[..., Awaitable[str]]) -> str:
    return await make_database(definition)


@pytest_asyncio.fixture(loop_scope="session")
async def ledger_db(ledger_url: str) -> AsyncIterator[Database]:
    database = create_database(ledger_url, pool_size=10)
    try:
        yield database
    finally:
        await database.dispose()


@asynccontextmanager
async def unit_of_work(database: Database) -> AsyncIterator[UnitOfWork]:
    """A unit of work on the ledger's database; the test commits it (anything else rolls back)."""
    async with database.sessionmaker() as session:
        uow = UnitOfWork(session, tables=tables, registry=registry)
        try:
            yield uow
        finally:
            if session.in_transaction():
                await uow.rollback()


def new_relay(
    database: Database,
    bootstrap_servers: str,
    *,
    batch_size: int = 500,
    retention: timedelta = timedelta(days=30),
    request_timeout_ms: int = REQUEST_TIMEOUT_MS,
) -> OutboxRelay:
    """The ledger's relay, polling often so that tests wait little."""
    return OutboxRelay(
        service="ledger",
        database=database,
        tables=tables,
        bootstrap_servers=bootstrap_servers,
        topics={TOPIC},
        batch_size=batch_size,
        poll_interval=0.02,
        retention=retention,
        request_timeout_ms=request_timeout_ms,
    )


@pytest.fixture
def bootstrap(kafka_broker: TansuBroker) -> str:
    return kafka_broker.bootstrap_servers
