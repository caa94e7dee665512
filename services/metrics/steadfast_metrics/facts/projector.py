"""Keeps the projections in step with the staff, caseload and audit events: the consumer's handlers.

A batch of events is read into its row changes by the pure mapping
(:func:`steadfast_metrics.facts.mapping.changes_of`, where the rules are) and the changes are written by
the store (:class:`steadfast_metrics.facts.store.ProjectionStore`), in the caller's transaction. Every
change to a projection moves ``projection_revision`` on and every event of a followed stream moves its
row of ``projection_sources`` on, in the same transaction.

:func:`apply_events` is the batch handler of the live consumer and of the rebuild
(:mod:`steadfast_metrics.rebuild`); :func:`apply_event` applies one event the same way (the consumer's
handler for an event applied alone, and the tests').
"""

from __future__ import annotations

from collections.abc import Sequence

from steadfast_metrics.facts.mapping import changes_of
from steadfast_metrics.facts.store import ProjectionStore
from steadfast_shared.events import CloudEvent
from steadfast_shared.uow import UnitOfWork


async def apply_events(uow: UnitOfWork, events: Sequence[CloudEvent]) -> int:
    """Apply ``events`` in order, in ``uow``'s transaction (the caller commits), leaving the projections
    and the sources as applying each in turn would. Every payload is read before anything is written:
    one that cannot be read raises (the caller rolls back). Returns how many records were written."""
    return await ProjectionStore(uow.session).apply(changes_of(events))


async def apply_event(uow: UnitOfWork, event: CloudEvent) -> None:
    """Apply one event to the projections, in ``uow``'s transaction (the caller commits)."""
    await apply_events(uow, [event])
