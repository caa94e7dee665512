"""The dated facts the KPI engine reads: plain frozen records, loaded from the projections for an
``as_of`` date (:mod:`steadfast_metrics.facts.repository`) or built by hand in the unit tests.

A loader may hand the engine more records than it needs (whole histories, say); the engine applies every
date rule of SPEC section 3 itself, so the answer never depends on how much the loader trimmed.
Every interval is half-open: ``start <= day < end`` (``end`` None: open).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from steadfast_shared.codes import AuditType, EmploymentType, EpisodeType, Grade, Role, VisitType
from steadfast_shared.dates import active_on


@dataclass(frozen=True)
class Terms:
    """One dated segment of a worker's employment history, ``[effective_from, effective_to)``."""

    effective_from: date
    effective_to: date | None
    role: Role
    team: str
    fte: float
    employment_type: EmploymentType


@dataclass(frozen=True)
class Worker:
    id: uuid.UUID
    start_date: date
    end_date: date | None
    terms: Sequence[Terms]
    asye_start: date | None = None
    asye_end: date | None = None
    protected_development_pct: float | None = None
    swe_registration_expiry: date | None = None
    external_id: str = ""
    display_name: str = ""

    def in_post(self, day: date) -> bool:
        return active_on(self.start_date, self.end_date, day)

    def terms_on(self, day: date) -> Terms | None:
        """The terms in force on ``day`` (None outside employment or the recorded history)."""
        if not self.in_post(day):
            return None
        for terms in self.terms:
            if active_on(terms.effective_from, terms.effective_to, day):
                return terms
        return None


@dataclass(frozen=True)
class Holding:
    worker_id: uuid.UUID
    start_date: date
    end_date: date | None


@dataclass(frozen=True)
class Post:
    """An established (funded) post, ``[start_date, end_date)``, and who holds it when."""

    id: uuid.UUID
    team: str
    role: Role
    fte: float
    start_date: date
    end_date: date | None
    holdings: Sequence[Holding] = ()


@dataclass(frozen=True)
class Placement:
    """A student placement (its start date decides the financial year it counts in)."""

    id: uuid.UUID
    team: str
    start_date: date
    end_date: date | None = None


@dataclass(frozen=True)
class Episode:
    child_id: uuid.UUID
    episode_type: EpisodeType
    start_date: date
    end_date: date | None


@dataclass(frozen=True)
class Allocation:
    child_id: uuid.UUID
    worker_id: uuid.UUID
    start_date: date
    end_date: date | None


@dataclass(frozen=True)
class CurrentRun:
    """A child's current continuous run of episodes on a day, as the loader counted it where the rows
    are: the run's first day and the number of distinct workers allocated to the child on at least one
    day of ``[start_date, day]`` (the rules of :mod:`steadfast_metrics.kpis.casework`)."""

    child_id: uuid.UUID
    start_date: date
    workers: int


@dataclass(frozen=True)
class Assessment:
    child_id: uuid.UUID
    start_date: date
    completed_date: date | None


@dataclass(frozen=True)
class Visit:
    child_id: uuid.UUID
    visit_date: date
    visit_type: VisitType


@dataclass(frozen=True)
class Review:
    child_id: uuid.UUID
    review_date: date


@dataclass(frozen=True)
class IroVisit:
    child_id: uuid.UUID
    visit_date: date


@dataclass(frozen=True)
class Audit:
    """An audit as it counts: ``grade`` is the moderated grade when moderated, else the overall grade."""

    id: uuid.UUID
    audit_type: AuditType
    team: str
    completed_date: date | None
    grade: Grade | None
    contact_grade: Grade | None


#: The surveys whose mean scores are KPIs, and their factors (SPEC section 3).
SURVEY_FACTORS: Mapping[str, tuple[str, ...]] = {
    "recruit_reasons": (
        "right_post_right_time",
        "place",
        "development_opportunities",
        "advert_and_communications",
        "terms_and_conditions",
    ),
    "leaver_reasons": ("insufficient_support_supervision", "workload_too_high", "no_career_path"),
    "staff_health_check": (
        "private_space",
        "office_environment",
        "supervision_quality",
        "senior_manager_visibility",
    ),
    "child_family_experience": ("involved_in_decisions", "worker_stability", "contact_quality"),
}


@dataclass(frozen=True)
class SurveyReturn:
    """A returned survey: ``kind`` is a key of :data:`SURVEY_FACTORS`; unanswered factors are absent."""

    kind: str
    returned_date: date
    team: str | None
    scores: Mapping[str, int]


@dataclass(frozen=True)
class Facts:
    """Everything the engine may read for one answer."""

    workers: Sequence[Worker] = ()
    posts: Sequence[Post] = ()
    placements: Sequence[Placement] = ()
    episodes: Sequence[Episode] = ()
    allocations: Sequence[Allocation] = ()
    assessments: Sequence[Assessment] = ()
    visits: Sequence[Visit] = ()
    reviews: Sequence[Review] = ()
    iro_visits: Sequence[IroVisit] = ()
    audits: Sequence[Audit] = ()
    surveys: Sequence[SurveyReturn] = ()
    #: The source system's id of each child (for the watch lists; unused by the engine).
    child_external_ids: Mapping[uuid.UUID, str] = field(default_factory=dict)
    #: The current run of each child with an episode active on ``runs_as_of``, counted by the loader;
    #: on that day the engine takes the runs and their workers from here instead of working them out
    #: from ``episodes`` and ``allocations`` (which then need not hold the children's whole histories).
    #: None (facts built by hand): the engine works them out.
    runs_as_of: date | None = None
    current_runs: Sequence[CurrentRun] = ()
    #: Extra, loader-specific notes (unused by the engine).
    notes: Mapping[str, str] = field(default_factory=dict)
    #: What the engine works out from these facts once and reuses for every answer over them (the
    #: children of each team on a day, the caseloads of a day, each child's count of a KPI): the facts
    #: are immutable, and a day's facts are cached and answer many teams. Not part of the facts: not
    #: compared, not shown.
    memo: dict[object, object] = field(default_factory=dict, init=False, compare=False, repr=False)
