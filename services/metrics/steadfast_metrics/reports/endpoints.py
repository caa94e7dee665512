"""The programme board's monthly report: every KPI at month end against its target, as JSON, HTML, PDF,
XLSX and CSV."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from steadfast_metrics.auth import Reader
from steadfast_metrics.history.endpoints import history_service
from steadfast_metrics.kpis.endpoints import request_kpi_service
from steadfast_metrics.reports.formats import MEDIA_TYPES, ReportFormat, choose_format
from steadfast_metrics.reports.render.csv import board_csv
from steadfast_metrics.reports.render.html import board_html
from steadfast_metrics.reports.render.pdf import board_pdf
from steadfast_metrics.reports.render.xlsx import board_xlsx
from steadfast_metrics.reports.schemas import BoardReport
from steadfast_metrics.reports.service import MONTH_PATTERN, BoardReportService
from steadfast_metrics.watchlists.service import WatchListService
from steadfast_shared.dates import FIRST_DAY
from steadfast_shared.http.app import new_router
from steadfast_shared.http.deps import RuntimeDep, UoWDep
from steadfast_shared.http.problems import PROBLEM_JSON
from steadfast_shared.service import Runtime
from steadfast_shared.uow import UnitOfWork

router = new_router("/v1/reports", tags=["reports"])

Month = Annotated[
    str,
    Query(
        pattern=MONTH_PATTERN,
        description=f"the month reported (YYYY-MM, from {FIRST_DAY:%Y-%m} to the current month)",
        examples=["2015-03"],
    ),
]
Format = Annotated[
    ReportFormat | None,
    Query(
        alias="format",
        description="the format of the answer; without it the `Accept` header decides (JSON by default)",
    ),
]

#: The renderers of the formats other than JSON, each a pure function of the report.
RENDERERS: dict[ReportFormat, Callable[[BoardReport], str | bytes]] = {
    ReportFormat.html: board_html,
    ReportFormat.pdf: board_pdf,
    ReportFormat.xlsx: board_xlsx,
    ReportFormat.csv: board_csv,
}
#: The HTML page may use its own inline stylesheet and nothing else (no script, no fetch, no frame).
HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)

BOARD_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "The report as JSON (the default), or as `?format=` or the `Accept` header ask: a printable, "
            "self-contained HTML page, a PDF, an XLSX workbook (sheets KPIs, Watch lists, Teams) or one "
            "CSV table (section, team, kpi, value, unit, target, status, change, forecast). Text cells "
            "of the XLSX and CSV that a spreadsheet would run as formulas are neutralised."
        ),
        "content": {
            MEDIA_TYPES[ReportFormat.html]: {"schema": {"type": "string"}},
            MEDIA_TYPES[ReportFormat.pdf]: {"schema": {"type": "string", "format": "binary"}},
            MEDIA_TYPES[ReportFormat.xlsx]: {"schema": {"type": "string", "format": "binary"}},
            MEDIA_TYPES[ReportFormat.csv]: {"schema": {"type": "string"}},
        },
    },
    406: {
        "description": "The `Accept` header takes none of the report's media types (and no `format` "
        "was given).",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    },
}


def board_report_service(request: Request, uow: UnitOfWork, runtime: Runtime) -> BoardReportService:
    kpis = request_kpi_service(request, uow, runtime)
    return BoardReportService(kpis, history_service(request, uow, runtime), WatchListService(kpis))


@router.get(
    "/board",
    summary="The programme board's monthly report: every KPI at month end against its target, its change "
    "over the month and its forecast, the watch lists and each team (JSON, HTML, PDF, XLSX or CSV)",
    response_model=BoardReport,
    responses=BOARD_ANSWERS,
)
async def board_report(
    request: Request,
    response: Response,
    uow: UoWDep,
    runtime: RuntimeDep,
    _: Reader,
    month: Month,
    format_: Format = None,
) -> BoardReport | Response:
    """The month's figures are those of `GET /v1/kpis` and `GET /v1/watch-lists` at its last day (today,
    in the current month); the changes are from the previous month's last day; the forecasts are the KPI
    histories' (`GET /v1/kpis/{id}/history?to=`, fitted to the snapshots up to month end).

    JSON unless `?format=` (which wins) or the `Accept` header asks for `text/html`, `application/pdf`,
    the XLSX type or `text/csv`; an `Accept` that takes none of them is a 406. A month after the current
    one, or before 1900-01, is a 422 naming `month`."""
    chosen = choose_format(format_, request.headers.get("accept"))
    report = await board_report_service(request, uow, runtime).board(month)
    if chosen is ReportFormat.json:
        response.headers["Vary"] = "Accept"
        return report
    return report_answer(report, chosen)


def report_answer(report: BoardReport, chosen: ReportFormat) -> Response:
    """The report rendered in ``chosen`` (not JSON), with its file name and headers."""
    body = RENDERERS[chosen](report)
    media_type = MEDIA_TYPES[chosen]
    if isinstance(body, str):
        body, media_type = body.encode("utf-8"), f"{media_type}; charset=utf-8"
    disposition = "inline" if chosen is ReportFormat.html else "attachment"
    headers = {
        "Content-Disposition": (
            f'{disposition}; filename="board-report-{report.month}-{report.council}.{chosen}"'
        ),
        "Vary": "Accept",
        "X-Content-Type-Options": "nosniff",
    }
    if chosen is ReportFormat.html:
        headers["Content-Security-Policy"] = HTML_POLICY
    return Response(content=body, media_type=media_type, headers=headers)
