from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from steadfast_shared.schemas import MULTILINE, Input, with_examples
from steadfast_staff.registrations.models import DESCRIPTION_LENGTH, CpdEntry

Description = Annotated[
    str, MULTILINE, StringConstraints(strip_whitespace=True, min_length=1, max_length=DESCRIPTION_LENGTH)
]


class CpdEntryCreate(Input):
    model_config = with_examples(
        {
            "entry_date": "2025-03-14",
            "description": "Read the new practice guidance on contextual safeguarding; discussed with my "
            "practice supervisor how it changes my assessments of risk outside the home.",
            "peer_reflection": True,
        },
        extra="forbid",
    )

    entry_date: date = Field(description="the day of the learning (not in the future)")
    description: Description = Field(description="what was learnt and how it changes practice")
    peer_reflection: bool = Field(description="whether it was reflected on with a peer")


class CpdEntryRead(BaseModel):
    model_config = with_examples(
        {
            "id": "8d7c35a2-5b8e-4f39-a9c4-0a6f3c2b1e77",
            "worker_id": "2fc34842-6c1e-4f0b-9d8a-3b5e7a1c9d20",
            "entry_date": "2025-03-14",
            "description": "Read the new practice guidance on contextual safeguarding.",
            "peer_reflection": True,
            "registration_year": 2025,
            "version": 1,
        }
    )

    id: uuid.UUID
    worker_id: uuid.UUID
    entry_date: date
    description: str
    peer_reflection: bool
    registration_year: int = Field(
        description="the Social Work England registration year it counts towards (1 December to 30 "
        "November, named by the year it ends in)"
    )
    version: int

    @classmethod
    def of(cls, entry: CpdEntry) -> CpdEntryRead:
        return cls(
            id=entry.id,
            worker_id=entry.worker_id,
            entry_date=entry.entry_date,
            description=entry.description,
            peer_reflection=entry.peer_reflection,
            registration_year=entry.registration_year,
            version=entry.version,
        )


class WatchReason(StrEnum):
    registration_lapses = "registration_lapses"
    no_registration_recorded = "no_registration_recorded"
    fewer_than_two_cpd_entries = "fewer_than_two_cpd_entries"
    no_peer_reflection = "no_peer_reflection"


class RegistrationWatch(BaseModel):
    """A worker whose registration lapses before the next renewal window closes, or who is behind on
    the CPD the regulator expects this registration year."""

    model_config = with_examples(
        {
            "worker_id": "2fc34842-6c1e-4f0b-9d8a-3b5e7a1c9d20",
            "external_id": "HR-1001",
            "display_name": "Amara Okafor",
            "team": "PC3",
            "swe_registration_expiry": "2025-11-30",
            "registration_year": 2026,
            "renewal_window_opens": "2026-09-01",
            "renewal_window_closes": "2026-11-30",
            "cpd_entries": 1,
            "peer_reflected_entries": 0,
            "reasons": ["registration_lapses", "fewer_than_two_cpd_entries", "no_peer_reflection"],
        }
    )

    worker_id: uuid.UUID
    external_id: str
    display_name: str
    team: str
    swe_registration_expiry: date | None
    registration_year: int = Field(description="the registration year containing as_of")
    renewal_window_opens: date
    renewal_window_closes: date
    cpd_entries: int = Field(description="CPD entries from the registration year's first day to as_of")
    peer_reflected_entries: int
    reasons: list[WatchReason]
