"""The KPI report as a CSV file (``GET /v1/kpis`` with ``Accept: text/csv``): one row per KPI."""

from __future__ import annotations

from fastapi.responses import Response

from steadfast_metrics.kpis.schemas import KpiReport
from steadfast_shared.http.csv_export import csv_response

COLUMNS = (
    "as_of",
    "council",
    "team",
    "kpi",
    "title",
    "unit",
    "value",
    "numerator",
    "denominator",
    "target_value",
    "target_date",
    "target_direction",
    "status",
    "strategy_version",
)


def kpi_report_csv(report: KpiReport) -> Response:
    rows = [
        (
            report.as_of,
            report.council,
            report.team,
            k.id,
            k.title,
            k.unit,
            k.value,
            k.numerator,
            k.denominator,
            k.target.value if k.target else None,
            k.target.date if k.target else None,
            k.target.direction if k.target else None,
            k.status,
            report.strategy_version,
        )
        for k in report.kpis
    ]
    return csv_response(f"kpis-{report.as_of}-{report.team or report.council}.csv", COLUMNS, rows)
