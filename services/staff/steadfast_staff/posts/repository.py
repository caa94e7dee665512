from __future__ import annotations

from datetime import date

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from steadfast_shared.db import by_id_or_external_id
from steadfast_shared.http.pagination import Page, PageParams, paginate
from steadfast_staff.enums import Role
from steadfast_staff.posts.models import Post, PostHolding
from steadfast_staff.posts.schemas import PostRead


def _with_holdings(query: Select[Post]) -> Select[Post]:
    return query.options(selectinload(Post.holdings))


class PostRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, ref: str, *, for_update: bool = False) -> Post | None:
        """A post by the service's id or by the establishment system's ``external_id``."""
        query = _with_holdings(select(Post).where(by_id_or_external_id(Post.id, Post.external_id, ref)))
        if for_update:
            query = query.with_for_update(of=Post)
        return (await self.session.scalars(query)).one_or_none()

    def add(self, post: Post) -> None:
        self.session.add(post)

    async def page(
        self,
        params: PageParams,
        *,
        as_of: date,
        team: str | None = None,
        role: Role | None = None,
        established: bool | None = None,
        held: bool | None = None,
    ) -> Page[PostRead]:
        query = _with_holdings(select(Post))
        if team is not None:
            query = query.where(Post.team_code == team)
        if role is not None:
            query = query.where(Post.role == role)
        if established is not None:
            active = and_(Post.start_date <= as_of, or_(Post.end_date.is_(None), Post.end_date > as_of))
            query = query.where(active if established else ~active)
        if held is not None:
            holding = (
                select(PostHolding.id)
                .where(
                    PostHolding.post_id == Post.id,
                    PostHolding.start_date <= as_of,
                    or_(PostHolding.end_date.is_(None), PostHolding.end_date > as_of),
                )
                .exists()
            )
            query = query.where(holding if held else ~holding)
        return await paginate(
            self.session,
            query,
            key_columns=[Post.external_id],
            key_of=lambda p: [p.external_id],
            params=params,
            to_item=PostRead.of,
        )
