"""The CSWW census: ``POST /v1/imports/csww`` and ``GET /v1/exports/csww`` (docs/integration.md).

A council's 2022 return (tests/staff/census_sample.py) imported over its HR extract, and exported
again, gives the same workers, element by element; the export is valid against the DfE schema; the
import has the CSV imports' guarantees (atomic or partial, idempotent, row errors naming the item, the
element and the reason, events through the outbox); hostile XML is refused unexpanded."""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from sqlalchemy import func, select

from steadfast_shared.db.migrations import upgrade
from steadfast_shared.testing import ServiceClient
from steadfast_shared.testing.helpers import service_app
from steadfast_staff.bootstrap import definition
from steadfast_staff.census import service as census_service
from steadfast_staff.census.models import CensusRecord
from steadfast_staff.census.repository import CensusRepository
from steadfast_staff.census.xml import SCHEMA_PATH
from steadfast_staff.db import tables
from tests.staff.census_sample import WORKERS, YEAR, census_xml, item_xml, workers_csv
from tests.staff.conftest import READ, WRITE, event_types, outbox_count

pytestmark = pytest.mark.integration

DECIMALS = {"FTE", "FTE30", "WorkingDaysLost", "ContractWeeks"}
DATES = {"RoleStartDate", "RoleEndDate"}


