"""A generated council for the demo: two years of one council's children's social care, ending today.

:func:`build_demo_council` simulates the council day by day from seven months before its history starts
(two years before ``today``) up to ``today``, from a seed, and returns what its systems would send
Steadfast: the HR extract (``workers.csv``, and a second file of dated changes), the establishment
(posts and who holds them), student placements, the case-management extracts (children's episodes,
allocations, assessments, visits, reviews, IRO visits) and the casework audits.

The story, as a board would tell it:

- 14 teams in the council's own words (the front door and MASH, three assessment and child-in-need
  teams, two child-in-need teams, three protection and care teams, two looked-after-children teams,
  leaving care, children with disabilities, the independent reviewing service), about 120 established
  posts;
- two years ago about half the qualified social workers were agency staff; the workforce strategy
  replaces them with permanent hires (some agency workers convert), newly qualified social workers in
  their ASYE year among them, so the permanent rate climbs past 75 %;
- open cases fall from about 1,800 to about 1,500 while the posts fill, so the average caseload falls
  from over 20 towards 16, except in three teams that still struggle (ACIN3, PC2, LAC2: more vacancies,
  agency churn, so caseloads over 20, late visits and children who have had four or more workers);
- assessments mostly within 45 working days, CP visits every 10 working days and CLA visits every six
  weeks (some late), reviews with IRO visits between them, monthly casework audits with a mix of grades
  that improves, and a few Social Work England registrations expiring in the coming weeks.

Everything is drawn from one ``random.Random(seed)`` in a fixed order, so the same seed and day give
the same records. ``scale`` shrinks the council (posts and cases; the 14 teams stay) for quick tests.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from steadfast_shared.codes import CASE_HOLDING_ROLES, Role
from steadfast_shared.dates import add_working_days, is_working_day

#: Two years of history, ending on ``today``.
HISTORY_DAYS = 728
#: The simulation starts this long before the history, so that the first snapshot's trailing window
#: (182 days) has its assessments and audits.
LEAD_IN_DAYS = 200


@dataclass(frozen=True)
class TeamSpec:
    code: str
    name: str
    #: What the team holds: front_door, assessment, cin, cp, cla, iro.
    function: str
    #: Established case-holding posts (IROs for the reviewing service), at scale 1.
    posts: int
    #: A team still struggling at the end of the two years.
    struggling: bool = False


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec("MASH", "Front Door and MASH", "front_door", 5),
    TeamSpec("ACIN1", "Assessment and Child in Need 1", "assessment", 9),
    TeamSpec("ACIN2", "Assessment and Child in Need 2", "assessment", 9),
    TeamSpec("ACIN3", "Assessment and Child in Need 3", "assessment", 9, struggling=True),
    TeamSpec("CIN1", "Child in Need 1", "cin", 9),
    TeamSpec("CIN2", "Child in Need 2", "cin", 9),
    TeamSpec("PC1", "Protection and Care 1", "cp", 9),
    TeamSpec("PC2", "Protection and Care 2", "cp", 8, struggling=True),
    TeamSpec("PC3", "Protection and Care 3", "cp", 9),
    TeamSpec("LAC1", "Looked After Children 1", "cla", 8),
    TeamSpec("LAC2", "Looked After Children 2", "cla", 8, struggling=True),
    TeamSpec("LC1", "Leaving Care", "cla", 5),
    TeamSpec("CWD1", "Children with Disabilities", "cwd", 5),
    TeamSpec("IRO", "Independent Reviewing Service", "iro", 5),
)
BY_CODE = {t.code: t for t in TEAMS}

FIRST_NAMES = (
    "Amara", "Ben", "Chloe", "Daniel", "Eleanor", "Farah", "George", "Hannah", "Imran", "Jade", "Kwame",
    "Laura", "Mohammed", "Niamh", "Oliver", "Priya", "Rhys", "Sophie", "Tom", "Usha", "Victoria",
    "William", "Yasmin", "Zainab", "Aisha", "Callum", "Deborah", "Emeka", "Fiona", "Gurpreet", "Harriet",
    "Isaac", "Joanne", "Kieran", "Leah", "Marcus", "Nadia", "Owen", "Patience", "Rebecca", "Samuel",
    "Tariq", "Bethany", "Connor", "Grace", "Joseph", "Kate", "Lewis", "Megan", "Ruth",
)  # fmt: skip
LAST_NAMES = (
    "Okafor", "Hughes", "Singh", "Price", "Ahmed", "Brown", "Campbell", "Davies", "Evans", "Fletcher",
    "Green", "Hussain", "Iqbal", "Jones", "Khan", "Lewis", "Mensah", "Murphy", "Nowak", "O'Brien",
    "Patel", "Quinn", "Roberts", "Shah", "Taylor", "Walker", "Williams", "Wright", "Begum", "Clarke",
    "Edwards", "Francis", "Gordon", "Harris", "Kaur", "Morgan", "Osei", "Parker", "Reid", "Thompson",
)  # fmt: skip
UNIVERSITIES = (
    "Royal Holloway, University of London",
    "Brunel University London",
    "University of Reading",
    "Buckinghamshire New University",
)


@dataclass
class Worker:
    external_id: str
    display_name: str
    role: Role
    team: str
    fte: float
    employment_type: str
    start_date: date
    end_date: date | None = None
    leaving_reason: str | None = None
    asye_start: date | None = None
    protected_development_pct: int | None = None
    swe_registration_number: str | None = None
    swe_registration_expiry: date | None = None
    #: Dated changes of terms after the start: (day, role, employment type).
    changes: list[tuple[date, Role, str]] = field(default_factory=list)
    #: The established post the worker's slot is (None for students).
    post: str | None = None

    def in_post(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day < self.end_date)

    def terms_on(self, day: date) -> tuple[Role, str]:
        role, employment = self.role, self.employment_type
        for when, new_role, new_employment in self.changes:
            if when <= day:
                role, employment = new_role, new_employment
        return role, employment

    @property
    def holds_cases(self) -> bool:
        return self.role in CASE_HOLDING_ROLES or self.role is Role.student

    def capacity(self, day: date) -> float:
        """A full caseload's share: FTE, consultant practitioners half, NQSWs 0.9 (the shipped weights)."""
        role, _ = self.terms_on(day)
        weight = 0.5 if role is Role.consultant_practitioner else 1.0
        nqsw = self.asye_start is not None and self.asye_start <= day < self.asye_start + relativedelta(
            years=1
        )
        if role is Role.student:
            return 0.25
        return self.fte * weight * (0.9 if nqsw else 1.0)


