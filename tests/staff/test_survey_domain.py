"""Returned surveys' rules, without HTTP or a database."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from pydantic import ValidationError

from steadfast_shared.errors import ValidationFailed
from steadfast_staff.events import (
    ExitSurveyData,
    ExitSurveyReturned,
    RecruitmentSurveyData,
    RecruitmentSurveyReturned,
    StaffHealthCheckReturned,
)
from steadfast_staff.surveys.models import ExitSurvey, RecruitmentSurvey, StaffHealthCheck, SurveyReturn
from steadfast_staff.surveys.schemas import RecruitmentSurveyCreate

#: SPEC section 3, in the council's words.
FACTORS: dict[type[SurveyReturn], tuple[str, ...]] = {
    RecruitmentSurvey: (
        "right_post_right_time",
        "place",
        "development_opportunities",
        "advert_and_communications",
        "terms_and_conditions",
    ),
    ExitSurvey: ("insufficient_support_supervision", "workload_too_high", "no_career_path"),
    StaffHealthCheck: (
        "private_space",
        "office_environment",
        "supervision_quality",
        "senior_manager_visibility",
    ),
}


@pytest.mark.parametrize("kind", list(FACTORS))
def test_each_kind_asks_the_strategys_factors_and_stores_each_in_its_own_column(
    kind: type[SurveyReturn],
) -> None:
    assert FACTORS[kind] == kind.FACTORS
    columns = set(kind.__table__.columns.keys())  # type: ignore[attr-defined]
    assert set(FACTORS[kind]) <= columns
    assert set(FACTORS[kind]) <= set(kind.data_model.model_fields)


def test_a_returned_survey_publishes_its_scores() -> None:
    worker = uuid.uuid4()
    survey = RecruitmentSurvey.returned(
        returned_date=date(2015, 1, 12),
        scores={"right_post_right_time": 5, "place": 3},
        worker_id=worker,
        team="ACIN1",
    )
    [event] = survey._detached_events()
    assert event.event_type is RecruitmentSurveyReturned
    assert event.subject == str(survey.id)
    assert isinstance(event.data, RecruitmentSurveyData)
    assert event.data.right_post_right_time == 5
    assert event.data.place == 3
    assert event.data.terms_and_conditions is None
    assert event.data.team == "ACIN1"
    assert survey.worker_id == worker
    assert "worker_id" not in event.payload(), "who returned a survey is not published"


def test_a_factor_left_out_was_not_answered() -> None:
    survey = ExitSurvey.returned(returned_date=date(2015, 2, 2), scores={"workload_too_high": 4})
    assert survey.scores() == {
        "insufficient_support_supervision": None,
        "workload_too_high": 4,
        "no_career_path": None,
    }
    data = survey.snapshot()
    assert isinstance(data, ExitSurveyData)
    assert data.team is None


@pytest.mark.parametrize("score", [0, 6, -1, 2.5, True])
def test_a_score_is_a_whole_number_from_1_to_5(score: object) -> None:
    with pytest.raises(ValidationFailed) as raised:
        StaffHealthCheck.returned(returned_date=date(2015, 1, 5), scores={"private_space": score})  # type: ignore[dict-item]
    assert raised.value.errors[0] == {"field": "private_space", "reason": "out_of_range", "value": score}


@pytest.mark.parametrize("score", [1, 5])
def test_the_ends_of_the_scale_are_scores(score: int) -> None:
    survey = StaffHealthCheck.returned(returned_date=date(2015, 1, 5), scores={"private_space": score})
    assert survey.private_space == score
    assert survey._detached_events()[0].event_type is StaffHealthCheckReturned


def test_a_factor_of_another_kind_is_refused() -> None:
    with pytest.raises(ValidationFailed) as raised:
        ExitSurvey.returned(returned_date=date(2015, 1, 5), scores={"private_space": 3})
    assert raised.value.errors == [{"field": "private_space", "reason": "unknown_factor"}]


def test_a_return_that_answers_nothing_is_refused() -> None:
    with pytest.raises(ValidationFailed) as raised:
        ExitSurvey.returned(returned_date=date(2015, 1, 5), scores={"no_career_path": None})
    assert raised.value.errors[0]["reason"] == "no_answers"
    assert ExitSurveyReturned.type.endswith("exit_survey.returned.v2")


def test_the_api_model_refuses_a_score_out_of_range_and_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        RecruitmentSurveyCreate.model_validate({"returned_date": "2015-01-12", "place": 6})
    with pytest.raises(ValidationError):
        RecruitmentSurveyCreate.model_validate({"returned_date": "2015-01-12", "private_space": 3})
    body = RecruitmentSurveyCreate.model_validate({"returned_date": "2015-01-12", "place": 4})
    assert body.model_dump(include=set(RecruitmentSurvey.FACTORS))["place"] == 4
