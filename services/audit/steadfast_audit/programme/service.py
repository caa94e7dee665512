"""The audit programme: set a team's plan for a month; progress of the plan against completed audits."""

from __future__ import annotations

import re
from datetime import date

from steadfast_audit.audits.repository import AuditRepository
from steadfast_audit.programme.models import PlannedAudits
from steadfast_audit.programme.repository import ProgrammeRepository
from steadfast_audit.programme.schemas import ProgrammeProgress, month_label
from steadfast_shared.dates import FIRST_DAY, LAST_DAY, in_calendar
from steadfast_shared.errors import ValidationFailed

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
#: The longest span a progress query covers.
MAX_MONTHS = 36


def parse_month(value: str, field: str = "month") -> date:
    match = _MONTH.match(value)
    if match is None:
        raise ValidationFailed.field(field, "not_a_month", f"a month is written yyyy-mm, not {value!r}")
    year = int(match[1])
    if not in_calendar(date(max(year, 1), 1, 1)):
        raise ValidationFailed.field(
            field, "date_out_of_range", f"a month from {FIRST_DAY:%Y-%m} to {LAST_DAY:%Y-%m}, not {value!r}"
        )
    return date(year, int(match[2]), 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


class ProgrammeService:
    def __init__(self, plans: ProgrammeRepository, audits: AuditRepository) -> None:
        self.plans = plans
        self.audits = audits

    async def plan(self, team: str, month: date, planned: int) -> tuple[bool, PlannedAudits]:
        """Set the plan; answers whether it was created."""
        held = await self.plans.get(team, month, for_update=True)
        if held is None:
            plan = PlannedAudits.plan(team, month, planned)
            self.plans.add(plan)
            return True, plan
        held.replan(planned)
        return False, held

    async def progress(self, first: date, last: date, team: str | None) -> list[ProgrammeProgress]:
        """Each (team, month) in ``[first, last]`` with a plan or a completed audit: planned vs done."""
        if last < first:
            raise ValidationFailed.field("to", "before_from", "the last month is not before the first")
        after = next_month(last)
        if (after.year - first.year) * 12 + after.month - first.month > MAX_MONTHS:
            raise ValidationFailed.field("to", "span_too_long", f"ask for at most {MAX_MONTHS} months")
        planned = {(p.team, p.month): p.planned for p in await self.plans.between(first, after, team)}
        done = await self.audits.completed_per_team_month(first, after, team)
        rows = []
        for key in sorted(planned.keys() | done.keys(), key=lambda k: (k[1], k[0])):
            plan = planned.get(key)
            count = done.get(key, 0)
            rows.append(
                ProgrammeProgress(
                    team=key[0],
                    month=month_label(key[1]),
                    planned=plan,
                    done=count,
                    remaining=max(plan - count, 0) if plan is not None else None,
                    done_pct=round(100 * count / plan, 1) if plan else None,
                )
            )
        return rows
