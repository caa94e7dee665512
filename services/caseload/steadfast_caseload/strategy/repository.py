from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_caseload.strategy.models import StrategyVersion


class StrategyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest(self, council: str) -> StrategyVersion | None:
        """The highest version of the council's strategy held."""
        return await self.session.scalar(
            select(StrategyVersion)
            .where(StrategyVersion.council == council)
            .order_by(StrategyVersion.version.desc())
            .limit(1)
        )

    async def held(self, council: str, version: int) -> bool:
        found = await self.session.scalar(
            select(StrategyVersion.id).where(
                StrategyVersion.council == council, StrategyVersion.version == version
            )
        )
        return found is not None

    def add(self, version: StrategyVersion) -> None:
        self.session.add(version)
