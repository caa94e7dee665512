"""The ledger's composition root."""

from __future__ import annotations

from pathlib import Path

from steadfast_shared.service import ServiceDefinition
from tests.support.ledger.api import router
from tests.support.ledger.events import registry
from tests.support.ledger.models import tables
from tests.support.ledger.settings import LedgerSettings

definition = ServiceDefinition(
    name="ledger",
    title="Ledger (test service)",
    description="A tiny service that exercises the shared library in its integration tests.",
    settings_class=LedgerSettings,
    tables=tables,
    registry=registry,
    routers=[router],
    root=Path(__file__).resolve().parent,
)
