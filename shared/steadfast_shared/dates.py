"""Calendar rules of SPEC section 2: dates in Europe/London, half-open intervals, working days.

Bank holidays of England and Wales come from the maintained ``holidays`` package (subdivision ENG),
never from a hand-written list.
"""

from __future__ import annotations

import bisect
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")

#: The days every service accepts, in query parameters, JSON bodies and CSV cells alike: wide enough for
#: any council's records, narrow enough that the arithmetic on them (an ASYE year on, a window or a year
#: back, 45 working days or a visit interval ahead) never leaves Python's calendar (years 1 to 9999).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)


def in_calendar(day: date) -> bool:
    """Whether ``day`` (or a datetime's day) is one the services accept: FIRST_DAY to LAST_DAY."""
    return FIRST_DAY.year <= day.year <= LAST_DAY.year


def today() -> date:
    """Today's date in Europe/London (the default ``as_of``)."""
    return datetime.now(LONDON).date()


def active_on(start: date, end: date | None, day: date) -> bool:
    """Whether ``[start, end)`` covers ``day`` (an open ``end`` covers every later day)."""
    return start <= day and (end is None or day < end)


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_bank_holiday(day)


@lru_cache(maxsize=256)
def _working_days_before(year: int) -> tuple[int, ...]:
    """For each day of ``year`` (by day of the year, from 0), the working days from 1 January up to and
    including it: a year's table is built once, so counting across years is a few subtractions."""
    counts = []
    total = 0
    day = date(year, 1, 1)
    while day.year == year:
        total += is_working_day(day)
        counts.append(total)
        day += timedelta(days=1)
    return tuple(counts)


def _working_days_through(day: date) -> int:
    """Working days from 1 January of ``day``'s year up to and including ``day``."""
    return _working_days_before(day.year)[day.timetuple().tm_yday - 1]


def working_days_between(a: date, b: date) -> int:
    """The number of working days D with ``a < D <= b`` (0 when ``b <= a``)."""
    if b <= a:
        return 0
    count = _working_days_through(b) - _working_days_through(a)
    for year in range(a.year, b.year):
        count += _working_days_before(year)[-1]
    return count


def add_working_days(start: date, n: int) -> date:
    """The date ``n`` working days after ``start`` (so ``working_days_between(start, result) == n``):
    the first day whose count from 1 January reaches the start's count plus ``n``, found by bisection."""
    if n <= 0:
        return start
    year = start.year
    wanted = _working_days_through(start) + n
    table = _working_days_before(year)
    while wanted > table[-1]:
        wanted -= table[-1]
        year += 1
        table = _working_days_before(year)
    return date(year, 1, 1) + timedelta(days=bisect.bisect_left(table, wanted))
