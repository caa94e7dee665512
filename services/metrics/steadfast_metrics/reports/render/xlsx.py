"""The board report as a workbook (openpyxl): a sheet "KPIs", one "Watch lists" and one "Teams".

Figures are numbers and days are dates, so they can be summed and charted. Every text is written as a
string cell (never a formula, whatever it begins with: openpyxl would make ``=...`` a formula), and one
a spreadsheet would take for a formula (:func:`steadfast_shared.exports.is_formula`) also carries the
quote prefix, Excel's own record of a cell typed with a leading ``'``: shown as written, never run, not
even once the cell is edited.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from enum import Enum
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from steadfast_metrics.reports.render.html import title_of
from steadfast_metrics.reports.render.text import status_text
from steadfast_metrics.reports.schemas import BoardReport
from steadfast_shared.exports import is_formula

KPI_COLUMNS = (
    "KPI",
    "Title",
    "Unit",
    "Value",
    "Target",
    "Target date",
    "Direction",
    "Status",
    "Status in words",
    "Previous value",
    "Change",
    "Forecast",
    "Forecast date",
    "On track",
)
WATCH_LIST_COLUMNS = ("Watch list", "Title", "Count")
TEAM_COLUMNS = ("Team", "KPI", "Title", "Unit", "Value", "Status", "Status in words")

_BOLD = Font(bold=True)


def _put(sheet: Worksheet, row: int, column: int, value: Any) -> None:
    cell = sheet.cell(row=row, column=column)
    if value is None:
        return
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        cell.value = "yes" if value else "no"
        cell.data_type = "s"
    elif isinstance(value, int | float | date):
        cell.value = value
        if isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
    else:
        text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        cell.value = text
        cell.data_type = "s"  # a string, also when it begins with "=" (openpyxl's formula) or is "#N/A"
        if is_formula(text):
            cell.quotePrefix = True


def _sheet(sheet: Worksheet, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    sheet.title = title
    for column, name in enumerate(columns, start=1):
        _put(sheet, 1, column, name)
        sheet.cell(row=1, column=column).font = _BOLD
    for number, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            _put(sheet, number, column, value)
    sheet.freeze_panes = "A2"
    for column, name in enumerate(columns, start=1):
        widest = max([len(name), *(len(str(r[column - 1] or "")) for r in rows)])
        sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = min(widest + 2, 60)


def board_xlsx(report: BoardReport) -> bytes:
    workbook = Workbook()
    workbook.properties.title = title_of(report)
    workbook.properties.creator = "Steadfast"
    kpis = workbook.active
    assert kpis is not None
    _sheet(
        kpis,
        "KPIs",
        KPI_COLUMNS,
        [
            (
                k.id,
                k.title,
                k.unit,
                k.value,
                k.target.value if k.target else None,
                k.target.date if k.target else None,
                k.target.direction if k.target else None,
                k.status,
                status_text(k.status, k.judged, k.trend),
                k.previous_value,
                k.change,
                k.forecast.value if k.forecast else None,
                k.forecast.target_date if k.forecast else None,
                k.forecast.on_track if k.forecast else None,
            )
            for k in report.kpis
        ],
    )
    _sheet(
        workbook.create_sheet(),
        "Watch lists",
        WATCH_LIST_COLUMNS,
        [(w.name, w.title, w.count) for w in report.watch_lists],
    )
    by_id = {k.id: k for k in report.kpis}
    rows = []
    for team in report.teams:
        for reading in team.kpis:
            kpi = by_id.get(reading.id)
            rows.append(
                (
                    team.team,
                    reading.id,
                    kpi.title if kpi else None,
                    kpi.unit if kpi else None,
                    reading.value,
                    reading.status,
                    status_text(reading.status, kpi.judged) if kpi else None,
                )
            )
    _sheet(workbook.create_sheet(), "Teams", TEAM_COLUMNS, rows)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
