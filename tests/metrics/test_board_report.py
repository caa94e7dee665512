"""The programme board's monthly report (``GET /v1/reports/board?month=``) on the real database: the same
figures as ``/v1/kpis`` and ``/v1/watch-lists`` at month end, the change since the previous month's end,
the forecasts of the history, in every format (JSON, HTML, PDF, XLSX, CSV), and clear problems for a bad
month, an unknown format, an Accept it cannot answer and a missing scope.

The facts are SPEC section 3's worked example (as in test_kpis_api.py), more children for worker A in
March (so the month changes the caseloads), weekly snapshots (so there are forecasts), and a worker in a
team whose code a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import openpyxl
import pypdf
import pytest
import pytest_asyncio

from steadfast_caseload.events import AllocationStarted, EpisodeRecorded
from steadfast_metrics.bootstrap import definition
from steadfast_shared.codes import EpisodeType
from steadfast_shared.dates import today
from steadfast_shared.events import CloudEvent
from steadfast_shared.testing import ServiceClient
from steadfast_staff.events import WorkerHired
from tests.metrics.conftest import allocation, episode, event, terms, worker
from tests.metrics.test_kpis_api import READ, WRITE, by_id, get_kpis, seed, worked_example

pytestmark = pytest.mark.integration

MONTH = "2015-03"
MONTH_END = "2015-03-31"
PREVIOUS_END = "2015-02-28"
#: A team code a spreadsheet would run (the staff service restricts codes; the events do not).
FORMULA_TEAM = "=cmd|' /C calc'!A0"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest_asyncio.fixture(loop_scope="session")
async def metrics(start_service: Callable[..., Awaitable[ServiceClient]]) -> ServiceClient:
    return await start_service(definition, consumers_enabled=False, snapshot_interval_days=0)


def march() -> list[CloudEvent]:
    """Six more children for A in March, and a worker of the formula team holding two."""
    a_id = uuid.uuid5(uuid.NAMESPACE_OID, "A")
    events: list[CloudEvent] = []
    for n, day in enumerate((date(2015, 3, 3),) * 3 + (date(2015, 3, 10),) * 3):
        child = uuid.uuid5(a_id, f"march-{n}")
        events += [
            event(EpisodeRecorded, episode(child, EpisodeType.cin, day)),
            event(AllocationStarted, allocation(child, a_id, day)),
        ]
    odd = uuid.uuid5(uuid.NAMESPACE_OID, "odd")
    start = date(2014, 1, 6)
    events.append(
        event(WorkerHired, worker(odd, external_id="ODD", history=[terms(start, team=FORMULA_TEAM)]))
    )
    for n in range(2):
        child = uuid.uuid5(odd, str(n))
        events += [
            event(EpisodeRecorded, episode(child, EpisodeType.cin, date(2015, 1, 5))),
            event(AllocationStarted, allocation(child, odd, date(2015, 1, 5))),
        ]
    return events


async def loaded(service: ServiceClient) -> None:
    await seed(service, *worked_example(), *march())
    for day in ("2015-02-16", "2015-02-23", "2015-03-02", "2015-03-09", "2015-03-16", "2015-03-23"):
        taken = await service.http.post(f"/v1/snapshots?as_of={day}", headers=service.auth(*WRITE))
        assert taken.status_code == 201, taken.text


async def board(service: ServiceClient, query: str = f"month={MONTH}", **headers: str) -> Any:
    return await service.http.get(f"/v1/reports/board?{query}", headers={**service.auth(*READ), **headers})


def number(value: float) -> str:
    """A figure as the rendered reports write it (at most four decimals, no trailing zeros)."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in {"", "-0"} else text


