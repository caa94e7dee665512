"""Inputs at the edges, on the caseload service (regression tests of the hardening issue, defects 2 and
9): ``as_of=9999-12-31`` on the visit and assessment lists overflowed the calendar into a 500; a child's
``external_id`` with ``/`` could be registered but never fetched; a NUL in a cell reached PostgreSQL."""

from __future__ import annotations

import pytest

from steadfast_shared.testing import ServiceClient
from tests.caseload.conftest import READ, WRITE
from tests.caseload.importing import CHILDREN_HEADER, post_csv, rejections

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/visits/due", {"as_of": "9999-12-31", "within_days": 7}),
        ("/v1/assessments/approaching", {"as_of": "9999-12-31"}),
        ("/v1/caseloads", {"as_of": "0001-01-01"}),
    ],
)
async def test_a_day_outside_the_calendar_is_a_422_naming_as_of(
    caseload: ServiceClient, path: str, params: dict[str, str | int]
) -> None:
    answer = await caseload.http.get(path, params=params, headers=caseload.auth(*READ))
    assert answer.status_code == 422, answer.text
    assert [(e["field"], e["reason"]) for e in answer.json()["errors"]] == [("as_of", "date_out_of_range")]


async def test_a_visit_on_a_day_outside_the_calendar_is_a_422(caseload: ServiceClient) -> None:
    made = await caseload.http.post(
        "/v1/children", json={"external_id": "LCS-EDGE"}, headers=caseload.auth(*WRITE)
    )
    assert made.status_code == 201, made.text
    answer = await caseload.http.post(
        "/v1/children/LCS-EDGE/visits",
        json={"visit_date": "9999-12-31", "visit_type": "cp"},
        headers=caseload.auth(*WRITE),
    )
    assert answer.status_code == 422, answer.text
    assert [(e["field"], e["reason"]) for e in answer.json()["errors"]] == [
        ("visit_date", "date_out_of_range")
    ]


async def test_a_child_reference_with_a_slash_is_refused(caseload: ServiceClient) -> None:
    answer = await caseload.http.post(
        "/v1/children", json={"external_id": "LCS/1"}, headers=caseload.auth(*WRITE)
    )
    assert answer.status_code == 422, answer.text
    assert [(e["field"], e["reason"]) for e in answer.json()["errors"]] == [
        ("external_id", "not_a_path_segment")
    ]
    status, result = await post_csv(caseload, "children", CHILDREN_HEADER + "LCS/2,cin,2015-01-05,\n")
    assert status == 422, result
    assert rejections(result) == [(2, "external_id", "not_a_path_segment")]


async def test_nul_bytes_in_a_children_file_are_each_rows_error(caseload: ServiceClient) -> None:
    body = CHILDREN_HEADER + "LCS-N\x001,cin,2015-01-05,\n" + "LCS-N2,cin,2015-01-05,\n"
    status, result = await post_csv(caseload, "children", body, mode="partial")
    assert status == 200, result
    assert rejections(result) == [(2, "external_id", "control_character")]
    assert result["counts"]["created"] == 1
