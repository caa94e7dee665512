"""A consumer handler for the ledger's tests: it writes one receipt per event it handles."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import insert

from steadfast_shared.consumer import Handler
from steadfast_shared.db.types import utcnow
from steadfast_shared.events import CloudEvent
from steadfast_shared.uow import UnitOfWork
from tests.support.ledger.models import receipts


def receipt_handler(consumer: str, *, fail_when: Callable[[CloudEvent], bool] | None = None) -> Handler:
    """A handler that records a receipt, and raises for the events ``fail_when`` picks."""

    async def handle(uow: UnitOfWork, event: CloudEvent) -> None:
        await uow.session.execute(
            insert(receipts).values(
                consumer=consumer,
                event_id=event.id,
                event_type=event.type,
                subject=event.subject,
                received_at=utcnow(),
            )
        )
        if fail_when is not None and fail_when(event):
            raise RuntimeError(f"ledger refuses event {event.id}")

    return handle
