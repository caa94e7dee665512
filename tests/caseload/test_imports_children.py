"""``POST /v1/imports/children``: one row per episode; a new external_id registers the child."""

from __future__ import annotations

import pytest

from steadfast_shared.testing import ServiceClient
from tests.caseload.importing import CHILDREN_HEADER, counts, outbox_count, outbox_types, post_csv, rejections

pytestmark = pytest.mark.integration

EXTRACT = "C1,assessment,2014-09-01,2014-10-20\nC1,cp,2014-10-20,\nC2,cla,2013-05-07,\nC3,cin,2014-11-03,\n"


async def test_children_are_registered_then_unchanged_on_a_second_import(caseload: ServiceClient) -> None:
    status, first = await post_csv(caseload, "children", CHILDREN_HEADER + EXTRACT)
    assert status == 200, first
    assert first["counts"] == counts(created=4)
    assert [r["key"] for r in first["created"]] == [
        "C1/assessment/2014-09-01",
        "C1/cp/2014-10-20",
        "C2/cla/2013-05-07",
        "C3/cin/2014-11-03",
    ]
    types = await outbox_types(caseload)
    assert types.count("org.steadfast.caseload.child.registered.v1") == 3
    assert types.count("org.steadfast.caseload.episode.recorded.v1") == 4

    status, second = await post_csv(caseload, "children", CHILDREN_HEADER + EXTRACT)
    assert status == 200
    assert second["counts"] == counts(unchanged=4)
    assert await outbox_count(caseload) == 7, "a second import publishes nothing"


async def test_an_end_date_filled_in_updates_the_episode(caseload: ServiceClient) -> None:
    await post_csv(caseload, "children", CHILDREN_HEADER + EXTRACT)
    before = await outbox_types(caseload)
    closed = EXTRACT.replace("C2,cla,2013-05-07,", "C2,cla,2013-05-07,2015-01-12")
    status, result = await post_csv(caseload, "children", CHILDREN_HEADER + closed)
    assert status == 200, result
    assert result["counts"] == counts(updated=1, unchanged=3)
    assert result["updated"][0]["key"] == "C2/cla/2013-05-07"
    assert await outbox_types(caseload) == [*before, "org.steadfast.caseload.episode.changed.v1"]

    # An empty cell is a null: reopening the episode is an update too.
    status, result = await post_csv(caseload, "children", CHILDREN_HEADER + EXTRACT)
    assert result["counts"] == counts(updated=1, unchanged=3)


async def test_an_unknown_episode_type_and_an_end_before_the_start_are_row_errors(
    caseload: ServiceClient,
) -> None:
    bad = "C4,custody,2014-09-01,\nC5,cp,2014-09-01,2014-08-01\nC6,cp,2014-09-01,2014-09-01\n"
    status, problem = await post_csv(caseload, "children", CHILDREN_HEADER + EXTRACT + bad)
    assert status == 422
    assert rejections(problem) == [
        (6, "episode_type", "enum"),
        (7, "episode_end", "end_not_after_start"),
        (8, "episode_end", "end_not_after_start"),
    ]
    assert problem["errors"][1]["value"] == "2014-08-01"
    assert await outbox_count(caseload) == 0, "atomic: nothing imported, nothing published"

    status, result = await post_csv(caseload, "children", CHILDREN_HEADER + bad + EXTRACT, mode="partial")
    assert status == 200
    assert result["counts"] == counts(created=4, rejected=3)
    types = await outbox_types(caseload)
    assert types.count("org.steadfast.caseload.child.registered.v1") == 3, "no child for a rejected row"
