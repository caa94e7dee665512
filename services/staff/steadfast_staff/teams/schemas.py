from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from steadfast_shared.schemas import Input, with_examples
from steadfast_staff.teams.models import Team

TeamCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
    ),
]


class TeamCreate(Input):
    model_config = with_examples({"code": "ACIN1", "name": "Assessment and CIN 1"}, extra="forbid")

    code: TeamCode = Field(description="the council's short code, e.g. ACIN1")
    name: str | None = Field(default=None, max_length=200)


class TeamUpdate(Input):
    model_config = with_examples({"name": "Assessment and Child in Need 1"}, extra="forbid")

    name: str = Field(min_length=1, max_length=200)


class TeamRead(BaseModel):
    model_config = with_examples({"code": "ACIN1", "name": "Assessment and CIN 1", "version": 1})

    code: str
    name: str
    version: int

    @classmethod
    def of(cls, team: Team) -> TeamRead:
        return cls(code=team.code, name=team.name, version=team.version)
