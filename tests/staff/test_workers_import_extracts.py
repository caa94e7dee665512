"""``POST /v1/imports/workers`` with files as councils make them, and files a careless tool makes.

Regression tests of the hardening issue: a malformed row in partial mode no longer ends the import
silently (the rows after it are imported or reported); row numbers stay right after a quoted newline,
a U+2028 or U+0085 in a cell, and a bad byte thousands of lines in; a 10 MB line is one row's error.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from steadfast_shared.testing import ServiceClient
from steadfast_staff.db import tables
from tests.staff.conftest import READ, WRITE

pytestmark = pytest.mark.integration

HEADER = (
    "external_id,display_name,role,employment_type,fte,team,start_date,end_date,leaving_reason,"
    "asye_start,protected_development_pct,swe_registration_number,swe_registration_expiry\n"
)


async def outbox_subjects(staff: ServiceClient) -> set[str]:
    async with staff.runtime.database.sessionmaker() as session:
        return set((await session.scalars(select(tables.outbox.c.message_key))).all())


def worker(n: int, name: str | None = None) -> str:
    return f"HR{n},{name or f'Worker {n}'},social_worker,permanent,1,ACIN1,2014-09-01,,,,,,\n"


async def post(
    staff: ServiceClient, body: bytes, query: str = "mode=partial", **headers: str
) -> tuple[int, Any]:
    answer = await staff.http.post(
        f"/v1/imports/workers?{query}",
        content=body,
        headers={**staff.auth(*WRITE), "Content-Type": "text/csv", **headers},
    )
    return answer.status_code, answer.json()


async def test_a_stray_quote_in_partial_mode_is_reported_and_the_rows_after_it_are_imported(
    staff: ServiceClient,
) -> None:
    body = HEADER + worker(1) + 'HR2,"Ben Ola,social_worker,permanent,1,ACIN1,2014-09-01,,,,,,\n'
    body += worker(3) + worker(4)
    status, result = await post(staff, body.encode())
    assert status == 200, result
    assert [(e["row"], e["reason"]) for e in result["rejected"]] == [(3, "malformed_csv")]
    assert [r["key"] for r in result["created"]] == ["HR1", "HR3", "HR4"]
    assert result["counts"] == {"rows": 4, "created": 3, "updated": 0, "unchanged": 0, "rejected": 1}

    status, problem = await post(staff, body.encode(), "mode=atomic")
    assert status == 422
    assert "1 of 4 rows are not valid" in problem["detail"]


async def test_row_numbers_after_a_quoted_newline_and_line_separators_in_cells(staff: ServiceClient) -> None:
    body = (
        HEADER
        + 'HR1,"Amira\nKhan",social_worker,permanent,1,ACIN1,2014-09-01,,,,,,\n'
        + worker(2, "Ben\u2028Ola")
        + worker(3, "Cara\x85Diaz")
        + "HR4,Dev Patel,wizard,permanent,1,ACIN1,2014-09-01,,,,,,\n"
    )
    status, result = await post(staff, body.encode())
    assert status == 200, result
    # A line break is no part of a name (control_character), but the rows after it keep their numbers.
    assert [(e["row"], e["line"], e["column"], e["reason"]) for e in result["rejected"]] == [
        (2, 2, "display_name", "control_character"),
        (5, 6, "role", "enum"),
    ]


async def test_a_bad_byte_on_line_3000_is_reported_on_row_3000(staff: ServiceClient) -> None:
    lines = [HEADER.encode()] + [worker(n).encode() for n in range(2, 3000)]
    lines.append(worker(3000, "Zo\xeb").encode("latin-1"))
    status, result = await post(staff, b"".join(lines))
    assert status == 200, result
    assert [(e["row"], e["reason"]) for e in result["rejected"]] == [(3000, "not_utf8")]
    assert result["counts"]["created"] == 2998


async def test_a_10_mb_line_is_one_rows_error(staff: ServiceClient) -> None:
    body = HEADER.encode() + worker(1).encode() + b"HR2," + b"x" * 10_000_000 + b"\n" + worker(3).encode()
    status, problem = await post(staff, body, "mode=atomic")
    assert status == 422
    assert problem["detail"].startswith("1 of 3 rows are not valid")
    assert [(e["row"], e["reason"]) for e in problem["errors"]] == [(3, "row_too_long")]


async def test_an_excel_extract_windows_1252_with_uk_dates_and_labels(staff: ServiceClient) -> None:
    body = (
        HEADER
        + "HR1,Zo\u00eb O\u2019Brien,Social Worker,Agency,1,ACIN1,01/09/2014,,,,,,\n"
        + "HR2,Ben Ola,Advanced Practitioner,Permanent,1,ACIN1,31/03/2015 00:00,,,,,,\n"
    ).encode("cp1252")
    status, result = await post(
        staff,
        body,
        "mode=atomic&date_format=DD/MM/YYYY",
        **{"Content-Type": "text/csv; charset=windows-1252"},
    )
    assert status == 200, result
    normalised = result["normalised"]
    assert (normalised["encoding"], normalised["date_format"], normalised["dates_converted"]) == (
        "cp1252",
        "DD/MM/YYYY",
        2,
    )
    assert {(c["column"], c["value"], c["normalised_to"]) for c in normalised["codes"]} == {
        ("role", "Social Worker", "social_worker"),
        ("role", "Advanced Practitioner", "consultant_practitioner"),
        ("employment_type", "Agency", "agency"),
        ("employment_type", "Permanent", "permanent"),
    }
    zoe = (await staff.http.get("/v1/workers/HR1", headers=staff.auth(*READ))).json()
    assert (zoe["display_name"], zoe["start_date"], zoe["employment_type"]) == (
        "Zo\u00eb O\u2019Brien",
        "2014-09-01",
        "agency",
    )


async def test_what_is_ambiguous_is_refused_with_the_row_and_column(staff: ServiceClient) -> None:
    # Without date_format a UK date is not guessed; a label matching no code is not guessed either.
    body = HEADER + "HR1,Amira,social_worker,permanent,1,ACIN1,03/04/2015,,,,,,\n"
    body += "HR2,Ben,Team Manager,permanent,1,ACIN1,2015-04-03,,,,,,\n"
    status, problem = await post(staff, body.encode(), "mode=atomic")
    assert status == 422
    assert [(e["row"], e["field"]) for e in problem["errors"]] == [(2, "start_date"), (3, "role")]


async def test_a_bom_is_removed_and_said(staff: ServiceClient) -> None:
    status, result = await post(staff, b"\xef\xbb\xbf" + (HEADER + worker(1)).encode(), "mode=atomic")
    assert status == 200, result
    assert result["normalised"]["byte_order_mark_removed"] is True


@pytest.mark.parametrize("charset", ["utf-16", "klingon"])
async def test_a_charset_the_import_cannot_read_is_a_415(staff: ServiceClient, charset: str) -> None:
    status, problem = await post(staff, (HEADER + worker(1)).encode(), f"mode=atomic&charset={charset}")
    assert status == 415
    assert problem["errors"][0] == {"field": "charset", "reason": "unsupported_charset"}


async def test_a_rejected_rows_new_team_is_not_set_up(staff: ServiceClient) -> None:
    status, _ = await post(staff, (HEADER + worker(1)).encode(), "mode=atomic")
    assert status == 200
    await staff.http.post(
        "/v1/workers/HR1/changes",
        json={"effective_date": "2015-01-05", "fte": 0.8},
        headers=staff.auth(*WRITE),
    )
    # Moving HR1's start after its dated change breaks a rule; the row also names a team never seen.
    body = HEADER + "HR1,Worker 1,social_worker,permanent,0.8,NEWTEAM,2015-02-01,,,,,,\n" + worker(2)
    status, result = await post(staff, body.encode())
    assert status == 200, result
    assert [(e["row"], e["reason"]) for e in result["rejected"]] == [(2, "conflicts_with_history")]
    team = await staff.http.get("/v1/teams/NEWTEAM", headers=staff.auth(*READ))
    assert team.status_code == 404
    assert "NEWTEAM" not in await outbox_subjects(staff)
