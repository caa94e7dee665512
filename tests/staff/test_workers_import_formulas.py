"""Formula cells in an import are reported, with their row and column, and stored as sent (hardening
issue: imports report the cells a spreadsheet would run; exports neutralise them)."""

from __future__ import annotations

import pytest

from steadfast_shared.testing import ServiceClient
from tests.staff.conftest import READ, WRITE

pytestmark = pytest.mark.integration

HEADER = "external_id,display_name,role,employment_type,fte,team,start_date,protected_development_pct\n"
LINK = '"=HYPERLINK(""https://evil.example"",""Open"")"'


async def test_formula_cells_are_reported_and_stored_as_sent(staff: ServiceClient) -> None:
    body = (
        HEADER
        + f"HR-F1,{LINK},social_worker,permanent,1,ACIN1,2014-01-06,\n"
        + "HR-F2,Ben Ola,social_worker,permanent,1,ACIN1,2014-01-06,-1\n"  # a number: data, though refused
        + "HR-F3,@SUM(A1:A9),social_worker,permanent,1,ACIN1,2014-01-06,\n"
        + "HR-F4,Cara Diaz,social_worker,permanent,1,ACIN1,2014-01-06,\n"
        + "HR-F5,  +1+1  ,wizard,permanent,1,ACIN1,2014-01-06,\n"  # reported on a rejected row too
    )
    answer = await staff.http.post(
        "/v1/imports/workers?mode=partial",
        content=body.encode(),
        headers={**staff.auth(*WRITE), "Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["counts"]["created"] == 3
    assert result["formula_cells"] == {
        "total": 3,
        "cells": [
            {
                "row": 2,
                "line": 2,
                "column": "display_name",
                "value": '=HYPERLINK("https://evil.example","Open")',
            },
            {"row": 4, "line": 4, "column": "display_name", "value": "@SUM(A1:A9)"},
            {"row": 6, "line": 6, "column": "display_name", "value": "+1+1"},
        ],
        "truncated": False,
    }
    stored = await staff.http.get("/v1/workers/HR-F1", headers=staff.auth(*READ))
    assert stored.json()["display_name"] == '=HYPERLINK("https://evil.example","Open")'


async def test_a_negative_number_is_data_not_a_formula(staff: ServiceClient) -> None:
    body = HEADER + "HR-N1,Dev Patel,social_worker,permanent,1,ACIN1,2014-01-06,-0\n"
    answer = await staff.http.post(
        "/v1/imports/workers",
        content=body.encode(),
        headers={**staff.auth(*WRITE), "Content-Type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["counts"]["created"] == 1
    assert result["formula_cells"] == {"total": 0, "cells": [], "truncated": False}
