from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from steadfast_caseload.children.models import Allocation, Child, Episode
from steadfast_caseload.directory.models import DirectoryWorker
from steadfast_shared.codes import AllocationChangeReason, EpisodeType

ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
WorkerRef = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    Field(description="the staff service's worker id, or the worker's external_id"),
]


class ChildCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId = Field(description="the case-management system's id for the child")


class EpisodeCreate(BaseModel):
    """An episode, upserted by (child, episode_type, start_date): sending it again with an end date
    closes it."""

    model_config = ConfigDict(extra="forbid")

    episode_type: EpisodeType
    start_date: date
    end_date: date | None = Field(default=None, description="the first day the episode is over")


class EpisodeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    end_date: date | None = Field(description="the first day the episode is over; null reopens it")


class AllocationCreate(BaseModel):
    """An allocation of the child to a worker over ``[start_date, end_date)``, upserted by (child,
    worker, start_date)."""

    model_config = ConfigDict(extra="forbid")

    worker: WorkerRef
    start_date: date
    end_date: date | None = Field(default=None, description="the handover day: the first day not allocated")
    reason: AllocationChangeReason | None = Field(
        default=None, description="why the child's worker changed to this one (SSDA903 code)"
    )


class AllocationUpdate(BaseModel):
    """A change of an allocation: only the fields sent change (``end_date: null`` reopens it)."""

    model_config = ConfigDict(extra="forbid")

    end_date: date | None = None
    reason: AllocationChangeReason | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> AllocationUpdate:
        if not ({"end_date", "reason"} & self.model_fields_set):
            raise ValueError("send end_date, reason or both")
        if "reason" in self.model_fields_set and self.reason is None:
            raise ValueError("reason cannot be cleared")
        return self


class EpisodeRead(BaseModel):
    id: uuid.UUID
    episode_type: EpisodeType
    start_date: date
    end_date: date | None

    @classmethod
    def of(cls, episode: Episode) -> EpisodeRead:
        return cls(
            id=episode.id,
            episode_type=episode.episode_type,
            start_date=episode.start_date,
            end_date=episode.end_date,
        )


class AllocationRead(BaseModel):
    id: uuid.UUID
    worker_id: uuid.UUID
    worker_external_id: str | None = Field(description="from the worker directory")
    worker_name: str | None = Field(description="from the worker directory")
    start_date: date
    end_date: date | None
    reason: AllocationChangeReason | None

    @classmethod
    def of(cls, allocation: Allocation, workers: Mapping[uuid.UUID, DirectoryWorker]) -> AllocationRead:
        worker = workers.get(allocation.worker_id)
        return cls(
            id=allocation.id,
            worker_id=allocation.worker_id,
            worker_external_id=worker.external_id if worker else None,
            worker_name=worker.display_name if worker else None,
            start_date=allocation.start_date,
            end_date=allocation.end_date,
            reason=allocation.reason,
        )


class ChildSummary(BaseModel):
    id: uuid.UUID
    external_id: str
    version: int
    created_at: datetime

    @classmethod
    def of(cls, child: Child) -> ChildSummary:
        return cls(
            id=child.id, external_id=child.external_id, version=child.version, created_at=child.created_at
        )


class ChildRead(ChildSummary):
    episodes: list[EpisodeRead]
    allocations: list[AllocationRead]

    @classmethod
    def full(cls, child: Child, workers: Mapping[uuid.UUID, DirectoryWorker]) -> ChildRead:
        return cls(
            id=child.id,
            external_id=child.external_id,
            version=child.version,
            created_at=child.created_at,
            episodes=[EpisodeRead.of(e) for e in child.episodes],
            allocations=[AllocationRead.of(a, workers) for a in child.allocations],
        )


class AllocationHistoryItem(AllocationRead):
    active: bool = Field(description="whether the allocation is active on as_of")


class AllocationHistory(BaseModel):
    child_id: uuid.UUID
    child_external_id: str
    as_of: date
    current_run_start: date | None = Field(
        description="the start of the earliest episode of the continuous run active on as_of; null when "
        "the child has no episode active on as_of"
    )
    workers_in_current_run: int | None = Field(
        description="distinct workers allocated on any day from current_run_start to as_of (A, B, A is 2)"
    )
    allocations: list[AllocationHistoryItem] = Field(
        description="every allocation that started on or before as_of, oldest first"
    )
