"""Caseload questions: a worker's, a team's, every team's, and who is over their limit, on any date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import groupby

from steadfast_caseload.caseloads.models import (
    CaseloadPolicy,
    CaseloadStats,
    WorkerCaseload,
)
from steadfast_caseload.caseloads.repository import CaseloadRepository
from steadfast_caseload.caseloads.schemas import (
    CaseloadChild,
    CaseloadSummary,
    OverLimit,
    StatsRead,
    TeamCaseloads,
    TeamFigures,
    WorkerCaseloadAnswer,
    WorkerCaseloadRead,
)
from steadfast_caseload.directory.repository import DirectoryRepository
from steadfast_caseload.strategy.service import StrategyService
from steadfast_shared.codes import CASE_HOLDING_ROLES
from steadfast_shared.errors import NotFound


def _figures(group: Sequence[WorkerCaseload]) -> tuple[StatsRead, StatsRead]:
    return (
        StatsRead.of(CaseloadStats.of(group)),
        StatsRead.of(CaseloadStats.of([w for w in group if w.holder.nqsw])),
    )


class CaseloadService:
    def __init__(
        self, caseloads: CaseloadRepository, directory: DirectoryRepository, strategy: StrategyService
    ) -> None:
        self.caseloads = caseloads
        self.directory = directory
        self.strategy = strategy

    async def policy(self, as_of: date) -> CaseloadPolicy:
        """The caseload rules of the strategy in force, on ``as_of``."""
        in_force = await self.strategy.in_force()
        return CaseloadPolicy.of(in_force.document, as_of, in_force.version)

    async def assessed(
        self, as_of: date, team: str | None = None, policy: CaseloadPolicy | None = None
    ) -> list[WorkerCaseload]:
        policy = policy or await self.policy(as_of)
        holders = await self.caseloads.case_holders(as_of, team=team)
        return [WorkerCaseload.assess(h, policy) for h in holders]

    async def of_worker(self, ref: str, as_of: date) -> WorkerCaseloadAnswer:
        worker = await self.directory.get(ref)
        if worker is None:
            raise NotFound(f"no worker {ref!r}", errors=[{"field": "worker", "reason": "unknown_worker"}])
        children = await self.caseloads.children_of(worker.id, as_of)
        terms = worker.terms_on(as_of)
        in_post = worker.in_post_on(as_of)
        assessment = None
        if in_post and terms is not None and terms.role in CASE_HOLDING_ROLES:
            policy = await self.policy(as_of)
            for holder in await self.caseloads.case_holders(as_of, worker_id=worker.id):
                assessment = WorkerCaseloadRead.of(WorkerCaseload.assess(holder, policy))
        return WorkerCaseloadAnswer(
            worker_id=worker.id,
            external_id=worker.external_id,
            display_name=worker.display_name,
            as_of=as_of,
            in_post=in_post,
            team=terms.team if terms and in_post else None,
            role=terms.role if terms and in_post else None,
            caseload=len(children),
            children=[CaseloadChild.of(c) for c in children],
            assessment=assessment,
        )

    async def of_team(self, team: str, as_of: date) -> TeamCaseloads:
        assessed = await self.assessed(as_of, team)
        if not assessed and not await self.caseloads.team_known(team):
            raise NotFound(
                f"no worker of the directory has been in team {team!r}",
                errors=[{"field": "team", "reason": "unknown_team"}],
            )
        everyone, nqsws = _figures(assessed)
        return TeamCaseloads(
            team=team,
            as_of=as_of,
            workers=[WorkerCaseloadRead.of(w) for w in assessed],
            all=everyone,
            nqsw=nqsws,
        )

    async def summary(self, as_of: date) -> CaseloadSummary:
        assessed = await self.assessed(as_of)
        teams = []
        for team, members in groupby(assessed, key=lambda w: w.holder.team):
            everyone, nqsws = _figures(list(members))
            teams.append(TeamFigures(team=team, all=everyone, nqsw=nqsws))
        everyone, nqsws = _figures(assessed)
        return CaseloadSummary(as_of=as_of, teams=teams, all=everyone, nqsw=nqsws)

    async def over_limit(self, as_of: date, team: str | None = None) -> OverLimit:
        policy = await self.policy(as_of)
        over = [w for w in await self.assessed(as_of, team, policy) if w.over_by > 0]
        over.sort(key=lambda w: (-w.over_by, w.holder.external_id))
        return OverLimit(
            as_of=as_of,
            team=team,
            strategy_version=policy.strategy_version,
            workers=[WorkerCaseloadRead.of(w) for w in over],
        )
