"""The SSDA903 social worker episodes file: ``POST /v1/imports/ssda903-social-workers`` into the
allocations, and ``GET /v1/exports/ssda903-social-workers?year=`` for the children looked after on
31 March, checked by the DfE's rules as Data to Insight's validator (csc-validator-be-903) runs them."""

from __future__ import annotations

import csv
import io
import json
import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from steadfast_caseload.children.models import Allocation, Child
from steadfast_caseload.db import tables
from steadfast_caseload.returns import service as returns_service
from steadfast_caseload.returns.ssda903 import COLUMNS, REASONS
from steadfast_shared.access import ChildReads
from steadfast_shared.codes import AllocationChangeReason
from steadfast_shared.testing import ServiceClient
from tests.caseload.conftest import READ, seed_directory, staff_worker
from tests.caseload.importing import (
    ALLOCATIONS_HEADER,
    CHILDREN_HEADER,
    counts,
    outbox_count,
    outbox_types,
    post_csv,
    rejections,
)

pytestmark = pytest.mark.integration

KIND = "ssda903-social-workers"
SPEC = Path(__file__).parents[2] / "services/caseload/steadfast_caseload/returns/spec/ssda903-2024.yml"
HEADER = ",".join(COLUMNS) + "\n"

# C1 in care since 2019 with SW1001, then SW1002 after a restructure; C2 with the local worker HR7
# (named XXHR7, as the export writes a local id); C3 with SW1002 throughout.
GOOD = (
    "C1,17/05/2012,SW1001,06/08/2019,04/09/2023,FCONTA\n"
    "C1,17/05/2012,SW1002,04/09/2023,,ORGRST\n"
    "C2,03/11/2015,XXHR7,12/01/2021,,FCONTA\n"
    "C3,,SW1002,2022-02-01,,pcchan \n"  # an ISO date and a reason as the 2024 specification spells it
)


async def given_children_and_workers(caseload: ServiceClient) -> None:
    await seed_directory(caseload, staff_worker("SW1001"), staff_worker("SW1002"), staff_worker("HR7"))
    children = "C1,cla,2019-08-06,\nC2,cla,2021-01-12,\nC3,cla,2022-02-01,\n"
    status, result = await post_csv(caseload, "children", CHILDREN_HEADER + children)
    assert status == 200, result


def test_the_file_layout_and_codes_are_the_dfe_specifications() -> None:
    spec = yaml.safe_load(SPEC.read_text())["column_map"]["SocialWorker"]
    assert tuple(spec) == COLUMNS
    codes = {entry["code"].strip() for entry in spec["SW_REASON"]["category"]}
    assert codes == set(REASONS) == {reason.value for reason in AllocationChangeReason}
    assert {column: spec[column].get("date") for column in ("DOB", "SW_DECOM", "SW_DEC")} == dict.fromkeys(
        ("DOB", "SW_DECOM", "SW_DEC"), "%d/%m/%Y"
    )


async def test_episodes_become_allocations_once_and_only_the_year_of_birth_is_kept(
    caseload: ServiceClient,
) -> None:
    await given_children_and_workers(caseload)
    before = await outbox_count(caseload)
    status, first = await post_csv(caseload, KIND, HEADER + GOOD)
    assert status == 200, first
    assert first["counts"] == counts(created=4)
    assert [r["key"] for r in first["created"]] == [
        "C1/SW1001/2019-08-06",
        "C1/SW1002/2023-09-04",
        "C2/XXHR7/2021-01-12",
        "C3/SW1002/2022-02-01",
    ]
    assert (await outbox_types(caseload))[before:] == ["org.steadfast.caseload.allocation.started.v1"] * 4

    async with caseload.runtime.database.sessionmaker() as session:
        held = {c.external_id: c.birth_year for c in (await session.scalars(select(Child))).all()}
        allocations = (await session.scalars(select(Allocation).order_by(Allocation.start_date))).all()
        payloads = (await session.execute(select(tables.outbox.c.payload))).scalars().all()
    assert held == {"C1": 2012, "C2": 2015, "C3": None}
    assert [(a.start_date, a.end_date, a.reason) for a in allocations] == [
        (date(2019, 8, 6), date(2023, 9, 4), AllocationChangeReason.FCONTA),
        (date(2021, 1, 12), None, AllocationChangeReason.FCONTA),
        (date(2022, 2, 1), None, AllocationChangeReason.PCCHAN),
        (date(2023, 9, 4), None, AllocationChangeReason.ORGRST),
    ]
    # The date of birth is nowhere: not in a row, not in an event.
    published = json.dumps([p if isinstance(p, str | dict) else str(p) for p in payloads], default=str)
    for written in ("2012-05-17", "17/05/2012", "2015-11-03", "03/11/2015"):
        assert written not in published

    after = await outbox_count(caseload)
    status, second = await post_csv(caseload, KIND, HEADER + GOOD)
    assert status == 200, second
    assert second["counts"] == counts(unchanged=4)
    assert await outbox_count(caseload) == after, "the same file again publishes nothing"


