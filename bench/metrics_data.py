"""A council's records as the staff, caseload and audit services hold them, for the metrics benchmarks.

:func:`council` builds, from a seed, three years of one council's children's social care up to
:data:`AS_OF` (2015-03-02, the SPEC's worked example day), sized by the workers in post and the open
cases on that day (150 and 1,500 by default):

- teams by function (assessment, CIN, CP, looked-after children, a front door, the IROs, the senior
  team); workers with a mix of roles (mostly case-holding, a practice manager per team, IROs, students),
  agency and fixed-term staff, part-timers, NQSWs in their ASYE year with protected development time,
  dated team moves, promotions and FTE changes, and leavers (about 20 % a year);
- established posts, most held by the permanent workers in post, some vacant, some disestablished,
  with the holdings of the workers who left; student placements (a few withdrawn); recruitment and exit
  surveys, a yearly staff health check;
- children (the open cases, and about 1.2 closed ones for each open one): an assessment episode, then a
  CIN, CP or CLA episode (some CIN cases stepped up to CP), an assessment (most within 45 working days),
  allocations to a worker of the team that holds the episode, handed over with SSDA903 reasons, the
  open cases shared out by capacity; statutory visits at each plan's rhythm (some late), reviews of CP
  and CLA plans with IRO visits between them, child/family feedback;
- casework audits every month (full audits and dip samples, graded, some moderated, some with learning
  actions) and the audit programme.

Two views of the same records serve the two benchmarks: :func:`fact_rows` (the metrics projections'
rows as they stand once every event is applied, for the KPI latency bench) and :func:`council_events`
(every event the producers publish over those three years, in time order, each built with the
producer's own payload model and the CloudEvents envelope, for the rebuild bench).

A region is several councils (:func:`region`): team codes, worker and child references then carry the
council's prefix (``C007-CP1``), so the councils' records never mix.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from steadfast_audit import events as audit_events
from steadfast_caseload import events as caseload_events
from steadfast_shared.codes import (
    AllocationChangeReason,
    AuditType,
    EmploymentType,
    EpisodeType,
    Grade,
    LeavingReason,
    Role,
    VisitType,
)
from steadfast_shared.events import EventType
from steadfast_shared.events.envelope import new_event
from steadfast_staff import events as staff_events
from steadfast_staff.enums import Placement

AS_OF = date(2015, 3, 2)
HISTORY_START = date(2012, 4, 2)

#: Teams by what they hold: the assessment teams take a child through the assessment, then hand over to
#: the team of the child's plan. The weights share the case-holding workers out.
FUNCTIONS: dict[str, tuple[tuple[str, ...], float]] = {
    "assessment": (("ACIN1", "ACIN2"), 0.14),
    "cin": (("CIN1", "CIN2", "CIN3", "CWD1"), 0.34),
    "cp": (("CP1", "CP2", "CP3"), 0.24),
    "cla": (("LAC1", "LAC2", "LC1"), 0.24),
    "front_door": (("MASH",), 0.04),
}
CASE_TEAMS = tuple(t for teams, _ in FUNCTIONS.values() for t in teams)
IRO_TEAM = "IRO"
SENIOR_TEAM = "SMT"

CASE_HOLDING = (Role.social_worker, Role.senior_social_worker, Role.consultant_practitioner)
ROLE_WEIGHTS = {Role.consultant_practitioner: 0.5}
HANDOVER_REASONS = tuple(r for r in AllocationChangeReason if r is not AllocationChangeReason.SWDIED)
GRADES = (Grade.outstanding, Grade.good, Grade.requires_improvement, Grade.inadequate)
GRADE_WEIGHTS = (5, 50, 36, 9)


def _id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _day(rng: random.Random, first: date, last: date) -> date:
    """A day in ``[first, last]``."""
    return first + timedelta(days=rng.randrange(0, max(1, (last - first).days + 1)))


def _active(start: date, end: date | None, day: date) -> bool:
    return start <= day and (end is None or day < end)


# -- the records -----------------------------------------------------------------------------------


@dataclass(slots=True)
class TermsRec:
    effective_from: date
    effective_to: date | None
    role: Role
    team: str
    fte: float
    employment_type: EmploymentType


@dataclass(slots=True)
class WorkerRec:
    id: uuid.UUID
    external_id: str
    start: date
    end: date | None
    leaving_reason: LeavingReason | None
    terms: list[TermsRec]
    asye_start: date | None = None
    protected_pct: float | None = None
    #: The registration's expiry as recorded first, then each renewal: (day recorded, new expiry).
    registrations: list[tuple[date, date]] = field(default_factory=list)

    def terms_on(self, day: date) -> TermsRec:
        chosen = self.terms[0]
        for t in self.terms:
            if t.effective_from <= day:
                chosen = t
        return chosen

    def capacity(self, day: date) -> float:
        t = self.terms_on(day)
        if t.role not in CASE_HOLDING:
            return 0.2 if t.role is Role.student else 0.0
        nqsw = self.asye_start is not None and self.asye_start <= day < self.asye_start + timedelta(days=365)
        return t.fte * ROLE_WEIGHTS.get(t.role, 1.0) * (0.9 if nqsw else 1.0)


@dataclass(slots=True)
class HoldingRec:
    id: uuid.UUID
    worker_id: uuid.UUID
    start: date
    end: date | None


@dataclass(slots=True)
class PostRec:
    id: uuid.UUID
    external_id: str
    team: str
    role: Role
    fte: float
    start: date
    end: date | None
    holdings: list[HoldingRec]


@dataclass(slots=True)
class PlacementRec:
    id: uuid.UUID
    external_id: str
    team: str
    start: date
    end: date
    which: Placement
    recorded: date
    removed_on: date | None


@dataclass(slots=True)
class SurveyRec:
    id: uuid.UUID
    kind: str  # recruitment, exit, health_check
    returned: date
    team: str | None
    worker_id: uuid.UUID | None
    scores: dict[str, int]


@dataclass(slots=True)
class EpisodeRec:
    id: uuid.UUID
    episode_type: EpisodeType
    start: date
    end: date | None


@dataclass(slots=True)
class AllocationRec:
    id: uuid.UUID
    worker_id: uuid.UUID
    start: date
    end: date | None
    reason: AllocationChangeReason | None


@dataclass(slots=True)
class AssessmentRec:
    id: uuid.UUID
    external_id: str
    start: date
    completed: date | None


@dataclass(slots=True)
class FeedbackRec:
    id: uuid.UUID
    team: str
    returned: date
    scores: dict[str, int]


@dataclass(slots=True)
class ChildRec:
    id: uuid.UUID
    external_id: str
    known: date
    episodes: list[EpisodeRec] = field(default_factory=list)
    allocations: list[AllocationRec] = field(default_factory=list)
    assessments: list[AssessmentRec] = field(default_factory=list)
    visits: list[tuple[uuid.UUID, date, VisitType]] = field(default_factory=list)
    reviews: list[tuple[uuid.UUID, date]] = field(default_factory=list)
    iro_visits: list[tuple[uuid.UUID, date]] = field(default_factory=list)
    feedback: FeedbackRec | None = None


@dataclass(slots=True)
class AuditRec:
    id: uuid.UUID
    external_id: str
    audit_type: AuditType
    child_ref: str
    worker_id: uuid.UUID
    team: str
    started: date
    completed: date | None
    overall: Grade | None
    elements: dict[str, Grade]
    moderated: Grade | None
    moderated_on: date | None
    #: Learning actions: (id, agreed on, due, done on).
    actions: list[tuple[uuid.UUID, date, date, date | None]] = field(default_factory=list)

    @property
    def effective(self) -> Grade | None:
        return self.moderated if self.moderated is not None else self.overall


@dataclass
class Council:
    prefix: str
    teams: list[str]
    workers: list[WorkerRec]
    posts: list[PostRec]
    placements: list[PlacementRec]
    surveys: list[SurveyRec]
    children: list[ChildRec]
    audits: list[AuditRec]
    #: The audit programme: (team, first day of the month, audits planned).
    programme: list[tuple[str, date, int]]


# -- building a council ----------------------------------------------------------------------------


def _role(rng: random.Random) -> Role:
    return rng.choices(
        (
            Role.social_worker,
            Role.senior_social_worker,
            Role.consultant_practitioner,
            Role.practice_manager,
            Role.head_of_service,
            Role.principal_social_worker,
            Role.independent_reviewing_officer,
            Role.student,
        ),
        (58, 16, 9, 3, 0.7, 0.5, 6, 5),
    )[0]


def _home_team(rng: random.Random, role: Role) -> str:
    if role is Role.independent_reviewing_officer:
        return IRO_TEAM
    if role in (Role.head_of_service, Role.principal_social_worker):
        return SENIOR_TEAM
    teams, _ = rng.choices(list(FUNCTIONS.values()), [w for _, w in FUNCTIONS.values()])[0]
    return rng.choice(teams)


def _worker(rng: random.Random, council: str, n: int, in_post: bool) -> WorkerRec:
    role = _role(rng)
    if in_post:
        # a third joined during the history; long-serving staff started up to 15 years before it
        start = (
            _day(rng, HISTORY_START, AS_OF - timedelta(days=14))
            if rng.random() < 0.35
            else HISTORY_START - timedelta(days=rng.randrange(1, 15 * 365))
        )
        end = None
    else:
        end = _day(rng, HISTORY_START + timedelta(days=20), AS_OF - timedelta(days=1))
        start = end - timedelta(days=rng.randrange(90, 8 * 365))
    if role is Role.student:
        employment = EmploymentType.fixed_term
    else:
        employment = rng.choices(
            (EmploymentType.permanent, EmploymentType.agency, EmploymentType.fixed_term), (79, 16, 5)
        )[0]
    fte = rng.choice((1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.6, 0.5))
    team = _home_team(rng, role)
    terms = [TermsRec(start, None, role, council + team, fte, employment)]
    last = end or AS_OF
    first_change = max(start, HISTORY_START) + timedelta(days=30)
    if first_change < last - timedelta(days=30):
        if rng.random() < 0.3 and team in CASE_TEAMS:  # a move to another team
            terms.append(
                TermsRec(_day(rng, first_change, last - timedelta(days=30)), None, role, "", fte, employment)
            )
            terms[-1].team = council + rng.choice(CASE_TEAMS)
        if rng.random() < 0.15:  # an FTE change (or a promotion for a social worker)
            day = _day(rng, first_change, last - timedelta(days=30))
            if all(t.effective_from != day for t in terms):
                base = max((t for t in terms if t.effective_from < day), key=lambda t: t.effective_from)
                promoted = Role.senior_social_worker if role is Role.social_worker else role
                terms.append(
                    TermsRec(day, None, promoted, base.team, rng.choice((1.0, 0.8, 0.6)), employment)
                )
        terms.sort(key=lambda t: t.effective_from)
        for a, b in itertools.pairwise(terms):
            a.effective_to = b.effective_from
            b.team = b.team or a.team
            if a.role is Role.senior_social_worker and b.role is Role.social_worker:
                b.role = a.role  # a promotion stays through a later move
    asye = None
    protected = None
    if role is Role.social_worker and start >= AS_OF - timedelta(days=3 * 365) and rng.random() < 0.45:
        asye = start
        protected = float(rng.choice((10, 10, 10, 15, 20, 5)))
    registrations: list[tuple[date, date]] = []
    if role is not Role.student:
        expiry = date(2012, rng.randrange(4, 13), rng.randrange(1, 29)) + timedelta(
            days=365 * rng.randrange(0, 2)
        )
        registrations.append((max(start, HISTORY_START), expiry))
        while expiry - timedelta(days=30) <= last:  # renewed every two years, recorded a month before
            renewed_on = expiry - timedelta(days=30)
            expiry = expiry + timedelta(days=730)
            if renewed_on > max(start, HISTORY_START):
                registrations.append((renewed_on, expiry))
    return WorkerRec(
        id=_id(rng),
        external_id=f"{council}HR{n:05d}",
        start=start,
        end=end,
        leaving_reason=None if end is None else rng.choice(list(LeavingReason)),
        terms=terms,
        asye_start=asye,
        protected_pct=protected,
        registrations=registrations,
    )


class _Pool:
    """The case-holding workers of a function's teams, to hand children to."""

    def __init__(self, workers: list[WorkerRec]) -> None:
        self.workers = workers

    def on(self, rng: random.Random, day: date, fallback: _Pool) -> WorkerRec:
        """A worker of the pool in post on ``day`` (any case-holder of the council when none is)."""
        pool = self.workers or fallback.workers
        for _ in range(30):
            w = rng.choice(pool)
            if _active(w.start, w.end, day) and w.terms_on(day).role in CASE_HOLDING:
                return w
        candidates = [w for w in fallback.workers if _active(w.start, w.end, day)]
        return rng.choice(candidates or fallback.workers)


