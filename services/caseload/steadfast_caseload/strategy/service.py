"""The strategy in force in the caseload service: the highest version of the council's strategy it has
heard of from the metrics service, else the shipped default (version 1, the same numbers as the shipped
metrics strategy). Versions carry no effective date: as in the metrics service, the version in force
now applies to every ``as_of`` asked about, past days included; what changes with the day is which of
its milestones applies (the limit per full caseload, when the strategy sets no ``caseload_limit``, is the
``average_caseload`` target on that day)."""

from __future__ import annotations

from dataclasses import dataclass

from steadfast_caseload.strategy.models import StrategyVersion
from steadfast_caseload.strategy.repository import StrategyRepository
from steadfast_shared.strategy import SHIPPED_STRATEGY, SHIPPED_VERSION, StrategyDocument, StrategyVersionData


@dataclass(frozen=True)
class StrategyInForce:
    council: str
    version: int
    document: StrategyDocument


class StrategyService:
    def __init__(self, strategies: StrategyRepository, council: str) -> None:
        self.strategies = strategies
        self.council = council

    async def in_force(self) -> StrategyInForce:
        held = await self.strategies.latest(self.council)
        if held is None:
            return StrategyInForce(self.council, SHIPPED_VERSION, SHIPPED_STRATEGY)
        return StrategyInForce(held.council, held.version, StrategyDocument.model_validate(held.document))

    async def record(self, data: StrategyVersionData) -> bool:
        """Keep a published version (any council's; a version already held is a no-op): True if new."""
        if await self.strategies.held(data.council, data.version):
            return False
        self.strategies.add(
            StrategyVersion(
                council=data.council,
                version=data.version,
                document=data.document.model_dump(mode="json"),
                created_at=data.created_at,
            )
        )
        await self.strategies.session.flush()
        return True