async def test_the_json_report_has_the_figures_of_the_kpis_and_watch_lists_at_month_end(
    metrics: ServiceClient,
) -> None:
    await loaded(metrics)
    answer = await board(metrics)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    report = answer.json()
    assert (report["month"], report["as_of"], report["previous_as_of"]) == (MONTH, MONTH_END, PREVIOUS_END)
    assert (report["council"], report["strategy_version"]) == ("slough", 1)
    assert report["freshness"]["revision"] > 0

    at_end = await get_kpis(metrics, f"as_of={MONTH_END}")
    before = by_id(await get_kpis(metrics, f"as_of={PREVIOUS_END}"))
    assert [k["id"] for k in report["kpis"]] == [k["id"] for k in at_end["kpis"]]
    changed = 0
    for kpi, expected in zip(report["kpis"], at_end["kpis"], strict=True):
        for name in ("title", "unit", "judged", "value", "target", "status", "trend"):
            assert kpi[name] == expected[name], (kpi["id"], name)
        earlier = before[kpi["id"]]["value"]
        assert kpi["previous_value"] == earlier, kpi["id"]
        if kpi["value"] is None or earlier is None:
            assert kpi["change"] is None, kpi["id"]
        else:
            assert kpi["change"] == pytest.approx(kpi["value"] - earlier, abs=1e-9), kpi["id"]
            changed += kpi["change"] != 0
    caseload = next(k for k in report["kpis"] if k["id"] == "average_caseload")
    assert caseload["change"] > 0  # A's six March children
    assert changed >= 1

    # The forecasts are the history's, fitted to the snapshots up to month end.
    for kpi in report["kpis"]:
        history = await metrics.http.get(
            f"/v1/kpis/{kpi['id']}/history?to={MONTH_END}", headers=metrics.auth(*READ)
        )
        assert kpi["forecast"] == history.json()["forecast"], kpi["id"]
    assert caseload["forecast"]["target_date"] == "2015-03-31"
    assert caseload["forecast"]["value"] is not None
    assert caseload["forecast"]["points_used"] >= 2

    lists = await metrics.http.get(f"/v1/watch-lists?as_of={MONTH_END}", headers=metrics.auth(*READ))
    assert [(w["name"], w["title"], w["count"]) for w in report["watch_lists"]] == [
        (w["name"], w["title"], w["count"]) for w in lists.json()["lists"]
    ]
    assert {w["name"]: w["count"] for w in report["watch_lists"]}["workers-over-caseload-limit"] >= 1

    teams = {t["team"]: t["kpis"] for t in report["teams"]}
    assert set(teams) == {"ACIN1", "PC3", FORMULA_TEAM}
    for team in ("ACIN1", "PC3"):
        of_team = (await get_kpis(metrics, f"as_of={MONTH_END}&team={team}"))["kpis"]
        assert teams[team] == [{"id": k["id"], "value": k["value"], "status": k["status"]} for k in of_team]


async def test_the_pdf_holds_every_kpi_with_its_value(metrics: ServiceClient) -> None:
    await loaded(metrics)
    report = (await board(metrics)).json()
    answer = await board(metrics, f"month={MONTH}&format=pdf")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == 'attachment; filename="board-report-2015-03-slough.pdf"'
    assert answer.content.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(answer.content))
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    assert "Programme board report, March 2015" in text
    assert "31 March 2015" in text
    for kpi in report["kpis"]:
        assert kpi["title"] in text, kpi["title"]
        if kpi["value"] is not None:
            assert number(kpi["value"]) in text, (kpi["id"], kpi["value"])
    for watch in report["watch_lists"]:
        assert watch["title"] in text
    assert "Team ACIN1" in text
    assert "Team PC3" in text