@dataclass(frozen=True)
class Post:
    external_id: str
    team: str
    role: Role
    fte: float
    start_date: date
    #: Who held it (permanent or fixed-term workers): (worker external id, from, to).
    holdings: tuple[tuple[str, date, date | None], ...]


@dataclass(frozen=True)
class Placement:
    external_id: str
    student: str
    university: str
    placement: str
    team: str
    start_date: date
    end_date: date


@dataclass
class Episode:
    kind: str
    start: date
    end: date | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.kind, self.start, self.end))


@dataclass
class Allocation:
    worker: str
    start: date
    end: date | None = None
    reason: str | None = None


@dataclass
class Child:
    external_id: str
    #: [episode_type, start, end]
    episodes: list[Episode] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    assessment: tuple[date, date | None] | None = None
    visits: list[tuple[date, str]] = field(default_factory=list)
    reviews: list[date] = field(default_factory=list)
    iro_visits: list[date] = field(default_factory=list)
    # simulation state
    stage: str = ""
    team: str = ""
    stage_end: date | None = None
    #: While at the front door: the day the assessment that follows is completed.
    assessment_due: date | None = None

    @property
    def current(self) -> Allocation | None:
        last = self.allocations[-1] if self.allocations else None
        return last if last is not None and last.end is None else None


