"""Aggregates: the consistency boundaries whose changes are published as events.

An aggregate records what happened with :meth:`Aggregate.record`. The event is kept on the aggregate
until the aggregate belongs to a session, and from then on in the session's ``info`` (so it survives the
aggregate being garbage-collected after a flush); the unit of work drains them when it commits and
writes them to the outbox in the same transaction.

An aggregate also carries a ``version`` that every change increments: it is the resource's ``ETag``, and
because every change updates the aggregate's row, two transactions changing one aggregate are
serialised by the database, so its events reach the outbox in commit order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Integer, event
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session

from steadfast_shared.events.registry import PendingEvent

PENDING_EVENTS = "steadfast.pending_events"

#: A check of an aggregate's version before it changes (the HTTP layer passes one built from If-Match).
Precondition = Callable[[int], None]


def pending_events(session: Session) -> list[PendingEvent]:
    """The events recorded in ``session`` and not yet written to the outbox."""
    events: list[PendingEvent] = session.info.setdefault(PENDING_EVENTS, [])
    return events


class Aggregate:
    """Mixin for ORM classes that are aggregate roots."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    def record(self, event: PendingEvent) -> None:
        """Record an event about this aggregate; it is published if and only if the change commits."""
        session = object_session(self)
        if session is not None:
            pending_events(session).append(event)
        else:
            self._detached_events().append(event)

    def touch(self) -> None:
        """Mark a change: the version (and so the ETag) moves on and the aggregate's row is updated."""
        self.version = (self.version or 0) + 1

    def _detached_events(self) -> list[PendingEvent]:
        state: dict[str, Any] = self.__dict__
        events: list[PendingEvent] | None = state.get("_pending_events")
        if events is None:
            events = []
            state["_pending_events"] = events
        return events


@event.listens_for(Session, "transient_to_pending")
def _adopt_events(session: Session, instance: object) -> None:
    """A new aggregate added to a session hands its recorded events to the session."""
    if isinstance(instance, Aggregate):
        detached = instance._detached_events()
        pending_events(session).extend(detached)
        detached.clear()
