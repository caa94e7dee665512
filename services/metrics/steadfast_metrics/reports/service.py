"""The board report put together from the services that answer the API: the KPI report at month end and
at the previous month's end (the change), the history service's forecast from the snapshots up to month
end, the watch lists' counts, and each team's KPI report. Nothing is computed here that those services do
not answer themselves, so the report always agrees with ``/v1/kpis`` and ``/v1/watch-lists``."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from steadfast_metrics.history.service import HistoryService
from steadfast_metrics.kpis.service import KpiService
from steadfast_metrics.reports.schemas import (
    BoardKpi,
    BoardReport,
    BoardTeam,
    BoardWatchList,
    TeamKpi,
)
from steadfast_metrics.watchlists.service import WatchListService
from steadfast_shared import dates
from steadfast_shared.dates import FIRST_DAY, LAST_DAY, in_calendar
from steadfast_shared.db import utcnow
from steadfast_shared.errors import ValidationFailed

#: A month as the API takes it: ``YYYY-MM`` (ASCII digits only).
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)


def month_days(month: str, today: date) -> tuple[date, date | None]:
    """The day a month's report measures (its last day, or ``today`` in the current month) and the
    previous month's last day (None before the calendar's first month).

    A malformed month, one outside the calendar (FIRST_DAY to LAST_DAY) or one after ``today``'s month
    is a 422 naming the field ``month``."""
    if not _MONTH.fullmatch(month):
        raise ValidationFailed.field("month", "invalid_month", "month: a month as YYYY-MM (01 to 12)")
    year, number = int(month[:4]), int(month[5:])
    first = date(year, number, 1) if year >= 1 else None
    if first is None or not in_calendar(first):
        raise ValidationFailed.field(
            "month",
            "date_out_of_range",
            f"month: a month from {FIRST_DAY:%Y-%m} to {LAST_DAY:%Y-%m}",
            first=f"{FIRST_DAY:%Y-%m}",
            last=f"{LAST_DAY:%Y-%m}",
        )
    if (year, number) > (today.year, today.month):
        raise ValidationFailed.field(
            "month", "future_month", f"month: {month} is after the current month ({today:%Y-%m})"
        )
    last = date(year, number, calendar.monthrange(year, number)[1])
    previous = first - timedelta(days=1)
    return min(last, today), previous if in_calendar(previous) else None


@dataclass
class BoardReportService:
    kpis: KpiService
    history: HistoryService
    watch_lists: WatchListService

    async def board(self, month: str, today: date | None = None) -> BoardReport:
        as_of, previous_as_of = month_days(month, today or dates.today())
        report = await self.kpis.report(as_of)
        before = await self.kpis.report(previous_as_of) if previous_as_of is not None else None
        previous = {k.id: k.value for k in before.kpis} if before is not None else {}
        kpis = []
        for kpi in report.kpis:
            history = await self.history.history(kpi.id, None, None, as_of)
            earlier = previous.get(kpi.id)
            kpis.append(
                BoardKpi(
                    id=kpi.id,
                    title=kpi.title,
                    unit=kpi.unit,
                    judged=kpi.judged,
                    value=kpi.value,
                    target=kpi.target,
                    status=kpi.status,
                    trend=kpi.trend,
                    previous_value=earlier,
                    change=change(kpi.value, earlier),
                    forecast=history.forecast,
                )
            )
        index = await self.watch_lists.index(as_of, None)
        teams = []
        for team in await self.kpis.teams(as_of):
            of_team = await self.kpis.report(as_of, team)
            teams.append(
                BoardTeam(
                    team=team,
                    kpis=[TeamKpi(id=k.id, value=k.value, status=k.status) for k in of_team.kpis],
                )
            )
        return BoardReport(
            month=month,
            as_of=as_of,
            previous_as_of=previous_as_of,
            council=report.council,
            strategy_version=report.strategy_version,
            computed_at=utcnow(),
            freshness=report.freshness,
            kpis=kpis,
            watch_lists=[BoardWatchList(name=w.name, title=w.title, count=w.count) for w in index.lists],
            teams=teams,
        )


def change(value: float | None, previous: float | None) -> float | None:
    """``value - previous`` as a reader sees the two (both are rounded already): no float noise."""
    if value is None or previous is None:
        return None
    return round(value - previous, 4)
