"""Loads the facts the KPI engine reads for one ``as_of`` date, for the whole council, from the
projections; and says how fresh the projections are.

The engine applies every date rule of SPEC section 3 itself (and picks a team's records), so the loader
may hand it more than it needs; it leaves out only what cannot matter on ``as_of``, with date filters
the indexes serve, so that a council with a hundred thousand open cases stays workable. With the window
``[as_of - window_days + 1, as_of]``:

- workers who started by ``as_of`` and were still in post a year before it (turnover counts leavers of
  the 12 months up to ``as_of``) or at the start of the surveys' previous window, with all their terms;
- established posts on ``as_of``, with their holdings on ``as_of`` (the vacancy rate);
- student placements (not removed) starting in the financial year that contains ``as_of``;
- the episodes active on ``as_of`` (the CP and CLA plans of the statutory visits, the children of the
  workers-per-child KPI);
- counted where the rows are, each child's current continuous run of episodes on ``as_of`` (its first
  day, by the episodes up to ``as_of``) and the distinct workers allocated to the child on a day of it
  (:class:`~steadfast_metrics.facts.records.CurrentRun`), so neither the children's older episodes nor
  their allocation histories are shipped;
- allocations of the children any KPI may ask about, from the earliest day it may ask: the allocations
  active on ``as_of`` (caseloads, and the children's teams), those of a child with an assessment
  completed in the window active on its completion day or later, and those of a child with a review in
  the window active on the window's first day or later (a child's team on the review day);
- the latest visit (of any type) up to ``as_of`` to each child with an active CP or CLA episode (the
  reference date is the latest visit on or after the episode's start, so no earlier visit can
  matter), found through the child's visits index rather than by reading every visit;
- assessments completed, and audits completed, in the window;
- reviews of each child with a review in the window, from the child's last review before the window
  (the previous review of the first one), and the child's IRO visits over the same days;
- survey returns in the window and in the previous window of the same length (the change of a mean).
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import JSON, Date, Enum, and_, distinct, func, literal, or_, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE, Select

from steadfast_metrics.facts.models import (
    FactAllocation,
    FactAssessment,
    FactAudit,
    FactEpisode,
    FactIroVisit,
    FactPlacement,
    FactPost,
    FactPostHolding,
    FactReview,
    FactSurveyReturn,
    FactTerms,
    FactVisit,
    FactWorker,
    ProjectionRevision,
    ProjectionSource,
)
from steadfast_metrics.facts.records import (
    Allocation,
    Assessment,
    Audit,
    CurrentRun,
    Episode,
    Facts,
    Holding,
    IroVisit,
    Placement,
    Post,
    Review,
    SurveyReturn,
    Terms,
    Visit,
    Worker,
)
from steadfast_shared.codes import EpisodeType
from steadfast_shared.collector import collection_paused

#: Leavers of the 12 months up to and including ``as_of`` count in the turnover rate (a leap year's
#: extra day included).
TURNOVER_DAYS = 367

#: Where a load reads from: a connection holding a snapshot, or the session.
Reader = AsyncConnection | AsyncSession

#: The statutory visits KPI's episodes.
VISITED_EPISODES = (EpisodeType.cp, EpisodeType.cla)


def active_on(
    start: InstrumentedAttribute[date], end: InstrumentedAttribute[date | None], day: date
) -> ColumnElement[bool]:
    """The half-open interval ``[start, end)`` covers ``day``."""
    return and_(start <= day, or_(end.is_(None), end > day))


def financial_year_start(day: date) -> date:
    """1 April of the financial year (1 April - 31 March) that contains ``day``."""
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class SourceFreshness:
    """How far one stream has been followed (``topic`` as the event contract names it)."""

    topic: str
    newest_event_time: datetime
    events_applied: int
    last_applied_at: datetime


class FactsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def revision(self) -> int:
        """The projections' revision: it moves on with every change to them (0 before any)."""
        held = await self.session.scalar(
            select(ProjectionRevision.revision).where(ProjectionRevision.id == 1)
        )
        return int(held or 0)

    async def sources(self) -> list[SourceFreshness]:
        """Each stream followed so far, by topic."""
        rows = await self.session.execute(
            select(
                ProjectionSource.topic,
                ProjectionSource.newest_event_time,
                ProjectionSource.events_applied,
                ProjectionSource.last_applied_at,
            ).order_by(ProjectionSource.topic)
        )
        return [
            SourceFreshness(topic, _utc(newest), int(applied), _utc(last))
            for topic, newest, applied, last in rows
        ]

    async def load(self, as_of: date, window_days: int) -> Facts:
        """The facts every KPI as of ``as_of`` may read (see the module docstring), all read from one
        snapshot of the projections."""
        if window_days < 1:
            raise ValueError("window_days must be at least 1")
        with collection_paused():
            async with self._snapshot() as readers:
                days = [_Day(reader, as_of, window_days, driver) for reader, driver in readers]
                return await _facts(days[0], days[-1])

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[list[tuple[Reader, Any]]]:
        """Where the facts are read from, with each reader's driver connection (asyncpg), or None.

        On PostgreSQL two connections of their own in ``REPEATABLE READ`` transactions that share one
        snapshot (the second imports the first's), so events applied while the facts are read are
        either all in or all out, and half the queries run on each at once (a region's load waits on
        the database most of the time); the session's own transaction, which may have begun earlier,
        is not held open longer. On SQLite the session, whose transactions are serializable already."""
        bind = self.session.bind
        if isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql":
            async with bind.connect() as connection, bind.connect() as other:
                snapshot = await connection.execution_options(isolation_level="REPEATABLE READ")
                alongside = await other.execution_options(isolation_level="REPEATABLE READ")
                async with snapshot.begin(), alongside.begin():
                    # Each transaction begins with its first statement: these, so that the driver's
                    # statements that follow run in them, on the one snapshot.
                    exported = str((await snapshot.execute(select(func.pg_export_snapshot()))).scalar_one())
                    if not _SNAPSHOT_ID.fullmatch(exported):
                        raise RuntimeError(f"unexpected snapshot id {exported!r}")
                    await alongside.execute(text(f"SET TRANSACTION SNAPSHOT '{exported}'"))
                    first, second = await snapshot.get_raw_connection(), await alongside.get_raw_connection()
                    yield [(snapshot, first.driver_connection), (alongside, second.driver_connection)]
        else:
            yield [(self.session, None)]


