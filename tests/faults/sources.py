"""What the source services hold, read straight from their own databases with SQL: the council's rows
(for the independent KPI calculation of :mod:`tests.e2e.council`), each producer's outbox, and what
a consumer tracked as applied. Nothing here goes through the services' code."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.e2e.council import Council

#: The columns of each kind of row that the KPI calculation reads, to compare what was loaded with
#: what the source databases hold.
COMPARED: dict[str, tuple[str, ...]] = {
    "workers": (
        "external_id",
        "role",
        "employment_type",
        "fte",
        "team",
        "start_date",
        "end_date",
        "asye_start",
        "protected_development_pct",
    ),
    "episodes": ("external_id", "episode_type", "episode_start", "episode_end"),
    "allocations": ("child_external_id", "worker_external_id", "start_date", "end_date"),
    "assessments": ("external_id", "child_external_id", "start_date", "completed_date"),
    "visits": ("child_external_id", "visit_date", "visit_type"),
    "reviews": ("child_external_id", "review_date"),
    "iro_visits": ("child_external_id", "visit_date"),
    "audits": (
        "external_id",
        "team",
        "audit_type",
        "completed_date",
        "overall_grade",
        "contact_grade",
        "moderated_grade",
    ),
}


async def query(url: str, sql: str) -> list[dict[str, Any]]:
    """The rows of one SQL query on the database at ``url``, as dictionaries."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(sql))
            return [dict(row._mapping) for row in result]
    finally:
        await engine.dispose()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value.isoformat() if hasattr(value, "isoformat") else value)


def _rows(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{k: _cell(v) for k, v in r.items()} for r in records]


async def council_from_databases(staff: str, caseload: str, audit: str) -> Council:
    """The council as the staff, caseload and audit databases hold it, in the extracts' columns."""
    workers = await query(
        staff,
        """
        SELECT w.external_id, t.role, t.employment_type, t.fte, t.team_code AS team, w.start_date,
               w.end_date, w.asye_start, w.protected_development_pct, count(*) OVER (PARTITION BY w.id) AS n
        FROM workers w JOIN worker_terms t ON t.worker_id = w.id
        """,
    )
    assert all(w.pop("n") == 1 for w in workers), "a worker with more than one segment of terms"
    for w in workers:
        w["fte"] = float(w["fte"])
        if w["protected_development_pct"] is not None:
            w["protected_development_pct"] = str(int(w["protected_development_pct"]))
    episodes = await query(
        caseload,
        """
        SELECT c.external_id, e.episode_type, e.start_date AS episode_start, e.end_date AS episode_end
        FROM episodes e JOIN children c ON c.id = e.child_id
        """,
    )
    allocations = await query(
        caseload,
        """
        SELECT c.external_id AS child_external_id, d.external_id AS worker_external_id, a.start_date,
               a.end_date
        FROM allocations a JOIN children c ON c.id = a.child_id JOIN directory_workers d ON d.id = a.worker_id
        """,
    )
    assessments = await query(
        caseload,
        """
        SELECT a.external_id, c.external_id AS child_external_id, a.start_date, a.completed_date
        FROM assessments a JOIN children c ON c.id = a.child_id
        """,
    )
    visits = await query(
        caseload,
        """
        SELECT c.external_id AS child_external_id, v.visit_date, v.visit_type
        FROM visits v JOIN children c ON c.id = v.child_id
        """,
    )
    reviews = await query(
        caseload,
        """
        SELECT c.external_id AS child_external_id, r.review_date
        FROM reviews r JOIN children c ON c.id = r.child_id
        """,
    )
    iro_visits = await query(
        caseload,
        """
        SELECT c.external_id AS child_external_id, v.visit_date
        FROM iro_visits v JOIN children c ON c.id = v.child_id
        """,
    )
    audits = await query(
        audit,
        """
        SELECT a.external_id, a.team, a.audit_type, a.completed_date, a.overall_grade,
               g.grade AS contact_grade, a.moderated_grade
        FROM audits a LEFT JOIN audit_element_grades g ON g.audit_id = a.id AND g.element = 'contact'
        """,
    )
    return Council(
        workers=_rows(workers),
        episodes=_rows(episodes),
        allocations=_rows(allocations),
        assessments=_rows(assessments),
        visits=_rows(visits),
        reviews=_rows(reviews),
        iro_visits=_rows(iro_visits),
        audits=_rows(audits),
    )


def row_counts(council: Council) -> dict[str, Counter[tuple[str, ...]]]:
    """Each kind of row as a multiset of its compared columns: a row lost or doubled shows."""

    def normal(kind: str, column: str, value: str) -> str:
        if column == "fte":
            return repr(float(value))
        return value

    return {
        kind: Counter(tuple(normal(kind, c, row[c]) for c in columns) for row in getattr(council, kind))
        for kind, columns in COMPARED.items()
    }


@dataclass(frozen=True)
class OutboxEvent:
    event_id: str
    topic: str
    subject: str
    event_type: str
    published: bool


async def outbox(url: str) -> list[OutboxEvent]:
    """Every event a producer wrote to its outbox, published or not."""
    rows = await query(
        url,
        "SELECT event_id, topic, message_key, event_type, published_at IS NOT NULL AS published "
        "FROM outbox ORDER BY id",
    )
    return [
        OutboxEvent(str(r["event_id"]), r["topic"], r["message_key"], r["event_type"], r["published"])
        for r in rows
    ]


async def tracked(url: str, consumer: str) -> list[tuple[str, str]]:
    """The (event id, topic) of every event ``consumer`` recorded as applied in its tracking table."""
    rows = await query(
        url,
        f"SELECT event_id, topic FROM processed_events WHERE consumer = '{consumer}'",
    )
    return [(str(r["event_id"]), r["topic"]) for r in rows]
