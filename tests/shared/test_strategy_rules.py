"""The strategy's rules in the shared library, without a database (SPEC section 3): capacity and limits
in exact decimals, the limit per full caseload from the strategy, statutory visit due dates and the 45
working days of an assessment, bank holidays excluded. Both the caseload and the metrics service call
these; their own tests check they do."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from steadfast_shared.codes import EpisodeType, Role
from steadfast_shared.strategy import SHIPPED_STRATEGY, StrategyDocument, VisitIntervals
from steadfast_shared.strategy.document import CaseloadWeights
from steadfast_shared.strategy.rules import (
    ASSESSMENT_TIMESCALE_WORKING_DAYS,
    CaseloadWeighting,
    assessment_in_time,
    assessment_working_days,
    assessment_working_days_left,
    caseload_limit,
    exact,
    over_by,
    per_full_caseload,
    visit_due_date,
    visit_reference_date,
)

AS_OF = date(2015, 3, 2)
SHIPPED = CaseloadWeighting.of(SHIPPED_STRATEGY)


def test_exact_reads_a_float_as_the_decimal_written() -> None:
    assert exact(0.45) == Decimal("0.45")
    assert exact(0.1) == Decimal("0.1")
    assert exact(16) == Decimal(16)
    assert exact(Decimal("0.9")) == Decimal("0.9")


def test_the_worked_example_capacities_and_limits() -> None:
    capacities = [
        SHIPPED.capacity(Role.social_worker, 1.0, False),
        SHIPPED.capacity(Role.consultant_practitioner, 1.0, False),
        SHIPPED.capacity(Role.social_worker, 0.5, True),
        SHIPPED.capacity(Role.senior_social_worker, 0.8, False),
    ]
    assert capacities == [Decimal(1), Decimal("0.5"), Decimal("0.45"), Decimal("0.8")]
    limit = per_full_caseload(SHIPPED_STRATEGY, AS_OF)
    assert limit == Decimal(16)
    assert [caseload_limit(c, limit) for c in capacities if c is not None] == [16, 8, 7, 12]


def test_a_role_that_holds_no_cases_has_no_capacity() -> None:
    for role in (Role.practice_manager, Role.student, Role.independent_reviewing_officer):
        assert SHIPPED.capacity(role, 1.0, False) is None


def test_the_limit_rounds_down_exactly_where_floating_point_would_not() -> None:
    assert 0.7 * 0.8 * 25 < 14  # binary floating point
    weighting = CaseloadWeighting.of(
        SHIPPED_STRATEGY.model_copy(update={"caseload_weights": CaseloadWeights(social_worker=0.8)})
    )
    capacity = weighting.capacity(Role.social_worker, 0.7, False)
    assert capacity == Decimal("0.56")
    assert caseload_limit(capacity, exact(25)) == 14


def test_the_weights_come_from_the_strategy() -> None:
    weighting = CaseloadWeighting.of(
        SHIPPED_STRATEGY.model_copy(
            update={"caseload_weights": CaseloadWeights(consultant_practitioner=0.6, nqsw_factor=0.8)}
        )
    )
    assert weighting.capacity(Role.consultant_practitioner, 1.0, False) == Decimal("0.6")
    assert weighting.capacity(Role.social_worker, 1.0, True) == Decimal("0.8")


def test_the_limit_per_full_caseload_is_the_strategys_limit_else_the_average_caseload_target() -> None:
    assert per_full_caseload(SHIPPED_STRATEGY.model_copy(update={"caseload_limit": 12.5}), AS_OF) == Decimal(
        "12.5"
    )
    stepped = StrategyDocument.model_validate(
        {
            "name": "stepped",
            "targets": {
                "average_caseload": {
                    "direction": "at_most",
                    "milestones": [{"date": "2015-03-31", "value": 18}, {"date": "2016-03-31", "value": 15}],
                }
            },
        }
    )
    assert per_full_caseload(stepped, AS_OF) == Decimal(18)
    assert per_full_caseload(stepped, date(2015, 4, 1)) == Decimal(15)
    assert per_full_caseload(stepped, date(2020, 1, 1)) == Decimal(15)  # after the last: the last
    assert per_full_caseload(StrategyDocument(name="no limit"), AS_OF) is None


def test_over_by_is_never_negative_and_zero_without_a_limit() -> None:
    assert [over_by(18, 16), over_by(15, 16), over_by(99, None)] == [2, 0, 0]


INTERVALS = VisitIntervals()


def test_a_cp_visit_is_due_ten_working_days_after_the_reference_skipping_bank_holidays() -> None:
    # From Friday 19 December 2014, with 25, 26 December and 1 January bank holidays: 7 January 2015.
    assert visit_due_date(EpisodeType.cp, date(2014, 12, 19), INTERVALS) == date(2015, 1, 7)
    weekly = VisitIntervals(cp_working_days=5, cla_days=7)
    # Good Friday 3 and Easter Monday 6 April 2015 skipped.
    assert visit_due_date(EpisodeType.cp, date(2015, 3, 30), weekly) == date(2015, 4, 8)
    assert visit_due_date(EpisodeType.cla, date(2015, 3, 30), weekly) == date(2015, 4, 6)


def test_a_cla_visit_is_due_42_calendar_days_after_the_reference() -> None:
    assert visit_due_date(EpisodeType.cla, date(2015, 2, 2), INTERVALS) == date(2015, 3, 16)


def test_an_episode_without_a_statutory_interval_is_refused() -> None:
    for episode_type in (EpisodeType.cin, EpisodeType.assessment):
        with pytest.raises(ValueError, match="no statutory visit interval"):
            visit_due_date(episode_type, AS_OF, INTERVALS)


def test_the_reference_date_is_the_latest_visit_since_the_start_up_to_as_of() -> None:
    start = date(2015, 1, 5)
    visits = [date(2015, 1, 2), date(2015, 1, 20), date(2015, 2, 2), date(2015, 3, 10)]
    assert visit_reference_date(start, visits, date(2015, 3, 1)) == date(2015, 2, 2)
    assert visit_reference_date(start, visits, date(2015, 1, 19)) == start  # 1 January: before the start
    assert visit_reference_date(start, [], date(2015, 3, 1)) == start
    assert visit_reference_date(start, [start], start) == start


def test_an_assessment_over_christmas_counts_working_days_only() -> None:
    # 1 December 2014 to 5 February 2015: 48 weekdays less three bank holidays: exactly 45.
    assert ASSESSMENT_TIMESCALE_WORKING_DAYS == 45
    assert assessment_working_days(date(2014, 12, 1), date(2015, 2, 5)) == 45
    assert assessment_in_time(date(2014, 12, 1), date(2015, 2, 5))
    assert not assessment_in_time(date(2014, 12, 1), date(2015, 2, 6))
    assert assessment_working_days_left(date(2014, 12, 1), date(2015, 2, 5)) == 0
    assert assessment_working_days_left(date(2014, 12, 1), date(2015, 2, 6)) == -1
    assert assessment_working_days_left(AS_OF, AS_OF) == 45
