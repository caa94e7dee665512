"""The casework KPIs (SPEC section 3): assessments in time, statutory visits in time, the number of
workers a child has had, and IRO visits between reviews.

- *Assessments*: those completed in the window; in time when
  ``working_days_between(start_date, completed_date) <= 45`` (bank holidays are not working days).
- *Statutory visits*: children with a ``cp`` or ``cla`` episode active on ``as_of``. For each of the two
  types the child has active, the episode start is the earliest start among the child's active episodes
  of that type; the reference date is the child's latest visit of any type on or after that start and on
  or before ``as_of``, else the start; due = reference + 10 working days (``cp``) or + 42 days
  (``cla``), the strategy's intervals; in time while ``as_of <= due``. A child with both plans counts
  once, in time only when in time for both.
- *Workers per child*: children with any episode active on ``as_of``. The current continuous run starts
  at the earliest start of the active episodes and reaches back through every earlier episode that
  overlaps or touches it: an episode joins the run when its ``end_date`` is on or after the run's start
  so far (or it is open), i.e. no day without an episode lies between. The child's workers are the
  distinct workers of the child's allocations active on at least one day of ``[run start, as_of]``
  (so A, B, A is 2 workers). A child with no allocation in the run has 0 workers: it is counted in the
  ``"0"`` bucket and as having at most 3.
- *IRO visits*: reviews held in the window that follow an earlier review of the same child (the latest
  earlier one, in or before the window); those with an IRO visit strictly between the two review dates
  count (a visit on either review day does not). A review is a child and a date: two records of one
  child on one day are one review.

Per team, a child belongs to a team on a day when one of the child's allocations active that day is to a
worker whose terms put them in the team that day (a child may belong to two teams). Visits and workers
per child use ``as_of``; an assessment uses its completion date, a review its review date.

Each KPI is worked out once per day's facts for every record it counts (:class:`Counted`: the child, the
day its team is judged on, its value), and kept with the facts (``Facts.memo``, with the
:class:`CaseIndex`); a team's answer then picks its records by the teams each one's child belongs to
on its day, themselves worked out once. A day's facts answer the council and every team without
rebuilding any of it.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any, Generic, Protocol, TypeVar

from steadfast_metrics.facts.records import Allocation, Episode, Facts, Worker
from steadfast_metrics.kpis.catalogue import KpiValue
from steadfast_metrics.kpis.measures import Window, percentage
from steadfast_metrics.strategy.document import VisitIntervals
from steadfast_shared.codes import EpisodeType
from steadfast_shared.dates import active_on
from steadfast_shared.strategy.rules import (
    VISITED_EPISODES,
    assessment_in_time,
    visit_due_date,
    visit_reference_date,
)


class _ChildRecord(Protocol):
    @property
    def child_id(self) -> uuid.UUID: ...


_R = TypeVar("_R", bound=_ChildRecord)


def _by_child(records: Iterable[_R]) -> dict[uuid.UUID, list[_R]]:
    grouped: dict[uuid.UUID, list[_R]] = defaultdict(list)
    for record in records:
        grouped[record.child_id].append(record)
    return grouped


_V = TypeVar("_V")


class CaseIndex:
    """The casework facts grouped by child, read once per day's facts (:func:`case_index`)."""

    def __init__(self, facts: Facts) -> None:
        self.workers: dict[uuid.UUID, Worker] = {w.id: w for w in facts.workers}
        self._teams: dict[tuple[uuid.UUID, date], str | None] = {}
        self._child_teams: dict[tuple[uuid.UUID, date], frozenset[str | None]] = {}
        self._due: dict[tuple[EpisodeType, date, int, int], date] = {}
        self._team_children: dict[date, dict[str | None, set[uuid.UUID]]] = {}
        self._active_starts: dict[date, dict[uuid.UUID, dict[EpisodeType, date]]] = {}
        self.allocations = _by_child(facts.allocations)
        #: The loader's current runs (start, workers) per child, on ``runs_as_of``.
        self.runs_as_of = facts.runs_as_of
        self.runs = {run.child_id: (run.start_date, run.workers) for run in facts.current_runs}
        self.episodes = _by_child(facts.episodes)
        self.visit_dates: dict[uuid.UUID, list[date]] = defaultdict(list)
        for visit in facts.visits:
            self.visit_dates[visit.child_id].append(visit.visit_date)
        self.review_dates: dict[uuid.UUID, list[date]] = {
            child: sorted({r.review_date for r in reviews})
            for child, reviews in _by_child(facts.reviews).items()
        }
        self.iro_visit_dates: dict[uuid.UUID, list[date]] = defaultdict(list)
        for iro_visit in facts.iro_visits:
            self.iro_visit_dates[iro_visit.child_id].append(iro_visit.visit_date)

    def due_date(self, episode_type: EpisodeType, reference: date, intervals: VisitIntervals) -> date:
        """:func:`visit_due_date`, remembered: many children share a reference date."""
        key = (episode_type, reference, intervals.cp_working_days, intervals.cla_days)
        due = self._due.get(key)
        if due is None:
            due = self._due[key] = visit_due_date(episode_type, reference, intervals)
        return due

    def team_of(self, worker_id: uuid.UUID, day: date) -> str | None:
        """The worker's team on ``day`` (remembered: thousands of allocations share a few workers)."""
        key = (worker_id, day)
        if key not in self._teams:
            worker = self.workers.get(worker_id)
            terms = worker.terms_on(day) if worker is not None else None
            self._teams[key] = terms.team if terms is not None else None
        return self._teams[key]

    def teams_of_child(self, child_id: uuid.UUID, day: date) -> frozenset[str | None]:
        """The teams of the workers the child is allocated to on ``day`` (remembered)."""
        key = (child_id, day)
        teams = self._child_teams.get(key)
        if teams is None:
            teams = self._child_teams[key] = frozenset(
                self.team_of(a.worker_id, day)
                for a in self.allocations.get(child_id, ())
                if active_on(a.start_date, a.end_date, day)
            )
        return teams

    def children_of_teams(self, day: date) -> dict[str | None, set[uuid.UUID]]:
        """Per team, the children allocated on ``day`` to a worker of it: one pass over the allocations
        (remembered), for the KPIs whose every record is judged on one day."""
        found = self._team_children.get(day)
        if found is None:
            found = self._team_children[day] = defaultdict(set)
            for child, allocations in self.allocations.items():
                for a in allocations:
                    if active_on(a.start_date, a.end_date, day):
                        found[self.team_of(a.worker_id, day)].add(child)
        return found

    def in_team(self, child_id: uuid.UUID, team: str | None, day: date) -> bool:
        """Whether the child is allocated on ``day`` to a worker of ``team`` (always, for no team)."""
        return team is None or team in self.teams_of_child(child_id, day)

    def active_starts(self, day: date) -> dict[uuid.UUID, dict[EpisodeType, date]]:
        """Per child with an episode active on ``day``: the earliest start of its active episodes of
        each type (one pass over the episodes, remembered)."""
        found = self._active_starts.get(day)
        if found is None:
            found = self._active_starts[day] = {}
            for child, episodes in self.episodes.items():
                starts: dict[EpisodeType, date] = {}
                for e in episodes:
                    if active_on(e.start_date, e.end_date, day):
                        known = starts.get(e.episode_type)
                        starts[e.episode_type] = e.start_date if known is None else min(known, e.start_date)
                if starts:
                    found[child] = starts
        return found

    def children_with_episode(
        self, day: date, team: str | None, types: Sequence[EpisodeType] | None = None
    ) -> list[uuid.UUID]:
        """The children (of ``team``) with an episode (of one of ``types``) active on ``day``."""
        return [
            child
            for child, starts in self.active_starts(day).items()
            if (types is None or any(t in starts for t in types)) and self.in_team(child, team, day)
        ]


