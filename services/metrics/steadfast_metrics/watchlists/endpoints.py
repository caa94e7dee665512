from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.responses import Response

from steadfast_metrics.auth import Reader
from steadfast_metrics.kpis.endpoints import AsOf, Team, request_kpi_service
from steadfast_metrics.watchlists.exports import watch_list_csv
from steadfast_metrics.watchlists.schemas import WatchListIndex, WatchListPage
from steadfast_metrics.watchlists.service import WATCH_LISTS, WatchListService
from steadfast_shared.access import ChildReadsDep
from steadfast_shared.dates import today
from steadfast_shared.http.app import new_router
from steadfast_shared.http.csv_export import CSV_ANSWER, wants_csv
from steadfast_shared.http.deps import RuntimeDep, UoWDep
from steadfast_shared.http.pagination import PageParams, page_params

router = new_router("/v1/watch-lists", tags=["watch lists"])

ListName = Annotated[str, Path(description=f"one of: {', '.join(WATCH_LISTS)}")]


@router.get("", summary="Every watch list with how many workers or children are on it, as of a day")
async def watch_lists(
    request: Request, uow: UoWDep, runtime: RuntimeDep, _: Reader, as_of: AsOf = None, team: Team = None
) -> WatchListIndex:
    return await WatchListService(request_kpi_service(request, uow, runtime)).index(as_of or today(), team)


@router.get(
    "/{name}",
    summary="One watch list as of a day, for the council or a team (paged; JSON, or CSV)",
    response_model=WatchListPage[Any],
    responses=CSV_ANSWER,
)
async def watch_list(
    name: ListName,
    request: Request,
    uow: UoWDep,
    runtime: RuntimeDep,
    _: Reader,
    reads: ChildReadsDep,
    params: Annotated[PageParams, Depends(page_params)],
    as_of: AsOf = None,
    team: Team = None,
) -> WatchListPage[Any] | Response:
    page = await WatchListService(request_kpi_service(request, uow, runtime)).page(
        name, as_of or today(), team, params
    )
    if WATCH_LISTS[page.name].of_children:
        await reads.record(item.child_id for item in page.items)
    return watch_list_csv(request, page) if wants_csv(request) else page