BAD = (
    "C1,17/05/2012,SW9999,04/09/2023,,MANAGE\n"  # row 6: a social worker the directory has not heard of
    "C3,,SW1001,01/03/2024,01/02/2024,MANAGE\n"  # row 7: ends before it starts
    "C2,,SW1001,01/06/2022,01/08/2022,MANAGE\n"  # row 8: overlaps C2's episode with HR7 (row 4)
    "C3,,SW1001,01/04/2024,,NOTACODE\n"  # row 9: not an SSDA903 reason
    "C9,,SW1001,01/04/2024,,MANAGE\n"  # row 10: a child never imported
    "C3,,SW1001,31/02/2024,,MANAGE\n"  # row 11: not a date
)
BAD_ROWS = [
    (6, "SW_ID", "unknown_worker"),
    (7, "SW_DEC", "end_not_after_start"),
    (8, "SW_DECOM", "overlapping_episode"),
    (9, "SW_REASON", "enum"),
    (10, "CHILD", "unknown_child"),
    (11, "SW_DECOM", "date_from_datetime_parsing"),
]


async def test_bad_rows_name_the_row_the_column_and_the_reason_and_atomic_mode_writes_nothing(
    caseload: ServiceClient,
) -> None:
    await given_children_and_workers(caseload)
    before = await outbox_count(caseload)
    status, problem = await post_csv(caseload, KIND, HEADER + GOOD + BAD)
    assert status == 422, problem
    assert [(r, c, reason.split(",")[0]) for r, c, reason in rejections(problem)] == BAD_ROWS
    assert all(e["message"] for e in problem["errors"])
    assert await outbox_count(caseload) == before, "atomic: nothing written, nothing published"
    async with caseload.runtime.database.sessionmaker() as session:
        assert (await session.scalars(select(Allocation))).all() == []


async def test_partial_mode_keeps_the_good_rows(caseload: ServiceClient) -> None:
    await given_children_and_workers(caseload)
    status, result = await post_csv(caseload, KIND, HEADER + GOOD + BAD, mode="partial")
    assert status == 200, result
    assert result["counts"] == counts(created=4, rejected=6)
    assert [(r, c, reason.split(",")[0]) for r, c, reason in rejections(result)] == BAD_ROWS
    async with caseload.runtime.database.sessionmaker() as session:
        assert len((await session.scalars(select(Allocation))).all()) == 4


# -- the export, against the DfE's rules -----------------------------------------------------------

WORKERS = [f"SW{100200 + n}" for n in range(9)] + ["HR41", "HR42", "HR43"]  # three local ids: XX...
CHANGE_REASONS = ["MANAGE", "LEFTRL", "ORGRST", "TSPROC", "ABSENC", "CHCHAN", "PCCHAN", "SWDIED", "OTHERS"]


