"""Post use cases: establish, restate or disestablish a post, and record who holds it."""

from __future__ import annotations

import uuid

from steadfast_shared.domain import Precondition
from steadfast_shared.errors import Conflict, NotFound, ValidationFailed
from steadfast_staff.posts.models import Holder, Post
from steadfast_staff.posts.repository import PostRepository
from steadfast_staff.posts.schemas import HoldingCreate, HoldingEnding, PostCreate, PostUpdate
from steadfast_staff.teams.service import TeamService
from steadfast_staff.workers.models import Worker
from steadfast_staff.workers.repository import WorkerRepository


def holder(worker: Worker) -> Holder:
    return Holder(worker_id=worker.id, start_date=worker.start_date, end_date=worker.end_date)


class PostService:
    def __init__(self, posts: PostRepository, workers: WorkerRepository, teams: TeamService) -> None:
        self.posts = posts
        self.workers = workers
        self.teams = teams

    async def establish(self, body: PostCreate) -> Post:
        if await self.posts.get(body.external_id) is not None:
            raise Conflict(
                f"a post with external_id {body.external_id!r} already exists",
                errors=[{"field": "external_id", "reason": "already_exists"}],
            )
        await self.teams.ensure([body.team])
        post = Post.establish(
            external_id=body.external_id,
            team=body.team,
            role=body.role,
            fte=body.fte,
            start_date=body.start_date,
            end_date=body.end_date,
        )
        self.posts.add(post)
        return post

    async def get(self, ref: str, *, for_update: bool = False) -> Post:
        post = await self.posts.get(ref, for_update=for_update)
        if post is None:
            raise NotFound(f"no post {ref!r}", errors=[{"field": "post", "reason": "unknown_post"}])
        return post

    async def update(self, ref: str, body: PostUpdate, precondition: Precondition | None = None) -> Post:
        post = await self.get(ref, for_update=True)
        if precondition is not None:
            precondition(post.version)
        changes = body.model_dump(exclude_unset=True)
        if "team" in changes:
            await self.teams.ensure([changes["team"]])
        post.update(**changes)
        return post

    async def assign(self, ref: str, body: HoldingCreate, precondition: Precondition | None = None) -> Post:
        post = await self.get(ref, for_update=True)
        if precondition is not None:
            precondition(post.version)
        worker = await self.workers.get(body.worker)
        if worker is None:
            raise ValidationFailed.field("worker", "unknown_worker", f"no worker {body.worker!r}")
        post.assign(holder(worker), body.start_date, body.end_date)
        return post

    async def end_holding(
        self,
        ref: str,
        holding_id: uuid.UUID,
        body: HoldingEnding,
        precondition: Precondition | None = None,
    ) -> Post:
        post = await self.get(ref, for_update=True)
        if precondition is not None:
            precondition(post.version)
        holding = post.holding(holding_id)
        worker = await self.workers.get(str(holding.worker_id))
        assert worker is not None, "a holding's worker is a foreign key"
        post.end_holding(holding_id, body.end_date, holder(worker))
        return post
