from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from steadfast_staff.enums import Role
from steadfast_staff.posts.models import Post, PostHolding
from steadfast_staff.teams.schemas import TeamCode
from steadfast_staff.workers.schemas import ExternalId, Fte

WorkerRefField = Annotated[
    str, Field(min_length=1, max_length=100, description="a worker's id or external_id")
]


class PostCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId = Field(description="the establishment (HR or finance) system's id for the post")
    team: TeamCode
    role: Role = Field(description="any role but student: an established post is a qualified post")
    fte: Fte
    start_date: date = Field(description="the day the post is established")
    end_date: date | None = Field(default=None, description="the day the post is disestablished")


class PostUpdate(BaseModel):
    """A partial update: only the fields sent change (a null ``end_date`` re-establishes the post)."""

    model_config = ConfigDict(extra="forbid")

    team: TeamCode | None = None
    role: Role | None = None
    fte: Fte | None = None
    start_date: date | None = None
    end_date: date | None = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> PostUpdate:
        for name in ("team", "role", "fte", "start_date"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be cleared")
        return self


class HoldingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    worker: WorkerRefField
    start_date: date = Field(description="the first day the worker holds the post")
    end_date: date | None = Field(
        default=None,
        description="the first day the worker no longer holds it; default: when the post ends or the "
        "worker leaves, if either is known",
    )


class HoldingEnding(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
