from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SourceRead(BaseModel):
    topic: str
    newest_event_time: datetime | None = Field(description="the time of the newest event applied")
    age_seconds: float | None = Field(description="now minus newest_event_time")
    events_applied: int
    last_applied_at: datetime | None


class PartitionLag(BaseModel):
    topic: str
    partition: int
    lag: int = Field(description="messages behind the end of the partition, as this replica last saw")


class Freshness(BaseModel):
    """How up to date the projections behind an answer are."""

    revision: int = Field(description="the projections' revision (it grows whenever an event changes them)")
    sources: list[SourceRead]
    consumer_lag: list[PartitionLag] = Field(
        description="this replica's consumer lag per assigned partition (empty when it has none)"
    )
    computed_at: datetime = Field(description="when the values were computed from the projections")