def case_index(facts: Facts) -> CaseIndex:
    """The facts' :class:`CaseIndex`, built once and kept with them."""
    index = facts.memo.get(CaseIndex)
    if not isinstance(index, CaseIndex):
        index = facts.memo[CaseIndex] = CaseIndex(facts)
    return index


class Counted(Generic[_V]):
    """The records one KPI counts on one day's facts, each with its child, the day the child's team is
    judged on and the record's value; and, worked out the first time a team asks, the teams of each."""

    def __init__(
        self, index: CaseIndex, records: list[tuple[uuid.UUID, date, _V]], day: date | None = None
    ) -> None:
        self.index = index
        self.records = records
        #: The day every record is judged on, when they share one.
        self.day = day
        self._with_teams: list[tuple[frozenset[str | None], _V]] | None = None

    def values(self, team: str | None) -> list[_V]:
        """The values of the records of ``team`` (every record, for no team)."""
        if team is None:
            return [value for _, _, value in self.records]
        if self.day is not None:
            children = self.index.children_of_teams(self.day).get(team, set())
            return [value for child, _, value in self.records if child in children]
        if self._with_teams is None:
            teams_of = self.index.teams_of_child
            self._with_teams = [(teams_of(child, day), value) for child, day, value in self.records]
        return [value for teams, value in self._with_teams if team in teams]


def _counted(
    facts: Facts,
    key: tuple[object, ...],
    count: Callable[[CaseIndex], list[Any]],
    day: date | None = None,
) -> Counted[Any]:
    """The facts' :class:`Counted` for ``key``, counted once and kept with them (``day``: the day
    every record is judged on, when they share one)."""
    counted = facts.memo.get(key)
    if not isinstance(counted, Counted):
        index = case_index(facts)
        counted = facts.memo[key] = Counted(index, count(index), day)
    return counted


@dataclass(frozen=True)
class VisitDue:
    """When a child's next statutory visit for one active plan is due, as seen on ``as_of``."""

    episode_type: EpisodeType
    reference_date: date
    due_date: date
    #: Days since the due date (0 or less: in time).
    days_overdue: int

    @property
    def in_time(self) -> bool:
        return self.days_overdue <= 0


