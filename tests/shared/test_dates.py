"""Working days (SPEC section 2): Monday to Friday less the bank holidays of England and Wales, counted
with ``a < D <= b``; the year tables give the same count as walking the days one by one."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from steadfast_shared.dates import add_working_days, is_working_day, working_days_between


def walked(a: date, b: date) -> int:
    return sum(is_working_day(a + timedelta(days=k)) for k in range(1, (b - a).days + 1))


def test_easter_2015_and_the_half_open_count() -> None:
    # Good Friday 3 April and Easter Monday 6 April 2015 are bank holidays in England.
    assert not is_working_day(date(2015, 4, 3))
    assert not is_working_day(date(2015, 4, 6))
    assert working_days_between(date(2015, 4, 2), date(2015, 4, 7)) == 1  # only Tuesday 7th
    assert working_days_between(date(2015, 4, 7), date(2015, 4, 7)) == 0
    assert working_days_between(date(2015, 4, 8), date(2015, 4, 7)) == 0
    # across a new year: Mon 29 to Wed 31 Dec 2014 are working days, 1 Jan a holiday, Fri 2 Jan working
    assert working_days_between(date(2014, 12, 28), date(2015, 1, 2)) == 4


@given(
    st.dates(min_value=date(2005, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=-10, max_value=1200),
)
def test_the_year_tables_count_as_the_days_walked(a: date, span: int) -> None:
    b = a + timedelta(days=span)
    assert working_days_between(a, b) == (walked(a, b) if b > a else 0)


@given(st.dates(min_value=date(2005, 1, 1), max_value=date(2030, 12, 31)), st.integers(0, 120))
def test_add_working_days_is_the_inverse(start: date, n: int) -> None:
    end = add_working_days(start, n)
    assert working_days_between(start, end) == n
    assert n == 0 or is_working_day(end)