#: What ``pg_export_snapshot()`` returns (checked before it is written into ``SET TRANSACTION``).
_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+")


async def _facts(first: _Day, second: _Day) -> Facts:
    """The day's facts, the queries shared between two readers of one snapshot (run at once), or all
    on one reader in turn (``first is second``)."""
    as_of, window_first, previous_first = first.as_of, first.window_first, first.previous_first

    async def children() -> tuple[Any, ...]:
        return (
            await first._current_runs(as_of),
            await first._visits(as_of),
            await first._episodes(as_of),
            await first._assessments(as_of, window_first),
            await first._workers(as_of, min(as_of - timedelta(days=TURNOVER_DAYS), previous_first)),
            await first._posts(as_of),
            await first._placements(as_of),
            await first._audits(as_of, window_first),
        )

    async def rest() -> tuple[Any, ...]:
        return (
            await second._allocations(as_of, window_first),
            await second._reviews(as_of, window_first),
            await second._iro_visits(as_of, window_first),
            await second._surveys(as_of, previous_first),
        )

    if first is second:
        one, two = await children(), await rest()
    else:
        async with asyncio.TaskGroup() as group:  # one failing cancels the other
            started = group.create_task(children()), group.create_task(rest())
        one, two = started[0].result(), started[1].result()
    runs, visits, (episodes, child_external_ids), assessments, workers, posts, placements, audits = one
    allocations, reviews, iro_visits, surveys = two
    return Facts(
        workers=workers,
        posts=posts,
        placements=placements,
        episodes=episodes,
        allocations=allocations,
        assessments=assessments,
        visits=visits,
        reviews=reviews,
        iro_visits=iro_visits,
        audits=audits,
        surveys=surveys,
        child_external_ids=child_external_ids,
        runs_as_of=as_of,
        current_runs=runs,
    )


