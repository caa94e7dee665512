"""A worker's census record: what a year's CSWW return said that the employment record does not hold.

One per worker per census year (the year to 30 September). The employment facts the census also
reports (agency flag, FTE, role, start and end dates, leaving reason) stay on the worker; the record
keeps the census's own facts (start origin, leaver destination, cases, working days lost, absence,
contract weeks, CFKSS status, qualification) and the census role and leaving reason as reported, which
the export writes again while they agree with the worker's record.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Numeric, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from steadfast_shared.db import code_enum, utcnow
from steadfast_shared.db.types import UtcDateTime
from steadfast_shared.domain import Aggregate
from steadfast_staff.db import Base
from steadfast_staff.enums import (
    AbsenceReason,
    CensusLeavingReason,
    CensusRole,
    CfkssStatus,
    LeaverDestination,
    QualificationLevel,
    StartOrigin,
)
from steadfast_staff.events import CensusRecordChanged, CensusRecordData, CensusRecordRecorded


@dataclass(frozen=True)
class CensusFacts:
    """What a census record holds, in Steadfast's codes (lists keep the census's order)."""

    census_role: CensusRole | None = None
    start_origin: StartOrigin | None = None
    leaver_destination: LeaverDestination | None = None
    census_leaving_reason: CensusLeavingReason | None = None
    cases_30_sept: int | None = None
    working_days_lost: Decimal | None = None
    contract_weeks: tuple[Decimal, ...] = ()
    absent_30_sept: tuple[bool, ...] = ()
    absence_reasons: tuple[AbsenceReason, ...] = ()
    cfkss_statuses: tuple[CfkssStatus, ...] = ()
    qualifying_institutions: tuple[str, ...] = ()
    qualification_level: QualificationLevel | None = None
    step_up_graduate: bool | None = None
    frontline_graduate: bool | None = None


FACT_FIELDS = tuple(f.name for f in fields(CensusFacts))


class CensusRecord(Aggregate, Base):
    __tablename__ = "census_records"
    __table_args__ = (UniqueConstraint("worker_id", "census_year"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    worker_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    census_year: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    census_role: Mapped[CensusRole | None] = mapped_column(code_enum(CensusRole), nullable=True)
    start_origin: Mapped[StartOrigin | None] = mapped_column(code_enum(StartOrigin), nullable=True)
    leaver_destination: Mapped[LeaverDestination | None] = mapped_column(
        code_enum(LeaverDestination), nullable=True
    )
    census_leaving_reason: Mapped[CensusLeavingReason | None] = mapped_column(
        code_enum(CensusLeavingReason), nullable=True
    )
    cases_30_sept: Mapped[int | None] = mapped_column(Integer, nullable=True)
    working_days_lost: Mapped[Decimal | None] = mapped_column(Numeric(6, 2), nullable=True)
    #: Lists, as the census allows several of each: ContractWeeks (decimal strings), Absat30Sept,
    #: ReasonAbsence and CFKSSstatus (codes), QualInst.
    contract_weeks: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    absent_30_sept: Mapped[list[bool]] = mapped_column(JSON, nullable=False, default=list)
    absence_reasons: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    cfkss_statuses: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    qualifying_institutions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    qualification_level: Mapped[QualificationLevel | None] = mapped_column(
        code_enum(QualificationLevel), nullable=True
    )
    step_up_graduate: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    frontline_graduate: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, nullable=False)

    @classmethod
    def record_return(cls, worker_id: uuid.UUID, census_year: int, facts: CensusFacts) -> CensusRecord:
        now = utcnow()
        record = cls(
            id=uuid.uuid4(),
            worker_id=worker_id,
            census_year=census_year,
            version=1,
            created_at=now,
            updated_at=now,
        )
        record._set(facts)
        record.record(CensusRecordRecorded(str(record.id), record.snapshot(changed=["recorded"])))
        return record

    def facts(self) -> CensusFacts:
        return CensusFacts(
            census_role=self.census_role,
            start_origin=self.start_origin,
            leaver_destination=self.leaver_destination,
            census_leaving_reason=self.census_leaving_reason,
            cases_30_sept=self.cases_30_sept,
            working_days_lost=None if self.working_days_lost is None else Decimal(self.working_days_lost),
            contract_weeks=tuple(Decimal(w) for w in self.contract_weeks or ()),
            absent_30_sept=tuple(self.absent_30_sept or ()),
            absence_reasons=tuple(AbsenceReason(r) for r in self.absence_reasons or ()),
            cfkss_statuses=tuple(CfkssStatus(s) for s in self.cfkss_statuses or ()),
            qualifying_institutions=tuple(self.qualifying_institutions or ()),
            qualification_level=self.qualification_level,
            step_up_graduate=self.step_up_graduate,
            frontline_graduate=self.frontline_graduate,
        )

    def amend(self, facts: CensusFacts) -> list[str]:
        """Replace the facts with a new return's; the fields that changed (none: no event)."""
        before = self.facts()
        changed = [name for name in FACT_FIELDS if getattr(before, name) != getattr(facts, name)]
        if not changed:
            return []
        self._set(facts)
        self.touch()
        self.updated_at = utcnow()
        self.record(CensusRecordChanged(str(self.id), self.snapshot(changed=changed)))
        return changed

    def _set(self, facts: CensusFacts) -> None:
        values: dict[str, Any] = {name: getattr(facts, name) for name in FACT_FIELDS}
        values["working_days_lost"] = facts.working_days_lost
        values["contract_weeks"] = [str(w) for w in facts.contract_weeks]
        values["absent_30_sept"] = list(facts.absent_30_sept)
        values["absence_reasons"] = [str(r) for r in facts.absence_reasons]
        values["cfkss_statuses"] = [str(s) for s in facts.cfkss_statuses]
        values["qualifying_institutions"] = list(facts.qualifying_institutions)
        for name, value in values.items():
            setattr(self, name, value)

    def snapshot(self, changed: list[str] | None = None) -> CensusRecordData:
        return CensusRecordData(
            id=self.id,
            worker_id=self.worker_id,
            census_year=self.census_year,
            version=self.version,
            census_role=self.census_role,
            start_origin=self.start_origin,
            leaver_destination=self.leaver_destination,
            cases_30_sept=self.cases_30_sept,
            cfkss_statuses=[CfkssStatus(s) for s in self.cfkss_statuses or ()],
            changed=changed or [],
        )
