"""Social Work England registration: CPD entries, and the watch list of workers whose registration
lapses before the next renewal window closes or who are behind on CPD (rules in ``year.py``)."""

from __future__ import annotations

from datetime import date

from steadfast_shared.dates import today
from steadfast_shared.errors import NotFound, ValidationFailed
from steadfast_shared.http.pagination import Page, PageParams
from steadfast_staff.registrations.models import CpdEntry
from steadfast_staff.registrations.repository import CpdRepository, CpdTally
from steadfast_staff.registrations.schemas import CpdEntryCreate, CpdEntryRead, RegistrationWatch, WatchReason
from steadfast_staff.registrations.year import CPD_ENTRIES_PER_YEAR, PEER_REFLECTED_PER_YEAR, RegistrationYear
from steadfast_staff.workers.models import Worker
from steadfast_staff.workers.repository import WorkerRepository


def watch_reasons(
    expiry: date | None, tally: CpdTally, registration_year: RegistrationYear
) -> list[WatchReason]:
    reasons = []
    if expiry is None:
        reasons.append(WatchReason.no_registration_recorded)
    elif expiry < registration_year.renewal_window_closes:
        reasons.append(WatchReason.registration_lapses)
    if tally.entries < CPD_ENTRIES_PER_YEAR:
        reasons.append(WatchReason.fewer_than_two_cpd_entries)
    if tally.peer_reflected < PEER_REFLECTED_PER_YEAR:
        reasons.append(WatchReason.no_peer_reflection)
    return reasons


class RegistrationService:
    def __init__(self, workers: WorkerRepository, entries: CpdRepository) -> None:
        self.workers = workers
        self.entries = entries

    async def _worker(self, ref: str) -> Worker:
        worker = await self.workers.get(ref)
        if worker is None:
            raise NotFound(f"no worker {ref!r}")
        return worker

    async def record_cpd(self, ref: str, body: CpdEntryCreate) -> CpdEntry:
        worker = await self._worker(ref)
        if body.entry_date > today():
            raise ValidationFailed.field("entry_date", "in_the_future", "a CPD entry records learning done")
        entry = CpdEntry.record_entry(
            worker_id=worker.id,
            entry_date=body.entry_date,
            description=body.description,
            peer_reflection=body.peer_reflection,
        )
        self.entries.add(entry)
        return entry

    async def cpd_entries(
        self, ref: str, params: PageParams, registration_year: int | None
    ) -> Page[CpdEntryRead]:
        worker = await self._worker(ref)
        year = RegistrationYear(registration_year) if registration_year is not None else None
        page = await self.entries.page(
            worker.id,
            params,
            first_day=year.first_day if year else None,
            last_day=year.last_day if year else None,
        )
        return Page[CpdEntryRead](
            items=[CpdEntryRead.of(e) for e in page.items], next_cursor=page.next_cursor
        )

    async def watch_list(self, params: PageParams, as_of: date) -> Page[RegistrationWatch]:
        year = RegistrationYear.containing(as_of)
        page = await self.entries.watch_list_page(
            params, as_of=as_of, first_day=year.first_day, window_closes=year.renewal_window_closes
        )
        tallies = await self.entries.tallies((w.id for w in page.items), year.first_day, as_of)
        items = []
        for worker in page.items:
            tally = tallies.get(worker.id, CpdTally())
            terms = worker.terms_on(as_of) or worker.current
            items.append(
                RegistrationWatch(
                    worker_id=worker.id,
                    external_id=worker.external_id,
                    display_name=worker.display_name,
                    team=terms.team_code,
                    swe_registration_expiry=worker.swe_registration_expiry,
                    registration_year=year.year,
                    renewal_window_opens=year.renewal_window_opens,
                    renewal_window_closes=year.renewal_window_closes,
                    cpd_entries=tally.entries,
                    peer_reflected_entries=tally.peer_reflected,
                    reasons=watch_reasons(worker.swe_registration_expiry, tally, year),
                )
            )
        return Page[RegistrationWatch](items=items, next_cursor=page.next_cursor)
