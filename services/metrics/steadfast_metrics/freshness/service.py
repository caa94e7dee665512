"""Freshness: how far behind the events the projections are, in every KPI answer and on ``/metrics``.

Two measures: the newest event time applied per topic against now (the age), and the consumer's lag in
messages per partition (what this replica's consumer measured last; also exported by the shared consumer
as ``steadfast_consumer_lag``). The ages are exported here as ``steadfast_metrics_source_age_seconds``,
refreshed whenever an answer reads them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from prometheus_client import Gauge

from steadfast_metrics.facts.repository import SourceFreshness
from steadfast_metrics.freshness.schemas import Freshness, PartitionLag, SourceRead
from steadfast_shared.db import utcnow

SOURCE_AGE = Gauge(
    "steadfast_metrics_source_age_seconds",
    "Now minus the time of the newest event applied to the projections, per topic",
    ["topic"],
)


def freshness(
    revision: int,
    sources: Sequence[SourceFreshness],
    lag: Mapping[tuple[str, int], int],
    computed_at: datetime,
) -> Freshness:
    now = utcnow()
    read = []
    for source in sorted(sources, key=lambda s: s.topic):
        age = (now - source.newest_event_time).total_seconds() if source.newest_event_time else None
        if age is not None:
            SOURCE_AGE.labels(source.topic).set(max(0.0, age))
        read.append(
            SourceRead(
                topic=source.topic,
                newest_event_time=source.newest_event_time,
                age_seconds=round(max(0.0, age), 3) if age is not None else None,
                events_applied=source.events_applied,
                last_applied_at=source.last_applied_at,
            )
        )
    return Freshness(
        revision=revision,
        sources=read,
        consumer_lag=[PartitionLag(topic=t, partition=p, lag=n) for (t, p), n in sorted(lag.items())],
        computed_at=computed_at,
    )