def council(year: int) -> tuple[str, str, dict[str, date]]:
    """50 children looked after on 31 March ``year`` and one who left care before it: their cla
    episodes (children.csv), their allocations (allocations.csv, reasons for each change), and when
    each came into care. Some came into care during the year, some changed worker after 31 March,
    some have a handover recorded late (the old allocation ends two weeks after the new one began),
    every child's last worker holds the child on 31 March."""
    start, end = date(year - 1, 4, 1), date(year, 3, 31)
    children, allocations, care = [], [], {}
    for i in range(51):
        child = f"LAC{i:03d}"
        came_in = start + timedelta(days=20 + 5 * i) if i % 5 == 0 else date(year - 3, 1 + i % 12, 1 + i % 28)
        care[child] = came_in
        left = date(year, 2, 1) if i == 50 else None
        children.append(f"{child},cla,{came_in},{left or ''}")
        first_change = max(came_in + timedelta(days=30), start - timedelta(days=20))
        changes = sorted({first_change + timedelta(days=47 * k) for k in range(1 + i % 4)})
        changes = [d for d in changes if d < (left or end) - timedelta(days=10)]
        if i % 7 == 3:
            changes.append(date(year, 4, 20))  # a change after 31 March: the episode is open on 31 March
        days = [came_in, *changes]
        for k, begins in enumerate(days):
            worker = WORKERS[(i + 5 * k) % len(WORKERS)]
            ends = days[k + 1] if k + 1 < len(days) else None
            if ends is not None and i % 11 == 4:
                ends += timedelta(days=14)  # the handover was recorded late: the allocations overlap
            if i == 50 and ends is None:
                ends = date(year, 2, 1)
            reason = "" if k == 0 else CHANGE_REASONS[(i + k) % len(CHANGE_REASONS)]
            allocations.append(f"{child},{worker},{begins},{ends or ''},{reason}")
    return "\n".join(children) + "\n", "\n".join(allocations) + "\n", care


async def export(caseload: ServiceClient, year: int) -> str:
    """The exported file, as the client receives it."""
    chunks = []
    async with caseload.http.stream(
        "GET", f"/v1/exports/{KIND}?year={year}", headers=caseload.auth(*READ)
    ) as answer:
        assert answer.status_code == 200, await answer.aread()
        assert answer.headers["content-type"].startswith("text/csv")
        assert "content-length" not in answer.headers, "streamed, not rendered whole"
        async for chunk in answer.aiter_bytes():
            chunks.append(chunk)
    return b"".join(chunks).decode()


def episodes_file(children: str, in_file: set[str]) -> str:
    """The SSDA903 episodes file (the children's periods of care) the SW rules read beside the SW
    episodes: one episode per cla episode of a child in the file, started by a new period of care."""
    out = io.StringIO()
    writer = csv.writer(out)
    columns = ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC"]
    writer.writerow([*columns, "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"])
    for line in children.splitlines():
        child, _, started, ended = line.split(",")
        if child in in_file:
            decom = date.fromisoformat(started).strftime("%d/%m/%Y")
            dec = date.fromisoformat(ended).strftime("%d/%m/%Y") if ended else ""
            writer.writerow(
                [child, decom, "S", "C2", "N1", "U1", "PR1", dec, "E11" if dec else ""] + [""] * 4
            )
    return out.getvalue()


def header_file(in_file: set[str]) -> str:
    rows = [f"{child},1,,WBRI,,," for child in sorted(in_file)]
    return "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n" + "\n".join(rows) + "\n"


def validate(year: int, files: dict[str, str]) -> tuple[dict[str, int], set[str], set[str], set[str]]:
    """Data to Insight's validator over the files for the collection year ending 31 March ``year``,
    running its rules on the social worker episodes: errors per rule code, and the codes run, skipped
    and failed to run."""
    from lac_validator.lac_validator import LacValidator
    from lac_validator.rules.ruleset_utils import get_year_ruleset

    logging.getLogger("lac_validator").setLevel(logging.WARNING)
    registry = get_year_ruleset(str(year))
    codes = [code for code, rule in registry.items() if "SWEpisodes" in (rule.tables or [])]
    uploads = [
        {"name": name, "description": "This year", "file_content": text.encode()}
        for name, text in files.items()
    ]
    validator = LacValidator(
        metadata={"collectionYear": str(year), "localAuthority": "E09000027"},
        files=uploads,
        registry=registry,
        selected_rules=codes,
    )
    errors: dict[str, int] = {}
    for table in validator.ds_results.values():
        if not hasattr(table, "columns"):
            continue
        for column in table.columns:
            if str(column).startswith("ERR_") and str(column)[4:] in codes:
                errors[str(column)[4:]] = errors.get(str(column)[4:], 0) + int(
                    table[column].fillna(False).sum()
                )
    return errors, set(validator.dones), set(validator.skips), set(validator.fails)


