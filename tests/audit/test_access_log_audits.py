"""The audit service's access log: an audit, a list of audits and the overdue learning actions log the
child each names (the reference the audit was recorded with); the grade distribution, which names
none, logs nothing. On real PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from steadfast_audit.db import tables
from steadfast_shared.testing import ServiceClient
from tests.audit.conftest import READ, WRITE, post_audit, seed_directory, staff_worker

pytestmark = pytest.mark.integration


async def log_rows(service: ServiceClient) -> list[dict[str, Any]]:
    log = tables.access_log
    assert log is not None, "the audit service keeps an access log"
    async with service.runtime.database.sessionmaker() as session:
        return [dict(r) for r in (await session.execute(select(log).order_by(log.c.id))).mappings().all()]


async def test_audits_log_the_children_they_name(audit: ServiceClient) -> None:
    await seed_directory(audit, staff_worker("HR-9", team="PC3"))
    children = ["LCS-2001", "LCS-2002", "LCS-2003"]
    recorded = [
        await post_audit(
            audit,
            audit_type="full",
            child=c,
            worker="HR-9",
            completed_date="2015-03-02",
            overall_grade="good",
        )
        for c in children
    ]
    action = await audit.http.post(
        f"/v1/audits/{recorded[0]['id']}/learning-actions",
        json={"owner": "Jo", "description": "review the plan", "due_date": "2015-03-10"},
        headers=audit.auth(*WRITE),
    )
    assert action.status_code == 201, action.text
    assert await log_rows(audit) == [], "writes are not reads"

    headers = {**audit.auth(*READ, subject="qa-dana"), "Purpose": "audit"}
    grades = await audit.http.get("/v1/audits/grades", headers=headers)
    assert grades.status_code == 200
    assert await log_rows(audit) == [], "a grade distribution names no child"

    listed = await audit.http.get("/v1/audits", headers=headers)
    assert listed.status_code == 200, listed.text
    rows = await log_rows(audit)
    assert sorted(r["child"] for r in rows) == children
    assert {(r["who"], r["purpose"], r["route"]) for r in rows} == {("qa-dana", "audit", "/v1/audits")}

    one = await audit.http.get(f"/v1/audits/{recorded[1]['id']}", headers=headers)
    overdue = await audit.http.get(
        "/v1/learning-actions/overdue", params={"as_of": "2015-04-01"}, headers=headers
    )
    assert (one.status_code, overdue.status_code) == (200, 200)
    later = (await log_rows(audit))[3:]
    assert [(r["route"], r["child"]) for r in later] == [
        ("/v1/audits/{audit}", "LCS-2002"),
        ("/v1/learning-actions/overdue", "LCS-2001"),
    ]

    auditor = await audit.http.get(
        "/v1/access-log", params={"child": "LCS-2001"}, headers=audit.auth("access-log:read")
    )
    assert [i["route"] for i in auditor.json()["items"]] == ["/v1/audits", "/v1/learning-actions/overdue"]
    assert (await audit.http.get("/v1/access-log", headers=audit.auth(*WRITE))).status_code == 403
