"""The date rules of the casework watch lists and the records' rules, without a database (SPEC sections
2 and 3): statutory visit due dates, and the 45-working-day count with bank holidays excluded."""

from __future__ import annotations

from datetime import date

import pytest

from steadfast_caseload.casework.service import VisitIntervals, assessment_progress, visit_due
from steadfast_caseload.children.models import Child
from steadfast_caseload.feedback.models import Feedback
from steadfast_shared.codes import EpisodeType, VisitType
from steadfast_shared.errors import ValidationFailed

INTERVALS = VisitIntervals(cp_working_days=10, cla_days=42)


def test_a_cp_visit_is_due_ten_working_days_after_the_reference_date_skipping_bank_holidays() -> None:
    # From Friday 19 December 2014: 22-24 Dec, 29-31 Dec, 2 Jan, 5-7 Jan (25, 26 Dec and 1 Jan are
    # bank holidays), so the tenth working day is Wednesday 7 January 2015.
    due = visit_due(EpisodeType.cp, date(2014, 12, 19), None, date(2015, 1, 2), INTERVALS)
    assert due.reference_date == date(2014, 12, 19)
    assert due.due_date == date(2015, 1, 7)
    assert due.days_overdue == -5
    assert not due.overdue


def test_a_visit_on_the_due_date_is_in_time_and_the_day_after_is_overdue() -> None:
    on_the_day = visit_due(EpisodeType.cp, date(2014, 12, 19), None, date(2015, 1, 7), INTERVALS)
    assert (on_the_day.overdue, on_the_day.days_overdue) == (False, 0)
    day_after = visit_due(EpisodeType.cp, date(2014, 12, 19), None, date(2015, 1, 8), INTERVALS)
    assert (day_after.overdue, day_after.days_overdue) == (True, 1)


def test_the_latest_visit_since_the_episode_started_is_the_reference() -> None:
    due = visit_due(EpisodeType.cla, date(2015, 1, 5), date(2015, 2, 2), date(2015, 3, 1), INTERVALS)
    assert due.reference_date == date(2015, 2, 2)
    assert due.due_date == date(2015, 3, 16)  # 42 calendar days
    assert due.days_overdue == -15


def test_a_visit_before_the_episode_started_or_after_as_of_does_not_count() -> None:
    before = visit_due(EpisodeType.cla, date(2015, 1, 5), date(2015, 1, 2), date(2015, 3, 1), INTERVALS)
    assert before.reference_date == date(2015, 1, 5)
    later = visit_due(EpisodeType.cla, date(2015, 1, 5), date(2015, 3, 10), date(2015, 3, 1), INTERVALS)
    assert later.reference_date == date(2015, 1, 5)
    assert later.overdue  # 2015-02-16 was the due date


def test_the_intervals_come_from_the_settings() -> None:
    weekly = VisitIntervals(cp_working_days=5, cla_days=7)
    assert visit_due(EpisodeType.cp, date(2015, 3, 30), None, date(2015, 4, 1), weekly).due_date == date(
        2015, 4, 8
    )  # Good Friday 3 and Easter Monday 6 April skipped
    assert visit_due(EpisodeType.cla, date(2015, 3, 30), None, date(2015, 4, 1), weekly).due_date == date(
        2015, 4, 6
    )


def test_an_episode_type_without_statutory_visits_is_refused() -> None:
    with pytest.raises(ValueError, match="no statutory visit interval"):
        visit_due(EpisodeType.cin, date(2015, 1, 5), None, date(2015, 2, 1), INTERVALS)


def test_an_assessment_over_christmas_counts_working_days_only() -> None:
    # 1 December 2014 to 5 February 2015: 48 weekdays, of which 25 and 26 December and 1 January are
    # bank holidays, so exactly 45 working days: still in time. The next day is the 46th.
    on_the_day = assessment_progress(date(2014, 12, 1), date(2015, 2, 5))
    assert (on_the_day.working_days_elapsed, on_the_day.working_days_left, on_the_day.overdue) == (
        45,
        0,
        False,
    )
    next_day = assessment_progress(date(2014, 12, 1), date(2015, 2, 6))
    assert (next_day.working_days_elapsed, next_day.working_days_left, next_day.overdue) == (46, -1, True)


def test_an_assessment_over_easter_and_may_day_counts_working_days_only() -> None:
    # Good Friday 3 April, Easter Monday 6 April and 4 May 2015 are bank holidays.
    progress = assessment_progress(date(2015, 3, 2), date(2015, 5, 1))
    assert progress.working_days_elapsed == 42
    assert assessment_progress(date(2015, 3, 2), date(2015, 5, 7)).working_days_left == 0
    assert assessment_progress(date(2015, 3, 2), date(2015, 3, 2)).working_days_elapsed == 0


def test_a_visit_before_the_childs_first_episode_is_refused_naming_the_rule() -> None:
    child = Child.register("C1")
    child.record_episode(EpisodeType.cp, date(2015, 1, 5), None)
    with pytest.raises(ValidationFailed) as refused:
        child.record_visit(date(2015, 1, 2), VisitType.cp, True)
    assert refused.value.errors[0]["rule"] == "visit_before_first_episode"
    assert refused.value.errors[0]["field"] == "visit_date"
    outcome, visit = child.record_visit(date(2015, 1, 5), VisitType.cp, True)
    assert (outcome, visit.visit_date) == ("created", date(2015, 1, 5))


def test_an_assessment_cannot_be_completed_before_it_starts() -> None:
    child = Child.register("C2")
    with pytest.raises(ValidationFailed) as refused:
        child.record_assessment("A1", date(2015, 1, 5), date(2015, 1, 2))
    assert refused.value.errors[0]["rule"] == "completed_before_start"


def test_feedback_must_answer_a_factor_with_scores_from_1_to_5() -> None:
    with pytest.raises(ValidationFailed) as empty:
        Feedback.returned(returned_date=date(2015, 1, 5), scores={"contact_quality": None})
    assert empty.value.errors[0]["reason"] == "no_answers"
    with pytest.raises(ValidationFailed) as high:
        Feedback.returned(returned_date=date(2015, 1, 5), scores={"contact_quality": 6})
    assert high.value.errors[0]["reason"] == "score_out_of_range"
    feedback = Feedback.returned(returned_date=date(2015, 1, 5), team="ACIN1", scores={"worker_stability": 2})
    assert feedback.snapshot().worker_stability == 2
