"""Helpers of the caseload import tests: posting a CSV, counting the outbox, small extracts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from steadfast_caseload.db import tables
from steadfast_shared.testing import ServiceClient
from tests.caseload.conftest import WRITE

CHILDREN_HEADER = "external_id,episode_type,episode_start,episode_end\n"
ALLOCATIONS_HEADER = "child_external_id,worker_external_id,start_date,end_date\n"


async def post_csv(
    caseload: ServiceClient, kind: str, body: str, mode: str = "atomic", **headers: str
) -> tuple[int, Any]:
    answer = await caseload.http.post(
        f"/v1/imports/{kind}?mode={mode}",
        content=body.encode(),
        headers={**caseload.auth(*WRITE), "Content-Type": "text/csv", **headers},
    )
    return answer.status_code, answer.json()


async def outbox_count(caseload: ServiceClient) -> int:
    query = select(func.count()).select_from(tables.outbox)
    async with caseload.runtime.database.sessionmaker() as session:
        return int((await session.execute(query)).scalar_one())


async def outbox_types(caseload: ServiceClient) -> list[str]:
    query = select(tables.outbox.c.event_type).order_by(tables.outbox.c.id)
    async with caseload.runtime.database.sessionmaker() as session:
        return list((await session.scalars(query)).all())


def counts(created: int = 0, updated: int = 0, unchanged: int = 0, rejected: int = 0) -> dict[str, int]:
    return {
        "rows": created + updated + unchanged + rejected,
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "rejected": rejected,
    }


def rejections(result: dict[str, Any]) -> list[tuple[int, str | None, str]]:
    """(row, column, reason) of each rejected row, from an answer or a 422 problem."""
    if "errors" in result:
        return [(e["row"], e["field"], e["reason"]) for e in result["errors"]]
    return [(e["row"], e["column"], e["reason"]) for e in result["rejected"]]
