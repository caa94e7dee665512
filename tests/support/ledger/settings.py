"""The ledger's settings: ``LEDGER_*`` environment variables."""

from __future__ import annotations

from steadfast_shared.settings import ServiceSettings, service_config


class LedgerSettings(ServiceSettings):
    model_config = service_config("LEDGER_")
