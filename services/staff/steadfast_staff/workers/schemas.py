from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints, model_validator

from steadfast_shared.schemas import ExternalId, Input, NotNull, with_examples
from steadfast_staff.enums import EmploymentType, LeavingReason, Role
from steadfast_staff.teams.schemas import TeamCode
from steadfast_staff.workers.models import Worker, WorkerTerms

DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
#: Social Work England registration numbers are "SW" and digits, e.g. SW123456.
SweNumber = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^SW\d{1,8}$"),
]
Fte = Annotated[float, Field(gt=0, le=1, description="full-time equivalent, 0 < fte <= 1")]
Percent = Annotated[float, Field(ge=0, le=100)]


class WorkerCreate(Input):
    model_config = with_examples(
        {
            "external_id": "HR-1001",
            "display_name": "Amara Okafor",
            "role": "social_worker",
            "employment_type": "permanent",
            "fte": 1.0,
            "team": "ACIN1",
            "start_date": "2024-09-02",
            "asye_start": "2024-09-02",
            "protected_development_pct": 10,
            "swe_registration_number": "SW123456",
            "swe_registration_expiry": "2025-04-30",
        },
        extra="forbid",
    )

    external_id: ExternalId = Field(description="the HR system's id for the worker")
    display_name: DisplayName
    role: Role
    employment_type: EmploymentType
    fte: Fte
    team: TeamCode
    start_date: date
    end_date: date | None = None
    leaving_reason: LeavingReason | None = None
    asye_start: date | None = None
    asye_end: date | None = Field(default=None, description="defaults to asye_start + 12 months")
    protected_development_pct: Percent | None = None
    swe_registration_number: SweNumber | None = None
    swe_registration_expiry: date | None = None


class WorkerUpdate(Input):
    """A partial update of a worker's details: only the fields sent change (null clears a field)."""

    #: The yearly renewal of a Social Work England registration.
    model_config = with_examples({"swe_registration_expiry": "2026-04-30"}, extra="forbid")

    display_name: Annotated[DisplayName | None, NotNull] = None
    start_date: Annotated[date | None, NotNull] = None
    end_date: date | None = None
    leaving_reason: LeavingReason | None = None
    asye_start: date | None = None
    asye_end: date | None = None
    protected_development_pct: Percent | None = None
    swe_registration_number: SweNumber | None = None
    swe_registration_expiry: date | None = None


class TermsChange(Input):
    """A dated change of role, team, FTE or employment type: fields not sent keep their value."""

    model_config = with_examples({"effective_date": "2025-02-03", "team": "PC3"}, extra="forbid")

    effective_date: date
    role: Annotated[Role | None, NotNull] = None
    team: Annotated[TeamCode | None, NotNull] = None
    fte: Annotated[Fte | None, NotNull] = None
    employment_type: Annotated[EmploymentType | None, NotNull] = None

    @model_validator(mode="after")
    def _something_changes(self) -> TermsChange:
        if not ({"role", "team", "fte", "employment_type"} & self.model_fields_set):
            raise ValueError("send at least one of role, team, fte, employment_type")
        return self


class Leaving(Input):
    model_config = with_examples({"end_date": "2025-08-30", "leaving_reason": "resignation"}, extra="forbid")

    end_date: date = Field(description="the first day the worker is no longer in post")
    leaving_reason: LeavingReason = LeavingReason.unknown


class TermsRead(BaseModel):
    model_config = with_examples(
        {
            "effective_from": "2024-09-02",
            "effective_to": "2025-02-03",
            "role": "social_worker",
            "team": "ACIN1",
            "fte": 1.0,
            "employment_type": "permanent",
        }
    )

    effective_from: date
    effective_to: date | None
    role: Role
    team: str
    fte: float
    employment_type: EmploymentType

    @classmethod
    def of(cls, segment: WorkerTerms) -> TermsRead:
        return cls(
            effective_from=segment.effective_from,
            effective_to=segment.effective_to,
            role=segment.role,
            team=segment.team_code,
            fte=float(segment.fte),
            employment_type=segment.employment_type,
        )


class WorkerRead(BaseModel):
    """A worker. ``role``, ``employment_type``, ``fte`` and ``team`` are the terms in force on the date
    asked for (a list's ``as_of``), else the latest terms; ``history`` has every dated segment."""

    #: Amara after her move from ACIN1 to PC3 (the README's tour).
    model_config = with_examples(
        {
            "id": "2fc34842-6c1e-4f0b-9d8a-3b5e7a1c9d20",
            "external_id": "HR-1001",
            "version": 2,
            "display_name": "Amara Okafor",
            "role": "social_worker",
            "employment_type": "permanent",
            "fte": 1.0,
            "team": "PC3",
            "start_date": "2024-09-02",
            "end_date": None,
            "leaving_reason": None,
            "asye_start": "2024-09-02",
            "asye_end": "2025-09-02",
            "protected_development_pct": 10.0,
            "swe_registration_number": "SW123456",
            "swe_registration_expiry": "2025-04-30",
            "history": [
                {
                    "effective_from": "2024-09-02",
                    "effective_to": "2025-02-03",
                    "role": "social_worker",
                    "team": "ACIN1",
                    "fte": 1.0,
                    "employment_type": "permanent",
                },
                {
                    "effective_from": "2025-02-03",
                    "effective_to": None,
                    "role": "social_worker",
                    "team": "PC3",
                    "fte": 1.0,
                    "employment_type": "permanent",
                },
            ],
        }
    )

    id: uuid.UUID
    external_id: str
    version: int
    display_name: str
    role: Role
    employment_type: EmploymentType
    fte: float
    team: str
    start_date: date
    end_date: date | None
    leaving_reason: LeavingReason | None
    asye_start: date | None
    asye_end: date | None
    protected_development_pct: float | None
    swe_registration_number: str | None
    swe_registration_expiry: date | None
    history: list[TermsRead]

    @classmethod
    def of(cls, worker: Worker, as_of: date | None = None) -> WorkerRead:
        current = (worker.terms_on(as_of) if as_of is not None else None) or worker.current
        return cls(
            id=worker.id,
            external_id=worker.external_id,
            version=worker.version,
            display_name=worker.display_name,
            role=current.role,
            employment_type=current.employment_type,
            fte=float(current.fte),
            team=current.team_code,
            start_date=worker.start_date,
            end_date=worker.end_date,
            leaving_reason=worker.leaving_reason,
            asye_start=worker.asye_start,
            asye_end=worker.asye_end,
            protected_development_pct=worker.protected_development_pct,
            swe_registration_number=worker.swe_registration_number,
            swe_registration_expiry=worker.swe_registration_expiry,
            history=[TermsRead.of(s) for s in worker.history],
        )


class ExpiringRegistration(BaseModel):
    model_config = with_examples(
        {
            "worker_id": "2fc34842-6c1e-4f0b-9d8a-3b5e7a1c9d20",
            "external_id": "HR-1001",
            "display_name": "Amara Okafor",
            "team": "PC3",
            "swe_registration_number": "SW123456",
            "swe_registration_expiry": "2025-04-30",
            "days_remaining": 46,
        }
    )

    worker_id: uuid.UUID
    external_id: str
    display_name: str
    team: str
    swe_registration_number: str | None
    swe_registration_expiry: date | None
    days_remaining: int | None = Field(
        description="negative when already expired; null when no expiry is recorded"
    )
