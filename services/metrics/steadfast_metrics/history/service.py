"""KPI history: snapshots of every KPI for the council and each team, and the forecast from them.

A snapshot of a day stores each KPI's value, numerator, denominator, target and status as judged then
(with the strategy version), so the history shows what the board saw even after the strategy changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from steadfast_metrics.history.forecast import Point, forecast
from steadfast_metrics.history.models import COUNCIL, KpiSnapshot
from steadfast_metrics.history.repository import SnapshotRepository
from steadfast_metrics.history.schemas import ForecastRead, HistoryPoint, KpiHistory, SnapshotTaken
from steadfast_metrics.kpis.catalogue import BY_ID, KPI_IDS
from steadfast_metrics.kpis.schemas import KpiReport
from steadfast_metrics.kpis.service import KpiService
from steadfast_metrics.kpis.status import Status
from steadfast_shared.dates import today
from steadfast_shared.db import utcnow
from steadfast_shared.errors import NotFound

#: The most points a history answer holds.
MAX_POINTS = 1000


@dataclass
class HistoryService:
    snapshots: SnapshotRepository
    kpis: KpiService
    forecast_points: int

    async def take(self, as_of: date, trigger: str) -> SnapshotTaken:
        teams = await self.kpis.teams(as_of)
        taken_at = utcnow()
        rows: list[KpiSnapshot] = []
        for team in (None, *teams):
            rows.extend(_rows(await self.kpis.report(as_of, team), trigger, taken_at))
        await self.snapshots.replace_day(as_of, rows)
        return SnapshotTaken(as_of=as_of, teams=teams, rows=len(rows), taken_at=taken_at)

    async def history(
        self, kpi_id: str, team: str | None, first: date | None, last: date | None
    ) -> KpiHistory:
        if kpi_id not in BY_ID:
            raise NotFound(f"there is no KPI {kpi_id!r}; the KPIs are: {', '.join(KPI_IDS)}")
        rows = await self.snapshots.points(kpi_id, team or COUNCIL, first, last, MAX_POINTS)
        points = [_point(r) for r in rows]
        return KpiHistory(id=kpi_id, team=team, points=points, forecast=await self._forecast(kpi_id, points))

    async def series(self, team: str | None, first: date, last: date) -> dict[str, list[HistoryPoint]]:
        """Every KPI's snapshots from ``first`` to ``last``, oldest first, by KPI id (no forecasts)."""
        held = await self.snapshots.series(team or COUNCIL, first, last)
        return {kpi_id: [_point(r) for r in rows] for kpi_id, rows in held.items()}

    async def _forecast(self, kpi_id: str, points: list[HistoryPoint]) -> ForecastRead | None:
        strategy = await self.kpis.strategies.current()
        target = strategy.document.targets.get(kpi_id)
        # Judged from the latest snapshot's day: a history of past years forecasts to the milestone that
        # applied then, not to today's.
        reference = points[-1].as_of if points else today()
        milestone = target.milestone_on(reference) if target is not None else None
        if target is None or milestone is None:
            return None
        result = forecast(
            [Point(p.as_of, p.value) for p in points if p.value is not None],
            target_date=milestone.date,
            target_value=milestone.value,
            direction=target.direction,
            latest=self.forecast_points,
            today=reference,
            bounds=(0.0, 100.0) if BY_ID[kpi_id].unit == "%" else (0.0, None),
        )
        return ForecastRead(
            target_date=result.target_date,
            target_value=result.target_value,
            value=round(result.value, 2) if result.value is not None else None,
            on_track=result.on_track,
            points_used=result.points_used,
            slope_per_30_days=round(result.slope_per_30_days, 4)
            if result.slope_per_30_days is not None
            else None,
        )


def _point(row: KpiSnapshot) -> HistoryPoint:
    return HistoryPoint(
        as_of=row.as_of,
        value=row.value,
        numerator=row.numerator,
        denominator=row.denominator,
        target=row.target,
        status=Status(row.status) if row.status else None,
        strategy_version=row.strategy_version,
        trigger=row.trigger,
    )


def _rows(report: KpiReport, trigger: str, taken_at: object) -> list[KpiSnapshot]:
    return [
        KpiSnapshot(
            as_of=report.as_of,
            team=report.team or COUNCIL,
            kpi_id=kpi.id,
            value=kpi.value,
            numerator=kpi.numerator,
            denominator=kpi.denominator,
            target=kpi.target.value if kpi.target else None,
            status=kpi.status.value if kpi.status else "",
            breakdown=kpi.breakdown,
            strategy_version=report.strategy_version,
            trigger=trigger,
            taken_at=taken_at,
        )
        for kpi in report.kpis
    ]
