"""Keeps the projections in step with the staff, caseload and audit events: the consumer's handlers.

A batch of events is read into its row changes by the pure mapping
(:func:`steadfast_metrics.facts.mapping.changes_of`, where the rules are) and the changes are written by
the store (:class:`steadfast_metrics.facts.store.ProjectionStore`), in the caller's transaction. Every
change to a projection moves ``projection_revision`` on and every event of a followed stream moves its
row of ``projection_sources`` on, in the same transaction.

:func:`apply_events` is the batch handler of the live consumer and of the rebuild
(:mod:`steadfast_metrics.rebuild`); :func:`apply_event` applies one event the same way (the consumer's
handler for an event applied alone, and the tests'). :data:`READ_AHEAD` lets the live consumer read a
batch's payloads while the previous batch is in the database: the upserts are read from every event of
the batch, duplicates included (an event applied before is never newer than what it left, so the store's
version guard skips it), and the sources are counted from the new events only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from steadfast_metrics.facts.mapping import Changes, changes_of, streams_of
from steadfast_metrics.facts.store import ProjectionStore
from steadfast_shared.batch import ReadAhead
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


async def apply_read(uow: UnitOfWork, fresh: Sequence[CloudEvent], read: Changes) -> int:
    """Apply a batch read ahead: ``read`` is :func:`changes_of` every event of the batch, ``fresh`` the
    events of it not applied before (the caller commits)."""
    changes = dataclasses.replace(read, streams=streams_of(fresh))
    return await ProjectionStore(uow.session).apply(changes)


#: The live consumer's read-ahead: the payloads read before the batch's transaction.
READ_AHEAD = ReadAhead(prepare=changes_of, apply=apply_read)
