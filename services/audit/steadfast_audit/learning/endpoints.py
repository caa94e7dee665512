from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from steadfast_audit.auth import Reader
from steadfast_audit.learning.repository import LearningActionRepository
from steadfast_audit.learning.schemas import OverdueAction
from steadfast_shared.access import ChildReadsDep
from steadfast_shared.dates import today
from steadfast_shared.http.app import new_router
from steadfast_shared.http.deps import UoWDep
from steadfast_shared.http.pagination import Page, PageParams, page_params
from steadfast_shared.schemas import Day

router = new_router("/v1/learning-actions", tags=["learning actions"])


@router.get("/overdue", summary="Open learning actions due before as_of, the longest overdue first")
async def overdue_learning_actions(
    uow: UoWDep,
    _: Reader,
    reads: ChildReadsDep,
    params: Annotated[PageParams, Depends(page_params)],
    as_of: Annotated[Day | None, Query(description="default today")] = None,
    team: str | None = None,
    owner: str | None = None,
) -> Page[OverdueAction]:
    page = await LearningActionRepository(uow.session).overdue(
        params, as_of=as_of or today(), team=team, owner=owner
    )
    await reads.record(a.child for a in page.items)
    return page
