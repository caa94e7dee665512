from __future__ import annotations

from pydantic import BaseModel, Field

from steadfast_shared.schemas import Timestamp, with_examples

#: The projections behind an answer on 9 March 2015, the three topics applied seconds before.
FRESHNESS = {
    "revision": 14,
    "sources": [
        {
            "topic": topic,
            "newest_event_time": "2015-03-09T16:42:05+00:00",
            "age_seconds": 3.1,
            "events_applied": applied,
            "last_applied_at": "2015-03-09T16:42:05.412000+00:00",
        }
        for topic, applied in (("steadfast.audit", 2), ("steadfast.caseload", 9), ("steadfast.staff", 3))
    ],
    "consumer_lag": [
        {"topic": topic, "partition": 0, "lag": 0}
        for topic in ("steadfast.audit", "steadfast.caseload", "steadfast.staff")
    ],
    "computed_at": "2015-03-09T16:42:08.530000+00:00",
}


class SourceRead(BaseModel):
    topic: str
    newest_event_time: Timestamp | None = Field(description="the time of the newest event applied")
    age_seconds: float | None = Field(description="now minus newest_event_time")
    events_applied: int
    last_applied_at: Timestamp | None


class PartitionLag(BaseModel):
    topic: str
    partition: int
    lag: int = Field(description="messages behind the end of the partition, as this replica last saw")


class Freshness(BaseModel):
    """How up to date the projections behind an answer are."""

    model_config = with_examples(FRESHNESS)

    revision: int = Field(description="the projections' revision (it grows whenever an event changes them)")
    sources: list[SourceRead]
    consumer_lag: list[PartitionLag] = Field(
        description="this replica's consumer lag per assigned partition (empty when it has none)"
    )
    computed_at: Timestamp = Field(description="when the values were computed from the projections")
