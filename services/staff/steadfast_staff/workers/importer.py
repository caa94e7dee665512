"""``POST /v1/imports/workers``: the HR system's ``workers.csv`` (SPEC section 4), upserted by external_id.

A row for a new external_id hires the worker. A row for a known one updates the details that differ and,
when role, team, FTE or employment type differ from the terms in force on the row's ``effective_date``
(an optional extra column; default today, kept inside the employment), records a dated change. A row
that matches what is stored is unchanged and publishes nothing. Each row is applied inside a savepoint,
so a row that breaks a rule leaves nothing behind in partial mode.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import ConfigDict, model_validator

from steadfast_shared.dates import today
from steadfast_shared.errors import ValidationFailed
from steadfast_shared.imports.csv import ParsedRow, RowError, RowOutcome
from steadfast_shared.schemas import Input
from steadfast_shared.uow import UnitOfWork
from steadfast_staff.enums import EmploymentType, LeavingReason, Role
from steadfast_staff.teams.repository import TeamRepository
from steadfast_staff.teams.schemas import TeamCode
from steadfast_staff.teams.service import TeamService
from steadfast_staff.workers.models import Terms, Worker
from steadfast_staff.workers.repository import WorkerRepository
from steadfast_staff.workers.schemas import DisplayName, ExternalId, Fte, Percent, SweNumber


class WorkerRow(Input):
    model_config = ConfigDict(extra="ignore")

    external_id: ExternalId
    display_name: DisplayName
    role: Role
    employment_type: EmploymentType
    fte: Fte
    team: TeamCode
    start_date: date
    end_date: date | None = None
    leaving_reason: LeavingReason | None = None
    asye_start: date | None = None
    asye_end: date | None = None
    protected_development_pct: Percent | None = None
    swe_registration_number: SweNumber | None = None
    swe_registration_expiry: date | None = None
    effective_date: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> WorkerRow:
        if self.end_date is not None and self.end_date <= self.start_date:
            raise ValueError("end_date must be after start_date")
        if self.leaving_reason is not None and self.end_date is None:
            raise ValueError("leaving_reason needs an end_date")
        return self

    def terms(self) -> Terms:
        return Terms(role=self.role, team=self.team, fte=self.fte, employment_type=self.employment_type)

    def details(self) -> dict[str, object]:
        details: dict[str, object] = {
            "display_name": self.display_name,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "leaving_reason": self.leaving_reason
            if self.end_date is None
            else self.leaving_reason or LeavingReason.unknown,
            "asye_start": self.asye_start,
            "protected_development_pct": self.protected_development_pct,
            "swe_registration_number": self.swe_registration_number,
            "swe_registration_expiry": self.swe_registration_expiry,
        }
        if self.asye_end is not None:
            details["asye_end"] = self.asye_end
        return details

    def change_date(self) -> date:
        day = self.effective_date or today()
        day = max(day, self.start_date)
        if self.end_date is not None and day >= self.end_date:
            day = self.end_date - timedelta(days=1)
        return day


class WorkersImporter:
    kind: str = "workers"
    row_model: type[WorkerRow] = WorkerRow
    required_columns: tuple[str, ...] = (
        "external_id",
        "display_name",
        "role",
        "employment_type",
        "fte",
        "team",
        "start_date",
    )

    def __init__(self) -> None:
        self._known_teams: set[str] = set()

    async def apply(self, uow: UnitOfWork, rows: list[ParsedRow[WorkerRow]]) -> list[RowOutcome | RowError]:
        workers = WorkerRepository(uow.session)
        teams = TeamService(TeamRepository(uow.session))
        existing = await workers.by_external_ids((r.data.external_id for r in rows), for_update=True)
        outcomes: list[RowOutcome | RowError] = []
        for parsed in rows:
            row = parsed.data
            try:
                async with uow.savepoint():
                    # Inside the row's savepoint: a rejected row leaves no team behind, nor its event.
                    if row.team not in self._known_teams:
                        await teams.ensure([row.team])
                    worker = existing.get(row.external_id)
                    if worker is None:
                        worker = self._hire(row)
                        workers.add(worker)
                        existing[row.external_id] = worker
                        outcome: Literal["created", "updated", "unchanged"] = "created"
                    else:
                        outcome = "updated" if self._update(worker, row) else "unchanged"
                self._known_teams.add(row.team)
                outcomes.append(
                    RowOutcome(row=parsed.row, outcome=outcome, key=row.external_id, id=str(worker.id))
                )
            except ValidationFailed as exc:
                stale = existing.pop(row.external_id, None)
                if stale is not None:
                    uow.session.expunge(stale)
                first = exc.errors[0] if exc.errors else {}
                outcomes.append(
                    RowError(
                        row=parsed.row,
                        column=first.get("field"),
                        reason=str(first.get("reason", exc.code)),
                        message=exc.detail,
                    )
                )
        return outcomes

    @staticmethod
    def _hire(row: WorkerRow) -> Worker:
        return Worker.hire(
            external_id=row.external_id,
            display_name=row.display_name,
            start_date=row.start_date,
            terms=row.terms(),
            end_date=row.end_date,
            leaving_reason=row.details()["leaving_reason"],  # type: ignore[arg-type]
            asye_start=row.asye_start,
            asye_end=row.asye_end,
            protected_development_pct=row.protected_development_pct,
            swe_registration_number=row.swe_registration_number,
            swe_registration_expiry=row.swe_registration_expiry,
        )

    @staticmethod
    def _update(worker: Worker, row: WorkerRow) -> bool:
        changed = bool(worker.update_details(**row.details()))
        return worker.change_terms(row.change_date(), row.terms()) or changed
