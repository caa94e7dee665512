"""POST /v1/imports/audits: upsert by external_id, idempotent, atomic and partial, row errors."""

from __future__ import annotations

from typing import Any

import pytest

from steadfast_shared.testing import ServiceClient
from tests.audit.conftest import READ, WRITE, outbox_count, seed_directory, staff_worker

pytestmark = pytest.mark.integration

HEADER = (
    "external_id,child_external_id,worker_external_id,team,audit_type,completed_date,overall_grade,"
    "contact_grade,moderated_grade\n"
)


async def post_csv(audit: ServiceClient, body: str, mode: str = "atomic") -> tuple[int, Any]:
    answer = await audit.http.post(
        f"/v1/imports/audits?mode={mode}",
        content=body.encode(),
        headers={**audit.auth(*WRITE), "Content-Type": "text/csv"},
    )
    return answer.status_code, answer.json()


async def test_an_audits_file_upserts_and_importing_it_again_changes_and_publishes_nothing(
    audit: ServiceClient,
) -> None:
    await seed_directory(audit, staff_worker("HR-1", team="PC3"))
    body = HEADER + (
        "AUD-1,LCS-1,HR-1,,full,2015-03-02,requires_improvement,good,good\n"
        "AUD-2,LCS-2,HR-1,ACIN1,dip_sample,2015-03-03,inadequate,,\n"
        "AUD-3,LCS-3,HR-1,,full,,,,\n"
    )
    status, result = await post_csv(audit, body)
    assert status == 422  # AUD-3: no date at all
    assert [(e["row"], e["field"], e["reason"]) for e in result["errors"]] == [
        (4, "completed_date", "date_required")
    ]
    assert await outbox_count(audit) == 0
    body = body.replace("AUD-3,LCS-3,HR-1,,full,,,,", "AUD-3,LCS-3,HR-1,,full,2015-03-04,good,outstanding,")
    status, result = await post_csv(audit, body)
    assert status == 200, result
    assert result["counts"]["created"] == 3
    published = await outbox_count(audit)
    assert published == 4  # three recorded, one moderated
    first = (await audit.http.get("/v1/audits/AUD-1", headers=audit.auth(*READ))).json()
    assert (first["team"], first["effective_grade"], first["element_grades"]) == (
        "PC3",
        "good",
        {"contact": "good"},
    )
    assert first["moderation"]["moderator"] == "source system"
    status, again = await post_csv(audit, body)
    assert (status, again["counts"]["unchanged"], again["counts"]["created"]) == (200, 3, 0)
    assert await outbox_count(audit) == published
    status, changed = await post_csv(
        audit,
        body.replace(
            "AUD-2,LCS-2,HR-1,ACIN1,dip_sample,2015-03-03,inadequate,,",
            "AUD-2,LCS-2,HR-1,ACIN1,dip_sample,2015-03-03,inadequate,good,",
        ),
    )
    assert (changed["counts"]["updated"], changed["counts"]["unchanged"]) == (1, 2)
    assert await outbox_count(audit) == published + 1


async def test_atomic_rejects_the_file_partial_keeps_the_good_rows(audit: ServiceClient) -> None:
    await seed_directory(audit, staff_worker("HR-2", team="PC3"))
    body = HEADER + (
        "B-1,LCS-1,HR-2,,full,2015-03-02,good,good,\n"
        "B-2,LCS-2,GHOST,,full,2015-03-02,good,,\n"
        "B-3,LCS-3,HR-2,,full,2015-03-02,,,\n"
        "B-4,LCS-4,HR-2,,great,2015-03-02,good,,\n"
        "B-5,LCS-5,HR-2,,full,2015-03-02,good,superb,\n"
    )
    expected = [
        (3, "worker_external_id", "unknown_worker"),
        (4, "overall_grade", "overall_grade_required"),
        (5, "audit_type", "enum"),
        (6, "contact_grade", "enum"),
    ]
    status, result = await post_csv(audit, body)
    assert status == 422
    assert sorted((e["row"], e["field"], e["reason"]) for e in result["errors"]) == expected
    assert (await audit.http.get("/v1/audits/B-1", headers=audit.auth(*READ))).status_code == 404
    status, result = await post_csv(audit, body, mode="partial")
    assert status == 200
    assert result["counts"] == {"rows": 5, "created": 1, "updated": 0, "unchanged": 0, "rejected": 4}
    assert sorted((e["row"], e["column"], e["reason"]) for e in result["rejected"]) == expected
    assert (await audit.http.get("/v1/audits/B-1", headers=audit.auth(*READ))).status_code == 200
    assert await outbox_count(audit) == 1


async def test_every_configured_elements_grade_is_read_labels_and_all_and_an_unknown_element_is_refused(
    audit: ServiceClient,
) -> None:
    """Regression (hardening issue, extracts as councils make them): only ``contact_grade`` was read
    as a code; ``planning_grade: Requires Improvement`` from an Excel extract was an error."""
    await seed_directory(audit, staff_worker("HR-3", team="PC3"))
    header = HEADER.rstrip("\n") + ",planning_grade,voice_of_the_child_grade,kindness_grade\n"
    body = header + (
        "E-1,LCS-1,HR-3,,full,2015-03-02,Good,Good,,Requires Improvement,outstanding,\n"
        "E-2,LCS-2,HR-3,,full,2015-03-02,good,,,superb,,\n"
        "E-3,LCS-3,HR-3,,full,2015-03-02,good,,,,,good\n"
    )
    status, result = await post_csv(audit, body, mode="partial")
    assert status == 200, result
    assert sorted((e["row"], e["column"], e["reason"]) for e in result["rejected"]) == [
        (3, "planning_grade", "enum"),
        (4, "kindness_grade", "unknown_element"),
    ]
    assert {(c["column"], c["value"], c["normalised_to"]) for c in result["normalised"]["codes"]} >= {
        ("planning_grade", "Requires Improvement", "requires_improvement"),
        ("overall_grade", "Good", "good"),
    }
    first = (await audit.http.get("/v1/audits/E-1", headers=audit.auth(*READ))).json()
    assert first["element_grades"] == {
        "contact": "good",
        "planning": "requires_improvement",
        "voice_of_the_child": "outstanding",
    }
