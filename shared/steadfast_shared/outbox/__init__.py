"""The transactional outbox: rows written by the unit of work, published by the relay."""

from steadfast_shared.outbox.relay import OutboxRelay
from steadfast_shared.outbox.store import OutboxRow, OutboxStore

__all__ = ["OutboxRelay", "OutboxRow", "OutboxStore"]
