"""The strategy's event contract: every version the metrics service stores is published, whole, on the
strategy topic, keyed by the council, so one council's versions stay in order on one partition.

The metrics service registers the type (it publishes through its outbox); the caseload service reads
the payload with :class:`StrategyVersionData`. Who stored a version and the note saying why stay in the
metrics service: no consumer needs them (the personal-data rule of SPEC section 5).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from steadfast_shared.strategy.document import StrategyDocument

#: The topic every strategy version is published on.
STRATEGY_TOPIC = "steadfast.strategy"

#: A version of a council's strategy was stored (the shipped one included, stored at the first change).
VERSION_RECORDED = "org.steadfast.metrics.strategy.version_recorded.v1"


class StrategyVersionData(BaseModel):
    """One version of a council's strategy: versions are never changed, a change is a higher version."""

    council: str = Field(description="the council whose strategy this is (the Kafka key)")
    version: int = Field(ge=1, description="1 is the shipped default; each change adds 1")
    document: StrategyDocument
    created_at: datetime = Field(description="when the metrics service stored the version")
