"""How a percentage, a ratio or a mean becomes a KPI value."""

from __future__ import annotations

from steadfast_metrics.kpis.measures import percentage, ratio


def test_a_whole_is_exactly_100_percent_even_where_100_x_over_x_rounds_above_it() -> None:
    # 100 * 0.69 / 0.69 == 100.00000000000001 in binary floating point: a team whose qualified
    # workers are all permanent, 0.69 FTE between them, was answered as just over 100 %.
    assert 100 * 0.69 / 0.69 > 100
    assert percentage("permanent_rate", 0.69, 0.69).value == 100.0


def test_a_part_of_a_whole_is_never_above_100_percent() -> None:
    for fte in (k / 100 for k in range(1, 4000)):
        assert percentage("permanent_rate", fte, fte).value == 100.0, fte
        part = percentage("permanent_rate", fte * 0.999, fte).value
        assert part is not None
        assert part <= 100.0, fte


def test_nothing_eligible_has_no_value_rather_than_zero() -> None:
    answer = ratio("average_caseload", 0, 0)
    assert answer.value is None
    assert (answer.numerator, answer.denominator) == (0, 0)
