"""Staff workers as the staff service's own domain builds them, and the events it publishes about them:
how the caseload and audit tests fill their worker directories the way production does."""

from __future__ import annotations

from datetime import date
from typing import Any

from steadfast_shared.events import CloudEvent
from steadfast_shared.events.envelope import new_event
from steadfast_staff.enums import EmploymentType, LeavingReason, Role
from steadfast_staff.events import WorkerHired
from steadfast_staff.events import registry as staff_registry
from steadfast_staff.workers.models import Terms, Worker


def staff_worker(
    external_id: str,
    *,
    role: Role = Role.social_worker,
    team: str = "ACIN1",
    fte: float = 1.0,
    employment_type: EmploymentType = EmploymentType.permanent,
    start_date: date = date(2014, 1, 6),
    end_date: date | None = None,
    asye_start: date | None = None,
    changes: tuple[tuple[date, dict[str, Any]], ...] = (),
) -> Worker:
    """A worker as the staff service's own domain builds one (hired, then dated changes, then leaving)."""
    terms = Terms(role=role, team=team, fte=fte, employment_type=employment_type)
    worker = Worker.hire(
        external_id=external_id,
        display_name=f"Worker {external_id}",
        start_date=start_date,
        terms=terms,
        asye_start=asye_start,
    )
    for effective, change in changes:
        base = worker.current
        worker.change_terms(
            effective,
            Terms(
                role=change.get("role", base.role),
                team=change.get("team", base.team_code),
                fte=change.get("fte", float(base.fte)),
                employment_type=change.get("employment_type", base.employment_type),
            ),
        )
    if end_date is not None:
        worker.leave(end_date, LeavingReason.resignation)
    return worker


def staff_event(worker: Worker) -> CloudEvent:
    """The staff event carrying the worker's whole state, as the staff service publishes it."""
    return new_event(
        source=staff_registry.source,
        type_=WorkerHired.type,
        subject=str(worker.id),
        data=worker.snapshot().model_dump(mode="json"),
    )
