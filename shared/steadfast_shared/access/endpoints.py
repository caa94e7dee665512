"""``GET /v1/access-log``: the auditor's view of a service's access log (scope ``access-log:read``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from steadfast_shared.access.reads import access_log_table
from steadfast_shared.access.repository import AccessLogRepository
from steadfast_shared.access.schemas import AccessLogEntry, AccessLogFilters
from steadfast_shared.auth import Principal
from steadfast_shared.http.deps import UoWDep, require_scope
from steadfast_shared.http.pagination import Page, PageParams, page_params
from steadfast_shared.http.routing import TransactionalRoute

#: The auditor's scope. No service's read or write scope includes it.
ACCESS_LOG_SCOPE = "access-log:read"

Auditor = Annotated[Principal, Depends(require_scope(ACCESS_LOG_SCOPE))]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def access_log_filters(
    child: Annotated[str | None, Query(max_length=100, description="one child's pseudonym (id)")] = None,
    who: Annotated[str | None, Query(max_length=200, description="one reader (the token's subject)")] = None,
    read_from: Annotated[
        datetime | None, Query(description="read at or after (UTC when no offset is given)")
    ] = None,
    read_before: Annotated[
        datetime | None, Query(description="read before (UTC when no offset is given)")
    ] = None,
) -> AccessLogFilters:
    return AccessLogFilters(child=child, who=who, read_from=_utc(read_from), read_before=_utc(read_before))


def access_log_router() -> APIRouter:
    """The router a service that keeps an access log includes among its routers."""
    router = APIRouter(prefix="/v1/access-log", tags=["access log"], route_class=TransactionalRoute)

    @router.get("", summary="Who read which child's records, when and why (oldest first, paged)")
    async def access_log(
        request: Request,
        uow: UoWDep,
        _: Auditor,
        params: Annotated[PageParams, Depends(page_params)],
        filters: Annotated[AccessLogFilters, Depends(access_log_filters)],
    ) -> Page[AccessLogEntry]:
        return await AccessLogRepository(uow.session, access_log_table(request)).page(params, filters)

    return router