def _json(value: Any) -> Any:
    """A JSON column's value: asyncpg hands ``json`` over as its text."""
    return json.loads(value) if isinstance(value, str) else value


def _decoded(row: Sequence[Any], decoders: list[tuple[int, Callable[[Any], Any]]]) -> list[Any]:
    """A driver's row with its code columns as their enums and its JSON columns decoded."""
    values = list(row)
    for n, decode in decoders:
        if values[n] is not None:
            values[n] = decode(values[n])
    return values


class _Day:
    """The queries of one load: ``as_of``, the window and the previous window."""

    def __init__(self, reader: Reader, as_of: date, window_days: int, driver: Any = None) -> None:
        self.reader = reader
        #: The asyncpg connection under ``reader`` (PostgreSQL), else None.
        self.driver = driver
        self.driver_dialect = reader.dialect if isinstance(reader, AsyncConnection) else None
        self.as_of = as_of
        self.window_first = as_of - timedelta(days=window_days - 1)
        self.previous_first = self.window_first - timedelta(days=window_days)

    async def _rows(self, statement: Select[*tuple[Any, ...]]) -> Sequence[Sequence[Any]]:
        """The statement's rows, all at once. On PostgreSQL straight from the driver: asyncpg decodes
        them, and SQLAlchemy's handing them over one by one (a quarter of a region's load) is skipped;
        only the code columns are turned into their enums here, as SQLAlchemy would. Elsewhere through
        ``reader``."""
        if self.driver is None:
            return (await self.reader.execute(statement)).all()
        compiled = statement.compile(dialect=self.driver_dialect, compile_kwargs={"render_postcompile": True})
        params = compiled.construct_params()
        processors = cast(dict[str, Callable[[Any], Any]], compiled._bind_processors)  # as execute does
        arguments = [
            processors[name](params[name]) if name in processors else params[name]
            for name in compiled.positiontup or ()
        ]
        rows: Sequence[Sequence[Any]] = await self.driver.fetch(compiled.string, *arguments)
        decoders: list[tuple[int, Callable[[Any], Any]]] = []
        for n, column in enumerate(statement.selected_columns):
            if isinstance(column.type, Enum) and column.type.enum_class is not None:
                decoders.append((n, {m.value: m for m in column.type.enum_class}.__getitem__))
            elif isinstance(column.type, JSON):
                decoders.append((n, _json))
        if decoders:
            rows = [_decoded(row, decoders) for row in rows]
        return rows

    # -- staff ----------------------------------------------------------------------------------------

    async def _workers(self, as_of: date, left_after: date) -> tuple[Worker, ...]:
        chosen = and_(
            FactWorker.start_date <= as_of,
            or_(FactWorker.end_date.is_(None), FactWorker.end_date > left_after),
        )
        terms: dict[uuid.UUID, list[Terms]] = defaultdict(list)
        rows = await self._rows(
            select(
                FactTerms.worker_id,
                FactTerms.effective_from,
                FactTerms.effective_to,
                FactTerms.role,
                FactTerms.team,
                FactTerms.fte,
                FactTerms.employment_type,
            )
            .join(FactWorker, FactWorker.id == FactTerms.worker_id)
            .where(chosen)
            .order_by(FactTerms.worker_id, FactTerms.effective_from, FactTerms.id)
        )
        for worker_id, start, end, role, team, fte, employment in rows:
            terms[worker_id].append(Terms(start, end, role, team, float(fte), employment))
        workers = await self._rows(
            select(
                FactWorker.id,
                FactWorker.start_date,
                FactWorker.end_date,
                FactWorker.asye_start,
                FactWorker.asye_end,
                FactWorker.protected_development_pct,
                FactWorker.swe_registration_expiry,
                FactWorker.external_id,
                FactWorker.display_name,
            )
            .where(chosen)
            .order_by(FactWorker.id)
        )
        return tuple(
            Worker(
                id=worker_id,
                start_date=start,
                end_date=end,
                terms=tuple(terms.get(worker_id, ())),
                asye_start=asye_start,
                asye_end=asye_end,
                protected_development_pct=protected,
                swe_registration_expiry=expiry,
                external_id=external_id,
                display_name=name,
            )
            for worker_id, start, end, asye_start, asye_end, protected, expiry, external_id, name in workers
        )

    async def _posts(self, as_of: date) -> tuple[Post, ...]:
        established = active_on(FactPost.start_date, FactPost.end_date, as_of)
        holdings: dict[uuid.UUID, list[Holding]] = defaultdict(list)
        rows = await self._rows(
            select(
                FactPostHolding.post_id,
                FactPostHolding.worker_id,
                FactPostHolding.start_date,
                FactPostHolding.end_date,
            )
            .join(FactPost, FactPost.id == FactPostHolding.post_id)
            .where(established, active_on(FactPostHolding.start_date, FactPostHolding.end_date, as_of))
            .order_by(FactPostHolding.post_id, FactPostHolding.start_date, FactPostHolding.id)
        )
        for post_id, worker_id, start, end in rows:
            holdings[post_id].append(Holding(worker_id, start, end))
        posts = await self._rows(
            select(
                FactPost.id,
                FactPost.team,
                FactPost.role,
                FactPost.fte,
                FactPost.start_date,
                FactPost.end_date,
            )
            .where(established)
            .order_by(FactPost.id)
        )
        return tuple(
            Post(
                id=post_id,
                team=team,
                role=role,
                fte=float(fte),
                start_date=start,
                end_date=end,
                holdings=tuple(holdings.get(post_id, ())),
            )
            for post_id, team, role, fte, start, end in posts
        )

    async def _placements(self, as_of: date) -> tuple[Placement, ...]:
        first = financial_year_start(as_of)
        rows = await self._rows(
            select(FactPlacement.id, FactPlacement.team, FactPlacement.start_date, FactPlacement.end_date)
            .where(
                FactPlacement.removed.is_(False),
                FactPlacement.start_date >= first,
                FactPlacement.start_date < date(first.year + 1, 4, 1),
            )
            .order_by(FactPlacement.id)
        )
        return tuple(Placement(*row) for row in rows)

    async def _surveys(self, as_of: date, first: date) -> tuple[SurveyReturn, ...]:
        rows = await self._rows(
            select(
                FactSurveyReturn.kind,
                FactSurveyReturn.returned_date,
                FactSurveyReturn.team,
                FactSurveyReturn.scores,
            )
            .where(FactSurveyReturn.returned_date.between(first, as_of))
            .order_by(FactSurveyReturn.returned_date, FactSurveyReturn.id)
        )
        return tuple(
            SurveyReturn(kind, returned, team, {k: int(v) for k, v in scores.items()})
            for kind, returned, team, scores in rows
        )

    # -- caseload -------------------------------------------------------------------------------------

    @staticmethod
    def _children_with_active_episode(as_of: date, *types: EpisodeType) -> Select[uuid.UUID]:
        """The children with an episode (of one of ``types``, when given) active on ``as_of``."""
        active = select(FactEpisode.child_id).where(
            active_on(FactEpisode.start_date, FactEpisode.end_date, as_of)
        )
        return active.where(FactEpisode.episode_type.in_(types)) if types else active

    @staticmethod
    def _review_span(as_of: date, window_first: date) -> CTE:
        """Per child with a review in the window: the day from which its reviews matter (its last review
        before the window, else the window's first day)."""
        reviewed = (
            select(FactReview.child_id).where(FactReview.review_date.between(window_first, as_of)).distinct()
        ).subquery("reviewed")
        before = (
            select(FactReview.child_id, func.max(FactReview.review_date).label("last"))
            .where(
                FactReview.review_date < window_first, FactReview.child_id.in_(select(reviewed.c.child_id))
            )
            .group_by(FactReview.child_id)
        ).subquery("before")
        return (
            select(
                reviewed.c.child_id.label("child_id"),
                func.coalesce(before.c.last, literal(window_first, Date)).label("since"),
            )
            .select_from(reviewed.outerjoin(before, before.c.child_id == reviewed.c.child_id))
            .cte("review_span")
        )

    async def _episodes(self, as_of: date) -> tuple[tuple[Episode, ...], dict[uuid.UUID, str]]:
        """The episodes active on ``as_of``, and their children's source-system ids."""
        rows = await self._rows(
            select(
                FactEpisode.child_id,
                FactEpisode.episode_type,
                FactEpisode.start_date,
                FactEpisode.end_date,
                FactEpisode.child_external_id,
            )
            .where(active_on(FactEpisode.start_date, FactEpisode.end_date, as_of))
            .order_by(FactEpisode.child_id, FactEpisode.start_date, FactEpisode.id)
        )
        episodes = []
        names: dict[uuid.UUID, str] = {}
        for child_id, episode_type, start, end, external_id in rows:
            episodes.append(Episode(child_id, episode_type, start, end))
            names[child_id] = external_id
        return tuple(episodes), names

    async def _current_runs(self, as_of: date) -> tuple[CurrentRun, ...]:
        """Per child with an episode active on ``as_of``: the first day of the current continuous run of
        episodes and the distinct workers allocated on a day of ``[run start, as_of]``, counted here.

        The run (gaps and islands): with the child's episodes up to its earliest active start in order
        of start, an episode begins a new run when it starts after every earlier episode has ended (an
        open episode never ends; one ending on the day the next starts touches it); the current run
        begins at the last such start. An allocation is in the run when it starts by ``as_of`` and is
        open, or ends after both the run's start and its own start (it has a day in the run)."""
        active = active_on(FactEpisode.start_date, FactEpisode.end_date, as_of)
        first_active = (
            select(FactEpisode.child_id, func.min(FactEpisode.start_date).label("first"))
            .where(active)
            .group_by(FactEpisode.child_id)
            .subquery("first_active")
        )
        reach = func.max(func.coalesce(FactEpisode.end_date, literal(date.max, Date))).over(
            partition_by=FactEpisode.child_id,
            order_by=(FactEpisode.start_date, FactEpisode.id),
            rows=(None, -1),
        )
        ordered = (
            select(FactEpisode.child_id, FactEpisode.start_date, reach.label("reach"))
            .join(first_active, first_active.c.child_id == FactEpisode.child_id)
            .where(FactEpisode.start_date <= first_active.c.first)
            .subquery("ordered")
        )
        runs = (
            select(ordered.c.child_id, func.max(ordered.c.start_date).label("start"))
            .where(or_(ordered.c.reach.is_(None), ordered.c.start_date > ordered.c.reach))
            .group_by(ordered.c.child_id)
            .subquery("runs")
        )
        in_run = and_(
            FactAllocation.child_id == runs.c.child_id,
            FactAllocation.start_date <= as_of,
            or_(
                FactAllocation.end_date.is_(None),
                and_(
                    FactAllocation.end_date > runs.c.start,
                    FactAllocation.end_date > FactAllocation.start_date,
                ),
            ),
        )
        rows = await self._rows(
            select(runs.c.child_id, runs.c.start, func.count(distinct(FactAllocation.worker_id)))
            .select_from(runs.outerjoin(FactAllocation, in_run))
            .group_by(runs.c.child_id, runs.c.start)
            .order_by(runs.c.child_id)
        )
        return tuple(CurrentRun(child_id, start, int(workers)) for child_id, start, workers in rows)

    async def _allocations(self, as_of: date, window_first: date) -> tuple[Allocation, ...]:
        asked = union_all(
            select(FactAllocation.child_id, literal(as_of, Date).label("since")).where(
                active_on(FactAllocation.start_date, FactAllocation.end_date, as_of)
            ),
            select(FactAssessment.child_id, FactAssessment.completed_date.label("since")).where(
                FactAssessment.completed_date.between(window_first, as_of)
            ),
            select(FactReview.child_id, literal(window_first, Date).label("since")).where(
                FactReview.review_date.between(window_first, as_of)
            ),
        ).subquery("asked")
        since = (
            select(asked.c.child_id, func.min(asked.c.since).label("since")).group_by(asked.c.child_id)
        ).subquery("since")
        rows = await self._rows(
            select(
                FactAllocation.child_id,
                FactAllocation.worker_id,
                FactAllocation.start_date,
                FactAllocation.end_date,
            )
            .join(since, since.c.child_id == FactAllocation.child_id)
            .where(
                FactAllocation.start_date <= as_of,
                or_(FactAllocation.end_date.is_(None), FactAllocation.end_date > since.c.since),
            )
            .order_by(FactAllocation.child_id, FactAllocation.start_date, FactAllocation.id)
        )
        return tuple(Allocation(*row) for row in rows)

    async def _assessments(self, as_of: date, window_first: date) -> tuple[Assessment, ...]:
        rows = await self._rows(
            select(FactAssessment.child_id, FactAssessment.start_date, FactAssessment.completed_date)
            .where(FactAssessment.completed_date.between(window_first, as_of))
            .order_by(FactAssessment.completed_date, FactAssessment.id)
        )
        return tuple(Assessment(*row) for row in rows)

    async def _visits(self, as_of: date) -> tuple[Visit, ...]:
        """Each visited child's latest visit up to ``as_of`` (its type: the first code among the
        visits that day, so that every load picks the same): two look-ups in the child's visits
        index, not a read of every visit."""
        children = self._children_with_active_episode(as_of, *VISITED_EPISODES).distinct().subquery("visited")
        latest_day = (
            select(func.max(FactVisit.visit_date))
            .where(FactVisit.child_id == children.c.child_id, FactVisit.visit_date <= as_of)
            .correlate(children)
            .scalar_subquery()
        )
        latest = select(children.c.child_id, latest_day.label("visit_date")).subquery("latest")
        that_day = aliased(FactVisit)
        visit_type = (
            select(func.min(that_day.visit_type))
            .where(that_day.child_id == latest.c.child_id, that_day.visit_date == latest.c.visit_date)
            .correlate(latest)
            .scalar_subquery()
        )
        rows = await self._rows(
            select(latest.c.child_id, latest.c.visit_date, visit_type)
            .where(latest.c.visit_date.is_not(None))
            .order_by(latest.c.child_id)
        )
        return tuple(Visit(*row) for row in rows)

    async def _reviews(self, as_of: date, window_first: date) -> tuple[Review, ...]:
        span = self._review_span(as_of, window_first)
        rows = await self._rows(
            select(FactReview.child_id, FactReview.review_date)
            .join(span, span.c.child_id == FactReview.child_id)
            .where(FactReview.review_date >= span.c.since, FactReview.review_date <= as_of)
            .order_by(FactReview.child_id, FactReview.review_date, FactReview.id)
        )
        return tuple(Review(*row) for row in rows)

    async def _iro_visits(self, as_of: date, window_first: date) -> tuple[IroVisit, ...]:
        span = self._review_span(as_of, window_first)
        rows = await self._rows(
            select(FactIroVisit.child_id, FactIroVisit.visit_date)
            .join(span, span.c.child_id == FactIroVisit.child_id)
            .where(FactIroVisit.visit_date >= span.c.since, FactIroVisit.visit_date <= as_of)
            .order_by(FactIroVisit.child_id, FactIroVisit.visit_date, FactIroVisit.id)
        )
        return tuple(IroVisit(*row) for row in rows)

    # -- audit ----------------------------------------------------------------------------------------

    async def _audits(self, as_of: date, window_first: date) -> tuple[Audit, ...]:
        rows = await self._rows(
            select(
                FactAudit.id,
                FactAudit.audit_type,
                FactAudit.team,
                FactAudit.completed_date,
                FactAudit.grade,
                FactAudit.contact_grade,
            )
            .where(FactAudit.completed_date.between(window_first, as_of))
            .order_by(FactAudit.completed_date, FactAudit.id)
        )
        return tuple(Audit(*row) for row in rows)
