"""Inputs at the edges, on the audit service (regression tests of the hardening issue, defect 2): the
programme asked from 0001-01 to 9999-12 overflowed the calendar into a 500."""

from __future__ import annotations

import pytest

from steadfast_shared.testing import ServiceClient
from tests.audit.conftest import READ, WRITE

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("params", "field"),
    [({"from": "0001-01", "to": "9999-12"}, "from"), ({"from": "2015-01", "to": "9999-12"}, "to")],
)
async def test_a_programme_month_outside_the_calendar_is_a_422(
    audit: ServiceClient, params: dict[str, str], field: str
) -> None:
    answer = await audit.http.get("/v1/programme", params=params, headers=audit.auth(*READ))
    assert answer.status_code == 422, answer.text
    assert [(e["field"], e["reason"]) for e in answer.json()["errors"]] == [(field, "date_out_of_range")]


async def test_a_plan_for_a_month_outside_the_calendar_is_a_422(audit: ServiceClient) -> None:
    answer = await audit.http.put(
        "/v1/programme/ACIN1/9999-12", json={"planned": 4}, headers=audit.auth(*WRITE)
    )
    assert answer.status_code == 422, answer.text
    assert [(e["field"], e["reason"]) for e in answer.json()["errors"]] == [("month", "date_out_of_range")]


async def test_a_programme_inside_the_calendar_answers(audit: ServiceClient) -> None:
    answer = await audit.http.get(
        "/v1/programme", params={"from": "2015-01", "to": "2015-03"}, headers=audit.auth(*READ)
    )
    assert answer.status_code == 200, answer.text
