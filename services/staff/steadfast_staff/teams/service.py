from __future__ import annotations

from collections.abc import Iterable

from steadfast_shared.domain import Precondition
from steadfast_shared.errors import Conflict, NotFound
from steadfast_staff.teams.models import Team
from steadfast_staff.teams.repository import TeamRepository


class TeamService:
    def __init__(self, teams: TeamRepository) -> None:
        self.teams = teams

    async def create(self, code: str, name: str | None) -> Team:
        if await self.teams.get(code) is not None:
            raise Conflict(
                f"team {code!r} already exists",
                errors=[{"field": "code", "reason": "already_exists"}],
            )
        team = Team.set_up(code, name)
        self.teams.add(team)
        return team

    async def get(self, code: str) -> Team:
        team = await self.teams.get(code)
        if team is None:
            raise NotFound(f"no team {code!r}", errors=[{"field": "code", "reason": "unknown_team"}])
        return team

    async def rename(self, code: str, name: str, precondition: Precondition | None = None) -> Team:
        team = await self.teams.get(code, for_update=True)
        if team is None:
            raise NotFound(f"no team {code!r}", errors=[{"field": "code", "reason": "unknown_team"}])
        if precondition is not None:
            precondition(team.version)
        team.rename(name)
        return team

    async def ensure(self, codes: Iterable[str]) -> None:
        """Set up the teams named that do not exist yet (SPEC: a team named in an import is created),
        once, however many requests name a new team at the same moment."""
        wanted = set(codes)
        for code in sorted(wanted - await self.teams.existing_codes(wanted)):
            await self.teams.add_unless_set_up(Team.set_up(code))
