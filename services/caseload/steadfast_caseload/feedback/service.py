"""Feedback use cases: record a returned child/family feedback form."""

from __future__ import annotations

import uuid

from steadfast_caseload.casework.repository import CaseworkRepository
from steadfast_caseload.children.repository import ChildRepository
from steadfast_caseload.directory.repository import DirectoryRepository
from steadfast_caseload.feedback.models import FACTORS, Feedback
from steadfast_caseload.feedback.repository import FeedbackRepository
from steadfast_caseload.feedback.schemas import FeedbackCreate
from steadfast_shared.errors import Conflict, NotFound, ValidationFailed


class FeedbackService:
    def __init__(
        self,
        feedback: FeedbackRepository,
        children: ChildRepository,
        casework: CaseworkRepository,
        directory: DirectoryRepository,
    ) -> None:
        self.feedback = feedback
        self.children = children
        self.casework = casework
        self.directory = directory

    async def record(self, body: FeedbackCreate) -> Feedback:
        """Record a returned form. Without a team, it speaks for the team of the child's allocated
        worker(s) on the returned date, when they are all in one team."""
        if body.external_id is not None and await self.feedback.get(body.external_id) is not None:
            raise Conflict(
                f"feedback {body.external_id!r} is already recorded",
                errors=[{"field": "external_id", "reason": "already_exists"}],
            )
        child_id: uuid.UUID | None = None
        team = body.team
        if body.child is not None:
            child = await self.children.get(body.child, load=())
            if child is None:
                raise ValidationFailed.field("child", "unknown_child", f"no child {body.child!r}")
            child_id = child.id
            if team is None:
                team = await self._team_of(child_id, body)
        feedback = Feedback.returned(
            returned_date=body.returned_date,
            external_id=body.external_id,
            child_id=child_id,
            team=team,
            scores=body.model_dump(include=set(FACTORS)),
        )
        self.feedback.add(feedback)
        return feedback

    async def get(self, ref: str) -> Feedback:
        feedback = await self.feedback.get(ref)
        if feedback is None:
            raise NotFound(
                f"no feedback {ref!r}", errors=[{"field": "feedback", "reason": "unknown_feedback"}]
            )
        return feedback

    async def _team_of(self, child_id: uuid.UUID, body: FeedbackCreate) -> str | None:
        allocated = (await self.casework.allocated_on([child_id], body.returned_date)).get(child_id, [])
        workers = await self.directory.with_terms(allocated)
        teams = {
            terms.team for w in workers.values() if (terms := w.terms_on(body.returned_date)) is not None
        }
        return teams.pop() if len(teams) == 1 else None
