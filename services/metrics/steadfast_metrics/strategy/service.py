"""The council's strategy: the version in force, its history, and changes to it.

Until a council changes it, the strategy in force is the shipped default (the Slough 2014-17 values) as
version 1, not yet stored. The first change stores that default as version 1 and the change as version 2,
so the history always starts from what was shipped. Versions are never updated; ``If-Match`` on a change
names the version it was based on (412 when another change came first). Every version stored is
published (``StrategyVersionRecorded``, through the outbox in the same transaction): the shipped one and
the change at the first change, the change alone afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

from steadfast_metrics.events import StrategyVersionRecorded
from steadfast_metrics.strategy.document import SLOUGH_2014_17, StrategyDocument
from steadfast_metrics.strategy.models import StrategyVersion
from steadfast_metrics.strategy.repository import StrategyRepository
from steadfast_metrics.strategy.schemas import StrategyChange, StrategyRead
from steadfast_shared.db import utcnow
from steadfast_shared.errors import NotFound
from steadfast_shared.http.pagination import Page, PageParams
from steadfast_shared.strategy import document as shared
from steadfast_shared.strategy.events import StrategyVersionData

#: Who "changed" the shipped default.
SHIPPED = "shipped default"


class StrategyService:
    def __init__(self, strategies: StrategyRepository, council: str) -> None:
        self.strategies = strategies
        self.council = council

    async def current(self) -> StrategyRead:
        held = await self.strategies.latest(self.council)
        return self.read(held) if held is not None else self.shipped()

    async def version(self, version: int) -> StrategyRead:
        held = await self.strategies.get(self.council, version)
        if held is not None:
            return self.read(held)
        if version == 1 and await self.strategies.count(self.council) == 0:
            return self.shipped()
        raise NotFound(f"strategy version {version} of {self.council} does not exist")

    async def versions(self, params: PageParams) -> Page[StrategyRead]:
        """Every version, oldest first; before any change, the shipped default alone."""
        page = await self.strategies.page(self.council, params, self.read)
        if not page.items and params.cursor is None:
            return Page[StrategyRead](items=[self.shipped()])
        return page

    async def change(
        self, change: StrategyChange, changed_by: str, check_version: Callable[[int], None]
    ) -> StrategyRead:
        held = await self.strategies.latest(self.council)
        check_version(held.version if held is not None else 1)
        if held is None:
            held = self._store(1, SLOUGH_2014_17, SHIPPED, "the strategy shipped with Steadfast")
        new = self._store(held.version + 1, change.document, changed_by, change.note)
        await self.strategies.session.flush()
        return self.read(new)

    def _store(self, version: int, document: StrategyDocument, by: str, note: str | None) -> StrategyVersion:
        row = StrategyVersion(
            council=self.council,
            version=version,
            document=document.model_dump(mode="json"),
            changed_by=by,
            note=note,
            created_at=utcnow(),
        )
        row.record(
            StrategyVersionRecorded(
                self.council,
                StrategyVersionData(
                    council=self.council,
                    version=version,
                    document=shared.StrategyDocument.model_validate(document.model_dump()),
                    created_at=row.created_at,
                ),
            )
        )
        self.strategies.add(row)
        return row

    def shipped(self) -> StrategyRead:
        return StrategyRead(
            council=self.council,
            version=1,
            document=SLOUGH_2014_17,
            changed_by=SHIPPED,
            note="the strategy shipped with Steadfast",
            created_at=None,
        )

    def read(self, row: StrategyVersion) -> StrategyRead:
        return StrategyRead(
            council=row.council,
            version=row.version,
            document=StrategyDocument.model_validate(row.document),
            changed_by=row.changed_by,
            note=row.note,
            created_at=row.created_at,
        )
