from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from steadfast_shared.schemas import Input, NotNull, with_examples
from steadfast_staff.enums import Role
from steadfast_staff.posts.models import Post, PostHolding
from steadfast_staff.teams.schemas import TeamCode
from steadfast_staff.workers.schemas import ExternalId, Fte

WorkerRefField = Annotated[
    str, Field(min_length=1, max_length=100, description="a worker's id or external_id")
]


class PostCreate(Input):
    model_config = with_examples(
        {
            "external_id": "EST-ACIN1-04",
            "team": "ACIN1",
            "role": "social_worker",
            "fte": 1.0,
            "start_date": "2024-04-01",
        },
        extra="forbid",
    )

    external_id: ExternalId = Field(description="the establishment (HR or finance) system's id for the post")
    team: TeamCode
    role: Role = Field(description="any role but student: an established post is a qualified post")
    fte: Fte
    start_date: date = Field(description="the day the post is established")
    end_date: date | None = Field(default=None, description="the day the post is disestablished")


class PostUpdate(Input):
    """A partial update: only the fields sent change (a null ``end_date`` re-establishes the post)."""

    #: The post is cut to four days a week.
    model_config = with_examples({"fte": 0.8}, extra="forbid")

    team: Annotated[TeamCode | None, NotNull] = None
    role: Annotated[Role | None, NotNull] = None
    fte: Annotated[Fte | None, NotNull] = None
    start_date: Annotated[date | None, NotNull] = None
    end_date: date | None = None


class HoldingCreate(Input):
    model_config = with_examples({"worker": "HR-1001", "start_date": "2024-09-02"}, extra="forbid")

    worker: WorkerRefField
    start_date: date = Field(description="the first day the worker holds the post")
    end_date: date | None = Field(
        default=None,
        description="the first day the worker no longer holds it; default: when the post ends or the "
        "worker leaves, if either is known",
    )


class HoldingEnding(Input):
    model_config = with_examples({"end_date": "2025-02-03"}, extra="forbid")

    end_date: date = Field(description="the first day the worker no longer holds the post")


class HoldingRead(BaseModel):
    id: uuid.UUID
    worker_id: uuid.UUID
    start_date: date
    end_date: date | None

    @classmethod
    def of(cls, holding: PostHolding) -> HoldingRead:
        return cls(
            id=holding.id,
            worker_id=holding.worker_id,
            start_date=holding.start_date,
            end_date=holding.end_date,
        )


class PostRead(BaseModel):
    #: Amara held the ACIN1 post until she moved to PC3.
    model_config = with_examples(
        {
            "id": "8d1f5a27-3c64-4e0a-b2f9-6a7e1d3c5b48",
            "external_id": "EST-ACIN1-04",
            "version": 3,
            "team": "ACIN1",
            "role": "social_worker",
            "fte": 1.0,
            "start_date": "2024-04-01",
            "end_date": None,
            "holdings": [
                {
                    "id": "c4a9e2f1-7b35-4d86-9e0c-2f5b8a1d6e73",
                    "worker_id": "2fc34842-6c1e-4f0b-9d8a-3b5e7a1c9d20",
                    "start_date": "2024-09-02",
                    "end_date": "2025-02-03",
                }
            ],
        }
    )

    id: uuid.UUID
    external_id: str
    version: int
    team: str
    role: Role
    fte: float
    start_date: date
    end_date: date | None
    holdings: list[HoldingRead] = Field(description="who holds the post over time, oldest first")

    @classmethod
    def of(cls, post: Post) -> PostRead:
        return cls(
            id=post.id,
            external_id=post.external_id,
            version=post.version,
            team=post.team_code,
            role=post.role,
            fte=float(post.fte),
            start_date=post.start_date,
            end_date=post.end_date,
            holdings=[HoldingRead.of(h) for h in post.holdings],
        )
