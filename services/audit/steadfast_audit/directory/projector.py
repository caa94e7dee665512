"""Keeps the worker directory in step with the staff service's events (an idempotent consumer).

Every staff worker event carries the worker's whole state and its version, so applying one is an
upsert that ignores anything not newer than what is held: redelivery, replay and reordering across
a rebalance all leave the directory as the latest event says. Other staff events are not needed here.
"""

from __future__ import annotations

from steadfast_audit.directory.models import DirectoryTerms, DirectoryWorker
from steadfast_audit.directory.repository import DirectoryRepository
from steadfast_audit.directory.schemas import WORKER_EVENT_PREFIX, StaffWorker
from steadfast_shared.consumer import IdempotentConsumer
from steadfast_shared.events import CloudEvent
from steadfast_shared.service import Runtime
from steadfast_shared.uow import UnitOfWork

CONSUMER_NAME = "audit-worker-directory"


async def apply_staff_event(uow: UnitOfWork, event: CloudEvent) -> None:
    if not event.type.startswith(WORKER_EVENT_PREFIX):
        return
    worker = StaffWorker.model_validate(event.data)
    directory = DirectoryRepository(uow.session)
    held = await directory.get(str(worker.id), for_update=True)
    if held is not None and held.version >= worker.version:
        return
    if held is None:
        held = DirectoryWorker(id=worker.id, terms=[])
        directory.add(held)
    held.external_id = worker.external_id
    held.display_name = worker.display_name
    held.start_date = worker.start_date
    held.end_date = worker.end_date
    held.asye_start = worker.asye_start
    held.asye_end = worker.asye_end
    held.version = worker.version
    held.terms = [
        DirectoryTerms(
            effective_from=t.effective_from,
            effective_to=t.effective_to,
            role=t.role,
            team=t.team,
            fte=t.fte,
            employment_type=t.employment_type,
        )
        for t in worker.history
    ]


def worker_directory_consumer(runtime: Runtime) -> IdempotentConsumer:
    settings = runtime.settings
    topic = getattr(settings, "staff_topic", "steadfast.staff")
    return IdempotentConsumer(
        name=CONSUMER_NAME,
        topics=[topic],
        handler=apply_staff_event,
        database=runtime.database,
        tables=runtime.definition.tables,
        registry=runtime.definition.registry,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        partitions=settings.kafka_topic_partitions,
        replication_factor=settings.kafka_replication_factor,
    )
