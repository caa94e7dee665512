from __future__ import annotations

from datetime import date

from steadfast_audit.audits.models import LearningAction
from steadfast_audit.audits.schemas import LEARNING_ACTION, LearningActionRead
from steadfast_shared.schemas import with_examples


class OverdueAction(LearningActionRead):
    model_config = with_examples({**LEARNING_ACTION, "team": "PC3", "child": "LCS-1001", "days_overdue": 9})

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
