"""The board report as one CSV table: a row per KPI (section ``kpi``), per watch list (``watch_list``,
its count as the value) and per team and KPI (``team``). Every cell goes through the project's CSV
writer (:func:`steadfast_shared.exports.write_csv`), so no cell runs as a formula in a spreadsheet."""

from __future__ import annotations

from typing import Any

from steadfast_metrics.reports.schemas import BoardReport
from steadfast_shared.exports import write_csv

COLUMNS = ("section", "team", "kpi", "value", "unit", "target", "status", "change", "forecast")


def board_rows(report: BoardReport) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [
        (
            "kpi",
            None,
            k.id,
            k.value,
            k.unit,
            k.target.value if k.target else None,
            k.status,
            k.change,
            k.forecast.value if k.forecast else None,
        )
        for k in report.kpis
    ]
    rows += [
        ("watch_list", None, w.name, w.count, "count", None, None, None, None) for w in report.watch_lists
    ]
    by_id = {k.id: k for k in report.kpis}
    for team in report.teams:
        for reading in team.kpis:
            kpi = by_id.get(reading.id)
            target = kpi.target if kpi else None
            rows.append(
                (
                    "team",
                    team.team,
                    reading.id,
                    reading.value,
                    kpi.unit if kpi else None,
                    target.value if target else None,
                    reading.status,
                    None,
                    None,
                )
            )
    return rows


def board_csv(report: BoardReport) -> str:
    return write_csv(COLUMNS, board_rows(report))
