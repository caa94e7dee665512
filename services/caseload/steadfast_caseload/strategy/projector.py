"""Keeps the caseload service's copy of the strategy in step with the metrics service's events (an
idempotent consumer of ``steadfast.strategy``, group ``caseload-strategy``).

Each event carries one whole version, and versions are never changed, so applying one is an insert
that ignores a version already held: redelivery, replay and reordering all leave the same rows, and the
highest version held is in force (:mod:`steadfast_caseload.strategy.service`). Versions of other
councils are kept too (they cost a row and answer nothing).
"""

from __future__ import annotations

from steadfast_caseload.settings import CaseloadSettings
from steadfast_caseload.strategy.repository import StrategyRepository
from steadfast_caseload.strategy.service import StrategyService
from steadfast_shared.consumer import IdempotentConsumer
from steadfast_shared.events import CloudEvent
from steadfast_shared.service import Runtime
from steadfast_shared.strategy import STRATEGY_TOPIC, VERSION_RECORDED, StrategyVersionData
from steadfast_shared.uow import UnitOfWork

CONSUMER_NAME = "caseload-strategy"


async def apply_strategy_event(uow: UnitOfWork, event: CloudEvent) -> None:
    if event.type != VERSION_RECORDED:
        return
    data = StrategyVersionData.model_validate(event.data)
    await StrategyService(StrategyRepository(uow.session), data.council).record(data)


def strategy_consumer(runtime: Runtime) -> IdempotentConsumer:
    """The consumer factory listed in the service definition's ``consumers``."""
    settings = runtime.settings
    topic = settings.strategy_topic if isinstance(settings, CaseloadSettings) else STRATEGY_TOPIC
    return IdempotentConsumer.of_service(
        runtime, name=CONSUMER_NAME, topics=[topic], handler=apply_strategy_event
    )
