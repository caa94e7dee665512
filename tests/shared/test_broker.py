"""The embedded broker: Tansu as a child process on a port of its own, stopped and restarted at will."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from steadfast_shared.embedded import (
    BrokerError,
    TansuBroker,
    free_port,
    metadata_cluster_id,
    port_is_free,
)
from steadfast_shared.kafka import broker_reachable, ensure_topics


async def topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return sorted(await admin.list_topics())
    finally:
        await admin.close()


def test_free_port_gives_a_port_nothing_listens_on() -> None:
    port = free_port()

    assert 1024 < port < 65536
    assert port_is_free(port)


def test_a_broker_answers_kafka_metadata_requests_until_stopped(tmp_path: Path) -> None:
    log_file = tmp_path / "broker.log"

    with TansuBroker(log_file=log_file) as broker:
        assert broker.running
        assert broker.port is not None
        assert broker.bootstrap_servers == f"127.0.0.1:{broker.port}"
        assert metadata_cluster_id("127.0.0.1", broker.port) == broker.cluster_id
        port = broker.port

    assert not broker.running
    assert broker.pid is None
    assert port_is_free(port)
    with pytest.raises(ConnectionRefusedError):
        metadata_cluster_id("127.0.0.1", port)
    assert "--- starting" in log_file.read_text()
    broker.stop()  # stopping twice is harmless


async def test_a_restarted_broker_keeps_its_port_and_comes_back_empty() -> None:
    async with TansuBroker() as broker:
        await ensure_topics(broker.bootstrap_servers, ["restart.check"], partitions=2)
        assert await topics(broker.bootstrap_servers) == ["restart.check"]
        port, cluster_id = broker.port, broker.cluster_id

        await broker.restart_async()

        assert broker.port == port
        assert broker.cluster_id != cluster_id
        assert broker.starts == 2
        assert await broker_reachable(broker.bootstrap_servers)
        assert await topics(broker.bootstrap_servers) == []
    assert not broker.running


def test_a_port_that_is_taken_is_refused() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(BrokerError, match="already in use"):
            TansuBroker(port).start()


def test_a_broker_without_a_port_picks_one_and_keeps_it() -> None:
    broker = TansuBroker()
    with pytest.raises(BrokerError, match="start it first"):
        _ = broker.bootstrap_servers
    try:
        broker.start()
        port = broker.port
        broker.start()  # already running: nothing happens
        broker.stop()
        broker.start()
        assert broker.port == port
        assert broker.starts == 2
    finally:
        broker.stop()


async def test_the_session_broker_is_reachable(kafka_broker: TansuBroker) -> None:
    assert kafka_broker.running
    assert await broker_reachable(kafka_broker.bootstrap_servers)
