"""``POST /v1/imports/annex-a``: Ofsted's Annex A workbook, lists 4, 6, 7 and 8, into the caseload
records, with the CSV imports' guarantees (atomic or partial, idempotent, row errors, events)."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from steadfast_caseload.children.models import Allocation, Assessment, Child, Episode, IroVisit, Review, Visit
from steadfast_shared.testing import ServiceClient
from tests.caseload.conftest import WRITE, seed_directory, staff_worker
from tests.caseload.importing import outbox_count, outbox_types

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).parent / "samples" / "annex-a-sample.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AS_OF = "2021-03-31"


def allocated_workers() -> list[str]:
    """The workers the sample's lists 4, 6, 7 and 8 name, as the sheet writes them."""
    workbook = openpyxl.load_workbook(SAMPLE, read_only=True)
    names = set()
    for title in ("List 4", "List 6", "List 7", "List 8"):
        rows = list(workbook[title].iter_rows(values_only=True))
        column = rows[0].index("Allocated Worker")
        names |= {r[column] for r in rows[1:] if r[column] and r[column] != "#N/A"}
    return sorted(names)


async def given_the_sample_workers(caseload: ServiceClient) -> None:
    workers = []
    for n, name in enumerate(allocated_workers()):
        worker = staff_worker(f"HR{n:03d}", start_date=date(2010, 1, 4))
        worker.display_name = " ".join(name.split())  # the staff record writes an ordinary space
        workers.append(worker)
    await seed_directory(caseload, *workers)


async def post_workbook(caseload: ServiceClient, body: bytes, mode: str = "atomic") -> tuple[int, Any]:
    answer = await caseload.http.post(
        f"/v1/imports/annex-a?mode={mode}&as_of={AS_OF}",
        content=body,
        headers={**caseload.auth(*WRITE), "Content-Type": XLSX},
    )
    return answer.status_code, answer.json()


async def count(caseload: ServiceClient, model: Any) -> int:
    async with caseload.runtime.database.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_the_sample_workbook_imports_once(caseload: ServiceClient) -> None:
    await given_the_sample_workers(caseload)
    status, result = await post_workbook(caseload, SAMPLE.read_bytes())
    assert status == 200, result
    assert result["counts"]["rejected"] == 0
    assert [(s["sheet"], s["rows"]) for s in result["sheets"]] == [
        ("List 4", 5),
        ("List 6", 5),
        ("List 7", 7),
        ("List 8", 5),
    ]
    assert "List 10" in result["ignored_sheets"], "the lists of formulas are not read"
    list_6 = next(s for s in result["sheets"] if s["sheet"] == "List 6")
    assert "Primary Need Code" in list_6["ignored_columns"]
    assert list_6["unknown_columns"] == []
    assert any("#N/A" in w for w in list_6["warnings"]), "an Excel error is read as empty, and said"

    assert await count(caseload, Episode) == 22
    assert await count(caseload, Assessment) == 5
    assert await count(caseload, Visit) == 17
    assert await count(caseload, Review) == 5
    assert await count(caseload, IroVisit) == 5
    assert await count(caseload, Allocation) > 0
    async with caseload.runtime.database.sessionmaker() as session:
        child = (await session.scalars(select(Child).where(Child.external_id == "1761444"))).one()
    assert child.birth_year == 2002, "the year of birth only"
    types = set(await outbox_types(caseload))
    assert {
        "org.steadfast.caseload.episode.recorded.v1",
        "org.steadfast.caseload.visit.recorded.v1",
        "org.steadfast.caseload.allocation.started.v1",
        "org.steadfast.caseload.assessment.recorded.v1",
    } <= types

    before = await outbox_count(caseload)
    status, again = await post_workbook(caseload, SAMPLE.read_bytes())
    assert status == 200, again
    assert again["counts"]["created"] == again["counts"]["updated"] == 0
    assert await outbox_count(caseload) == before, "the same workbook again publishes nothing"


def made_workbook() -> bytes:
    """A list 8 as a council might send it: good rows and bad ones, and a column of its own."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "List 8"
    sheet.append(
        [
            "Child Unique ID",
            "Date of Birth",
            "Date Started to be Looked After",
            "Date of Last Social Work Visit",
            "Date Ceased to be Looked After",
            "Allocated Worker",
            "Our Own Notes",
        ]
    )
    sheet.append(["K1", datetime(2012, 5, 17), datetime(2019, 8, 6), datetime(2021, 3, 1), None, "HR001", ""])
    sheet.append(["K2", None, "31/02/2020", None, None, "HR001", ""])  # row 3: no such day
    sheet.append(["K3", None, datetime(2019, 1, 1), None, None, "Nobody Known", ""])  # row 4: unknown worker
    sheet.append([None, None, datetime(2019, 1, 1), None, None, "HR001", ""])  # row 5: no child id
    sheet.append(["K5", None, datetime(2019, 1, 1), "=TODAY()", None, "HR001", ""])  # row 6: a formula
    sheet.append(["K6", None, datetime(2019, 1, 1), "soon", None, None, ""])  # row 7: not a date
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


BAD = [
    (3, "List 8: Date Started to be Looked After", "not_a_date"),
    (4, "List 8: Allocated Worker", "unknown_worker"),
    (5, "List 8: Child Unique ID", "missing"),
    (6, "List 8: Date of Last Social Work Visit", "formula"),
    (7, "List 8: Date of Last Social Work Visit", "not_a_date"),
]


async def test_a_workbook_with_bad_rows_has_them_reported(caseload: ServiceClient) -> None:
    await seed_directory(caseload, staff_worker("HR001"))
    before = await outbox_count(caseload)
    status, problem = await post_workbook(caseload, made_workbook())
    assert status == 422, problem
    assert sorted((e["row"], e["field"], e["reason"]) for e in problem["errors"]) == BAD
    assert problem["result"]["sheets"][0]["unknown_columns"] == ["Our Own Notes"]
    assert await outbox_count(caseload) == before, "atomic: nothing written"
    assert await count(caseload, Child) == 0

    status, result = await post_workbook(caseload, made_workbook(), mode="partial")
    assert status == 200, result
    assert sorted((e["row"], e["column"], e["reason"]) for e in result["rejected"]) == BAD
    assert await count(caseload, Child) == 1
    assert await count(caseload, Visit) == 1
    assert await count(caseload, Allocation) == 1


async def test_a_workbook_with_macros_is_refused(caseload: ServiceClient) -> None:
    out = io.BytesIO(made_workbook())
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\x00macro")
    status, problem = await post_workbook(caseload, out.getvalue())
    assert status == 415, problem
    assert problem["errors"][0]["reason"] == "macros"
