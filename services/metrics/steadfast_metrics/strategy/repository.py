from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_metrics.strategy.models import StrategyVersion
from steadfast_shared.http.pagination import Page, PageParams, paginate

T = TypeVar("T")


class StrategyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest(self, council: str) -> StrategyVersion | None:
        return await self.session.scalar(
            select(StrategyVersion)
            .where(StrategyVersion.council == council)
            .order_by(StrategyVersion.version.desc())
            .limit(1)
        )

    async def get(self, council: str, version: int) -> StrategyVersion | None:
        return await self.session.scalar(
            select(StrategyVersion).where(
                StrategyVersion.council == council, StrategyVersion.version == version
            )
        )

    async def count(self, council: str) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).select_from(StrategyVersion).where(StrategyVersion.council == council)
            )
            or 0
        )

    def add(self, version: StrategyVersion) -> None:
        self.session.add(version)

    async def page(
        self, council: str, params: PageParams, to_item: Callable[[StrategyVersion], T]
    ) -> Page[T]:
        return await paginate(
            self.session,
            select(StrategyVersion).where(StrategyVersion.council == council),
            key_columns=[StrategyVersion.version],
            key_of=lambda v: [v.version],
            params=params,
            to_item=to_item,
        )

    async def all(self, council: str) -> Sequence[StrategyVersion]:
        return (
            await self.session.scalars(
                select(StrategyVersion)
                .where(StrategyVersion.council == council)
                .order_by(StrategyVersion.version)
            )
        ).all()
