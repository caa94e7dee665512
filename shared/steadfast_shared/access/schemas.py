"""The access log as the auditor reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AccessLogEntry(BaseModel):
    """One child named in one answer: who read it, when, through which route and why."""

    id: int
    read_at: datetime = Field(description="when the answer was given (UTC)")
    who: str = Field(description="the token's subject: the person or client system that read")
    child: str = Field(description="the child's pseudonym: the caseload service's id for the child")
    purpose: str = Field(description="the Purpose header sent with the read, or 'unstated'")
    route: str = Field(description="the endpoint read, as a template (no ids, no query)")
    request_id: str | None = Field(description="the request's X-Request-ID, to find it in the service logs")

    @classmethod
    def of(cls, row: Any) -> AccessLogEntry:
        return cls(
            id=row.id,
            read_at=row.read_at,
            who=row.who,
            child=row.child,
            purpose=row.purpose,
            route=row.route,
            request_id=row.request_id,
        )


@dataclass(frozen=True)
class AccessLogFilters:
    """What the auditor asks for: ``read_from <= read_at < read_before``, one child, one reader."""

    child: str | None = None
    who: str | None = None
    read_from: datetime | None = None
    read_before: datetime | None = None