@dataclass
class DemoCouncil:
    """The generated council: every record, and the CSV extracts the services import."""

    today: date
    seed: int
    scale: float
    history_start: date
    teams: tuple[TeamSpec, ...]
    workers: list[Worker]
    posts: list[Post]
    placements: list[Placement]
    children: list[Child]
    audits: list[dict[str, str]]

    # -- the extracts, as the services' import endpoints read them (docs/imports.md) --------------

    def csv(self, kind: str) -> str:
        """``workers``, ``worker_changes``, ``children``, ``allocations``, ``assessments``, ``visits``,
        ``reviews``, ``iro_visits`` or ``audits``: the file's text."""
        return _csv(self.rows(kind))

    def rows(self, kind: str) -> list[dict[str, str]]:
        return getattr(self, f"_{kind}_rows")()

    def _workers_rows(self) -> list[dict[str, str]]:
        return [_worker_row(w, w.role, w.employment_type, w.start_date) for w in self.workers]

    def _worker_changes_rows(self) -> list[dict[str, str]]:
        rows = []
        for w in self.workers:
            for day, role, employment in w.changes:
                rows.append(_worker_row(w, role, employment, day))
        return rows

    def _children_rows(self) -> list[dict[str, str]]:
        return [
            {
                "external_id": c.external_id,
                "episode_type": str(kind),
                "episode_start": _iso(start),
                "episode_end": _iso(end),
            }
            for c in self.children
            for kind, start, end in c.episodes
        ]

    def _allocations_rows(self) -> list[dict[str, str]]:
        return [
            {
                "child_external_id": c.external_id,
                "worker_external_id": a.worker,
                "start_date": a.start.isoformat(),
                "end_date": _iso(a.end),
                "reason": a.reason or "",
            }
            for c in self.children
            for a in c.allocations
        ]

    def _assessments_rows(self) -> list[dict[str, str]]:
        return [
            {
                "external_id": f"AS-{c.external_id.removeprefix('CH-')}",
                "child_external_id": c.external_id,
                "start_date": c.assessment[0].isoformat(),
                "completed_date": _iso(c.assessment[1]),
            }
            for c in self.children
            if c.assessment is not None
        ]

    def _visits_rows(self) -> list[dict[str, str]]:
        return [
            {"child_external_id": c.external_id, "visit_date": day.isoformat(), "visit_type": kind}
            for c in self.children
            for day, kind in c.visits
        ]

    def _reviews_rows(self) -> list[dict[str, str]]:
        return [
            {"child_external_id": c.external_id, "review_date": d.isoformat()}
            for c in self.children
            for d in c.reviews
        ]

    def _iro_visits_rows(self) -> list[dict[str, str]]:
        return [
            {"child_external_id": c.external_id, "visit_date": d.isoformat()}
            for c in self.children
            for d in c.iro_visits
        ]

    def _audits_rows(self) -> list[dict[str, str]]:
        return self.audits

    # -- what the story says, counted straight from the records (for tests and the loader's report) -

    def open_cases(self, day: date) -> int:
        return sum(1 for c in self.children if any(_active(e.start, e.end, day) for e in c.episodes))

    def permanent_rate(self, day: date) -> float:
        """Non-agency FTE / FTE of the qualified workers in post, in %."""
        total = perm = 0.0
        for w in self.workers:
            if not w.in_post(day):
                continue
            role, employment = w.terms_on(day)
            if role is Role.student:
                continue
            total += w.fte
            perm += w.fte if employment != "agency" else 0.0
        return 100 * perm / total if total else 0.0

    def caseloads(self, day: date, team: str | None = None) -> dict[str, float]:
        """Children allocated per case-holding worker in post (by external id), over their capacity."""
        load: dict[str, int] = {}
        for c in self.children:
            for a in c.allocations:
                if _active(a.start, a.end, day):
                    load[a.worker] = load.get(a.worker, 0) + 1
        out = {}
        for w in self.workers:
            role, _ = w.terms_on(day)
            if w.in_post(day) and role in CASE_HOLDING_ROLES and (team is None or w.team == team):
                out[w.external_id] = load.get(w.external_id, 0) / w.capacity(day)
        return out

    def average_caseload(self, day: date, team: str | None = None) -> float:
        load: dict[str, int] = {}
        for c in self.children:
            for a in c.allocations:
                if _active(a.start, a.end, day):
                    load[a.worker] = load.get(a.worker, 0) + 1
        held = capacity = 0.0
        for w in self.workers:
            role, _ = w.terms_on(day)
            if w.in_post(day) and role in CASE_HOLDING_ROLES and (team is None or w.team == team):
                held += load.get(w.external_id, 0)
                capacity += w.capacity(day)
        return held / capacity if capacity else 0.0


def _iso(day: object) -> str:
    return day.isoformat() if isinstance(day, date) else ""


def _active(start: date, end: date | None, day: date) -> bool:
    return start <= day and (end is None or day < end)


def _csv(rows: Sequence[dict[str, str]]) -> str:
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _worker_row(w: Worker, role: Role, employment: str, effective: date) -> dict[str, str]:
    return {
        "external_id": w.external_id,
        "display_name": w.display_name,
        "role": str(role),
        "employment_type": employment,
        "fte": f"{w.fte:g}",
        "team": w.team,
        "start_date": w.start_date.isoformat(),
        "end_date": _iso(w.end_date),
        "leaving_reason": w.leaving_reason or "",
        "asye_start": _iso(w.asye_start),
        "protected_development_pct": ""
        if w.protected_development_pct is None
        else str(w.protected_development_pct),
        "swe_registration_number": w.swe_registration_number or "",
        "swe_registration_expiry": _iso(w.swe_registration_expiry),
        "effective_date": effective.isoformat(),
    }


# --------------------------------------------------------------------------------------------------
# The simulation
# --------------------------------------------------------------------------------------------------


def build_demo_council(today: date, seed: int = 2015, *, scale: float = 1.0) -> DemoCouncil:
    """The demo council whose history ends on ``today`` (see the module's docstring)."""
    if not 0 < scale <= 2:
        raise ValueError("scale is a fraction of the full council, in (0, 2]")
    return _Simulation(today, seed, scale).run()


