"""The dependency a route that answers with child-level data takes, to log whose records it gave.

A route declares ``reads: ChildReadsDep`` after its scope and calls ``await reads.record(child_ids)``
with every child its answer names, before it returns. The rows are written in the request's own unit
of work, so they commit with the answer or not at all: no answer leaves without its log rows, and a
failed request (a 404, a 500) logs nothing, because it gave nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import Table

from steadfast_shared.access.repository import AccessLogRepository
from steadfast_shared.auth import Principal
from steadfast_shared.db.types import utcnow
from steadfast_shared.errors import BadRequest
from steadfast_shared.http.deps import UoWDep, get_principal, get_runtime, writes_on_read
from steadfast_shared.http.openapi import may_answer
from steadfast_shared.service import Runtime

#: The purpose logged for a read that sent no ``Purpose`` header (when one is not required).
UNSTATED = "unstated"

#: A purpose is a short code ("supervision", "audit", "court-report"), never free text: a sentence could
#: carry a child's name into the log, which holds none.
PURPOSE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")

_MAX_WHO = 200
_MAX_ROUTE = 200
_MAX_REQUEST_ID = 200


def parse_purpose(header: str | None, *, required: bool) -> str:
    """The purpose a ``Purpose`` header states, as a lower-case code; ``unstated`` when it is absent
    (a 400 problem instead when one is ``required``), and a 400 problem when it is not a code."""
    value = (header or "").strip().lower()
    if not value:
        if required:
            raise BadRequest(
                "a read of a child's records must say why: send a Purpose header (e.g. Purpose: supervision)",
                errors=[{"field": "purpose", "reason": "missing_purpose"}],
            )
        return UNSTATED
    if PURPOSE_PATTERN.fullmatch(value) is None:
        raise BadRequest(
            "the Purpose header is a short code of letters, digits, '-', '_' or '.' (at most 64), "
            "such as supervision or audit",
            errors=[{"field": "purpose", "reason": "invalid_purpose"}],
        )
    return value


@dataclass
class ChildReads:
    """The access log of one request: who is reading, why, through which route."""

    repository: AccessLogRepository
    who: str
    purpose: str
    route: str
    request_id: str | None
    #: The children already logged by this request (each is logged once per request).
    logged: set[str]

    async def record(self, children: Iterable[uuid.UUID | str | None]) -> None:
        """Log that this request's answer names ``children`` (their pseudonyms; None is skipped)."""
        now = utcnow()
        rows = []
        for child in children:
            if child is None:
                continue
            pseudonym = str(child)
            if pseudonym in self.logged:
                continue
            self.logged.add(pseudonym)
            rows.append(
                {
                    "read_at": now,
                    "who": self.who,
                    "child": pseudonym,
                    "purpose": self.purpose,
                    "route": self.route,
                    "request_id": self.request_id,
                }
            )
        await self.repository.append(rows)


def access_log_table_of(runtime: Runtime) -> Table:
    """The access log table of a running service (an error if it keeps none)."""
    table = runtime.definition.tables.access_log
    if table is None:
        raise RuntimeError("this service keeps no access log: define its tables with access_log=True")
    return table


def access_log_table(request: Request) -> Table:
    """The access log table of the service answering ``request``."""
    return access_log_table_of(get_runtime(request))


@writes_on_read
@may_answer(400)
async def child_reads(
    request: Request,
    uow: UoWDep,
    principal: Annotated[Principal, Depends(get_principal)],
    purpose: Annotated[
        str | None,
        Header(
            alias="Purpose",
            description="why the records are read, a short code (supervision, audit, court-report); "
            "logged with the read",
        ),
    ] = None,
) -> ChildReads:
    settings = get_runtime(request).settings
    route = getattr(request.scope.get("route"), "path", None) or request.url.path
    request_id = getattr(request.state, "request_id", None)
    return ChildReads(
        repository=AccessLogRepository(uow.session, access_log_table(request)),
        who=principal.subject[:_MAX_WHO],
        purpose=parse_purpose(purpose, required=settings.access_log_purpose_required),
        route=route[:_MAX_ROUTE],
        request_id=request_id[:_MAX_REQUEST_ID] if isinstance(request_id, str) else None,
        logged=set(),
    )


#: Declare it after the route's scope: ``reads: ChildReadsDep``.
ChildReadsDep = Annotated[ChildReads, Depends(child_reads)]
