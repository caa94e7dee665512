"""The worker aggregate's rules, without HTTP or a database."""

from __future__ import annotations

from datetime import date

import pytest

from steadfast_shared.errors import ValidationFailed
from steadfast_staff.enums import EmploymentType, LeavingReason, Role
from steadfast_staff.events import WorkerHired, WorkerLeft, WorkerTermsChanged, WorkerUpdated
from steadfast_staff.workers.models import Terms, Worker

SW_PERM = Terms(role=Role.social_worker, team="ACIN1", fte=1.0, employment_type=EmploymentType.permanent)


def hire(**overrides: object) -> Worker:
    fields: dict[str, object] = {
        "external_id": "HR1",
        "display_name": "Amira Khan",
        "start_date": date(2014, 9, 1),
        "terms": SW_PERM,
    }
    fields.update(overrides)
    return Worker.hire(**fields)  # type: ignore[arg-type]


def event_types(worker: Worker) -> list[str]:
    return [e.event_type.type for e in worker._detached_events()]


def test_hiring_records_one_event_with_the_whole_history() -> None:
    worker = hire()
    assert event_types(worker) == [WorkerHired.type]
    data = worker._detached_events()[0].data
    assert data.history[0].effective_from == date(2014, 9, 1)  # type: ignore[attr-defined]
    assert data.version == 1  # type: ignore[attr-defined]


def test_asye_end_defaults_to_twelve_months_after_start() -> None:
    worker = hire(asye_start=date(2014, 9, 1))
    assert worker.asye_end == date(2015, 9, 1)


def test_a_student_cannot_start_the_asye() -> None:
    student = Terms(role=Role.student, team="ACIN1", fte=1.0, employment_type=EmploymentType.permanent)
    with pytest.raises(ValidationFailed) as raised:
        hire(terms=student, asye_start=date(2014, 9, 1))
    assert raised.value.errors[0]["reason"] == "student_in_asye"


def test_end_date_must_follow_start_date() -> None:
    with pytest.raises(ValidationFailed) as raised:
        hire(end_date=date(2014, 9, 1))
    assert raised.value.errors[0]["field"] == "end_date"


def test_a_dated_change_splits_the_history_so_past_dates_keep_their_terms() -> None:
    worker = hire()
    agency_pc3 = Terms(role=Role.social_worker, team="PC3", fte=0.5, employment_type=EmploymentType.agency)
    assert worker.change_terms(date(2015, 1, 5), agency_pc3)
    assert [(s.effective_from, s.effective_to, s.team_code) for s in worker.history] == [
        (date(2014, 9, 1), date(2015, 1, 5), "ACIN1"),
        (date(2015, 1, 5), None, "PC3"),
    ]
    before = worker.terms_on(date(2015, 1, 4))
    on_the_day = worker.terms_on(date(2015, 1, 5))
    assert before is not None
    assert before.team_code == "ACIN1"
    assert on_the_day is not None
    assert on_the_day.team_code == "PC3"
    assert worker.version == 2
    assert event_types(worker)[-1] == WorkerTermsChanged.type


def test_a_back_dated_change_only_touches_the_segment_it_falls_in() -> None:
    worker = hire()
    pc3 = Terms(role=Role.social_worker, team="PC3", fte=1.0, employment_type=EmploymentType.permanent)
    worker.change_terms(date(2015, 6, 1), pc3)
    senior = Terms(
        role=Role.senior_social_worker, team="ACIN1", fte=1.0, employment_type=EmploymentType.permanent
    )
    worker.change_terms(date(2015, 1, 1), senior)
    assert [(s.effective_from, s.role, s.team_code) for s in worker.history] == [
        (date(2014, 9, 1), Role.social_worker, "ACIN1"),
        (date(2015, 1, 1), Role.senior_social_worker, "ACIN1"),
        (date(2015, 6, 1), Role.social_worker, "PC3"),
    ]


def test_a_change_that_changes_nothing_records_nothing() -> None:
    worker = hire()
    assert not worker.change_terms(date(2015, 1, 5), SW_PERM)
    assert worker.version == 1
    assert event_types(worker) == [WorkerHired.type]


def test_a_change_back_to_the_earlier_terms_merges_the_segments() -> None:
    worker = hire()
    pc3 = Terms(role=Role.social_worker, team="PC3", fte=1.0, employment_type=EmploymentType.permanent)
    worker.change_terms(date(2015, 1, 5), pc3)
    worker.change_terms(date(2015, 1, 5), SW_PERM)
    assert [(s.effective_from, s.effective_to) for s in worker.history] == [(date(2014, 9, 1), None)]


def test_a_change_outside_the_employment_is_refused() -> None:
    worker = hire(end_date=date(2016, 1, 1), leaving_reason=LeavingReason.resignation)
    with pytest.raises(ValidationFailed) as before:
        worker.change_terms(date(2014, 8, 31), SW_PERM)
    assert before.value.errors[0]["reason"] == "before_start_date"
    with pytest.raises(ValidationFailed) as after:
        worker.change_terms(date(2016, 1, 1), SW_PERM)
    assert after.value.errors[0]["reason"] == "after_end_date"


def test_leaving_is_half_open_and_published_as_left() -> None:
    worker = hire()
    assert worker.leave(date(2015, 4, 1), LeavingReason.resignation) == ["end_date", "leaving_reason"]
    assert worker.in_post_on(date(2015, 3, 31))
    assert not worker.in_post_on(date(2015, 4, 1))
    assert event_types(worker)[-1] == WorkerLeft.type


def test_updating_details_reports_only_what_changed() -> None:
    worker = hire(protected_development_pct=10.0)
    assert worker.update_details(protected_development_pct=10.0) == []
    assert worker.update_details(protected_development_pct=12.5, display_name="Amira Khan") == [
        "protected_development_pct"
    ]
    assert event_types(worker)[-1] == WorkerUpdated.type


def test_a_leaving_reason_needs_an_end_date() -> None:
    worker = hire()
    with pytest.raises(ValidationFailed) as raised:
        worker.update_details(leaving_reason=LeavingReason.retirement)
    assert raised.value.errors[0]["reason"] == "without_end_date"


def test_moving_the_start_date_past_a_dated_change_is_refused() -> None:
    worker = hire()
    pc3 = Terms(role=Role.social_worker, team="PC3", fte=1.0, employment_type=EmploymentType.permanent)
    worker.change_terms(date(2015, 1, 5), pc3)
    with pytest.raises(ValidationFailed) as raised:
        worker.update_details(start_date=date(2015, 2, 1))
    assert raised.value.errors[0]["reason"] == "conflicts_with_history"
