"""What each page shows, assembled from the services the API answers from (the KPIs, their history,
the watch lists, the strategy): plain data for the templates, no HTML here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from steadfast_metrics.freshness.schemas import Freshness
from steadfast_metrics.history.schemas import ForecastRead, HistoryPoint
from steadfast_metrics.history.service import HistoryService
from steadfast_metrics.kpis.catalogue import BY_ID, KpiDefinition
from steadfast_metrics.kpis.schemas import KpiAnswer, KpiReading
from steadfast_metrics.kpis.service import KpiService, off_the_loop
from steadfast_metrics.strategy.document import Target
from steadfast_metrics.strategy.schemas import StrategyRead
from steadfast_metrics.teams.caseloads import WorkerCaseload, team_caseloads
from steadfast_metrics.watchlists.schemas import WatchListIndex, WatchListPage
from steadfast_metrics.watchlists.service import WATCH_LISTS, WatchListService
from steadfast_shared.http.pagination import PageParams

#: How far back the overview's sparklines and a KPI page's trend reach.
HISTORY_DAYS = 2 * 365 + 1


@dataclass(frozen=True)
class Tile:
    answer: KpiAnswer
    definition: KpiDefinition
    #: The snapshots up to the day, and the day's own value last (the sparkline).
    points: list[tuple[date, float | None]]
    previous: HistoryPoint | None

    @property
    def sparkline(self) -> list[tuple[str, float | None]]:
        return [(day.isoformat(), value) for day, value in self.points]

    @property
    def change(self) -> float | None:
        if self.previous is None or self.previous.value is None or self.answer.value is None:
            return None
        return self.answer.value - self.previous.value


@dataclass(frozen=True)
class Freshened:
    """How fresh the figures on a page are, in the words the page shows."""

    freshness: Freshness

    @property
    def newest_event_age_seconds(self) -> float | None:
        ages = [s.age_seconds for s in self.freshness.sources if s.age_seconds is not None]
        return min(ages) if ages else None

    @property
    def events_waiting(self) -> int:
        return sum(p.lag for p in self.freshness.consumer_lag)


@dataclass(frozen=True)
class Overview:
    as_of: date
    team: str | None
    teams: list[str]
    strategy_version: int
    tiles: list[Tile]
    fresh: Freshened


@dataclass(frozen=True)
class KpiPage:
    reading: KpiReading
    definition: KpiDefinition
    teams: list[str]
    points: list[HistoryPoint]
    forecast: ForecastRead | None
    target: Target | None
    fresh: Freshened

    def chart(self) -> dict[str, Any]:
        """The trend chart's data (drawn by the page's script; the same figures are in the table)."""
        forecast = (
            [
                {"x": self.points[-1].as_of.isoformat(), "y": self.points[-1].value},
                {"x": self.forecast.target_date.isoformat(), "y": self.forecast.value},
            ]
            if self.forecast is not None and self.forecast.value is not None and self.points
            else []
        )
        return {
            "title": self.definition.title,
            "unit": self.definition.unit,
            "values": [{"x": p.as_of.isoformat(), "y": p.value} for p in self.points],
            "targets": [
                {"x": p.as_of.isoformat(), "y": p.target} for p in self.points if p.target is not None
            ],
            "milestones": [
                {"x": m.date.isoformat(), "y": m.value}
                for m in (self.target.milestones if self.target else [])
            ],
            "forecast": forecast,
        }


@dataclass(frozen=True)
class TeamPage:
    as_of: date
    team: str
    teams: list[str]
    workers: list[WorkerCaseload]
    tiles: list[Tile]
    fresh: Freshened

    @property
    def scale(self) -> int:
        """The bars' full width, in children: the largest caseload or limit in the team."""
        return max([1, *(w.caseload for w in self.workers), *(w.limit or 0 for w in self.workers)])


@dataclass(frozen=True)
class WatchListsPage:
    index: WatchListIndex
    teams: list[str]
    fresh: Freshened


@dataclass(frozen=True)
class WatchListView:
    page: WatchListPage[Any]
    teams: list[str]
    columns: list[str]
    sort: str | None
    descending: bool
    fresh: Freshened
    #: The cursor of each page seen so far (``previous`` goes back one).
    cursor: str | None = None
    previous_cursors: list[str] = field(default_factory=list)


@dataclass
class Dashboard:
    kpis: KpiService
    history: HistoryService

    async def overview(self, as_of: date, team: str | None) -> Overview:
        report = await self.kpis.report(as_of, team)
        series = await self.history.series(team, as_of - timedelta(days=HISTORY_DAYS), as_of)
        tiles = [_tile(answer, series.get(answer.id, []), as_of) for answer in report.kpis]
        return Overview(
            as_of=as_of,
            team=team,
            teams=await self.kpis.teams(as_of),
            strategy_version=report.strategy_version,
            tiles=tiles,
            fresh=Freshened(report.freshness),
        )

    async def kpi(self, kpi_id: str, as_of: date, team: str | None) -> KpiPage:
        reading = await self.kpis.reading(kpi_id, as_of, team)
        history = await self.history.history(kpi_id, team, as_of - timedelta(days=HISTORY_DAYS), as_of)
        strategy = await self.kpis.strategies.current()
        return KpiPage(
            reading=reading,
            definition=BY_ID[kpi_id],
            teams=await self.kpis.teams(as_of),
            points=history.points,
            forecast=history.forecast,
            target=strategy.document.targets.get(kpi_id),
            fresh=Freshened(reading.freshness),
        )

    async def team(self, team: str, as_of: date) -> TeamPage:
        facts, strategy, fresh = await self.kpis.day(as_of)
        report = await self.kpis.report(as_of, team)
        series = await self.history.series(team, as_of - timedelta(days=HISTORY_DAYS), as_of)
        return TeamPage(
            as_of=as_of,
            team=team,
            teams=await self.kpis.teams(as_of),
            workers=await off_the_loop(team_caseloads, facts, strategy.document, as_of, team),
            tiles=[_tile(answer, series.get(answer.id, []), as_of) for answer in report.kpis],
            fresh=Freshened(fresh),
        )

    async def watch_lists(self, as_of: date, team: str | None) -> WatchListsPage:
        index = await WatchListService(self.kpis).index(as_of, team)
        return WatchListsPage(
            index=index, teams=await self.kpis.teams(as_of), fresh=Freshened(index.freshness)
        )

    async def watch_list(
        self,
        name: str,
        as_of: date,
        team: str | None,
        params: PageParams,
        sort: str | None,
        descending: bool,
    ) -> WatchListView:
        page = await WatchListService(self.kpis).page(name, as_of, team, params, sort, descending)
        read = WATCH_LISTS[page.name].read
        return WatchListView(
            page=page,
            teams=await self.kpis.teams(as_of),
            columns=[c for c in read.model_fields if not c.endswith("_id")],
            sort=sort,
            descending=descending,
            fresh=Freshened(page.freshness),
            cursor=params.cursor,
        )

    async def strategy(self) -> StrategyRead:
        return await self.kpis.strategies.current()


def _tile(answer: KpiAnswer, snapshots: list[HistoryPoint], as_of: date) -> Tile:
    before = [p for p in snapshots if p.as_of < as_of]
    points = [(p.as_of, p.value) for p in before] + [(as_of, answer.value)]
    return Tile(
        answer=answer, definition=BY_ID[answer.id], points=points, previous=before[-1] if before else None
    )
