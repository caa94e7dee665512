from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_shared.http.pagination import Page, PageParams, paginate
from steadfast_staff.surveys.models import SurveyReturn
from steadfast_staff.surveys.schemas import SurveyFilters, SurveyReturnRead

S = TypeVar("S", bound=SurveyReturn)
R = TypeVar("R", bound=SurveyReturnRead)


class SurveyRepository:
    """The queries of every survey kind: each method takes the kind's model class."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, kind: type[S], survey_id: uuid.UUID) -> S | None:
        return await self.session.get(kind, survey_id)

    def add(self, survey: SurveyReturn) -> None:
        self.session.add(survey)

    async def page(
        self,
        kind: type[S],
        params: PageParams,
        *,
        filters: SurveyFilters,
        to_item: Callable[[S], R],
    ) -> Page[R]:
        """Returns oldest first (by returned date, then id), optionally of one team and period."""
        query = select(kind)
        if filters.team is not None:
            query = query.where(kind.team_code == filters.team)
        if filters.returned_from is not None:
            query = query.where(kind.returned_date >= filters.returned_from)
        if filters.returned_before is not None:
            query = query.where(kind.returned_date < filters.returned_before)
        return await paginate(
            self.session,
            query,
            key_columns=[kind.returned_date, kind.id],
            key_of=lambda s: [s.returned_date, s.id],
            params=params,
            to_item=to_item,
        )