def council(seed: int, *, workers: int = 150, open_cases: int = 1500, prefix: str = "") -> Council:
    """One council's records up to :data:`AS_OF` (see the module docstring)."""
    rng = random.Random(seed)
    staff = [_worker(rng, prefix, n, in_post=True) for n in range(max(1, workers - len(CASE_TEAMS)))]
    leavers = round(workers * 0.55)
    staff += [_worker(rng, prefix, len(staff) + n, in_post=False) for n in range(leavers)]
    teams = [prefix + t for t in (*CASE_TEAMS, IRO_TEAM, SENIOR_TEAM)]
    # a practice manager heads each case-holding team
    for t in CASE_TEAMS:
        pm = _worker(rng, prefix, len(staff), in_post=True)
        pm.terms = [
            TermsRec(pm.start, None, Role.practice_manager, prefix + t, 1.0, EmploymentType.permanent)
        ]
        pm.asye_start = pm.protected_pct = None
        staff.append(pm)

    pools: dict[str, _Pool] = {}
    for function, (codes, _) in FUNCTIONS.items():
        names = {prefix + c for c in codes}
        pools[function] = _Pool(
            [w for w in staff if w.terms[0].team in names and w.terms[0].role in CASE_HOLDING]
        )
    anyone = _Pool([w for w in staff if w.terms[0].role in CASE_HOLDING])
    in_post_on_as_of = {
        function: [w for w in pool.workers if w.end is None and w.terms_on(AS_OF).role in CASE_HOLDING]
        for function, pool in pools.items()
    }
    students = [w for w in staff if w.end is None and w.terms[0].role is Role.student]

    children = [_child(rng, prefix, n, True, pools, anyone) for n in range(open_cases)]
    children += [
        _child(rng, prefix, open_cases + n, False, pools, anyone) for n in range(round(open_cases * 1.2))
    ]
    _share_open_cases(rng, children, in_post_on_as_of, students, anyone)

    posts = _posts(rng, prefix, staff)
    return Council(
        prefix=prefix,
        teams=teams,
        workers=staff,
        posts=posts,
        placements=_placements(rng, prefix),
        surveys=_surveys(rng, staff),
        children=children,
        audits=_audits(rng, prefix, children, staff, open_cases),
        programme=[
            (prefix + t, date(y, m, 1), rng.randrange(4, 12))
            for y, m in _months(HISTORY_START, AS_OF)
            for t in CASE_TEAMS
            if t != "MASH"
        ],
    )


