"""What a service reads from the staff service's worker events (tolerant of new fields)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict

from steadfast_shared.codes import EmploymentType, Role

#: The staff worker event types whose payload is the worker's whole state.
WORKER_EVENT_PREFIX = "org.steadfast.staff.worker."


class StaffTerms(BaseModel):
    model_config = ConfigDict(extra="ignore")

    effective_from: date
    effective_to: date | None
    role: Role
    team: str
    fte: float
    employment_type: EmploymentType


class StaffWorker(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    external_id: str
    version: int
    display_name: str
    start_date: date
    end_date: date | None
    asye_start: date | None
    asye_end: date | None
    history: list[StaffTerms]


class DirectoryWorkerRead(BaseModel):
    id: uuid.UUID
    external_id: str
    display_name: str | None = None
    start_date: date
    end_date: date | None
    asye_start: date | None
    asye_end: date | None
    version: int
    terms: list[StaffTerms]
