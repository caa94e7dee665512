"""The ledger's event types, all on one topic, keyed by entry id."""

from __future__ import annotations

from pydantic import BaseModel, Field

from steadfast_shared.events import EventRegistry

TOPIC = "ledger.events"

registry = EventRegistry(source="/steadfast/ledger")


class EntryOpenedData(BaseModel):
    entry_id: str
    key: str = Field(max_length=200)
    amount: int
    version: int = Field(ge=1)


class EntryAdjustedData(BaseModel):
    entry_id: str
    delta: int
    amount: int
    version: int = Field(ge=1)


EntryOpened = registry.register(
    "org.steadfast.ledger.entry.opened.v1",
    EntryOpenedData,
    topic=TOPIC,
    aggregate="entry",
    description="An entry was opened with its first amount.",
)
EntryAdjusted = registry.register(
    "org.steadfast.ledger.entry.adjusted.v1",
    EntryAdjustedData,
    topic=TOPIC,
    aggregate="entry",
    description="An entry's amount changed by delta.",
)
