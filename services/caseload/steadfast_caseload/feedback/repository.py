from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_caseload.feedback.models import Feedback
from steadfast_caseload.feedback.schemas import FeedbackFilters, FeedbackRead
from steadfast_shared.db import as_uuid
from steadfast_shared.http.pagination import Page, PageParams, paginate


class FeedbackRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, ref: str) -> Feedback | None:
        """Feedback by the service's id or the source system's ``external_id``."""
        feedback_id = as_uuid(ref)
        condition = Feedback.id == feedback_id if feedback_id is not None else Feedback.external_id == ref
        query = select(Feedback).where(condition)
        return (await self.session.scalars(query)).one_or_none()

    def add(self, feedback: Feedback) -> None:
        self.session.add(feedback)

    async def page(self, params: PageParams, *, filters: FeedbackFilters) -> Page[FeedbackRead]:
        """Oldest first (by returned date, then id), optionally of one team and period."""
        query = select(Feedback)
        if filters.team is not None:
            query = query.where(Feedback.team == filters.team)
        if filters.returned_from is not None:
            query = query.where(Feedback.returned_date >= filters.returned_from)
        if filters.returned_before is not None:
            query = query.where(Feedback.returned_date < filters.returned_before)
        return await paginate(
            self.session,
            query,
            key_columns=[Feedback.returned_date, Feedback.id],
            key_of=lambda f: [f.returned_date, f.id],
            params=params,
            to_item=FeedbackRead.of,
        )
