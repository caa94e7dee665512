"""The board report as a standalone, printable HTML page: no script, no external asset (a small inline
stylesheet), so it can be saved and sent on as it is. Every value is escaped (autoescape)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from steadfast_metrics.reports.render.text import day_text, kpi_lines, month_text, team_lines
from steadfast_metrics.reports.schemas import BoardReport

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def title_of(report: BoardReport) -> str:
    return f"Programme board report, {month_text(report)}"


def board_html(report: BoardReport) -> str:
    return _ENVIRONMENT.get_template("board.html.j2").render(
        report=report,
        title=title_of(report),
        month=month_text(report),
        as_of=day_text(report.as_of),
        previous_as_of=day_text(report.previous_as_of) if report.previous_as_of else None,
        computed_at=f"{report.computed_at:%Y-%m-%d %H:%M} UTC",
        kpis=kpi_lines(report),
        teams=[(team, team_lines(report, team)) for team in report.teams],
    )
