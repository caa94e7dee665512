from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from steadfast_audit.audits.models import ActionStatus, Audit, LearningAction
from steadfast_audit.learning.schemas import OverdueAction
from steadfast_shared.http.pagination import Page, PageParams, paginate


class LearningActionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def overdue(
        self, params: PageParams, *, as_of: date, team: str | None, owner: str | None
    ) -> Page[OverdueAction]:
        """Open actions due before ``as_of``, the longest overdue first, with the audit's team."""
        query = (
            select(LearningAction)
            .join(Audit, Audit.id == LearningAction.audit_id)
            .where(LearningAction.status == ActionStatus.open, LearningAction.due_date < as_of)
        )
        if team is not None:
            query = query.where(Audit.team == team)
        if owner is not None:
            query = query.where(LearningAction.owner == owner)
        rows = await paginate(
            self.session,
            query,
            key_columns=[LearningAction.due_date, LearningAction.id],
            key_of=lambda a: [a.due_date, a.id],
            params=params,
            to_item=lambda a: a,
        )
        audits = {
            audit_id: (team_code, child)
            for audit_id, team_code, child in (
                await self.session.execute(
                    select(Audit.id, Audit.team, Audit.child_ref).where(
                        Audit.id.in_([a.audit_id for a in rows.items])
                    )
                )
            ).all()
        }
        return Page[OverdueAction](
            items=[OverdueAction.of(a, *audits[a.audit_id], as_of=as_of) for a in rows.items],
            next_cursor=rows.next_cursor,
        )
