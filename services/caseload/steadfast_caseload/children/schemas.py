from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from steadfast_caseload.children.models import Allocation, Child, Episode
from steadfast_caseload.directory.models import DirectoryWorker
from steadfast_shared.codes import AllocationChangeReason, EpisodeType
from steadfast_shared.schemas import ExternalId, Input, NotNull, Timestamp, with_examples

WorkerRef = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    Field(description="the staff service's worker id, or the worker's external_id"),
]


class ChildCreate(Input):
    model_config = with_examples({"external_id": "LCS-1001"}, extra="forbid")

    external_id: ExternalId = Field(description="the case-management system's id for the child")


class EpisodeCreate(Input):
    """An episode, upserted by (child, episode_type, start_date): sending it again with an end date
    closes it."""

    model_config = with_examples(
        {"episode_type": "cp", "start_date": "2015-01-12", "end_date": None}, extra="forbid"
    )

    episode_type: EpisodeType
    start_date: date
    end_date: date | None = Field(default=None, description="the first day the episode is over")


class EpisodeUpdate(Input):
    model_config = with_examples({"end_date": "2015-06-30"}, extra="forbid")

    end_date: date | None = Field(description="the first day the episode is over; null reopens it")


class AllocationCreate(Input):
    """An allocation of the child to a worker over ``[start_date, end_date)``, upserted by (child,
    worker, start_date)."""

    model_config = with_examples(
        {"worker": "HR-2002", "start_date": "2015-02-02", "end_date": None, "reason": "LEFTRL"},
        extra="forbid",
    )

    worker: WorkerRef
    start_date: date
    end_date: date | None = Field(default=None, description="the handover day: the first day not allocated")
    reason: AllocationChangeReason | None = Field(
        default=None, description="why the child's worker changed to this one (SSDA903 code)"
    )


class AllocationUpdate(Input):
    """A change of an allocation: only the fields sent change (``end_date: null`` reopens it)."""

    model_config = with_examples({"end_date": "2015-03-16", "reason": "MANAGE"}, extra="forbid")

    end_date: date | None = None
    reason: Annotated[AllocationChangeReason | None, NotNull] = None

    @model_validator(mode="after")
    def _something_changes(self) -> AllocationUpdate:
        if not ({"end_date", "reason"} & self.model_fields_set):
            raise ValueError("send end_date, reason or both")
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


_ALLOCATION = {
    "id": "6f1c2b7e-3d4a-4e5f-9a8b-1c2d3e4f5a6b",
    "worker_id": "0b9e8d7c-6a5b-4c3d-8e2f-1a0b9c8d7e6f",
    "worker_external_id": "HR-2001",
    "worker_name": "Asha Patel",
    "start_date": "2015-01-12",
    "end_date": "2015-02-02",
    "reason": None,
}


class AllocationRead(BaseModel):
    model_config = with_examples(_ALLOCATION)

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
    created_at: Timestamp

    @classmethod
    def of(cls, child: Child) -> ChildSummary:
        return cls(
            id=child.id, external_id=child.external_id, version=child.version, created_at=child.created_at
        )


class ChildRead(ChildSummary):
    model_config = with_examples(
        {
            "id": "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d",
            "external_id": "LCS-1001",
            "version": 3,
            "created_at": "2015-01-12T09:30:00Z",
            "episodes": [
                {
                    "id": "7d6c5b4a-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
                    "episode_type": "cp",
                    "start_date": "2015-01-12",
                    "end_date": None,
                }
            ],
            "allocations": [_ALLOCATION],
        }
    )

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
    model_config = with_examples({**_ALLOCATION, "active": False})

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