async def test_the_workbook_holds_the_json_figures_and_no_formula(metrics: ServiceClient) -> None:
    await loaded(metrics)
    report = (await board(metrics)).json()
    answer = await board(metrics, Accept=XLSX)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX
    workbook = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert workbook.sheetnames == ["KPIs", "Watch lists", "Teams"]

    sheet = workbook["KPIs"]
    header = [c.value for c in sheet[1]]
    rows = {
        row[0]: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert list(rows) == [k["id"] for k in report["kpis"]]
    for kpi in report["kpis"]:
        row = rows[kpi["id"]]
        assert row["Value"] == kpi["value"], kpi["id"]
        assert row["Target"] == (kpi["target"]["value"] if kpi["target"] else None), kpi["id"]
        assert row["Status"] == kpi["status"], kpi["id"]
        assert row["Previous value"] == kpi["previous_value"], kpi["id"]
        assert row["Change"] == kpi["change"], kpi["id"]
    caseload = rows["average_caseload"]
    assert isinstance(caseload["Value"], float)  # a number, not its text
    assert caseload["Target date"].date() == date(2015, 3, 31)

    counts = {r[0]: r[2] for r in workbook["Watch lists"].iter_rows(min_row=2, values_only=True)}
    assert counts == {w["name"]: w["count"] for w in report["watch_lists"]}

    teams = workbook["Teams"]
    odd = [row for row in teams.iter_rows(min_row=2) if row[0].value == FORMULA_TEAM]
    assert len(odd) == len(report["kpis"])
    for row in odd:
        assert row[0].data_type == "s"
        assert row[0].quotePrefix is True
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert not any("<f>" in xml or "<f " in xml for xml in sheets), "a cell was written as a formula"


async def test_the_csv_holds_the_same_figures_with_formula_cells_neutralised(metrics: ServiceClient) -> None:
    await loaded(metrics)
    report = (await board(metrics)).json()
    answer = await board(metrics, f"month={MONTH}&format=csv")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    columns = "section team kpi value unit target status change forecast"
    assert list(rows[0]) == columns.split()

    def figure(value: Any) -> str:
        return "" if value is None else str(value)

    kpis = [r for r in rows if r["section"] == "kpi"]
    assert [r["kpi"] for r in kpis] == [k["id"] for k in report["kpis"]]
    for row, kpi in zip(kpis, report["kpis"], strict=True):
        assert row["value"] == figure(kpi["value"]), kpi["id"]
        assert row["target"] == figure(kpi["target"]["value"] if kpi["target"] else None), kpi["id"]
        assert row["status"] == figure(kpi["status"]), kpi["id"]
        assert row["change"] == figure(kpi["change"]), kpi["id"]
        forecast = kpi["forecast"]["value"] if kpi["forecast"] else None
        assert row["forecast"] == figure(forecast), kpi["id"]
    watched = {r["kpi"]: int(r["value"]) for r in rows if r["section"] == "watch_list"}
    assert watched == {w["name"]: w["count"] for w in report["watch_lists"]}
    teams = {r["team"] for r in rows if r["section"] == "team"}
    assert teams == {"ACIN1", "PC3", "'" + FORMULA_TEAM}
    assert not any(cell.startswith(("=", "+", "@")) for r in rows for cell in r.values())


async def test_the_html_page_is_standalone_and_accessible(metrics: ServiceClient) -> None:
    await loaded(metrics)
    report = (await board(metrics)).json()
    answer = await board(
        metrics, Accept="text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    )  # a browser's
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")
    page = answer.text
    assert page.startswith("<!doctype html>")
    assert '<html lang="en">' in page
    assert "<script" not in page
    assert not re.search(r"\b(src|href)=", page), "no external asset"
    assert page.count("<caption>") == 2 + len(report["teams"])
    assert '<th scope="col">Status</th>' in page
    for kpi in report["kpis"]:
        assert kpi["title"].replace("'", "&#39;") in page
    assert ">Met</span>" in page  # the status in words
    assert "=cmd|&#39; /C calc&#39;!A0" in page  # escaped


async def test_the_current_month_is_measured_today(metrics: ServiceClient) -> None:
    now = today()
    answer = await board(metrics, f"month={now:%Y-%m}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["as_of"] == now.isoformat()
    first = await board(metrics, "month=1900-01&format=json", Accept="text/csv")
    assert first.status_code == 200, first.text
    assert first.json()["previous_as_of"] is None
    assert all(k["change"] is None for k in first.json()["kpis"])


@pytest.mark.parametrize(
    "query",
    [
        "",
        "month=2015-13",
        "month=2015-3",
        "month=15-03",
        "month=2015-00",
        "month=1899-12",
        "month=2015-03-01",
        "month=\uff19\uff19\uff19\uff19-01",  # fullwidth digits
    ],
)
async def test_a_bad_month_is_a_problem_naming_the_field(metrics: ServiceClient, query: str) -> None:
    answer = await board(metrics, query)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in answer.json()["errors"]] == ["month"]


async def test_a_month_after_the_current_one_is_refused(metrics: ServiceClient) -> None:
    now = today()
    following = f"{now.year + 1}-01" if now.month == 12 else f"{now.year}-{now.month + 1:02d}"
    answer = await board(metrics, f"month={following}")
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert (error["field"], error["reason"]) == ("month", "future_month")


async def test_formats_unknown_and_not_acceptable(metrics: ServiceClient) -> None:
    unknown = await board(metrics, f"month={MONTH}&format=docx")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "format"
    refused = await board(metrics, Accept="image/png")
    assert refused.status_code == 406, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"].endswith("/not_acceptable")
    assert "application/pdf" in refused.json()["available"]
    asked = await board(metrics, f"month={MONTH}&format=json", Accept="image/png")
    assert asked.status_code == 200
    for accept, media_type in (
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/pdf", "application/pdf"),
        ("text/csv;q=0.4, text/html", "text/html"),
        ("text/*", "text/html"),
    ):
        chosen = await board(metrics, Accept=accept)
        assert chosen.status_code == 200, (accept, chosen.text)
        assert chosen.headers["content-type"].split(";")[0] == media_type, accept
        assert chosen.headers["vary"] == "Accept"


async def test_the_report_needs_metrics_read(metrics: ServiceClient) -> None:
    anonymous = await metrics.http.get(f"/v1/reports/board?month={MONTH}")
    assert anonymous.status_code == 401
    for scopes in (("staff:read",), ("strategy:write",)):
        refused = await metrics.http.get(f"/v1/reports/board?month={MONTH}", headers=metrics.auth(*scopes))
        assert refused.status_code == 403, scopes
        assert refused.headers["content-type"].startswith("application/problem+json")