async def import_workers(staff: ServiceClient, csv: str | None = None) -> None:
    answer = await staff.http.post(
        "/v1/imports/workers",
        content=(csv or workers_csv()).encode(),
        headers={**staff.auth(*WRITE), "Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text


async def import_census(
    staff: ServiceClient, document: str, mode: str = "atomic", query: str = ""
) -> tuple[int, Any]:
    answer = await staff.http.post(
        f"/v1/imports/csww?mode={mode}{query}",
        content=document.encode(),
        headers={**staff.auth(*WRITE), "Content-Type": "application/xml"},
    )
    return answer.status_code, answer.json()


async def export(staff: ServiceClient, year: int = YEAR) -> str:
    answer = await staff.http.get(f"/v1/exports/csww?year={year}", headers=staff.auth(*READ))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    return answer.text


def items(document: str) -> dict[str, dict[str, list[Any]]]:
    """Each item's elements by SWENo, values read as the schema types them (0.5 and 0.500000 agree)."""
    found: dict[str, dict[str, list[Any]]] = {}
    for element in ET.fromstring(document.encode()).iter("CSWWWorker"):
        values: dict[str, list[Any]] = {}
        for child in element:
            text = (child.text or "").strip()
            value: Any = Decimal(text) if child.tag in DECIMALS else text
            if child.tag in DATES:
                value = date.fromisoformat(text)
            values.setdefault(child.tag, []).append(value)
        number = values["SWENo"][0]
        assert number not in found, f"{number} twice"
        found[number] = values
    return found


def error_of(problem: dict[str, Any], row: int) -> list[tuple[str, str]]:
    return [(e["field"], e["reason"]) for e in problem["errors"] if e["row"] == row]


async def test_a_census_imported_and_exported_again_gives_the_same_workers(staff: ServiceClient) -> None:
    await import_workers(staff)
    before = await outbox_count(staff)
    status, result = await import_census(staff, census_xml())
    assert status == 200, result
    assert result["census_year"] == YEAR
    assert result["counts"] == {"rows": 20, "created": 20, "updated": 0, "unchanged": 0, "rejected": 0}
    assert [o["key"] for o in result["created"]][:2] == ["SW0000104729", "SW0000112648"]

    # The two leavers HR had not recorded are recorded from the return, with the census's reasons.
    quentin = (await staff.http.get("/v1/workers/HR117", headers=staff.auth(*READ))).json()
    assert (quentin["end_date"], quentin["leaving_reason"]) == ("2022-09-01", "voluntary_redundancy")
    rosa = (await staff.http.get("/v1/workers/HR118", headers=staff.auth(*READ))).json()
    assert (rosa["end_date"], rosa["leaving_reason"]) == ("2021-11-13", "unknown")

    types = (await event_types(staff))[before:]
    assert types.count("org.steadfast.staff.census_record.recorded.v1") == 20
    assert types.count("org.steadfast.staff.worker.left.v2") == 2
    assert len(types) == 22

    exported = await export(staff)
    xmlschema.XMLSchema(str(SCHEMA_PATH)).validate(exported)
    sent, back = items(census_xml()), items(exported)
    assert sorted(back) == sorted(sent)
    for number, elements in sent.items():
        assert back[number] == elements, number


async def test_the_export_is_valid_against_the_dfe_schema_and_derives_the_header(
    start_service: Callable[..., Awaitable[ServiceClient]],
) -> None:
    staff = await start_service(definition, census_la_code="871")
    await import_workers(staff)
    # A post nobody holds is a vacancy; the agency workers in post on 30 September are counted.
    answer = await staff.http.post(
        "/v1/posts",
        json={
            "external_id": "P-9",
            "team": "ACIN1",
            "role": "social_worker",
            "fte": 1.0,
            "start_date": "2020-04-01",
        },
        headers=staff.auth(*WRITE),
    )
    assert answer.status_code == 201, answer.text
    exported = await export(staff)  # no census imported: everything from the HR records
    schema = xmlschema.XMLSchema(str(SCHEMA_PATH))
    schema.validate(exported)
    root = ET.fromstring(exported.encode())
    assert root.findtext("Header/CollectionDetails/Year") == "2022"
    assert root.findtext("Header/CollectionDetails/ReferenceDate") == "2022-09-30"
    assert root.findtext("Header/Source/LEA") == "871"
    assert root.findtext("LALevelVacancies/NumberOfVacancies") == "1.00"
    assert root.findtext("LALevelVacancies/NoAgencyFTE") == "2.00", "HR103 and HR111"
    assert root.findtext("LALevelVacancies/NoAgencyHeadcount") == "2"
    got = items(exported)
    # HR117 and HR118 are in post as far as HR knows; every worker of the year is there.
    assert len(got) == 20
    ewa = got["SW0000136405"]
    assert ewa["OrgRole"] == ["4"], "a consultant practitioner is a senior practitioner by default"
    assert ewa["QualInst"] == [""], "no census imported: the institution is not known"
    omar = got["SW0000215595"]
    assert (omar["RoleEndDate"], omar["ReasonLeave"]) == ([date(2022, 5, 27)], ["8"])
    assert "FTE30" not in omar, "not in post on 30 September"


async def test_the_same_census_twice_changes_and_publishes_nothing(staff: ServiceClient) -> None:
    await import_workers(staff)
    status, _ = await import_census(staff, census_xml())
    assert status == 200
    before = await outbox_count(staff)
    status, again = await import_census(staff, census_xml())
    assert status == 200, again
    assert again["counts"] == {"rows": 20, "created": 0, "updated": 0, "unchanged": 20, "rejected": 0}
    assert await outbox_count(staff) == before

    # A changed fact updates the worker's record for the year, with one event.
    changed = census_xml().replace("<Cases30>17</Cases30>", "<Cases30>18</Cases30>")
    status, third = await import_census(staff, changed)
    assert status == 200
    assert third["counts"]["updated"] == 1
    assert third["updated"][0]["key"] == "SW0000104729"
    assert (await event_types(staff))[before:] == ["org.steadfast.staff.census_record.changed.v1"]


def broken_items() -> list[str]:
    """The sample's items, with four broken: items 2 and 3 fail the schema, 4 and 5 a rule."""
    sample = [item_xml(w) for w in WORKERS]
    _amara, ben, chloe, dev, ewa = WORKERS[:5]
    sample[1] = item_xml(ben, {**ben.census, "OrgRole": ["9"]})  # not a census role
    # No QualInst, and an AgencyWorker of 2.
    sample[2] = item_xml(
        chloe, {k: v for k, v in chloe.census.items() if k != "QualInst"} | {"AgencyWorker": ["2"]}
    )
    sample[3] = item_xml(dev, {**dev.census, "AgencyWorker": ["1"]})  # HR has Dev permanent
    sample[4] = item_xml(ewa, number="SW0000999999")  # nobody has this number
    return sample


async def test_atomic_mode_refuses_the_file_naming_item_element_and_reason(staff: ServiceClient) -> None:
    await import_workers(staff)
    before = await outbox_count(staff)
    status, problem = await import_census(staff, census_xml(broken_items()))
    assert status == 422
    assert problem["result"]["committed"] is False
    assert problem["result"]["counts"]["rejected"] == 4
    assert error_of(problem, 2) == [("OrgRole", "not_a_census_code")]
    assert sorted(error_of(problem, 3)) == [
        ("AgencyWorker", "not_a_census_code"),
        ("OrgRole", "unexpected_element"),
    ]
    assert error_of(problem, 4) == [("AgencyWorker", "disagrees_with_worker_record")]
    assert error_of(problem, 5) == [("SWENo", "unknown_worker")]
    bad_role = next(e for e in problem["errors"] if e["row"] == 2)
    assert bad_role["value"] == "9"
    assert bad_role["line"] is not None
    assert "permanent" in next(e for e in problem["errors"] if e["row"] == 4)["message"]
    assert await outbox_count(staff) == before, "nothing written"


async def test_partial_mode_keeps_the_good_items(staff: ServiceClient) -> None:
    await import_workers(staff)
    status, result = await import_census(staff, census_xml(broken_items()), mode="partial")
    assert status == 200, result
    assert result["counts"] == {"rows": 20, "created": 16, "updated": 0, "unchanged": 0, "rejected": 4}
    assert sorted({e["row"] for e in result["rejected"]}) == [2, 3, 4, 5]
    exported = items(await export(staff))
    assert exported["SW0000104729"]["Cases30"] == ["17"]
    assert "Cases30" not in exported["SW0000128486"], "Dev's item was rejected: no census facts kept"


async def test_a_return_that_disagrees_with_the_hr_record_names_the_element(staff: ServiceClient) -> None:
    await import_workers(staff)
    amara, *_ = WORKERS
    items_ = [
        item_xml(
            amara, {**amara.census, "FTE": ["0.500000"], "OrgRole": ["3"], "RoleStartDate": ["2016-09-06"]}
        )
    ]
    status, problem = await import_census(staff, census_xml(items_))
    assert status == 422
    assert error_of(problem, 1) == [("RoleStartDate", "disagrees_with_worker_record")]
    items_ = [item_xml(amara, {**amara.census, "FTE": ["0.500000"], "OrgRole": ["3"]})]
    status, problem = await import_census(staff, census_xml(items_))
    assert sorted(error_of(problem, 1)) == [
        ("FTE", "disagrees_with_worker_record"),
        ("OrgRole", "disagrees_with_worker_record"),
    ]
    maya = WORKERS[12]
    wrong_reason = item_xml(maya, {**maya.census, "ReasonLeave": ["5"]})
    status, problem = await import_census(staff, census_xml([wrong_reason]))
    assert error_of(problem, 1) == [("ReasonLeave", "disagrees_with_worker_record")]


async def test_the_census_year_comes_from_the_header_or_the_request(staff: ServiceClient) -> None:
    await import_workers(staff)
    headless = census_xml(header=False)
    status, problem = await import_census(staff, headless)
    assert status == 422
    assert problem["errors"][0]["reason"] == "missing_year"
    status, problem = await import_census(staff, census_xml(), query="&year=2021")
    assert status == 422
    assert problem["errors"][0]["reason"] == "disagrees_with_file"
    status, result = await import_census(staff, headless, query="&year=2022")
    assert status == 200
    assert result["counts"]["created"] == 20


async def test_a_document_that_is_not_a_census_or_not_xml_is_refused(staff: ServiceClient) -> None:
    status, problem = await import_census(staff, "<Message><CSWWWorker></CSWWWorker></Message>")
    assert status == 422
    assert problem["errors"][0]["path"] == "/Message"
    status, problem = await import_census(staff, "<Message><LALevelVacancies>")
    assert status == 422
    assert problem["errors"][0]["reason"] == "malformed_xml"
    answer = await staff.http.post(
        "/v1/imports/csww", content=b"a,b\n", headers={**staff.auth(*WRITE), "Content-Type": "text/csv"}
    )
    assert answer.status_code == 415


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE Message [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">\n' for n in range(1, 10)
    )
    + "]>\n<Message><LALevelVacancies><NumberOfVacancies>&lol9;</NumberOfVacancies>"
    + "</LALevelVacancies></Message>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE Message [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    "<Message><CSWWWorker><QualInst>&secret;</QualInst></CSWWWorker></Message>"
)


@pytest.mark.parametrize(
    "document", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion_laughs", "external_entity"]
)
async def test_hostile_xml_is_refused_without_expanding_it(staff: ServiceClient, document: str) -> None:
    started = time.monotonic()
    status, problem = await import_census(staff, document)
    assert status == 422
    assert problem["errors"][0]["reason"] == "forbidden_xml"
    assert "root:" not in str(problem), "the file was not read"
    assert time.monotonic() - started < 5, "nothing was expanded"


async def test_the_export_streams_a_page_of_workers_at_a_time(
    start_service: Callable[..., Awaitable[ServiceClient]], monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = await start_service(definition, census_export_page_size=3)
    await import_workers(staff)
    status, _ = await import_census(staff, census_xml())
    assert status == 200
    pages: list[int] = []
    original = CensusRepository.population_page

    async def counted(self: CensusRepository, **kwargs: Any) -> Any:
        found = await original(self, **kwargs)
        pages.append(len(found))
        return found

    monkeypatch.setattr(CensusRepository, "population_page", counted)
    chunks = [
        chunk
        async for chunk in census_service.export_census(
            staff.runtime.database, YEAR, la_code=None, page_size=3
        )
    ]
    assert pages == [3, 3, 3, 3, 3, 3, 2], "20 workers read three at a time"
    assert len(chunks) == 1 + 7 + 1, "the header, a chunk per page, the end"
    assert items(b"".join(chunks).decode()) == items(census_xml())

    pages.clear()
    async with staff.http.stream("GET", f"/v1/exports/csww?year={YEAR}", headers=staff.auth(*READ)) as answer:
        assert answer.status_code == 200
        assert answer.headers.get("content-length") is None, "streamed, not sent whole"
        assert answer.headers["content-disposition"] == 'attachment; filename="csww-2022.xml"'
        received = [chunk async for chunk in answer.aiter_bytes()]
    assert len(pages) == 7
    xmlschema.XMLSchema(str(SCHEMA_PATH)).validate(b"".join(received).decode())


async def test_workers_without_a_registration_number_are_left_out_and_counted(staff: ServiceClient) -> None:
    csv = workers_csv().replace("SW104729", "")
    await import_workers(staff, csv)
    exported = await export(staff)
    xmlschema.XMLSchema(str(SCHEMA_PATH)).validate(exported)
    assert len(items(exported)) == 19
    assert "1 worker(s) of the census year have no Social Work England number" in exported
    assert "HR101" in exported.split("</Message>")[1]


async def test_equality_data_is_read_and_not_kept(staff: ServiceClient) -> None:
    await import_workers(staff)
    amara = WORKERS[0]
    census = dict(amara.census)
    with_equality = {"AgencyWorker": census.pop("AgencyWorker"), "FTE": census.pop("FTE")}
    with_equality |= {
        "PersonBirthDate": ["1990-04-02"],
        "GenderCurrent": ["2"],
        "Ethnicity": ["WBRI"],
    } | census
    status, result = await import_census(staff, census_xml([item_xml(amara, with_equality)]))
    assert status == 200, result
    assert result["not_stored"] == {"PersonBirthDate": 1, "GenderCurrent": 1, "Ethnicity": 1}
    assert "PersonBirthDate" not in items(await export(staff))["SW0000104729"]


async def test_import_and_export_need_their_scopes(staff: ServiceClient) -> None:
    answer = await staff.http.post(
        "/v1/imports/csww",
        content=census_xml().encode(),
        headers={**staff.auth(*READ), "Content-Type": "application/xml"},
    )
    assert answer.status_code == 403
    answer = await staff.http.get(f"/v1/exports/csww?year={YEAR}", headers=staff.auth("caseload:read"))
    assert answer.status_code == 403


async def census_records(staff: ServiceClient) -> int:
    async with staff.runtime.database.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(CensusRecord))).scalar_one())


