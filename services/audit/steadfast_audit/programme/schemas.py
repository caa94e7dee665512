from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from steadfast_shared.schemas import Input, with_examples


class PlanUpdate(Input):
    model_config = with_examples({"planned": 4}, extra="forbid")

    planned: int = Field(ge=0, le=10_000, description="audits planned for the team in the month")


class PlanRead(BaseModel):
    team: str
    month: str = Field(description="yyyy-mm")
    planned: int


class ProgrammeProgress(BaseModel):
    team: str
    month: str = Field(description="yyyy-mm")
    planned: int | None = Field(description="null when no plan was set for the team and month")
    done: int = Field(description="audits of the team completed in the month (full audits and dip samples)")
    remaining: int | None
    done_pct: float | None = Field(description="done as % of planned; null without a plan (or a plan of 0)")


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"
