from __future__ import annotations

from pydantic import BaseModel, Field

from steadfast_caseload.strategy.service import StrategyInForce
from steadfast_shared.schemas import with_examples
from steadfast_shared.strategy import StrategyDocument
from steadfast_shared.strategy.document import SHIPPED_STRATEGY


class StrategyRead(BaseModel):
    """The strategy the caseload service applies: the highest version heard of, else the shipped one."""

    model_config = with_examples(
        {"council": "slough", "version": 1, "document": SHIPPED_STRATEGY.model_dump(mode="json")}
    )

    council: str
    version: int = Field(description="1 (the shipped default) until the metrics service publishes another")
    document: StrategyDocument

    @classmethod
    def of(cls, in_force: StrategyInForce) -> StrategyRead:
        return cls(council=in_force.council, version=in_force.version, document=in_force.document)
