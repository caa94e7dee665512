"""``POST /v1/imports/{assessments,visits,reviews,iro_visits}``: upserts on known children."""

from __future__ import annotations

import pytest

from steadfast_shared.testing import ServiceClient
from tests.caseload.importing import CHILDREN_HEADER, counts, outbox_count, outbox_types, post_csv, rejections

pytestmark = pytest.mark.integration

CHILDREN = "C1,cp,2014-10-20,\nC2,cla,2013-05-07,\n"


async def given_children(caseload: ServiceClient) -> None:
    status, result = await post_csv(caseload, "children", CHILDREN_HEADER + CHILDREN)
    assert status == 200, result


async def import_twice(caseload: ServiceClient, kind: str, body: str, created: int) -> None:
    """Created on the first import, unchanged on the second, which publishes nothing."""
    status, first = await post_csv(caseload, kind, body)
    assert status == 200, first
    assert first["counts"] == counts(created=created)
    events = await outbox_count(caseload)
    status, second = await post_csv(caseload, kind, body)
    assert status == 200
    assert second["counts"] == counts(unchanged=created)
    assert await outbox_count(caseload) == events


async def test_assessments_are_upserted_by_external_id(caseload: ServiceClient) -> None:
    await given_children(caseload)
    header = "external_id,child_external_id,start_date,completed_date\n"
    rows = "A1,C1,2014-09-01,\nA2,C2,2014-10-01,2014-11-20\n"
    await import_twice(caseload, "assessments", header + rows, created=2)

    before = await outbox_types(caseload)
    completed = rows.replace("A1,C1,2014-09-01,", "A1,C1,2014-09-01,2014-10-31")
    status, result = await post_csv(caseload, "assessments", header + completed)
    assert result["counts"] == counts(updated=1, unchanged=1)
    assert result["updated"][0]["key"] == "A1"
    assert await outbox_types(caseload) == [*before, "org.steadfast.caseload.assessment.changed.v1"]

    bad = (
        "A3,C1,2014-09-01,2014-08-01\n"  # completed before it started
        "A4,C9,2014-09-01,\n"  # unknown child
        "A2,C1,2014-10-01,2014-11-20\n"  # A2 is C2's assessment
    )
    status, result = await post_csv(caseload, "assessments", header + bad, mode="partial")
    assert status == 200
    assert rejections(result) == [
        (2, "completed_date", "completed_before_start"),
        (3, "child_external_id", "unknown_child"),
        (4, "child_external_id", "assessment_of_another_child"),
    ]


async def test_visits_are_upserted_by_child_date_and_type(caseload: ServiceClient) -> None:
    await given_children(caseload)
    header = "child_external_id,visit_date,visit_type,seen_alone\n"
    rows = "C1,2014-10-27,cp,true\nC1,2014-11-03,cp,\nC2,2014-11-03,cla,no\n"
    await import_twice(caseload, "visits", header + rows, created=3)

    status, result = await post_csv(
        caseload, "visits", header + rows.replace("2014-11-03,cp,", "2014-11-03,cp,yes")
    )
    assert result["counts"] == counts(updated=1, unchanged=2)

    # A file without the optional column leaves seen_alone as it is.
    minimal = "child_external_id,visit_date,visit_type\nC1,2014-10-27,cp\nC1,2014-11-03,cp\n"
    status, result = await post_csv(caseload, "visits", minimal)
    assert result["counts"] == counts(unchanged=2)

    bad = (
        "C1,2014-10-19,cp,\n"  # the day before C1's first episode
        "C9,2014-11-03,cp,\n"  # unknown child
        "C1,2014-11-03,phone,\n"  # not a visit type
        "C1,2014-11-03,cp,perhaps\n"  # not a yes/no
    )
    status, problem = await post_csv(caseload, "visits", header + bad)
    assert status == 422
    assert sorted(rejections(problem)) == [
        (2, "visit_date", "visit_before_first_episode"),
        (3, "child_external_id", "unknown_child"),
        (4, "visit_type", "enum"),
        (5, "seen_alone", "bool_parsing"),
    ]
    first = next(e for e in problem["errors"] if e["row"] == 2)
    assert "2014-10-20" in first["message"]
    assert first["value"] == "2014-10-19"


async def test_reviews_and_iro_visits_are_upserted_by_child_and_date(caseload: ServiceClient) -> None:
    await given_children(caseload)
    reviews = "child_external_id,review_date\nC2,2013-06-04\nC2,2013-11-26\nC1,2014-11-10\n"
    await import_twice(caseload, "reviews", reviews, created=3)
    iro = "child_external_id,visit_date\nC2,2013-09-10\n"
    await import_twice(caseload, "iro_visits", iro, created=1)
    types = await outbox_types(caseload)
    assert types.count("org.steadfast.caseload.review.recorded.v1") == 3
    assert types.count("org.steadfast.caseload.iro_visit.recorded.v1") == 1

    status, problem = await post_csv(caseload, "iro_visits", iro + "C7,2013-09-10\n")
    assert status == 422
    assert rejections(problem) == [(3, "child_external_id", "unknown_child")]


async def test_file_level_problems(caseload: ServiceClient) -> None:
    status, problem = await post_csv(caseload, "allocations", "child_external_id,start_date\nC1,2014-01-01\n")
    assert status == 422
    assert {(e["field"], e["reason"]) for e in problem["errors"]} == {
        ("worker_external_id", "missing_column"),
        ("end_date", "missing_column"),
    }
    status, problem = await post_csv(caseload, "workers", "external_id\nHR1\n")
    assert status == 404
    assert problem["errors"][0]["allowed"] == [
        "allocations",
        "assessments",
        "children",
        "iro_visits",
        "reviews",
        "visits",
    ]
    forbidden = await caseload.http.post(
        "/v1/imports/children",
        content=(CHILDREN_HEADER + CHILDREN).encode(),
        headers={**caseload.auth("caseload:read"), "Content-Type": "text/csv"},
    )
    assert forbidden.status_code == 403