def region(councils: int, seed: int, *, workers: int = 150, open_cases: int = 1500) -> Iterator[Council]:
    """``councils`` councils, one after another (each built when asked for, so memory stays flat)."""
    for n in range(councils):
        yield council(seed * 1000 + n, workers=workers, open_cases=open_cases, prefix=f"C{n:03d}-")


def _months(first: date, last: date) -> Iterator[tuple[int, int]]:
    y, m = first.year, first.month
    while date(y, m, 1) <= last:
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def _child(
    rng: random.Random, prefix: str, n: int, open_case: bool, pools: dict[str, _Pool], anyone: _Pool
) -> ChildRec:
    if open_case:
        known = AS_OF - timedelta(days=min(1000, 5 + int(rng.expovariate(1 / 280))))
        closed: date | None = None
    else:
        known = _day(rng, HISTORY_START - timedelta(days=300), AS_OF - timedelta(days=100))
        closed = None  # decided below, once the assessment's end is known
    child = ChildRec(id=_id(rng), external_id=f"{prefix}LCS{n:07d}", known=known)

    # the assessment (20-70 days; about one in ten beyond 45 working days)
    assessment_end = known + timedelta(
        days=rng.randrange(20, 56) if rng.random() < 0.88 else rng.randrange(64, 90)
    )
    completed = assessment_end if assessment_end <= AS_OF else None
    child.assessments.append(AssessmentRec(_id(rng), f"{prefix}A{n:07d}", known, completed))
    plan = rng.choices((EpisodeType.cin, EpisodeType.cp, EpisodeType.cla), (50, 25, 25))[0]
    if not open_case:
        if rng.random() < 0.3:  # no further action after the assessment
            closed = assessment_end
        else:
            closed = min(AS_OF - timedelta(days=1), assessment_end + timedelta(days=rng.randrange(60, 900)))
        if closed <= assessment_end:
            closed = assessment_end
    # the episodes: the assessment, then the plan (a CIN case may be stepped up to CP)
    episode_end = None if completed is None else assessment_end
    child.episodes.append(EpisodeRec(_id(rng), EpisodeType.assessment, known, episode_end))
    segments: list[tuple[EpisodeType, date, date | None]] = []
    if completed is not None and (closed is None or closed > assessment_end):
        if plan is EpisodeType.cin and rng.random() < 0.2:
            last = closed or AS_OF
            step = assessment_end + timedelta(days=rng.randrange(30, max(31, (last - assessment_end).days)))
            if step < last:
                segments += [(EpisodeType.cin, assessment_end, step), (EpisodeType.cp, step, closed)]
        if not segments:
            segments.append((plan, assessment_end, closed))
    for kind, start, end in segments:
        child.episodes.append(EpisodeRec(_id(rng), kind, start, end))
    # re-assessments of a few long-running cases (no episode of their own)
    if segments and rng.random() < 0.1:
        last = segments[-1][2] or AS_OF
        if (last - assessment_end).days > 120:
            start = _day(rng, assessment_end + timedelta(days=60), last - timedelta(days=50))
            done = start + timedelta(days=rng.randrange(20, 60))
            child.assessments.append(
                AssessmentRec(_id(rng), f"{prefix}A{n:07d}R", start, done if done <= AS_OF else None)
            )

    # allocations: the assessment team, then the plan's team, handed over now and then
    first = pools["assessment"].on(rng, known, anyone)
    if completed is None:
        child.allocations.append(AllocationRec(_id(rng), first.id, known, None, None))
    else:
        end_first = assessment_end if segments else closed
        child.allocations.append(AllocationRec(_id(rng), first.id, known, end_first, None))
        for kind, start, end in segments:
            day = start
            function = kind.value
            while True:
                worker = pools[function].on(rng, day, anyone)
                length = timedelta(days=30 + int(rng.expovariate(1 / 260)))
                nxt: date | None = day + length
                if end is not None and nxt is not None and nxt >= end:
                    nxt = end
                if end is None and nxt is not None and nxt > AS_OF:
                    nxt = None
                reason = AllocationChangeReason.TSPROC if day == start else rng.choice(HANDOVER_REASONS)
                if child.allocations and child.allocations[-1].worker_id == worker.id:
                    child.allocations[-1].end = nxt  # the same worker keeps the child
                else:
                    child.allocations.append(AllocationRec(_id(rng), worker.id, day, nxt, reason))
                if nxt is None or nxt == end:
                    break
                day = nxt

    # statutory visits at each plan's rhythm, reviews of CP and CLA plans, IRO visits between reviews
    for ep in child.episodes:
        last_day = min(ep.end or AS_OF + timedelta(days=1), AS_OF + timedelta(days=1))
        if ep.episode_type is EpisodeType.assessment:
            visit = ep.start + timedelta(days=rng.randrange(1, 8))
            if visit < last_day:
                child.visits.append((_id(rng), visit, VisitType.assessment))
            continue
        day = ep.start
        while True:
            if ep.episode_type is EpisodeType.cp:
                gap = rng.randrange(4, 15) if rng.random() < 0.93 else rng.randrange(15, 25)
            elif ep.episode_type is EpisodeType.cla:
                gap = rng.randrange(14, 42) if rng.random() < 0.93 else rng.randrange(43, 70)
            else:
                gap = rng.randrange(10, 36)
            day += timedelta(days=gap)
            if day >= last_day:
                break
            visit_type = VisitType(ep.episode_type.value) if rng.random() < 0.95 else VisitType.other
            child.visits.append((_id(rng), day, visit_type))
        if ep.episode_type in (EpisodeType.cp, EpisodeType.cla):
            review = ep.start + timedelta(days=20 if ep.episode_type is EpisodeType.cla else 90)
            previous = ep.start
            while review < last_day:
                if rng.random() < 0.85 and (review - previous).days > 2:
                    midway = previous + timedelta(days=rng.randrange(1, (review - previous).days))
                    child.iro_visits.append((_id(rng), midway))
                child.reviews.append((_id(rng), review))
                previous = review
                interval = 90 if len(child.reviews) == 1 and ep.episode_type is EpisodeType.cla else 182
                review = review + timedelta(days=interval + rng.randrange(-10, 15))
    if rng.random() < 0.15:
        last = closed or AS_OF
        returned = _day(rng, min(known + timedelta(days=20), last), last)
        team = prefix + rng.choice(FUNCTIONS[plan.value][0])
        child.feedback = FeedbackRec(_id(rng), team, returned, _scores(rng, caseload_events.FeedbackData))
    return child