async def test_atomic_and_partial_hold_across_batches(
    staff: ServiceClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(census_service, "BATCH_ITEMS", 3)
    await import_workers(staff)
    sample = [item_xml(w) for w in WORKERS]
    sample[18] = item_xml(WORKERS[18], number="SW0000999999")  # in the seventh batch
    before = await outbox_count(staff)
    status, problem = await import_census(staff, census_xml(sample))
    assert status == 422
    assert [e["row"] for e in problem["errors"]] == [19]
    assert await census_records(staff) == 0, "six batches applied, then all rolled back"
    quentin = (await staff.http.get("/v1/workers/HR117", headers=staff.auth(*READ))).json()
    assert quentin["end_date"] is None, "the leaving filled in the sixth batch was rolled back too"
    assert await outbox_count(staff) == before

    status, result = await import_census(staff, census_xml(sample), mode="partial")
    assert status == 200
    assert (result["counts"]["created"], result["counts"]["rejected"]) == (19, 1)
    assert await census_records(staff) == 19


async def test_census_events_carry_no_registration_number_nor_health_data(staff: ServiceClient) -> None:
    await import_workers(staff)
    status, _ = await import_census(staff, census_xml())
    assert status == 200
    async with staff.runtime.database.sessionmaker() as session:
        payloads = (
            await session.scalars(
                select(tables.outbox.c.payload).where(tables.outbox.c.event_type.like("%census_record%"))
            )
        ).all()
    assert len(payloads) == 20
    text = " ".join(str(p) for p in payloads)
    for w in WORKERS:
        assert w.number not in text
        assert w.census_number() not in text
        assert w.name not in text
    for leaked in ("working_days_lost", "absence", "sickness", "qualifying_institutions", "University"):
        assert leaked not in text


async def test_the_census_round_trip_on_sqlite_as_make_run_runs_it(
    tmp_path: Path, service_settings: Callable[..., Any]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'staff.db'}"
    await asyncio.to_thread(upgrade, definition.alembic_ini, url)
    async with service_app(definition, service_settings(definition, url)) as staff:
        await import_workers(staff)
        status, result = await import_census(staff, census_xml(), mode="partial")
        assert status == 200, result
        assert result["counts"]["created"] == 20
        status, again = await import_census(staff, census_xml())
        assert again["counts"]["unchanged"] == 20
        exported = await export(staff)
    xmlschema.XMLSchema(str(SCHEMA_PATH)).validate(exported)
    assert items(exported) == items(census_xml())
