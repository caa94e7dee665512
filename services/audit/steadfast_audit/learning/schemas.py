from __future__ import annotations

from datetime import date

from steadfast_audit.audits.models import LearningAction
from steadfast_audit.audits.schemas import LearningActionRead


class OverdueAction(LearningActionRead):
    team: str
    child: str
    days_overdue: int

    @classmethod
    def of(cls, action: LearningAction, team: str, child: str, *, as_of: date) -> OverdueAction:  # type: ignore[override]
        return cls(
            **LearningActionRead.of(action).model_dump(),
            team=team,
            child=child,
            days_overdue=(as_of - action.due_date).days,
        )
