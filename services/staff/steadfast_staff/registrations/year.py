"""Social Work England's registration year, and its renewal window (docs/integration.md).

The registration year runs from 1 December to 30 November; it is named by the year it ends in (the
registration year 2025 runs from 1 December 2024 to 30 November 2025). Registrations are renewed in the
window from 1 September to 30 November at the end of the year, and a registration not renewed by then
lapses. A worker is *flagged* when their recorded registration expiry falls before the close of the
next renewal window (30 November of the registration year containing the day asked about): their
registration would lapse before they could renew it in that window, or it has lapsed already. A
worker is *behind on CPD* when the registration year so far holds fewer than two CPD entries, or none
with peer reflection (Social Work England asks for at least two a year, one with peer reflection).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

CPD_ENTRIES_PER_YEAR = 2
PEER_REFLECTED_PER_YEAR = 1


def registration_year_of(day: date) -> int:
    """The registration year containing ``day``, named by the year it ends in."""
    return day.year + 1 if (day.month, day.day) > (11, 30) else day.year


@dataclass(frozen=True)
class RegistrationYear:
    year: int

    @classmethod
    def containing(cls, day: date) -> RegistrationYear:
        return cls(registration_year_of(day))

    @property
    def first_day(self) -> date:
        return date(self.year - 1, 12, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, 11, 30)

    @property
    def renewal_window_opens(self) -> date:
        return date(self.year, 9, 1)

    @property
    def renewal_window_closes(self) -> date:
        return self.last_day
