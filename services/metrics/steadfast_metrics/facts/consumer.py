"""The consumer that builds the projections: consumer group ``metrics-projections`` over the staff,
caseload and audit topics the settings name, applying each event once (the shared idempotent consumer
tracks event ids in the same transaction as the change) in batches through
:func:`steadfast_metrics.facts.projector.apply_events` (and one at a time through
:func:`~steadfast_metrics.facts.projector.apply_event` when a batch fails), the next batch's payloads
read while the database applies the current one (``READ_AHEAD``). Several instances of the
service share the partitions of the three topics; one aggregate's events stay on one partition, so stay
in order."""

from __future__ import annotations

from steadfast_metrics.facts.projector import READ_AHEAD, apply_event, apply_events
from steadfast_metrics.settings import metrics_settings
from steadfast_shared.consumer import IdempotentConsumer
from steadfast_shared.service import Runtime

GROUP = "metrics-projections"


def projections_consumer(runtime: Runtime) -> IdempotentConsumer:
    """The consumer factory listed in the service definition's ``consumers``."""
    settings = metrics_settings(runtime)
    return IdempotentConsumer.of_service(
        runtime,
        name=GROUP,
        topics=[settings.staff_topic, settings.caseload_topic, settings.audit_topic],
        handler=apply_event,
        batch_handler=apply_events,
        read_ahead=READ_AHEAD,
    )
