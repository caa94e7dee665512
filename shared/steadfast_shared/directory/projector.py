"""Keeps a service's worker directory in step with the staff service's events (an idempotent consumer).

Every staff worker event carries the worker's whole state and its version, so applying one is an
upsert that ignores anything not newer than what is held: redelivery, replay and reordering across a
rebalance all leave the directory as the latest event says. Other staff events are not needed here.
A service binds it to its own classes::

    apply_staff_event = staff_event_projector(DirectoryWorker, DirectoryTerms)
    worker_directory_consumer = directory_consumer("caseload-worker-directory", apply_staff_event)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from steadfast_shared.consumer import Handler, IdempotentConsumer
from steadfast_shared.directory.models import NamedDirectoryWorkerColumns
from steadfast_shared.directory.repository import WorkerDirectoryRepository
from steadfast_shared.directory.schemas import WORKER_EVENT_PREFIX, StaffWorker
from steadfast_shared.events import CloudEvent
from steadfast_shared.service import Runtime
from steadfast_shared.uow import UnitOfWork

#: The staff topic, unless the service's settings name another (``<PREFIX>_STAFF_TOPIC``).
STAFF_TOPIC = "steadfast.staff"


def staff_event_projector(worker_class: type[Any], terms_class: type[Any]) -> Handler:
    """The consumer handler that upserts ``worker_class`` rows (and their ``terms_class`` segments);
    the worker's name is kept only when ``worker_class`` has a ``display_name`` column."""
    named = issubclass(worker_class, NamedDirectoryWorkerColumns)

    class _Directory(WorkerDirectoryRepository[Any]):
        model = worker_class

    async def apply_staff_event(uow: UnitOfWork, event: CloudEvent) -> None:
        if not event.type.startswith(WORKER_EVENT_PREFIX):
            return
        worker = StaffWorker.model_validate(event.data)
        directory = _Directory(uow.session)
        held = await directory.get(str(worker.id), for_update=True)
        if held is not None and held.version >= worker.version:
            return
        if held is None:
            held = worker_class(id=worker.id, terms=[])
            directory.add(held)
        held.external_id = worker.external_id
        if named:
            held.display_name = worker.display_name
        held.start_date = worker.start_date
        held.end_date = worker.end_date
        held.asye_start = worker.asye_start
        held.asye_end = worker.asye_end
        held.version = worker.version
        held.terms = [
            terms_class(
                effective_from=t.effective_from,
                effective_to=t.effective_to,
                role=t.role,
                team=t.team,
                fte=t.fte,
                employment_type=t.employment_type,
            )
            for t in worker.history
        ]

    return apply_staff_event


def directory_consumer(name: str, handler: Handler) -> Callable[[Runtime], IdempotentConsumer]:
    """The consumer factory a service lists in its definition's ``consumers``."""

    def build(runtime: Runtime) -> IdempotentConsumer:
        topic = getattr(runtime.settings, "staff_topic", STAFF_TOPIC)
        return IdempotentConsumer.of_service(runtime, name=name, topics=[topic], handler=handler)

    return build
