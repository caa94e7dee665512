"""The board report as a read model: what every format (JSON, HTML, PDF, XLSX, CSV) is rendered from."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from steadfast_metrics.freshness.schemas import FRESHNESS, Freshness
from steadfast_metrics.history.schemas import ForecastRead
from steadfast_metrics.kpis.catalogue import Judged
from steadfast_metrics.kpis.schemas import TargetRead
from steadfast_metrics.kpis.status import Status, Trend
from steadfast_shared.schemas import Timestamp, with_examples

#: The board's report for March 2015 (two of its KPIs, one team), as the worked example answers it.
BOARD_REPORT = {
    "month": "2015-03",
    "as_of": "2015-03-31",
    "previous_as_of": "2015-02-28",
    "council": "slough",
    "strategy_version": 1,
    "computed_at": "2015-04-01T09:00:00+00:00",
    "freshness": FRESHNESS,
    "kpis": [
        {
            "id": "average_caseload",
            "title": "Average caseload per full-caseload equivalent",
            "unit": "children",
            "judged": "target",
            "value": 15.59,
            "target": {"value": 16.0, "date": "2015-03-31", "direction": "at_most", "tolerance_pct": 5.0},
            "status": "met",
            "trend": None,
            "previous_value": 14.41,
            "change": 1.18,
            "forecast": {
                "target_date": "2015-03-31",
                "target_value": 16.0,
                "value": 15.8,
                "on_track": True,
                "points_used": 5,
                "slope_per_30_days": 1.1,
            },
        },
        {
            "id": "agency_rate",
            "title": "Agency rate (DfE census)",
            "unit": "%",
            "judged": "monitoring",
            "value": 22.22,
            "target": None,
            "status": None,
            "trend": None,
            "previous_value": None,
            "change": None,
            "forecast": None,
        },
    ],
    "watch_lists": [
        {
            "name": "workers-over-caseload-limit",
            "title": "Case-holding workers over their caseload limit, by how much",
            "count": 1,
        }
    ],
    "teams": [
        {
            "team": "ACIN1",
            "kpis": [
                {"id": "average_caseload", "value": 16.5, "status": "near"},
                {"id": "agency_rate", "value": 50.0, "status": None},
            ],
        }
    ],
}


class BoardKpi(BaseModel):
    """One KPI of the strategy at month end, judged, with its change over the month and its forecast."""

    id: str
    title: str
    unit: str
    judged: Judged
    value: float | None = Field(description="at month end; null when no record is eligible (no_data)")
    target: TargetRead | None = Field(description="the milestone that applies at month end")
    status: Status | None = Field(
        description="met, near, not_met or no_data; null for a value with no target to judge it against"
    )
    trend: Trend | None = Field(
        default=None, description="survey KPIs: the change of the mean against the previous window"
    )
    previous_value: float | None = Field(description="at the previous month's end")
    change: float | None = Field(
        description="value minus previous_value; null when either is null (or the month is the calendar's "
        "first)"
    )
    forecast: ForecastRead | None = Field(
        description="the trend of the snapshots up to month end, read at the target's date; null for a "
        "KPI without a target"
    )


class BoardWatchList(BaseModel):
    name: str
    title: str
    count: int = Field(description="workers or children on the list at month end")


class TeamKpi(BaseModel):
    id: str
    value: float | None
    status: Status | None


class BoardTeam(BaseModel):
    team: str
    kpis: list[TeamKpi] = Field(description="every KPI for the team at month end, in the report's order")


class BoardReport(BaseModel):
    """The programme board's monthly report: every KPI at month end against the target that applies."""

    model_config = with_examples(BOARD_REPORT)

    month: str = Field(description="the month reported, YYYY-MM")
    as_of: date = Field(description="the day measured: the month's last day (today, for the current month)")
    previous_as_of: date | None = Field(
        description="the previous month's last day, which the changes are measured from"
    )
    council: str
    strategy_version: int
    computed_at: Timestamp = Field(description="when the report was put together")
    freshness: Freshness = Field(description="how up to date the projections behind the month-end values are")
    kpis: list[BoardKpi]
    watch_lists: list[BoardWatchList]
    teams: list[BoardTeam] = Field(description="each team with anything to measure at month end")
