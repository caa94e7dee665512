"""The consistency check: does a database rebuilt from the topics give what the live one gives?

Compared, for each day asked:

- for the whole council and for every team either side has anything to measure for, every KPI's value,
  numerator, denominator, breakdown and status, as the API answers them (each side computed from its own
  facts, through its own answer cache);
- the teams each side measures.

And, whatever the day: the row count of every projection table, and per stream how many events were
applied and the newest event time.

Both sides are judged against the live database's strategy: strategies are the council's settings, not
projections, so a scratch database rebuilt for the check has none of its own. What is not compared: the
projections' revision (a counter of writes that keys the answer cache, not a fact) and when each stream
was last applied (wall-clock time). A live service still consuming while the check runs can differ by
the events that arrived after the rebuild took its end offsets; check a quiet service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_metrics.facts.repository import FactsRepository, SourceFreshness
from steadfast_metrics.kpis.cache import KpiCache
from steadfast_metrics.kpis.schemas import KpiReport
from steadfast_metrics.kpis.service import KpiService
from steadfast_metrics.rebuild.service import PROJECTION_TABLES
from steadfast_metrics.settings import MetricsSettings
from steadfast_metrics.strategy.repository import StrategyRepository
from steadfast_metrics.strategy.service import StrategyService
from steadfast_shared.db import Database

#: What is compared of every KPI answer.
COMPARED_FIELDS = ("value", "numerator", "denominator", "breakdown", "status")


@dataclass(frozen=True)
class Difference:
    """One thing the two databases disagree on."""

    #: ``kpi``, ``teams``, ``table`` or ``source``.
    kind: str
    #: The KPI's id, the table's name or the stream's topic (``teams``: none).
    subject: str | None
    #: What differs: a KPI answer's field, ``rows``, ``events_applied``, ``newest_event_time``, ``teams``.
    field: str
    live: Any
    rebuilt: Any
    as_of: date | None = None
    #: The team of a KPI answer (None: the whole council).
    team: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "team": self.team,
            "subject": self.subject,
            "field": self.field,
            "live": self.live,
            "rebuilt": self.rebuilt,
        }


@dataclass(frozen=True)
class ConsistencyReport:
    days: list[date]
    #: The teams compared on each day (either side's).
    teams: dict[date, list[str]]
    #: KPI answers compared (days x (council + teams) x KPIs).
    answers_compared: int
    #: table -> (live rows, rebuilt rows).
    tables: dict[str, tuple[int, int]]
    differences: list[Difference] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not self.differences

    def summary(self) -> dict[str, Any]:
        return {
            "consistent": self.consistent,
            "days": [d.isoformat() for d in self.days],
            "teams": {d.isoformat(): teams for d, teams in self.teams.items()},
            "answers_compared": self.answers_compared,
            "tables": {
                name: {"live": live, "rebuilt": rebuilt} for name, (live, rebuilt) in self.tables.items()
            },
            "differences": [d.summary() for d in self.differences],
        }


async def check_consistency(
    live: Database, rebuilt: Database, settings: MetricsSettings, days: list[date]
) -> ConsistencyReport:
    """Compare ``rebuilt`` with ``live`` (see the module docstring)."""
    differences: list[Difference] = []
    teams_compared: dict[date, list[str]] = {}
    compared = 0
    async with live.sessionmaker() as live_session, rebuilt.sessionmaker() as rebuilt_session:
        strategies = StrategyService(StrategyRepository(live_session), settings.council)
        live_kpis = KpiService(
            FactsRepository(live_session), strategies, KpiCache(settings.kpi_cache_seconds)
        )
        rebuilt_kpis = KpiService(
            FactsRepository(rebuilt_session), strategies, KpiCache(settings.kpi_cache_seconds)
        )
        for day in sorted(set(days)):
            live_teams, rebuilt_teams = await live_kpis.teams(day), await rebuilt_kpis.teams(day)
            if live_teams != rebuilt_teams:
                differences.append(Difference("teams", None, "teams", live_teams, rebuilt_teams, as_of=day))
            teams = sorted(set(live_teams) | set(rebuilt_teams))
            teams_compared[day] = teams
            for team in (None, *teams):
                live_report = await live_kpis.report(day, team)
                rebuilt_report = await rebuilt_kpis.report(day, team)
                compared += len(live_report.kpis)
                differences.extend(_answers(day, team, live_report, rebuilt_report))
        tables: dict[str, tuple[int, int]] = {}
        for table in PROJECTION_TABLES:
            tables[table.name] = (await _rows(live_session, table), await _rows(rebuilt_session, table))
        differences.extend(
            Difference("table", name, "rows", live_rows, rebuilt_rows)
            for name, (live_rows, rebuilt_rows) in tables.items()
            if live_rows != rebuilt_rows
        )
        differences.extend(
            _sources(
                await FactsRepository(live_session).sources(),
                await FactsRepository(rebuilt_session).sources(),
            )
        )
    return ConsistencyReport(
        days=sorted(set(days)),
        teams=teams_compared,
        answers_compared=compared,
        tables=tables,
        differences=differences,
    )


def _answers(day: date, team: str | None, live: KpiReport, rebuilt: KpiReport) -> list[Difference]:
    found: list[Difference] = []
    theirs = {a.id: a.model_dump(mode="json") for a in rebuilt.kpis}
    for answer in live.kpis:
        mine = answer.model_dump(mode="json")
        other = theirs.get(answer.id, {})
        found.extend(
            Difference("kpi", answer.id, name, mine.get(name), other.get(name), as_of=day, team=team)
            for name in COMPARED_FIELDS
            if mine.get(name) != other.get(name)
        )
    return found


async def _rows(session: AsyncSession, table: Table) -> int:
    return int(await session.scalar(select(func.count()).select_from(table)) or 0)


def _sources(live: list[SourceFreshness], rebuilt: list[SourceFreshness]) -> list[Difference]:
    found: list[Difference] = []
    mine = {s.topic: s for s in live}
    theirs = {s.topic: s for s in rebuilt}
    for topic in sorted(set(mine) | set(theirs)):
        a, b = mine.get(topic), theirs.get(topic)
        if (a.events_applied if a else 0) != (b.events_applied if b else 0):
            found.append(
                Difference(
                    "source",
                    topic,
                    "events_applied",
                    a.events_applied if a else 0,
                    b.events_applied if b else 0,
                )
            )
        newest_a = a.newest_event_time.isoformat() if a else None
        newest_b = b.newest_event_time.isoformat() if b else None
        if newest_a != newest_b:
            found.append(Difference("source", topic, "newest_event_time", newest_a, newest_b))
    return found