def visits_due(
    index: CaseIndex, child_id: uuid.UUID, as_of: date, intervals: VisitIntervals
) -> list[VisitDue]:
    """One :class:`VisitDue` per ``cp`` / ``cla`` plan the child has active on ``as_of``."""
    starts = index.active_starts(as_of).get(child_id, {})
    dues = []
    for episode_type in VISITED_EPISODES:
        start = starts.get(episode_type)
        if start is None:
            continue
        reference = visit_reference_date(start, index.visit_dates.get(child_id, ()), as_of)
        due = index.due_date(episode_type, reference, intervals)
        dues.append(VisitDue(episode_type, reference, due, (as_of - due).days))
    return dues


def run_start(episodes: Iterable[Episode], day: date) -> date | None:
    """The first day of the continuous run of episodes active on ``day`` (None: no episode active)."""
    ordered = sorted(episodes, key=lambda e: e.start_date, reverse=True)
    active = [e.start_date for e in ordered if active_on(e.start_date, e.end_date, day)]
    if not active:
        return None
    start = min(active)
    # Latest start first: an episode passed over starts no earlier than any that is yet to come, so it
    # could not have moved the start back even had it joined later.
    for episode in ordered:
        if episode.start_date < start and (episode.end_date is None or episode.end_date >= start):
            start = episode.start_date
    return start


def workers_in_run(allocations: Iterable[Allocation], first: date, last: date) -> set[uuid.UUID]:
    """The distinct workers with an allocation active on at least one day of ``[first, last]``."""
    workers = set()
    for allocation in allocations:
        day = max(allocation.start_date, first)
        if day <= last and (allocation.end_date is None or day < allocation.end_date):
            workers.add(allocation.worker_id)
    return workers


def assessments_within_45_days_pct(facts: Facts, window: Window, team: str | None) -> KpiValue:
    def count(_: CaseIndex) -> list[tuple[uuid.UUID, date, bool]]:
        in_time: dict[tuple[date, date], bool] = {}  # many assessments share their two dates
        counted = []
        for a in facts.assessments:
            if a.completed_date is not None and a.completed_date in window:
                key = (a.start_date, a.completed_date)
                known = in_time.get(key)
                if known is None:
                    known = in_time[key] = assessment_in_time(a.start_date, a.completed_date)
                counted.append((a.child_id, a.completed_date, known))
        return counted

    in_time = _counted(facts, ("assessments", window), count).values(team)
    return percentage("assessments_within_45_days_pct", sum(in_time), len(in_time))


def statutory_visits_in_time_pct(
    facts: Facts, as_of: date, team: str | None, intervals: VisitIntervals
) -> KpiValue:
    def count(index: CaseIndex) -> list[tuple[uuid.UUID, date, bool]]:
        return [
            (child, as_of, all(due.in_time for due in visits_due(index, child, as_of, intervals)))
            for child in index.children_with_episode(as_of, None, VISITED_EPISODES)
        ]

    key = ("visits", as_of, intervals.cp_working_days, intervals.cla_days)
    in_time = _counted(facts, key, count, as_of).values(team)
    return percentage("statutory_visits_in_time_pct", sum(in_time), len(in_time))


def worker_counts(index: CaseIndex, as_of: date, team: str | None) -> dict[uuid.UUID, tuple[date, int]]:
    """Per child with an active episode (of ``team``): the run's start and the workers in the run."""
    counts = {}
    if index.runs_as_of == as_of:  # counted by the loader, where the rows are
        for child in index.children_with_episode(as_of, team):
            counts[child] = index.runs[child]
        return counts
    for child in index.children_with_episode(as_of, team):
        start = run_start(index.episodes[child], as_of)
        if start is not None:
            counts[child] = (start, len(workers_in_run(index.allocations.get(child, ()), start, as_of)))
    return counts


def children_with_at_most_3_workers_pct(facts: Facts, as_of: date, team: str | None) -> KpiValue:
    def count(index: CaseIndex) -> list[tuple[uuid.UUID, date, int]]:
        return [(child, as_of, n) for child, (_, n) in worker_counts(index, as_of, None).items()]

    counts: list[int] = _counted(facts, ("workers", as_of), count, as_of).values(team)
    buckets = Counter("4+" if n >= 4 else str(n) for n in counts)
    return percentage(
        "children_with_at_most_3_workers_pct",
        sum(1 for n in counts if n <= 3),
        len(counts),
        breakdown={bucket: buckets[bucket] for bucket in ("0", "1", "2", "3", "4+")},
    )


def iro_midway_visit_pct(facts: Facts, window: Window, team: str | None) -> KpiValue:
    def count(index: CaseIndex) -> list[tuple[uuid.UUID, date, bool]]:
        reviews = []
        for child, dates in index.review_dates.items():
            for previous, review in pairwise(dates):
                if review in window:
                    visits = index.iro_visit_dates.get(child, ())
                    reviews.append((child, review, any(previous < d < review for d in visits)))
        return reviews

    visited = _counted(facts, ("iro", window), count).values(team)
    return percentage("iro_midway_visit_pct", sum(visited), len(visited))
