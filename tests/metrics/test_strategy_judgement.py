"""The strategy document, the target that applies on a day, statuses and the forecast (pure, no I/O)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from steadfast_metrics.history.forecast import Point, forecast
from steadfast_metrics.kpis.catalogue import KpiValue
from steadfast_metrics.kpis.status import Status, Trend, judge, status_against
from steadfast_metrics.strategy.document import SLOUGH_2014_17, Direction, StrategyDocument

D = date.fromisoformat


def test_the_target_is_the_earliest_milestone_on_or_after_as_of_else_the_last() -> None:
    contact = SLOUGH_2014_17.targets["audits_contact_good_or_better_pct"]

    def value(day: str) -> float | None:
        milestone = contact.milestone_on(D(day))
        return milestone.value if milestone else None

    assert value("2015-01-01") == 60
    assert value("2016-03-31") == 60  # on the date
    assert value("2016-04-01") == 80
    assert value("2019-06-01") == 80  # after the last


def test_a_target_set_from_a_date_does_not_apply_before_it() -> None:
    students = SLOUGH_2014_17.targets["students_per_year"]
    assert students.milestone_on(D("2015-03-31")) is None
    assert students.milestone_on(D("2015-04-01")) == students.milestones[0]


@pytest.mark.parametrize(
    ("value", "direction", "target", "expected"),
    [
        (80.0, Direction.at_least, 80, Status.met),
        (77.8, Direction.at_least, 80, Status.near),  # within 5 % of 80 (4 points)
        (76.0, Direction.at_least, 80, Status.near),  # exactly on the band's edge
        (75.99, Direction.at_least, 80, Status.not_met),
        (16.0, Direction.at_most, 16, Status.met),
        (16.8, Direction.at_most, 16, Status.near),  # 5 % of 16 = 0.8
        (16.81, Direction.at_most, 16, Status.not_met),
        (0.1 + 0.2, Direction.at_most, 0.3, Status.met),  # float noise does not flip a status
    ],
)
def test_status_against_a_target(value: float, direction: Direction, target: float, expected: Status) -> None:
    assert status_against(value, direction, target, 5.0) is expected


def test_judge_worked_example_permanent_rate_is_near_its_2017_target() -> None:
    judgement = judge(KpiValue("permanent_rate", 3.5 / 4.5 * 100, 3.5, 4.5), SLOUGH_2014_17, D("2015-03-02"))
    assert judgement.milestone is not None
    assert judgement.milestone.value == 80
    assert judgement.status is Status.near


def test_no_value_is_no_data_and_monitoring_kpis_have_no_status() -> None:
    assert judge(KpiValue("average_caseload", None), SLOUGH_2014_17, D("2015-03-02")).status is Status.no_data
    monitored = judge(KpiValue("agency_rate", 12.0, 1, 8), SLOUGH_2014_17, D("2015-03-02"))
    assert monitored.status is None
    assert monitored.target is None


def test_a_tighter_strategy_changes_the_status_without_new_values() -> None:
    value = KpiValue("average_caseload", 15.59, 46, 2.95)
    assert judge(value, SLOUGH_2014_17, D("2015-03-02")).status is Status.met
    stricter = SLOUGH_2014_17.model_copy(
        update={
            "targets": {
                **SLOUGH_2014_17.targets,
                "average_caseload": SLOUGH_2014_17.targets["average_caseload"].model_copy(
                    update={
                        "milestones": [
                            SLOUGH_2014_17.targets["average_caseload"]
                            .milestones[0]
                            .model_copy(update={"value": 15.0})
                        ]
                    }
                ),
            }
        }
    )
    assert judge(value, stricter, D("2015-03-02")).status is Status.near  # 15.59 <= 15 + 0.75


def test_survey_trend_follows_the_good_direction() -> None:
    def survey(kpi: str, now: float, before: float) -> KpiValue:
        return KpiValue(kpi, now, None, 3, {"factors": {"a": {"mean": now, "previous_mean": before}}})

    assert (
        judge(survey("staff_health_check", 4.0, 3.0), SLOUGH_2014_17, D("2015-03-02")).trend is Trend.better
    )
    assert judge(survey("leaver_reasons", 4.0, 3.0), SLOUGH_2014_17, D("2015-03-02")).trend is Trend.worse
    assert judge(survey("leaver_reasons", 3.0, 3.0), SLOUGH_2014_17, D("2015-03-02")).trend is Trend.unchanged


def test_the_strategy_refuses_targets_for_unknown_kpis_and_unordered_milestones() -> None:
    document = SLOUGH_2014_17.model_dump(mode="json")
    with pytest.raises(ValidationError, match="unknown KPIs: caseload_happiness"):
        StrategyDocument.model_validate(
            {
                **document,
                "targets": {
                    **document["targets"],
                    "caseload_happiness": document["targets"]["average_caseload"],
                },
            }
        )
    bad = dict(document["targets"]["audits_contact_good_or_better_pct"])
    bad["milestones"] = list(reversed(bad["milestones"]))
    with pytest.raises(ValidationError, match="in date order"):
        StrategyDocument.model_validate({**document, "targets": {"audits_contact_good_or_better_pct": bad}})


def test_forecast_reads_the_least_squares_line_at_the_target_date() -> None:
    # 70, 72, 74 four weeks apart: +2 per 28 days; 2015-01-19 + 70 days = 2015-03-30, one day short of
    # the target date, so the line reaches 74 + 2 * 71/28 = 79.07 by 2015-03-31: not on track for 80.
    points = [Point(D("2014-12-22"), 70), Point(D("2015-01-19"), 72), Point(D("2015-02-16"), 74)]
    result = forecast(
        points,
        target_date=D("2015-03-31"),
        target_value=80,
        direction=Direction.at_least,
        latest=8,
        today=D("2015-02-16"),
    )
    assert result.value == pytest.approx(74 + 2 * 43 / 28)
    assert result.on_track is False
    assert result.slope_per_30_days == pytest.approx(2 * 30 / 28)
    falling = [Point(D("2014-12-22"), 20), Point(D("2015-01-19"), 18), Point(D("2015-02-16"), 17)]
    caseload = forecast(
        falling,
        target_date=D("2015-03-31"),
        target_value=16,
        direction=Direction.at_most,
        latest=8,
        today=D("2015-02-16"),
    )
    assert caseload.on_track is True
    assert caseload.value is not None
    assert caseload.value < 16


def test_no_forecast_from_one_day_or_after_the_target_date() -> None:
    one = forecast(
        [Point(D("2015-01-05"), 70)],
        target_date=D("2015-03-31"),
        target_value=80,
        direction=Direction.at_least,
        latest=8,
        today=D("2015-01-05"),
    )
    assert one.value is None
    assert one.on_track is None
    late = forecast(
        [Point(D("2015-04-06"), 70), Point(D("2015-04-13"), 71)],
        target_date=D("2015-03-31"),
        target_value=80,
        direction=Direction.at_least,
        latest=8,
        today=D("2015-04-13"),
    )
    assert late.value is None


def test_forecast_uses_only_the_latest_points() -> None:
    old_then_flat = [Point(D("2014-06-02"), 10), *(Point(D(f"2015-01-{d:02d}"), 75) for d in (5, 12, 19, 26))]
    result = forecast(
        old_then_flat,
        target_date=D("2015-03-31"),
        target_value=80,
        direction=Direction.at_least,
        latest=4,
        today=D("2015-01-26"),
    )
    assert result.points_used == 4
    assert result.value == pytest.approx(75)


def test_a_forecast_stays_within_the_values_a_kpi_can_take() -> None:
    # +5 points a week for three years would be far above 100 %, and -5 far below 0: a percentage of a
    # whole is held to 0-100 (the trend still says on track, or not), a caseload to 0 and above.
    rising = [Point(D("2015-01-05"), 80), Point(D("2015-01-12"), 85), Point(D("2015-01-19"), 90)]
    until, today = D("2018-03-31"), D("2015-01-19")
    percent = forecast(
        rising,
        target_date=until,
        target_value=95,
        direction=Direction.at_least,
        latest=8,
        today=today,
        bounds=(0.0, 100.0),
    )
    assert percent.value == 100.0
    assert percent.on_track is True
    falling = [Point(D("2015-01-05"), 20), Point(D("2015-01-12"), 15), Point(D("2015-01-19"), 10)]
    caseload = forecast(
        falling, target_date=until, target_value=16, direction=Direction.at_most, latest=8, today=today
    )
    assert caseload.value == 0.0
    assert caseload.on_track is True