@pytest.mark.parametrize("year", [2024, 2025, 2026])
async def test_the_export_passes_the_dfe_social_worker_episode_rules(
    caseload: ServiceClient, year: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_directory(caseload, *(staff_worker(w, start_date=date(2015, 1, 5)) for w in WORKERS))
    children, allocations, care = council(year)
    status, result = await post_csv(caseload, "children", CHILDREN_HEADER + children)
    assert status == 200, result
    status, result = await post_csv(
        caseload, "allocations", ALLOCATIONS_HEADER.replace("\n", ",reason\n") + allocations
    )
    assert status == 200, rejections(result)

    events: list[str] = []
    original = returns_service.ReturnsRepository.looked_after_on

    async def counted(self: Any, day: date, after: str | None, limit: int) -> list[Any]:
        page = await original(self, day, after, limit)
        events.append(f"read {len(page)}")
        return page

    monkeypatch.setattr(returns_service, "EXPORT_PAGE_CHILDREN", 7)
    monkeypatch.setattr(returns_service.ReturnsRepository, "looked_after_on", counted)
    text = await export(caseload, year)
    assert events == ["read 7"] * 7 + ["read 1"], "50 children read seven at a time"

    # Each page is sent as soon as it is read, before the next is read.
    events.clear()
    reads = ChildReads(None, "test", "unstated", "test", None, set())  # type: ignore[arg-type]
    async for chunk in returns_service.social_worker_episodes_file(caseload.runtime, reads, year):
        events.append(f"sent {len(chunk.splitlines())}")
    assert events[:2] == ["sent 1", "read 7"], "the header goes before anything is read"
    assert [e.split()[0] for e in events] == ["sent"] + ["read", "sent"] * 8

    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == COLUMNS
    in_file = {r["CHILD"] for r in rows}
    assert in_file == {f"LAC{i:03d}" for i in range(50)}, "the children looked after on 31 March, not LAC050"
    assert all(r["DOB"] == "" for r in rows)
    assert {r["SW_ID"] for r in rows} >= {"XXHR41", "SW100200"}
    last_days = {r["CHILD"]: r for r in rows}
    assert all(r["SW_DEC"] == "" for r in last_days.values()), "every child's episode is open on 31 March"
    assert len(rows) > 100

    files = {
        "sw_episodes.csv": text,
        "episodes.csv": episodes_file(children, in_file),
        "header.csv": header_file(in_file),
    }
    errors, done, skipped, failed = validate(year, files)
    assert failed == set(), f"rules that could not run: {failed}"
    assert skipped == set(), f"rules skipped for want of a table: {skipped}"
    assert {"SW02STG1", "SW10STG2", "SW12STG2"} <= done
    assert {code: n for code, n in errors.items() if n} == {}, f"{year}: {errors}"

    # The rules do find what they look for: a gap between two workers, and an id of the wrong form.
    lines = text.splitlines()
    changed = next(n for n, line in enumerate(lines) if n and line.split(",")[4])  # an episode that ended
    cells = lines[changed].split(",")
    cells[2] = "AB12"
    cells[4] = (date(year, 3, 31) - timedelta(days=60)).strftime("%d/%m/%Y")
    broken = "\r\n".join([*lines[:changed], ",".join(cells), *lines[changed + 1 :]]) + "\r\n"
    errors, *_ = validate(year, {**files, "sw_episodes.csv": broken})
    assert errors["SW02STG1"] == 1, errors
    assert errors["SW10STG2"] >= 1, errors
    assert set(care) >= in_file
