"""Fixtures of the end-to-end tests: the four services in-process (each with its relay and consumers) on
fresh databases and a broker of their own, so no other test's events reach them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from steadfast_audit.bootstrap import definition as audit
from steadfast_caseload.bootstrap import definition as caseload
from steadfast_metrics.bootstrap import definition as metrics
from steadfast_shared.embedded import TansuBroker
from steadfast_shared.testing import ServiceClient
from steadfast_staff.bootstrap import definition as staff


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[TansuBroker]:
    """A Tansu broker for this test alone."""
    broker = TansuBroker(log_file=tmp_path / "tansu.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def platform(start_service: Any, own_broker: TansuBroker) -> AsyncIterator[dict[str, ServiceClient]]:
    """The staff, caseload, audit and metrics services by name, on ``own_broker``."""
    servers = own_broker.bootstrap_servers
    yield {
        d.name: await start_service(d, kafka_bootstrap_servers=servers)
        for d in (staff, caseload, audit, metrics)
    }
