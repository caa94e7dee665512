"""``POST /v1/imports/allocations``: keyed by (child, worker, start_date), workers from the directory."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from steadfast_caseload.bootstrap import definition
from steadfast_caseload.children.models import Allocation, Child
from steadfast_caseload.db import tables
from steadfast_shared.events import CloudEvent
from steadfast_shared.service import ServiceDefinition
from steadfast_shared.testing import ServiceClient
from tests.caseload.conftest import seed_directory, staff_worker
from tests.caseload.importing import (
    ALLOCATIONS_HEADER,
    CHILDREN_HEADER,
    counts,
    outbox_count,
    outbox_types,
    post_csv,
    rejections,
)
from tests.support.backends import BACKENDS, service_on

pytestmark = pytest.mark.integration

CHILDREN = "C1,cp,2014-10-20,\nC2,cla,2013-05-07,\nC3,cin,2014-11-03,\n"
# C1 handed over from HR1 to HR2 on 2015-01-05; C2 with HR2; C3 with HR3.
ALLOCATIONS = "C1,HR1,2014-10-20,2015-01-05\nC1,HR2,2015-01-05,\nC2,HR2,2013-05-07,\nC3,HR3,2014-11-03,\n"


async def given_children_and_workers(caseload: ServiceClient) -> dict[str, uuid.UUID]:
    ids = await seed_directory(caseload, staff_worker("HR1"), staff_worker("HR2"), staff_worker("HR3"))
    status, result = await post_csv(caseload, "children", CHILDREN_HEADER + CHILDREN)
    assert status == 200, result
    return ids


async def test_allocations_are_created_then_unchanged(caseload: ServiceClient) -> None:
    await given_children_and_workers(caseload)
    before = await outbox_count(caseload)
    status, first = await post_csv(caseload, "allocations", ALLOCATIONS_HEADER + ALLOCATIONS)
    assert status == 200, first
    assert first["counts"] == counts(created=4)
    assert [r["key"] for r in first["created"]] == [
        "C1/HR1/2014-10-20",
        "C1/HR2/2015-01-05",
        "C2/HR2/2013-05-07",
        "C3/HR3/2014-11-03",
    ]
    assert (await outbox_types(caseload))[before:] == ["org.steadfast.caseload.allocation.started.v1"] * 4

    after = await outbox_count(caseload)
    status, second = await post_csv(caseload, "allocations", ALLOCATIONS_HEADER + ALLOCATIONS)
    assert status == 200
    assert second["counts"] == counts(unchanged=4)
    assert await outbox_count(caseload) == after, "a second import publishes nothing"


async def test_workers_may_be_named_by_the_staff_id_and_children_by_the_caseload_id(
    caseload: ServiceClient,
) -> None:
    ids = await given_children_and_workers(caseload)
    first = (await post_csv(caseload, "allocations", ALLOCATIONS_HEADER + ALLOCATIONS))[1]
    child_c3 = first["created"][3]["id"]
    async with caseload.runtime.database.sessionmaker() as session:
        c3 = (await session.get(Allocation, uuid.UUID(child_c3))).child_id  # type: ignore[union-attr]
    row = f"{c3},{ids['HR3']},2014-11-03,\n"
    status, result = await post_csv(caseload, "allocations", ALLOCATIONS_HEADER + row)
    assert status == 200, result
    assert result["counts"] == counts(unchanged=1)


async def test_an_end_date_and_a_reason_update_the_allocation(caseload: ServiceClient) -> None:
    await given_children_and_workers(caseload)
    await post_csv(caseload, "allocations", ALLOCATIONS_HEADER + ALLOCATIONS)
    before = await outbox_count(caseload)
    handover = (
        "C2,HR2,2013-05-07,2015-02-02,\n"  # ended at a handover
        "C2,HR3,2015-02-02,,LEFTRL\n"  # to a new worker, with the SSDA903 reason
        "C1,HR2,2015-01-05,,TSPROC\n"  # a reason added to a held allocation
    )
    status, result = await post_csv(
        caseload, "allocations", ALLOCATIONS_HEADER.replace("\n", ",reason\n") + handover
    )
    assert status == 200, result
    assert result["counts"] == counts(created=1, updated=2)
    assert (await outbox_types(caseload))[before:] == [
        "org.steadfast.caseload.allocation.changed.v1",
        "org.steadfast.caseload.allocation.started.v1",
        "org.steadfast.caseload.allocation.changed.v1",
    ]


async def test_unknown_workers_unknown_children_and_broken_rules_are_row_errors(
    caseload: ServiceClient,
) -> None:
    await given_children_and_workers(caseload)
    bad = (
        "C1,HR9,2015-01-05,\n"  # row 6: a worker the directory has not heard of
        "C9,HR1,2015-01-05,\n"  # row 7: a child never imported
        "C1,HR1,2014-12-01,2015-02-01\n"  # row 8: overlaps C1's allocation to HR1 (row 2)
        "C3,HR1,2015-03-01,2015-02-01\n"  # row 9: ends before it starts
        "C3,HR1,2015-03-01,2015-03-01\n"  # row 10: ends the day it starts (half-open: empty)
        "C3,HR1,2015-13-01,\n"  # row 11: not a date
        "C3,HR1,2015-03-01,,NOTACODE\n"  # row 12: not an SSDA903 reason
    )
    body = ALLOCATIONS_HEADER.replace("\n", ",reason\n") + (ALLOCATIONS + bad).replace("\n", ",\n").replace(
        ",NOTACODE,\n", ",NOTACODE\n"
    )
    status, problem = await post_csv(caseload, "allocations", body)
    assert status == 422, problem
    # Cells the row model refuses are reported as they are read, rules as their batch is applied.
    assert sorted(rejections(problem)) == [
        (6, "worker_external_id", "unknown_worker"),
        (7, "child_external_id", "unknown_child"),
        (8, "start_date", "overlapping_allocation"),
        (9, "end_date", "end_not_after_start"),
        (10, "end_date", "end_not_after_start"),
        (11, "start_date", "date_from_datetime_parsing"),
        (12, "reason", "enum"),
    ]
    errors = sorted(problem["errors"], key=lambda e: e["row"])
    assert errors[0]["value"] == "HR9"
    assert errors[1]["value"] == "C9"
    assert "2014-10-20" in errors[2]["message"]
    assert "conflicting allocation" in errors[2]["message"]
    assert problem["result"]["committed"] is False
    async with caseload.runtime.database.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Allocation))).scalar_one() == 0

    status, result = await post_csv(caseload, "allocations", body, mode="partial")
    assert status == 200
    assert result["counts"] == counts(created=4, rejected=7)
    assert [r["row"] for r in result["created"]] == [2, 3, 4, 5]


async def test_a_handover_on_the_same_day_is_not_an_overlap_but_a_second_run_with_one_worker_is(
    caseload: ServiceClient,
) -> None:
    await given_children_and_workers(caseload)
    rows = (
        "C1,HR1,2014-10-20,2015-01-05\n"
        "C1,HR1,2015-01-05,2015-02-01\n"  # the same worker again from the day the first ended: fine
        "C1,HR1,2015-01-31,\n"  # starts before the second ended: overlap
    )
    status, result = await post_csv(caseload, "allocations", ALLOCATIONS_HEADER + rows, mode="partial")
    assert status == 200
    assert result["counts"] == counts(created=2, rejected=1)
    assert rejections(result) == [(4, "start_date", "overlapping_allocation")]


async def test_a_file_larger_than_a_batch_is_applied_across_batches(caseload: ServiceClient) -> None:
    """5,000 rows (ten batches of 500) over 1,200 children: handovers cross batch boundaries, a re-import
    is unchanged, and a bad row in the ninth batch rejects the whole file in atomic mode."""
    workers = [staff_worker(f"HR{i}") for i in range(40)]
    await seed_directory(caseload, *workers)
    children = "".join(f"K{c},cin,2013-01-07,\n" for c in range(1200))
    assert (await post_csv(caseload, "children", CHILDREN_HEADER + children))[0] == 200
    lines = []
    start = date(2013, 1, 7)
    for n in range(5000):
        child, handover = n % 1200, n // 1200  # each child's allocations are ~1,200 rows apart
        begins = start + timedelta(days=30 * handover)
        ends = "" if n + 1200 >= 5000 else (begins + timedelta(days=30)).isoformat()
        lines.append(f"K{child},HR{(child + handover) % 40},{begins.isoformat()},{ends}\n")
    body = ALLOCATIONS_HEADER + "".join(lines)
    events = await outbox_count(caseload)

    status, first = await post_csv(caseload, "allocations", body)
    assert status == 200, first["counts"]
    assert first["counts"] == counts(created=5000)
    assert await outbox_count(caseload) == events + 5000

    status, again = await post_csv(caseload, "allocations", body)
    assert again["counts"] == counts(unchanged=5000)
    assert await outbox_count(caseload) == events + 5000

    broken = lines[:]
    broken[4321] = broken[4321].replace(",HR", ",NOBODY")
    closed = [line.replace(",\n", ",2016-01-04\n") if line.endswith(",\n") else line for line in broken]
    status, problem = await post_csv(caseload, "allocations", ALLOCATIONS_HEADER + "".join(closed))
    assert status == 422
    assert rejections(problem) == [(4323, "worker_external_id", "unknown_worker")]
    assert problem["result"]["counts"]["rejected"] == 1
    assert await outbox_count(caseload) == events + 5000, "atomic: the updates of other batches are undone"

    status, partial = await post_csv(
        caseload, "allocations", ALLOCATIONS_HEADER + "".join(closed), mode="partial"
    )
    assert status == 200
    assert partial["counts"]["updated"] == sum(1 for line in lines if line.endswith(",\n")) - (
        1 if lines[4321].endswith(",\n") else 0
    )
    assert partial["counts"]["rejected"] == 1


async def test_a_batch_publishes_the_events_the_aggregate_would_one_per_change(
    caseload: ServiceClient,
) -> None:
    """The set-wise import keeps the aggregate's events exactly: one per change, in file order, each with
    the child's version after it; the child's row ends at the last one's; a rejected row bumps nothing."""
    ids = await given_children_and_workers(caseload)
    async with caseload.runtime.database.sessionmaker() as session:
        versions = dict((await session.execute(select(Child.external_id, Child.version))).all())
    before = await outbox_count(caseload)
    body = (
        "C1,HR1,2014-10-20,2015-01-05\n"
        "C1,HR2,2015-01-05,\n"
        "C1,HR2,2015-02-01,\n"  # overlaps the allocation above: rejected, no event, no version
        "C2,HR2,2013-05-07,\n"
        "C1,HR1,2014-10-20,2015-01-06\n"  # the first row's allocation again, a day longer: updated
    )
    status, result = await post_csv(caseload, "allocations", ALLOCATIONS_HEADER + body, mode="partial")
    assert status == 200, result
    assert result["counts"] == counts(created=3, updated=1, rejected=1)
    assert rejections(result) == [(4, "start_date", "overlapping_allocation")]

    query = select(tables.outbox.c.event_type, tables.outbox.c.payload).order_by(tables.outbox.c.id)
    async with caseload.runtime.database.sessionmaker() as session:
        written = (await session.execute(query.offset(before))).all()
        held = {a.id: a for a in (await session.scalars(select(Allocation))).all()}
        after = dict((await session.execute(select(Child.external_id, Child.version))).all())
    events = [(t.rsplit(".", 2)[-2], CloudEvent.from_json(p).data) for t, p in written]
    assert [(kind, data["child_external_id"], data["child_version"]) for kind, data in events] == [
        ("started", "C1", versions["C1"] + 1),
        ("started", "C1", versions["C1"] + 2),
        ("started", "C2", versions["C2"] + 1),
        ("changed", "C1", versions["C1"] + 3),
    ]
    assert after == {**versions, "C1": versions["C1"] + 3, "C2": versions["C2"] + 1}
    first = events[0][1]
    assert events[3][1]["allocation_id"] == first["allocation_id"]
    assert events[3][1]["end_date"] == "2015-01-06"
    allocation = held[uuid.UUID(first["allocation_id"])]
    assert (allocation.worker_id, allocation.end_date) == (ids["HR1"], date(2015, 1, 6))
    assert set(first) == {
        "child_id",
        "child_external_id",
        "child_version",
        "allocation_id",
        "worker_id",
        "start_date",
        "end_date",
        "reason",
    }
    for kind, data in events:
        assert uuid.UUID(data["allocation_id"]) in held, kind


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_set_wise_import_keeps_its_guarantees_on_both_databases(
    backend: str,
    make_database: Callable[[ServiceDefinition], Awaitable[str]],
    service_settings: Callable[..., Any],
    tmp_path: Path,
) -> None:
    """2,600 rows (two batches of 2,000) over 700 children on PostgreSQL and on SQLite: created, then
    unchanged; a bad row rejects the file in atomic mode and only itself in partial mode. On PostgreSQL
    the allocations' statistics are refreshed as the table fills (the import's own ANALYZE commits)."""
    header = ALLOCATIONS_HEADER.replace("\n", ",reason\n")
    async with service_on(
        backend,
        definition,
        make_database=make_database,
        service_settings=service_settings,
        tmp_path=tmp_path,
        consumers_enabled=False,
    ) as caseload:
        await seed_directory(caseload, *(staff_worker(f"HR{i}") for i in range(30)))
        children = "".join(f"K{c},cin,2013-01-07,\n" for c in range(700))
        assert (await post_csv(caseload, "children", CHILDREN_HEADER + children))[0] == 200
        lines = []
        for n in range(2600):
            child, handover = n % 700, n // 700
            begins = date(2013, 1, 7) + timedelta(days=30 * handover)
            ends = "" if n + 700 >= 2600 else (begins + timedelta(days=30)).isoformat()
            lines.append(f"K{child},HR{(child + handover) % 30},{begins.isoformat()},{ends},MANAGE\n")
        events = await outbox_count(caseload)

        status, first = await post_csv(caseload, "allocations", header + "".join(lines))
        assert status == 200, first
        assert first["counts"] == counts(created=2600)
        assert await outbox_count(caseload) == events + 2600
        status, again = await post_csv(caseload, "allocations", header + "".join(lines))
        assert again["counts"] == counts(unchanged=2600)

        # The 700 open allocations are closed, and one row (an open one, in the second batch) is bad.
        closed = [line.replace(",,MANAGE", ",2016-01-04,MANAGE") for line in lines]
        closed[2100] = closed[2100].replace(",MANAGE", ",NOT_A_REASON")
        status, problem = await post_csv(caseload, "allocations", header + "".join(closed))
        assert status == 422
        assert [(row, column) for row, column, _ in rejections(problem)] == [(2102, "reason")]
        assert await outbox_count(caseload) == events + 2600, "atomic: nothing of the other batches is kept"
        status, partial = await post_csv(caseload, "allocations", header + "".join(closed), mode="partial")
        assert status == 200
        assert partial["counts"] == counts(updated=699, unchanged=1900, rejected=1)
        assert await outbox_count(caseload) == events + 2600 + 699

        async with caseload.runtime.database.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(Allocation)) == 2600
            if backend == "postgresql":
                known = await session.scalar(
                    text("SELECT reltuples FROM pg_class WHERE oid = 'allocations'::regclass")
                )
                assert known is not None
                assert known >= 2000
