"""The board report's figures in words, the same in every rendered format (HTML, PDF, XLSX, CSV)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from steadfast_metrics.history.schemas import ForecastRead
from steadfast_metrics.kpis.catalogue import Judged
from steadfast_metrics.kpis.schemas import TargetRead
from steadfast_metrics.kpis.status import Status, Trend
from steadfast_metrics.reports.schemas import BoardReport, BoardTeam

#: What a missing figure shows.
MISSING = "\u2013"  # an en dash

STATUS_WORDS = {
    Status.met: "Met",
    Status.near: "Near",
    Status.not_met: "Not met",
    Status.no_data: "No data",
}
TREND_WORDS = {Trend.better: "better", Trend.worse: "worse", Trend.unchanged: "unchanged"}


def number(value: float) -> str:
    """A figure as the JSON answer gives it (two decimal places at most, four below 1), without
    trailing zeros: ``77.78``, ``16``, ``0.125``."""
    if value == 0:
        return "0"
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def with_unit(value: float, unit: str) -> str:
    return f"{number(value)} %" if unit == "%" else f"{number(value)} {unit}".rstrip()


def value_text(value: float | None, unit: str) -> str:
    return "No data" if value is None else with_unit(value, unit)


def day_text(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def month_text(report: BoardReport) -> str:
    year, month = int(report.month[:4]), int(report.month[5:])
    return f"{date(year, month, 1):%B %Y}"


def target_text(target: TargetRead | None, unit: str) -> str:
    if target is None:
        return "No target"
    way = "at least" if target.direction == "at_least" else "at most"
    return f"{way} {with_unit(target.value, unit)} by {day_text(target.date)}"


def status_text(status: Status | None, judged: Judged, trend: Trend | None = None) -> str:
    """The status in words (never a colour alone): a survey's trend beside it."""
    if status is not None:
        words = STATUS_WORDS[status]
    elif judged is Judged.monitoring:
        words = "Monitored (no target)"
    else:
        words = "Not judged (no target)"
    if trend is not None:
        words += f"; trend {TREND_WORDS[trend]}"
    return words


def change_text(change: float | None, unit: str) -> str:
    """The change over the month: of a percentage, in percentage points."""
    if change is None:
        return MISSING
    if change == 0:
        return "No change"
    sign = "+" if change > 0 else "-"
    size = abs(change)
    return sign + (f"{number(size)} percentage points" if unit == "%" else with_unit(size, unit))


def forecast_text(forecast: ForecastRead | None, unit: str) -> str:
    if forecast is None:
        return "No target date"
    if forecast.value is None:
        used = forecast.points_used
        if used < 2:
            return f"No forecast ({used} snapshot{'' if used == 1 else 's'} with a value)"
        return "No forecast (the target date has passed)"
    verdict = "on track" if forecast.on_track else "off track"
    return f"{with_unit(forecast.value, unit)} by {day_text(forecast.target_date)} ({verdict})"


@dataclass(frozen=True)
class KpiLine:
    """One row of the KPI table, in words."""

    id: str
    title: str
    value: str
    target: str
    status: str
    change: str
    forecast: str
    #: A code for styling beside the words (met, near, not_met, no_data, none).
    status_code: str


@dataclass(frozen=True)
class TeamLine:
    title: str
    value: str
    status: str
    status_code: str


def kpi_lines(report: BoardReport) -> list[KpiLine]:
    return [
        KpiLine(
            id=k.id,
            title=k.title,
            value=value_text(k.value, k.unit),
            target=target_text(k.target, k.unit),
            status=status_text(k.status, k.judged, k.trend),
            change=change_text(k.change, k.unit),
            forecast=forecast_text(k.forecast, k.unit),
            status_code=k.status.value if k.status is not None else "none",
        )
        for k in report.kpis
    ]


def team_lines(report: BoardReport, team: BoardTeam) -> list[TeamLine]:
    """A team's KPIs in words (the title, unit and way of judging are the council's KPI's)."""
    kpis = {k.id: k for k in report.kpis}
    lines = []
    for reading in team.kpis:
        kpi = kpis.get(reading.id)
        unit = kpi.unit if kpi is not None else ""
        lines.append(
            TeamLine(
                title=kpi.title if kpi is not None else reading.id,
                value=value_text(reading.value, unit),
                status=status_text(reading.status, kpi.judged if kpi is not None else Judged.monitoring),
                status_code=reading.status.value if reading.status is not None else "none",
            )
        )
    return lines
