"""Hand-built facts for the KPI engine and watch-list tests: the SPEC worked example and small builders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from steadfast_metrics.facts.records import Allocation, Episode, Facts, Terms, Worker
from steadfast_metrics.strategy.document import SLOUGH_2014_17
from steadfast_shared.codes import EmploymentType, EpisodeType, Role

#: The worked example's day: Monday 2 March 2015.
AS_OF = date(2015, 3, 2)
STRATEGY = SLOUGH_2014_17
LONG_AGO = date(2010, 1, 1)


def d(text: str) -> date:
    return date.fromisoformat(text)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def worker(
    role: Role = Role.social_worker,
    employment_type: EmploymentType = EmploymentType.permanent,
    fte: float = 1.0,
    team: str = "T1",
    *,
    start: date = LONG_AGO,
    end: date | None = None,
    asye_start: date | None = None,
    asye_end: date | None = None,
    protected_development_pct: float | None = None,
    swe_registration_expiry: date | None = None,
    name: str = "",
) -> Worker:
    """A worker on one set of terms for the whole of their employment."""
    return Worker(
        id=new_id(),
        start_date=start,
        end_date=end,
        terms=[Terms(start, None, role, team, fte, employment_type)],
        asye_start=asye_start,
        asye_end=asye_end,
        protected_development_pct=protected_development_pct,
        swe_registration_expiry=swe_registration_expiry,
        external_id=name,
        display_name=name,
    )


def allocate(child: uuid.UUID, to: Worker, start: date = LONG_AGO, end: date | None = None) -> Allocation:
    return Allocation(child_id=child, worker_id=to.id, start_date=start, end_date=end)


def children_of(to: Worker, n: int, start: date = LONG_AGO) -> list[Allocation]:
    """``n`` new children allocated to ``to`` from ``start``."""
    return [allocate(new_id(), to, start) for _ in range(n)]


def in_turn(child: uuid.UUID, workers: list[Worker], starts: list[date]) -> list[Allocation]:
    """The child allocated to each worker in turn from their start to the next one's (the last: open)."""
    ends: list[date | None] = [*starts[1:], None]
    return [allocate(child, w, s, e) for w, s, e in zip(workers, starts, ends, strict=True)]


def episode(child: uuid.UUID, episode_type: EpisodeType, start: date, end: date | None = None) -> Episode:
    return Episode(child_id=child, episode_type=episode_type, start_date=start, end_date=end)


@dataclass(frozen=True)
class WorkedExample:
    """SPEC section 3's worked example (as of 2015-03-02): workers A to F and their allocations."""

    a: Worker
    b: Worker
    c: Worker
    d: Worker
    e: Worker
    f: Worker
    facts: Facts


def worked_example() -> WorkedExample:
    a = worker(name="A")
    b = worker(employment_type=EmploymentType.agency, name="B")
    c = worker(Role.consultant_practitioner, name="C")
    d_ = worker(
        fte=0.5, asye_start=date(2014, 9, 1), start=date(2014, 9, 1), protected_development_pct=10.0, name="D"
    )
    e = worker(Role.practice_manager, name="E")
    f = worker(Role.student, start=date(2015, 1, 5), name="F")
    allocations = [
        *children_of(a, 18),
        *children_of(b, 15),
        *children_of(c, 6),
        *children_of(d_, 7, start=date(2014, 9, 1)),
        *children_of(f, 3, start=date(2015, 1, 5)),
        *children_of(e, 1),
    ]
    return WorkedExample(a, b, c, d_, e, f, Facts(workers=[a, b, c, d_, e, f], allocations=allocations))