def _share_open_cases(
    rng: random.Random,
    children: list[ChildRec],
    in_post: dict[str, list[WorkerRec]],
    students: list[WorkerRec],
    anyone: _Pool,
) -> None:
    """Give each open allocation to a worker in post on :data:`AS_OF`, in proportion to capacity."""
    weights = {f: [w.capacity(AS_OF) for w in ws] for f, ws in in_post.items()}
    fallback = [w for w in anyone.workers if w.end is None]
    for child in children:
        current = child.allocations[-1]
        if current.end is not None:
            continue
        function = child.episodes[-1].episode_type.value
        if students and rng.random() < 0.01:
            worker = rng.choice(students)
        elif in_post.get(function):
            worker = rng.choices(in_post[function], weights[function])[0]
        else:
            worker = rng.choice(fallback)
        if worker.start > current.start:  # joined since: handed the child on the day they started
            current.end = worker.start
            current = AllocationRec(_id(rng), worker.id, worker.start, None, AllocationChangeReason.LEFTRL)
            child.allocations.append(current)
        current.worker_id = worker.id
        if len(child.allocations) > 1 and child.allocations[-2].worker_id == worker.id:
            child.allocations[-2].end = None
            child.allocations.pop()


def _posts(rng: random.Random, prefix: str, staff: list[WorkerRec]) -> list[PostRec]:
    """A post for each permanent or fixed-term qualified worker who ever worked here, held by them from
    their start (or the post's) to their leaving; vacant posts; a few disestablished."""
    posts: list[PostRec] = []
    for n, w in enumerate(staff):
        t = w.terms[0]
        if t.role is Role.student or t.employment_type is EmploymentType.agency:
            continue
        established = min(w.start, HISTORY_START - timedelta(days=rng.randrange(0, 2000)))
        end = None
        holdings = [HoldingRec(_id(rng), w.id, max(w.start, established), w.end)]
        if w.end is not None and rng.random() < 0.7:  # filled again after the leaver
            successor = [s for s in staff if s.start > w.end and s.terms[0].role is t.role and s.end is None]
            if successor:
                s = rng.choice(successor)
                if all(h.worker_id != s.id for p in posts for h in p.holdings):
                    holdings.append(HoldingRec(_id(rng), s.id, s.start, None))
        elif w.end is not None and rng.random() < 0.15:
            end = w.end + timedelta(days=rng.randrange(1, 60))
            end = min(end, AS_OF)
        posts.append(
            PostRec(_id(rng), f"{prefix}POST{n:05d}", t.team, t.role, t.fte, established, end, holdings)
        )
    for n in range(len(posts) // 12):  # vacant since the start of the history
        code = rng.choice(CASE_TEAMS)
        posts.append(
            PostRec(
                _id(rng),
                f"{prefix}VAC{n:04d}",
                prefix + code,
                Role.social_worker,
                1.0,
                HISTORY_START,
                None,
                [],
            )
        )
    return posts


def _placements(rng: random.Random, prefix: str) -> list[PlacementRec]:
    placements = []
    for year in (2012, 2013, 2014):
        for n in range(rng.randrange(3, 8)):
            start = _day(rng, date(year, 4, 1), min(date(year + 1, 3, 31), AS_OF))
            recorded = max(HISTORY_START, start - timedelta(days=rng.randrange(10, 60)))
            removed = recorded + timedelta(days=rng.randrange(1, 20)) if rng.random() < 0.05 else None
            placements.append(
                PlacementRec(
                    _id(rng),
                    f"{prefix}STU{year}{n:02d}",
                    prefix + rng.choice(CASE_TEAMS),
                    start,
                    start + timedelta(days=rng.choice((70, 100))),
                    rng.choice(list(Placement)),
                    recorded,
                    removed if removed is not None and removed <= AS_OF else None,
                )
            )
    return placements


def _scores(rng: random.Random, model: type[BaseModel]) -> dict[str, int]:
    """Answers (1-5) to the score fields of ``model``, one in ten left blank."""
    fields = [
        name
        for name, info in model.model_fields.items()
        if info.annotation is not None and "int" in str(info.annotation) and name != "version"
    ]
    return {f: rng.choices((1, 2, 3, 4, 5), (5, 15, 35, 30, 15))[0] for f in fields if rng.random() > 0.1}


def _surveys(rng: random.Random, staff: list[WorkerRec]) -> list[SurveyRec]:
    surveys = []
    for w in staff:
        if w.start >= HISTORY_START and rng.random() < 0.6:
            returned = w.start + timedelta(days=rng.randrange(20, 90))
            if returned <= AS_OF:
                scores = _scores(rng, staff_events.RecruitmentScores)
                surveys.append(SurveyRec(_id(rng), "recruitment", returned, w.terms[0].team, w.id, scores))
        if w.end is not None and rng.random() < 0.5:
            returned = w.end - timedelta(days=rng.randrange(1, 14))
            if returned >= HISTORY_START:
                team = w.terms_on(returned).team
                surveys.append(
                    SurveyRec(_id(rng), "exit", returned, team, w.id, _scores(rng, staff_events.ExitScores))
                )
    for year in (2012, 2013, 2014):  # the health check, every November
        day = date(year, 11, 3)
        for w in staff:
            if _active(w.start, w.end, day) and rng.random() < 0.65:
                returned = day + timedelta(days=rng.randrange(0, 21))
                anonymous = rng.random() < 0.2
                surveys.append(
                    SurveyRec(
                        _id(rng),
                        "health_check",
                        returned,
                        None if anonymous else w.terms_on(day).team,
                        None if anonymous else w.id,
                        _scores(rng, staff_events.HealthCheckScores),
                    )
                )
    return surveys


def _audits(
    rng: random.Random, prefix: str, children: list[ChildRec], staff: list[WorkerRec], open_cases: int
) -> list[AuditRec]:
    by_id = {w.id: w for w in staff}
    audits: list[AuditRec] = []
    for y, m in _months(HISTORY_START, AS_OF):
        for audit_type, share in ((AuditType.full, 0.012), (AuditType.dip_sample, 0.006)):
            for _ in range(max(1, round(open_cases * share))):
                started = _day(rng, date(y, m, 1), min(date(y, m, 28), AS_OF))
                child = rng.choice(children)
                held = [a for a in child.allocations if a.start <= started]
                allocation = held[-1] if held else child.allocations[0]
                worker = by_id[allocation.worker_id]
                team = worker.terms_on(started).team
                completed: date | None = started + timedelta(days=rng.randrange(3, 30))
                if completed is not None and completed > AS_OF:
                    completed = None
                overall = rng.choices(GRADES, GRADE_WEIGHTS)[0] if completed else None
                elements: dict[str, Grade] = {}
                if completed and rng.random() < 0.85:
                    for element in ("contact", "assessment", "planning", "management_oversight"):
                        elements[element] = rng.choices(GRADES, GRADE_WEIGHTS)[0]
                moderated = moderated_on = None
                if completed and rng.random() < 0.25:
                    moderated_on = completed + timedelta(days=rng.randrange(3, 30))
                    if moderated_on <= AS_OF:
                        moderated = rng.choices(GRADES, GRADE_WEIGHTS)[0] if rng.random() < 0.3 else overall
                    else:
                        moderated_on = None
                audit = AuditRec(
                    _id(rng),
                    f"{prefix}AUD{len(audits):06d}",
                    audit_type,
                    child.external_id,
                    worker.id,
                    team,
                    started,
                    completed,
                    overall,
                    elements,
                    moderated,
                    moderated_on,
                )
                if completed and rng.random() < 0.4:
                    due = completed + timedelta(days=rng.randrange(14, 60))
                    done = due - timedelta(days=rng.randrange(0, 10)) if rng.random() < 0.7 else None
                    audit.actions.append((_id(rng), completed, due, done if done and done <= AS_OF else None))
                audits.append(audit)
    return audits


# -- the projections, as they stand once every event is applied --------------------------------------


def fact_rows(c: Council) -> dict[str, list[dict[str, Any]]]:
    """The rows of each projection table (by table name) that the council's events leave behind."""
    rows: dict[str, list[dict[str, Any]]] = {}

    def add(table: str, **values: Any) -> None:
        rows.setdefault(table, []).append(values)

    for w in c.workers:
        add(
            "fact_workers",
            id=w.id,
            external_id=w.external_id,
            display_name=f"Worker {w.external_id}",
            start_date=w.start,
            end_date=w.end,
            asye_start=w.asye_start,
            asye_end=None,
            protected_development_pct=w.protected_pct,
            swe_registration_expiry=w.registrations[-1][1] if w.registrations else None,
            version=len(_worker_changes(w)),
        )
        for t in w.terms:
            add(
                "fact_worker_terms",
                worker_id=w.id,
                effective_from=t.effective_from,
                effective_to=t.effective_to,
                role=t.role.value,
                team=t.team,
                fte=t.fte,
                employment_type=t.employment_type.value,
            )
    for p in c.posts:
        add(
            "fact_posts",
            id=p.id,
            external_id=p.external_id,
            team=p.team,
            role=p.role.value,
            fte=p.fte,
            start_date=p.start,
            end_date=p.end,
            version=len(_post_changes(p)),
        )
        for h in p.holdings:
            end = h.end if p.end is None or (h.end is not None and h.end < p.end) else p.end
            add(
                "fact_post_holdings",
                id=h.id,
                post_id=p.id,
                worker_id=h.worker_id,
                start_date=h.start,
                end_date=end,
            )
    for pl in c.placements:
        add(
            "fact_student_placements",
            id=pl.id,
            team=pl.team,
            start_date=pl.start,
            end_date=pl.end,
            removed=pl.removed_on is not None,
            version=2 if pl.removed_on else 1,
        )
    kinds = {"recruitment": "recruit_reasons", "exit": "leaver_reasons", "health_check": "staff_health_check"}
    for r in c.surveys:
        add(
            "fact_survey_returns",
            id=r.id,
            kind=kinds[r.kind],
            returned_date=r.returned,
            team=r.team,
            scores=r.scores,
            version=1,
        )
    for ch in c.children:
        versions = _child_record_versions(ch)
        for e in ch.episodes:
            add(
                "fact_episodes",
                id=e.id,
                child_id=ch.id,
                child_external_id=ch.external_id,
                episode_type=e.episode_type.value,
                start_date=e.start,
                end_date=e.end,
                child_version=versions[e.id],
            )
        for a in ch.allocations:
            add(
                "fact_allocations",
                id=a.id,
                child_id=ch.id,
                worker_id=a.worker_id,
                start_date=a.start,
                end_date=a.end,
                child_version=versions[a.id],
            )
        for sa in ch.assessments:
            add(
                "fact_assessments",
                id=sa.id,
                child_id=ch.id,
                start_date=sa.start,
                completed_date=sa.completed,
                child_version=versions[sa.id],
            )
        for vid, day, kind in ch.visits:
            add(
                "fact_visits",
                id=vid,
                child_id=ch.id,
                visit_date=day,
                visit_type=kind.value,
                child_version=versions[vid],
            )
        for rid, day in ch.reviews:
            add("fact_reviews", id=rid, child_id=ch.id, review_date=day, child_version=versions[rid])
        for iid, day in ch.iro_visits:
            add("fact_iro_visits", id=iid, child_id=ch.id, visit_date=day, child_version=versions[iid])
        if ch.feedback is not None:
            f = ch.feedback
            add(
                "fact_survey_returns",
                id=f.id,
                kind="child_family_experience",
                returned_date=f.returned,
                team=f.team,
                scores=f.scores,
                version=0,
            )
    for au in c.audits:
        add(
            "fact_audits",
            id=au.id,
            audit_type=au.audit_type.value,
            team=au.team,
            completed_date=au.completed,
            grade=None if au.effective is None else au.effective.value,
            contact_grade=au.elements["contact"].value if "contact" in au.elements else None,
            audit_version=len(_audit_changes(au)),
        )
    return rows


# -- the events ----------------------------------------------------------------------------------------

#: One event before it is wrapped: (day, aggregate key, event type, payload).
Change = tuple[date, str, EventType[Any], BaseModel]


def _worker_changes(w: WorkerRec) -> list[tuple[date, EventType[Any], date]]:
    """(day, event type, the day the state is as of) of each change to a worker, oldest first."""
    recorded = max(w.start, HISTORY_START)
    changes: list[tuple[date, EventType[Any], date]] = [(recorded, staff_events.WorkerHired, recorded)]
    for t in w.terms[1:]:
        changes.append((t.effective_from, staff_events.WorkerTermsChanged, t.effective_from))
    for day, _ in w.registrations[1:]:
        changes.append((day, staff_events.WorkerUpdated, day))
    if w.end is not None:
        changes.append((w.end, staff_events.WorkerLeft, w.end))
    changes.sort(key=lambda c: c[0])
    return changes


def _worker_data(w: WorkerRec, version: int, as_of: date) -> staff_events.WorkerData:
    ended = w.end is not None and w.end <= as_of
    regs = [expiry for day, expiry in w.registrations if day <= as_of]
    return staff_events.WorkerData(
        id=w.id,
        external_id=w.external_id,
        version=version,
        display_name=f"Worker {w.external_id}",
        start_date=w.start,
        end_date=w.end if ended else None,
        leaving_reason=w.leaving_reason if ended else None,
        asye_start=w.asye_start,
        asye_end=None,
        protected_development_pct=w.protected_pct,
        swe_registration_expiry=regs[-1] if regs else None,
        history=[
            staff_events.TermsData(
                effective_from=t.effective_from,
                effective_to=t.effective_to
                if t.effective_to is not None and t.effective_to <= as_of
                else None,
                role=t.role,
                team=t.team,
                fte=t.fte,
                employment_type=t.employment_type,
            )
            for t in w.terms
            if t.effective_from <= as_of or t is w.terms[0]
        ],
    )


def _post_changes(p: PostRec) -> list[tuple[date, EventType[Any], date]]:
    established = max(p.start, HISTORY_START)
    changes: list[tuple[date, EventType[Any], date]] = [
        (established, staff_events.PostEstablished, established)
    ]
    for h in p.holdings:
        day = max(h.start, established)
        if day > established or h is not p.holdings[0]:
            changes.append((day, staff_events.PostHolderAssigned, day))
        if h.end is not None and (p.end is None or h.end < p.end):
            changes.append((h.end, staff_events.PostHoldingEnded, h.end))
    if p.end is not None:
        changes.append((p.end, staff_events.PostDisestablished, p.end))
    changes.sort(key=lambda c: c[0])
    return changes


def _post_data(p: PostRec, version: int, as_of: date) -> staff_events.PostData:
    ended = p.end is not None and p.end <= as_of
    holdings = []
    for h in p.holdings:
        if max(h.start, p.start) > as_of and h is not p.holdings[0]:
            continue
        end = h.end if h.end is not None and h.end <= as_of else None
        if ended and (end is None or (p.end is not None and end > p.end)):
            end = p.end
        holdings.append(
            staff_events.HoldingData(id=h.id, worker_id=h.worker_id, start_date=h.start, end_date=end)
        )
    return staff_events.PostData(
        id=p.id,
        external_id=p.external_id,
        version=version,
        team=p.team,
        role=p.role,
        fte=p.fte,
        start_date=p.start,
        end_date=p.end if ended else None,
        holdings=holdings,
    )


#: One change to a child: (day, event type, the record it writes, whether it is the record's end).
ChildChange = tuple[date, EventType[Any], Any, bool]


def _child_changes(ch: ChildRec) -> list[ChildChange]:
    """Every change to a child after its registration, in the order the caseload service records them:
    on one day, records end before new ones start (the old allocation ends on the handover day)."""
    items: list[tuple[date, int, EventType[Any], Any, bool]] = []
    for e in ch.episodes:
        items.append((e.start, 1, caseload_events.EpisodeRecorded, e, False))
        if e.end is not None:
            items.append((e.end, 0, caseload_events.EpisodeChanged, e, True))
    for a in ch.allocations:
        items.append((a.start, 3, caseload_events.AllocationStarted, a, False))
        if a.end is not None:
            items.append((a.end, 2, caseload_events.AllocationChanged, a, True))
    for s in ch.assessments:
        items.append((s.start, 1, caseload_events.AssessmentRecorded, s, False))
        if s.completed is not None:
            items.append((s.completed, 0, caseload_events.AssessmentChanged, s, True))
    items.extend((v[1], 4, caseload_events.VisitRecorded, v, False) for v in ch.visits)
    items.extend((r[1], 5, caseload_events.ReviewRecorded, r, False) for r in ch.reviews)
    items.extend((i[1], 5, caseload_events.IroVisitRecorded, i, False) for i in ch.iro_visits)
    items.sort(key=lambda c: (c[0], c[1]))
    return [(day, event_type, record, ended) for day, _, event_type, record, ended in items if day <= AS_OF]


def _child_payload(ch: ChildRec, change: ChildChange, version: int) -> BaseModel:
    """The payload the caseload service publishes for ``change``, the child's ``version`` after it."""
    _, event_type, record, ended = change
    base: dict[str, Any] = {"child_id": ch.id, "child_external_id": ch.external_id, "child_version": version}
    if isinstance(record, EpisodeRec):
        return caseload_events.EpisodeData(
            **base,
            episode_id=record.id,
            episode_type=record.episode_type,
            start_date=record.start,
            end_date=record.end if ended else None,
        )
    if isinstance(record, AllocationRec):
        return caseload_events.AllocationData(
            **base,
            allocation_id=record.id,
            worker_id=record.worker_id,
            start_date=record.start,
            end_date=record.end if ended else None,
            reason=record.reason,
        )
    if isinstance(record, AssessmentRec):
        return caseload_events.AssessmentData(
            **base,
            assessment_id=record.id,
            external_id=record.external_id,
            start_date=record.start,
            completed_date=record.completed if ended else None,
        )
    if event_type is caseload_events.VisitRecorded:
        visit_id, day, visit_type = record
        return caseload_events.VisitData(
            **base, visit_id=visit_id, visit_date=day, visit_type=visit_type, seen_alone=True
        )
    if event_type is caseload_events.ReviewRecorded:
        return caseload_events.ReviewData(**base, review_id=record[0], review_date=record[1])
    return caseload_events.IroVisitData(**base, iro_visit_id=record[0], visit_date=record[1])


def _child_record_versions(ch: ChildRec) -> dict[uuid.UUID, int]:
    """The child's version after the last change to each of its records (registration is version 1)."""
    versions: dict[uuid.UUID, int] = {}
    for version, (_, _, record, _) in enumerate(_child_changes(ch), start=2):
        versions[record[0] if isinstance(record, tuple) else record.id] = version
    return versions


def _audit_changes(a: AuditRec) -> list[tuple[date, EventType[Any]]]:
    changes: list[tuple[date, EventType[Any]]] = []
    if a.completed is not None and a.completed - a.started <= timedelta(days=7):
        changes.append((a.completed, audit_events.AuditRecorded))  # recorded once done
    else:
        changes.append((a.started, audit_events.AuditRecorded))
        if a.completed is not None:
            changes.append((a.completed, audit_events.AuditChanged))
    if a.moderated_on is not None:
        changes.append((a.moderated_on, audit_events.AuditModerated))
    return changes


def _audit_data(a: AuditRec, version: int, as_of: date) -> audit_events.AuditData:
    done = a.completed is not None and a.completed <= as_of
    moderated = a.moderated_on is not None and a.moderated_on <= as_of
    overall = a.overall if done else None
    return audit_events.AuditData(
        audit_id=a.id,
        external_id=a.external_id,
        audit_type=a.audit_type,
        child_ref=a.child_ref,
        worker_id=a.worker_id,
        team=a.team,
        started_date=a.started,
        completed_date=a.completed if done else None,
        overall_grade=overall,
        element_grades=a.elements if done else {},
        moderated_grade=a.moderated if moderated else None,
        moderated_date=a.moderated_on if moderated else None,
        effective_grade=(a.moderated if moderated else overall),
        audit_version=version,
    )


def council_changes(c: Council) -> list[Change]:
    """Every event the producers publish about the council, oldest first (one aggregate's in order)."""
    out: list[tuple[date, int, str, EventType[Any], BaseModel]] = []
    seq = 0

    def emit(day: date, key: str, event_type: EventType[Any], data: BaseModel) -> None:
        nonlocal seq
        seq += 1
        out.append((day, seq, key, event_type, data))

    for t in c.teams:
        emit(
            HISTORY_START - timedelta(days=1),
            t,
            staff_events.TeamCreated,
            staff_events.TeamData(code=t, name=t, version=1),
        )
    for w in c.workers:
        for version, (day, event_type, as_of) in enumerate(_worker_changes(w), start=1):
            emit(day, str(w.id), event_type, _worker_data(w, version, as_of))
    for p in c.posts:
        for version, (day, event_type, as_of) in enumerate(_post_changes(p), start=1):
            emit(day, str(p.id), event_type, _post_data(p, version, as_of))
    for pl in c.placements:
        placement: dict[str, Any] = {
            "id": pl.id,
            "external_id": pl.external_id,
            "student_worker_id": None,
            "university": "Brunel",
            "placement": pl.which,
            "team": pl.team,
            "start_date": pl.start,
            "end_date": pl.end,
            "hired_afterwards": False,
            "hired_worker_id": None,
        }
        emit(
            pl.recorded,
            str(pl.id),
            staff_events.StudentPlacementRecorded,
            staff_events.StudentPlacementData(version=1, **placement),
        )
        if pl.removed_on is not None:
            emit(
                pl.removed_on,
                str(pl.id),
                staff_events.StudentPlacementRemoved,
                staff_events.StudentPlacementData(version=2, **placement),
            )
    survey_types: dict[str, tuple[EventType[Any], type[BaseModel]]] = {
        "recruitment": (staff_events.RecruitmentSurveyReturned, staff_events.RecruitmentSurveyData),
        "exit": (staff_events.ExitSurveyReturned, staff_events.ExitSurveyData),
        "health_check": (staff_events.StaffHealthCheckReturned, staff_events.StaffHealthCheckData),
    }
    for r in c.surveys:
        event_type, model = survey_types[r.kind]
        data = model(
            id=r.id, version=1, returned_date=r.returned, worker_id=r.worker_id, team=r.team, **r.scores
        )
        emit(r.returned, str(r.id), event_type, data)
    for ch in c.children:
        key = str(ch.id)
        emit(
            ch.known,
            key,
            caseload_events.ChildRegistered,
            caseload_events.ChildData(child_id=ch.id, child_external_id=ch.external_id, child_version=1),
        )
        for version, change in enumerate(_child_changes(ch), start=2):
            emit(change[0], key, change[1], _child_payload(ch, change, version))
        if ch.feedback is not None:
            f = ch.feedback
            feedback = caseload_events.FeedbackData(
                feedback_id=f.id,
                external_id=None,
                child_id=ch.id,
                team=f.team,
                returned_date=f.returned,
                involved_in_decisions=f.scores.get("involved_in_decisions"),
                worker_stability=f.scores.get("worker_stability"),
                contact_quality=f.scores.get("contact_quality"),
            )
            emit(f.returned, str(f.id), caseload_events.FeedbackReturned, feedback)
    for au in c.audits:
        key = str(au.id)
        for version, (day, event_type) in enumerate(_audit_changes(au), start=1):
            emit(day, key, event_type, _audit_data(au, version, day))
        for action_id, agreed, due, done in au.actions:
            action: dict[str, Any] = {
                "learning_action_id": action_id,
                "audit_id": au.id,
                "team": au.team,
                "owner": "Practice manager",
                "due_date": due,
                "audit_version": 1,
            }
            emit(
                agreed,
                key,
                audit_events.LearningActionRecorded,
                audit_events.LearningActionData(status="open", completed_date=None, **action),
            )
            if done is not None:
                emit(
                    done,
                    key,
                    audit_events.LearningActionChanged,
                    audit_events.LearningActionData(status="done", completed_date=done, **action),
                )
    for team, month, planned in c.programme:
        key = f"{team}/{month:%Y-%m}"
        emit(
            month - timedelta(days=7),
            key,
            audit_events.ProgrammePlanned,
            audit_events.ProgrammeData(team=team, month=f"{month:%Y-%m}", planned=planned, version=1),
        )
    out.sort(key=lambda e: (e[0], e[1]))
    return [(day, key, event_type, data) for day, _, key, event_type, data in out]


def envelope(change: Change, moment: datetime) -> bytes:
    """The Kafka message value the producer publishes for ``change`` (CloudEvents JSON)."""
    _, key, event_type, data = change
    source = "/steadfast/" + event_type.type.split(".")[2]
    event = new_event(source=source, type_=event_type.type, subject=key, data=data.model_dump(mode="json"))
    return event.model_copy(update={"time": moment}).to_json()


def event_time(day: date, n: int) -> datetime:
    """The ``n``-th event published on ``day``: from 08:00 UTC, a few seconds apart."""
    return datetime(day.year, day.month, day.day, 8, tzinfo=UTC) + timedelta(seconds=3 * n)