class _Simulation:
    def __init__(self, today: date, seed: int, scale: float) -> None:
        self.today = today
        self.seed = seed
        self.scale = scale
        self.rng = random.Random(f"steadfast-demo:{seed}")
        self.history_start = today - timedelta(days=HISTORY_DAYS)
        self.start = self.history_start - timedelta(days=LEAD_IN_DAYS)
        self.workers: list[Worker] = []
        self.by_id: dict[str, Worker] = {}
        self.slots: list[_Slot] = []
        self.children: list[Child] = []
        self.load: dict[str, set[str]] = {}
        self.child_by_id: dict[str, Child] = {}
        self.audits: list[dict[str, str]] = []
        self.placements: list[Placement] = []
        self._names: set[str] = set()
        self._registrations: set[str] = set()

    # -- time: how far the strategy has got (0 before the history starts, 1 today) ---------------------

    def progress(self, day: date) -> float:
        return min(1.0, max(0.0, (day - self.history_start).days / HISTORY_DAYS))

    # -- people -------------------------------------------------------------------------------------

    def name(self) -> str:
        while True:
            candidate = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
            if candidate not in self._names or len(self._names) > 1500:
                self._names.add(candidate)
                return candidate

    def registration(self) -> str:
        while True:
            number = f"SW{self.rng.randrange(100000, 999999)}"
            if number not in self._registrations:
                self._registrations.add(number)
                return number

    def hire(self, slot: _Slot, day: date, employment: str, *, back_dated: bool = False) -> Worker:
        rng = self.rng
        n = len(self.workers) + 1
        role = slot.role
        if role is Role.social_worker and employment != "agency":
            roll = rng.random()
            role = Role.senior_social_worker if roll < 0.18 else Role.social_worker
        elif role is Role.social_worker and rng.random() < 0.25:
            role = Role.senior_social_worker
        start = day
        if back_dated:
            years = rng.uniform(0.1, 9.0) if employment != "agency" else rng.uniform(0.05, 0.6)
            start = day - timedelta(days=int(years * 365))
        fte = 1.0 if employment == "agency" else rng.choice((1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.8, 0.6))
        asye = None
        if role is Role.social_worker and employment != "agency":
            nqsw_share = 0.15 + 0.2 * self.progress(day)
            if back_dated and rng.random() < 0.12:
                asye = start = day - timedelta(days=rng.randrange(30, 300))
            elif not back_dated and rng.random() < nqsw_share:
                asye = start
        worker = Worker(
            external_id=f"HR-{1000 + n}",
            display_name=self.name(),
            role=role,
            team=slot.team,
            fte=fte,
            employment_type=employment,
            start_date=start,
            asye_start=asye,
            protected_development_pct=rng.choice((10, 10, 15, 20)) if asye else None,
            swe_registration_number=self.registration(),
            post=slot.post,
        )
        # Registrations are renewed yearly: the next expiry within the coming year, a few within weeks.
        worker.swe_registration_expiry = self.today + timedelta(
            days=rng.randrange(4, 45) if rng.random() < 0.07 else rng.randrange(45, 365)
        )
        self.workers.append(worker)
        self.by_id[worker.external_id] = worker
        self.load[worker.external_id] = set()
        return worker

    # -- the run ------------------------------------------------------------------------------------

    def run(self) -> DemoCouncil:
        self.establish()
        self.legacy_children()
        day = self.start
        while day <= self.today:
            self.workforce_day(day)
            self.children_day(day)
            self.students_day(day)
            if is_working_day(day):
                self.audit_day(day)
            day += timedelta(days=1)
        for child in self.children:
            self.casework(child)
        keep_from = self.start
        children = [c for c in self.children if _last_day(c) is None or _last_day(c) >= keep_from]  # type: ignore[operator]
        posts = [
            Post(
                external_id=s.post,
                team=s.team,
                role=s.role,
                fte=1.0,
                start_date=s.established,
                holdings=tuple(
                    (w.external_id, h_start, w.end_date) for w, h_start in s.holders if h_start is not None
                ),
            )
            for s in self.slots
        ]
        return DemoCouncil(
            today=self.today,
            seed=self.seed,
            scale=self.scale,
            history_start=self.history_start,
            teams=TEAMS,
            workers=self.workers,
            posts=posts,
            placements=self.placements,
            children=children,
            audits=self.audits,
        )

    # -- the establishment and the workforce ---------------------------------------------------------

    def establish(self) -> None:
        rng = self.rng
        established = self.start - timedelta(days=3 * 365)
        for team in TEAMS:
            n = max(1, round(team.posts * self.scale))
            roles: list[Role] = []
            if team.function == "iro":
                roles = [Role.independent_reviewing_officer] * n
            else:
                roles = [Role.social_worker] * n
                if n >= 6:
                    roles[0] = Role.consultant_practitioner
            roles.append(Role.practice_manager)
            for k, role in enumerate(roles, start=1):
                slot = _Slot(
                    post=f"EST-{team.code}-{k:02d}",
                    team=team.code,
                    role=role,
                    struggling=team.struggling,
                    established=established,
                )
                self.slots.append(slot)
                # Who holds it on the first day: managers and IROs mostly permanent, social workers
                # about half agency, and some vacant.
                if role in (Role.practice_manager, Role.independent_reviewing_officer):
                    employment = "agency" if rng.random() < 0.2 else "permanent"
                    slot.occupy(self.hire(slot, self.start, employment, back_dated=True), self, self.start)
                    continue
                roll = rng.random()
                vacant = 0.2 if team.struggling else 0.12
                if roll < vacant:
                    slot.vacant_until = self.start + timedelta(days=rng.randrange(10, 120))
                    continue
                employment = "agency" if roll < vacant + (0.58 if team.struggling else 0.5) else "permanent"
                slot.occupy(self.hire(slot, self.start, employment, back_dated=True), self, self.start)

    def workforce_day(self, day: date) -> None:
        for slot in self.slots:
            slot.step(self, day)
        for placement in self.placements:
            if placement.end_date == day:
                self.release(self.by_id[placement.student], day)

    def permanent_chance(self, slot: _Slot, day: date) -> float:
        """How likely a post is filled permanently when it is filled on ``day``: the strategy works."""
        p = self.progress(day)
        if slot.role in (Role.practice_manager, Role.independent_reviewing_officer):
            return 0.7 + 0.25 * p
        return 0.3 + (0.15 if slot.struggling else 0.5) * p

    def leave(self, worker: Worker, day: date, reason: str) -> None:
        worker.end_date = day
        worker.leaving_reason = reason
        self.release(worker, day)

    def release(self, worker: Worker, day: date) -> None:
        """The worker's children go to others in their teams from ``day``."""
        for child_id in sorted(self.load[worker.external_id]):
            child = self.child_by_id[child_id]
            self.end_allocation(child, day)
            self.allocate(child, child.team, day, "LEFTRL", avoid=worker.external_id)

    def rebalance(self, worker: Worker, day: date) -> None:
        """A new starter picks up a share of the team's cases from the busiest workers."""
        if not worker.holds_cases:
            return
        team = self.holders(worker.team, day)
        if len(team) < 2:
            return
        total = sum(len(self.load[w.external_id]) for w in team)
        share = int(total / sum(w.capacity(day) for w in team) * worker.capacity(day) * 0.25)
        for _ in range(share):
            busiest = max(
                (w for w in team if w is not worker),
                key=lambda w: (len(self.load[w.external_id]) / w.capacity(day), w.external_id),
            )
            movable = sorted(
                c
                for c in self.load[busiest.external_id]
                if self.child_by_id[c].current.start < day  # type: ignore[union-attr]
            )
            if not movable:
                return
            child = self.child_by_id[self.rng.choice(movable)]
            self.end_allocation(child, day)
            self.start_allocation(child, worker, day, "MANAGE")

    def holders(self, team: str, day: date) -> list[Worker]:
        return [
            s.occupant
            for s in self.slots
            if s.team == team
            and s.occupant is not None
            and s.occupant.in_post(day)
            and s.occupant.role in CASE_HOLDING_ROLES
        ]

    # -- children -----------------------------------------------------------------------------------

    def new_child(self) -> Child:
        child = Child(external_id=f"CH-{100001 + len(self.children)}")
        self.children.append(child)
        self.child_by_id[child.external_id] = child
        return child

    def arrivals_per_day(self, day: date) -> float:
        """Referrals that become assessments: fewer as early help takes the lower-level need."""
        return (4.5 - 2.3 * self.progress(day)) * self.scale

    def legacy_children(self) -> None:
        """The children open on the first day, with their episodes back-dated."""
        rng = self.rng
        plan = (("assessment", 190), ("cin", 1150), ("cp", 220), ("cla", 360))
        for stage, count in plan:
            for _ in range(round(count * self.scale)):
                child = self.new_child()
                if stage == "assessment":
                    start = self.start - timedelta(days=rng.randrange(1, 50))
                    self.begin_assessment(child, start, from_mash=False, on=self.start)
                    continue
                earlier = self.start - timedelta(days=rng.randrange(20, 900 if stage == "cla" else 300))
                child.episodes.append(
                    Episode("assessment", earlier - timedelta(days=rng.randrange(25, 70)), earlier)
                )
                self.begin(child, stage, earlier, on=self.start)

    def children_day(self, day: date) -> None:
        rng = self.rng
        rate = self.arrivals_per_day(day)
        for _ in range(_poisson(rng, rate)):
            child = self.new_child()
            self.begin_assessment(child, day, from_mash=rng.random() < 0.4, on=day)
        for child in [c for c in self.children if c.stage_end == day]:
            self.next_stage(child, day)

    def begin_assessment(self, child: Child, start: date, *, from_mash: bool, on: date) -> None:
        rng = self.rng
        team = self.pick_team("assessment", start)
        struggling = BY_CODE[team].struggling
        p = self.progress(start)
        within = 0.84 + 0.11 * p - (0.12 if struggling else 0.0)
        took = rng.randrange(15, 45) if rng.random() < within else rng.randrange(46, 75)
        completed = add_working_days(start, took)
        child.episodes.append(Episode("assessment", start))
        child.assessment = (start, completed)
        child.team = team
        if from_mash:
            child.stage = "mash"
            child.stage_end = add_working_days(start, rng.randrange(1, 4))
            self.allocate(child, "MASH", on, None)
            child.team = team
            child.assessment_due = completed
        else:
            child.stage = "assessment"
            child.stage_end = completed if completed > on else on + timedelta(days=rng.randrange(1, 20))
            child.assessment = (start, max(completed, child.stage_end))
            self.allocate(child, team, on, None)

    def begin(self, child: Child, stage: str, start: date, *, on: date, same_worker: bool = False) -> None:
        """Start a CIN, CP or CLA episode on ``start``, allocated from ``on``."""
        rng = self.rng
        child.episodes.append(Episode(stage, start))
        means = {"cin": 420, "cp": 330, "cla": 1200}
        length = max(14, int(rng.expovariate(1 / means[stage])))
        end = start + timedelta(days=length)
        if end <= on:
            end = on + timedelta(days=rng.randrange(1, 120 if stage != "cla" else 600))
        child.stage, child.stage_end = stage, end
        team = child.team if same_worker else self.pick_team(stage, start)
        child.team = team
        if not same_worker or child.current is None:
            if child.current is not None:
                self.end_allocation(child, on)
            self.allocate(child, team, on, "TSPROC" if child.allocations else None)

    def next_stage(self, child: Child, day: date) -> None:
        rng = self.rng
        stage = child.stage
        if stage == "mash":
            # The front door hands over to the assessment team.
            child.stage = "assessment"
            child.stage_end = child.assessment_due
            self.end_allocation(child, day)
            self.allocate(child, child.team, day, "TSPROC")
            return
        _close_episode(child, day)
        roll = rng.random()
        if stage == "assessment":
            if roll < 0.32:
                self.close(child, day)
            elif roll < 0.8:
                stay = rng.random() < 0.5
                self.begin(child, "cin", day, on=day, same_worker=stay)
            elif roll < 0.93:
                self.begin(child, "cp", day, on=day)
            else:
                self.begin(child, "cla", day, on=day)
        elif stage == "cin":
            if roll < 0.85:
                self.close(child, day)
            else:
                self.begin(child, "cp", day, on=day)
        elif stage == "cp":
            if roll < 0.5:
                self.begin(child, "cin", day, on=day, same_worker=True)
            elif roll < 0.62:
                self.begin(child, "cla", day, on=day)
            else:
                self.close(child, day)
        else:
            self.close(child, day)

    def close(self, child: Child, day: date) -> None:
        self.end_allocation(child, day)
        child.stage, child.stage_end = "closed", None

    def pick_team(self, stage: str, day: date) -> str:
        rng = self.rng
        if stage == "assessment":
            options: tuple[tuple[str, float], ...] = (("ACIN1", 1.0), ("ACIN2", 1.0), ("ACIN3", 1.35))
        elif stage == "cin":
            options = (
                ("ACIN1", 0.2),
                ("ACIN2", 0.2),
                ("ACIN3", 0.25),
                ("CIN1", 1.0),
                ("CIN2", 1.0),
                ("CWD1", 0.45),
            )
        elif stage == "cp":
            options = (("PC1", 1.0), ("PC2", 1.4), ("PC3", 1.0))
        else:
            options = (("LAC1", 1.0), ("LAC2", 1.4), ("LC1", 0.55), ("CWD1", 0.2))
        codes = [c for c, _ in options]
        return rng.choices(codes, weights=[w for _, w in options])[0]

    # -- allocations ----------------------------------------------------------------------------------

    def allocate(
        self, child: Child, team: str, day: date, reason: str | None, avoid: str | None = None
    ) -> None:
        """Allocate to the team's worker with the most room (of three asked), else a neighbour team's."""
        candidates = [w for w in self.holders(team, day) if w.external_id != avoid]
        students = [
            self.by_id[p.student]
            for p in self.placements
            if p.team == team and p.start_date <= day < p.end_date and len(self.load[p.student]) < 3
        ]
        if students and self.rng.random() < 0.3:
            candidates = students
        if not candidates:
            function = BY_CODE[team].function
            for other in TEAMS:
                if other.function == function and other.code != team:
                    candidates += [w for w in self.holders(other.code, day) if w.external_id != avoid]
        if not candidates:
            candidates = [
                w
                for t in TEAMS
                if t.function != "iro"
                for w in self.holders(t.code, day)
                if w.external_id != avoid
            ]
        asked = self.rng.sample(candidates, min(3, len(candidates)))
        worker = min(
            asked, key=lambda w: ((len(self.load[w.external_id]) + 1) / w.capacity(day), w.external_id)
        )
        self.start_allocation(child, worker, day, reason)

    def start_allocation(self, child: Child, worker: Worker, day: date, reason: str | None) -> None:
        last = child.allocations[-1] if child.allocations else None
        if last is not None and last.worker == worker.external_id and last.end == day:
            last.end = None  # back to the same worker the same day: the allocation just goes on
        else:
            child.allocations.append(Allocation(worker.external_id, day, reason=reason))
        self.load[worker.external_id].add(child.external_id)

    def end_allocation(self, child: Child, day: date) -> None:
        current = child.current
        if current is None:
            return
        self.load[current.worker].discard(child.external_id)
        if current.start >= day:
            child.allocations.pop()  # started today: as if it never was
        else:
            current.end = day

    # -- students -------------------------------------------------------------------------------------

    def students_day(self, day: date) -> None:
        """Students on placement: a first and a second placement start each term in the bigger teams."""
        if day.month not in (1, 9) or day.day != 8:
            return
        rng = self.rng
        hosts = [t.code for t in TEAMS if t.function in ("assessment", "cin", "cp")]
        for k in range(max(1, round(3 * self.scale))):
            slot = _Slot(
                post="", team=rng.choice(hosts), role=Role.student, struggling=False, established=day
            )
            student = self.hire(slot, day, "fixed_term")
            student.role = Role.student
            student.asye_start = None
            student.protected_development_pct = None
            student.swe_registration_number = None
            student.swe_registration_expiry = None
            student.post = None
            end = day + timedelta(days=rng.randrange(95, 125))
            student.end_date = end
            student.leaving_reason = "end_of_contract"
            if end > self.today:
                student.end_date, student.leaving_reason = None, None
            self.placements.append(
                Placement(
                    external_id=f"SP-{day.year}-{day.month:02d}-{k + 1}",
                    student=student.external_id,
                    university=rng.choice(UNIVERSITIES),
                    placement=rng.choice(("first", "second")),
                    team=slot.team,
                    start_date=day,
                    end_date=end,
                )
            )

    # -- casework: visits, reviews, IRO visits (after the simulation: they follow the episodes) ------

    def casework(self, child: Child) -> None:
        rng = self.rng
        first_visit = self.history_start - timedelta(days=45)
        teams = {a.start: self.by_id[a.worker].team for a in child.allocations}
        for kind, start, end in child.episodes:
            assert isinstance(start, date)
            stop = (
                min(end, self.today + timedelta(days=1))
                if isinstance(end, date)
                else self.today + timedelta(days=1)
            )
            if kind not in ("cp", "cla") or stop <= first_visit:
                continue
            team = _team_on(teams, start)
            struggling = team is not None and BY_CODE[team].struggling
            day = start
            while True:
                p = self.progress(day)
                late = (0.3 if struggling else 0.18) - 0.1 * p
                if kind == "cp":
                    gap = rng.randrange(12, 21) if rng.random() < late else rng.randrange(7, 11)
                    day = add_working_days(day, gap)
                else:
                    gap = rng.randrange(45, 70) if rng.random() < late else rng.randrange(30, 43)
                    day = day + timedelta(days=gap)
                if day >= stop:
                    break
                if day >= first_visit:
                    child.visits.append((day, str(kind)))
            # reviews: CP at 3 months then every 6; CLA at 20 working days, 3 months, then every 6
            review = add_working_days(start, 20) if kind == "cla" else start + relativedelta(months=3)
            steps = [relativedelta(months=3)] if kind == "cla" else []
            previous: date | None = None
            while review < stop and review <= self.today:
                if review >= self.history_start - timedelta(days=240):
                    child.reviews.append(review)
                    if previous is not None and rng.random() < 0.8 + 0.15 * self.progress(review):
                        child.iro_visits.append(previous + timedelta(days=(review - previous).days // 2))
                previous = review
                review = review + (steps.pop(0) if steps else relativedelta(months=6))
        child.reviews = sorted(set(child.reviews))
        child.iro_visits = sorted(set(child.iro_visits))

    # -- audits -------------------------------------------------------------------------------------

    def audit_day(self, day: date) -> None:
        """About two casework audits per case-holding team a month, graded better as practice improves."""
        if day < self.history_start - timedelta(days=200):
            return
        rng = self.rng
        for team in TEAMS:
            if team.function == "iro" or rng.random() > 0.1 * max(self.scale, 0.3):
                continue
            held = [(c, w) for w in self.holders(team.code, day) for c in sorted(self.load[w.external_id])]
            if not held:
                continue
            child_id, worker = rng.choice(held)
            p = self.progress(day)
            good = 0.5 + 0.3 * p - (0.15 if team.struggling else 0.0)
            inadequate = 0.13 - 0.08 * p + (0.05 if team.struggling else 0.0)
            roll = rng.random()
            if roll < good * 0.12:
                grade = "outstanding"
            elif roll < good:
                grade = "good"
            elif roll < 1 - inadequate:
                grade = "requires_improvement"
            else:
                grade = "inadequate"
            full = rng.random() < 0.75
            moderated = ""
            if full and rng.random() < 0.12:
                moderated = rng.choice(("good", "requires_improvement", grade))
            self.audits.append(
                {
                    "external_id": f"AU-{len(self.audits) + 1:05d}",
                    "child_external_id": child_id,
                    "worker_external_id": worker.external_id,
                    "team": team.code,
                    "audit_type": "full" if full else "dip_sample",
                    "completed_date": day.isoformat(),
                    "overall_grade": grade,
                    "contact_grade": rng.choice(("good", "good", "outstanding", "requires_improvement"))
                    if full
                    else "",
                    "moderated_grade": moderated,
                }
            )


@dataclass
class _Slot:
    """An established post and who fills it day by day: a permanent holder, agency cover, or nobody."""

    post: str
    team: str
    role: Role
    struggling: bool
    established: date
    occupant: Worker | None = None
    leaves_on: date | None = None
    vacant_until: date | None = None
    #: (worker, the day they began to hold the post, or None for agency cover never converted).
    holders: list[tuple[Worker, date | None]] = field(default_factory=list)
    converts_on: date | None = None

    def occupy(self, worker: Worker, sim: _Simulation, day: date) -> None:
        rng = sim.rng
        self.occupant = worker
        self.converts_on = None
        if worker.employment_type == "agency":
            tenure = rng.expovariate(1 / (200 if self.struggling else 300))
            # Under the strategy some agency workers are offered a permanent contract.
            if day >= sim.history_start and rng.random() < 0.12 + 0.1 * sim.progress(day):
                self.converts_on = day + timedelta(days=rng.randrange(60, 200))
            self.holders.append((worker, None))
        else:
            yearly = 0.2 if self.struggling else 0.12
            tenure = rng.expovariate(yearly / 365)
            self.holders.append((worker, max(worker.start_date, self.established)))
        self.leaves_on = day + timedelta(days=max(20, int(tenure)))

    def step(self, sim: _Simulation, day: date) -> None:
        rng = sim.rng
        worker = self.occupant
        if worker is not None:
            if self.converts_on == day and self.leaves_on is not None and day < self.leaves_on:
                worker.changes.append((day, worker.role, "permanent"))
                self.holders[-1] = (worker, day)
                self.converts_on = None
                self.leaves_on = day + timedelta(days=max(60, int(rng.expovariate(0.12 / 365))))
            if self.leaves_on is not None and day >= self.leaves_on:
                if self.leaves_on <= sim.today:
                    _, employment = worker.terms_on(day)
                    reason = (
                        "end_of_contract"
                        if employment == "agency"
                        else rng.choice(
                            (
                                "resignation",
                                "resignation",
                                "resignation",
                                "retirement",
                                "transfer_to_other_la",
                            )
                        )
                    )
                    sim.leave(worker, day, reason)
                self.occupant = None
                gap_days = rng.randrange(0, 21)
                if rng.random() > sim.permanent_chance(self, day) * 0.5 + 0.5:
                    gap_days += rng.randrange(20, 90 if self.struggling else 40)
                self.vacant_until = day + timedelta(days=gap_days)
            return
        if self.vacant_until is not None and day >= self.vacant_until:
            employment = "permanent" if rng.random() < sim.permanent_chance(self, day) else "agency"
            if employment == "permanent" and rng.random() < 0.06:
                employment = "fixed_term"
            hired = sim.hire(self, day, employment)
            self.occupy(hired, sim, day)
            self.vacant_until = None
            sim.rebalance(hired, day)


def _close_episode(child: Child, day: date) -> None:
    for episode in child.episodes:
        if episode.end is None:
            episode.end = day


def _last_day(child: Child) -> date | None:
    """The day the child's last episode ended (None while one is open)."""
    ends = [e.end for e in child.episodes]
    if any(end is None for end in ends):
        return None
    return max(e for e in ends if isinstance(e, date))


def _team_on(teams: dict[date, str], day: date) -> str | None:
    held = [team for start, team in sorted(teams.items()) if start <= day]
    return held[-1] if held else (next(iter(teams.values())) if teams else None)


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: the means here are small)."""
    limit = pow(2.718281828459045, -mean)
    k, product = 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def summary(council: DemoCouncil, days: Iterable[date] | None = None) -> list[dict[str, float]]:
    """The story's figures on each of ``days`` (default: the first day of the history and today)."""
    wanted = list(days) if days is not None else [council.history_start, council.today]
    return [
        {
            "open_cases": council.open_cases(day),
            "permanent_rate": round(council.permanent_rate(day), 1),
            "average_caseload": round(council.average_caseload(day), 1),
        }
        for day in wanted
    ]
