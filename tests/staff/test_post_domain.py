"""The post aggregate's rules, without HTTP or a database."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from steadfast_shared.errors import NotFound, ValidationFailed
from steadfast_staff.enums import Role
from steadfast_staff.events import (
    PostData,
    PostDisestablished,
    PostEstablished,
    PostHolderAssigned,
    PostHoldingEnded,
    PostUpdated,
)
from steadfast_staff.posts.models import Holder, Post

AMIRA = Holder(worker_id=uuid.uuid4(), start_date=date(2014, 9, 1), end_date=None)
BEN = Holder(worker_id=uuid.uuid4(), start_date=date(2014, 1, 6), end_date=None)


def establish(**overrides: object) -> Post:
    fields: dict[str, object] = {
        "external_id": "POST-ACIN1-01",
        "team": "ACIN1",
        "role": Role.social_worker,
        "fte": 1.0,
        "start_date": date(2014, 4, 1),
    }
    fields.update(overrides)
    return Post.establish(**fields)  # type: ignore[arg-type]


def event_types(post: Post) -> list[str]:
    return [e.event_type.type for e in post._detached_events()]


def last_payload(post: Post) -> PostData:
    data = post._detached_events()[-1].data
    assert isinstance(data, PostData)
    return data


def reason(raised: pytest.ExceptionInfo[ValidationFailed]) -> str:
    return str(raised.value.errors[0]["reason"])


def test_establishing_records_the_post_with_no_holdings() -> None:
    post = establish()
    assert event_types(post) == [PostEstablished.type]
    payload = last_payload(post)
    assert payload.version == 1
    assert payload.holdings == []
    assert payload.fte == 1.0
    assert post.vacant_on(date(2014, 4, 1))


@pytest.mark.parametrize(
    ("overrides", "field", "why"),
    [
        ({"role": Role.student}, "role", "student_post"),
        ({"end_date": date(2014, 4, 1)}, "end_date", "not_after_start_date"),
        ({"fte": 0.0}, "fte", "out_of_range"),
        ({"fte": 1.5}, "fte", "out_of_range"),
    ],
)
def test_a_post_must_make_sense(overrides: dict[str, object], field: str, why: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        establish(**overrides)
    assert raised.value.errors[0]["field"] == field
    assert reason(raised) == why


def test_assigning_a_holder_records_the_holding_and_moves_the_version() -> None:
    post = establish()
    holding = post.assign(AMIRA, date(2014, 9, 1))
    assert holding.end_date is None
    assert post.version == 2
    assert event_types(post)[-1] == PostHolderAssigned.type
    payload = last_payload(post)
    assert [(h.worker_id, h.start_date, h.end_date) for h in payload.holdings] == [
        (AMIRA.worker_id, date(2014, 9, 1), None)
    ]
    assert post.vacant_on(date(2014, 8, 31))
    assert not post.vacant_on(date(2014, 9, 1))


def test_a_post_cannot_be_held_by_two_workers_at_once() -> None:
    post = establish()
    post.assign(AMIRA, date(2014, 9, 1))
    with pytest.raises(ValidationFailed) as raised:
        post.assign(BEN, date(2015, 1, 5))
    assert reason(raised) == "already_held"
    assert len(post.holdings) == 1


def test_a_holding_that_ends_later_still_overlaps() -> None:
    post = establish()
    post.assign(AMIRA, date(2014, 9, 1), date(2015, 3, 1))
    with pytest.raises(ValidationFailed) as raised:
        post.assign(BEN, date(2014, 6, 1), date(2014, 9, 2))
    assert reason(raised) == "already_held"


def test_holdings_are_half_open_so_a_handover_day_belongs_to_the_new_holder() -> None:
    post = establish()
    post.assign(BEN, date(2014, 4, 1), date(2014, 9, 1))
    post.assign(AMIRA, date(2014, 9, 1))
    before, after = post.holding_on(date(2014, 8, 31)), post.holding_on(date(2014, 9, 1))
    assert before is not None
    assert before.worker_id == BEN.worker_id
    assert after is not None
    assert after.worker_id == AMIRA.worker_id
    assert [h.worker_id for h in post.holdings] == [BEN.worker_id, AMIRA.worker_id]


def test_a_back_dated_holding_fits_into_a_gap() -> None:
    post = establish()
    post.assign(AMIRA, date(2014, 9, 1))
    post.assign(BEN, date(2014, 4, 1), date(2014, 9, 1))
    assert [h.start_date for h in post.holdings] == [date(2014, 4, 1), date(2014, 9, 1)]


def test_a_holding_lies_inside_the_posts_established_period() -> None:
    post = establish(end_date=date(2016, 4, 1))
    with pytest.raises(ValidationFailed) as raised:
        post.assign(BEN, date(2014, 3, 1), date(2014, 6, 1))
    assert reason(raised) == "post_not_established"
    with pytest.raises(ValidationFailed) as raised:
        post.assign(BEN, date(2015, 1, 1), date(2016, 5, 1))
    assert reason(raised) == "after_post_end_date"


def test_without_an_end_date_a_holding_ends_with_the_post_or_the_worker() -> None:
    leaving = Holder(worker_id=uuid.uuid4(), start_date=date(2014, 1, 6), end_date=date(2015, 6, 1))
    post = establish(end_date=date(2016, 4, 1))
    assert post.assign(leaving, date(2014, 4, 1)).end_date == date(2015, 6, 1)
    other = establish(external_id="POST-2", end_date=date(2015, 1, 1))
    assert other.assign(leaving, date(2014, 4, 1)).end_date == date(2015, 1, 1)


def test_the_holder_must_be_in_post() -> None:
    post = establish()
    with pytest.raises(ValidationFailed) as raised:
        post.assign(AMIRA, date(2014, 8, 1))
    assert reason(raised) == "worker_not_in_post"
    leaver = Holder(worker_id=uuid.uuid4(), start_date=date(2014, 1, 6), end_date=date(2015, 6, 1))
    with pytest.raises(ValidationFailed) as raised:
        post.assign(leaver, date(2015, 1, 1), date(2015, 7, 1))
    assert reason(raised) == "after_worker_end_date"


def test_ending_a_holding() -> None:
    post = establish()
    holding = post.assign(AMIRA, date(2014, 9, 1))
    assert post.end_holding(holding.id, date(2015, 2, 1), AMIRA)
    assert event_types(post)[-1] == PostHoldingEnded.type
    assert last_payload(post).holdings[0].end_date == date(2015, 2, 1)
    assert post.vacant_on(date(2015, 2, 1))
    assert not post.end_holding(holding.id, date(2015, 2, 1), AMIRA)
    assert event_types(post).count(PostHoldingEnded.type) == 1


def test_an_ending_cannot_precede_the_start_or_run_into_the_next_holding() -> None:
    post = establish()
    first = post.assign(BEN, date(2014, 4, 1), date(2014, 9, 1))
    post.assign(AMIRA, date(2014, 9, 1))
    with pytest.raises(ValidationFailed) as raised:
        post.end_holding(first.id, date(2014, 4, 1), BEN)
    assert reason(raised) == "not_after_start_date"
    with pytest.raises(ValidationFailed) as raised:
        post.end_holding(first.id, date(2014, 10, 1), BEN)
    assert reason(raised) == "already_held"


def test_ending_an_unknown_holding_is_not_found() -> None:
    with pytest.raises(NotFound):
        establish().end_holding(uuid.uuid4(), date(2015, 1, 1), AMIRA)


def test_disestablishing_ends_the_holdings_still_open() -> None:
    post = establish()
    post.assign(AMIRA, date(2014, 9, 1))
    assert post.update(end_date=date(2016, 4, 1)) == ["end_date", "holdings"]
    assert event_types(post)[-1] == PostDisestablished.type
    assert post.holdings[0].end_date == date(2016, 4, 1)
    assert not post.established_on(date(2016, 4, 1))
    assert not post.vacant_on(date(2016, 4, 1))


def test_a_post_cannot_be_disestablished_before_a_holding_starts() -> None:
    post = establish()
    post.assign(AMIRA, date(2014, 9, 1))
    with pytest.raises(ValidationFailed) as raised:
        post.update(end_date=date(2014, 9, 1))
    assert reason(raised) == "held_after_end_date"


def test_a_post_cannot_start_after_its_first_holding() -> None:
    post = establish()
    post.assign(AMIRA, date(2014, 9, 1))
    with pytest.raises(ValidationFailed) as raised:
        post.update(start_date=date(2014, 10, 1))
    assert reason(raised) == "held_before_start_date"


def test_restating_a_post_records_what_changed_and_nothing_when_nothing_did() -> None:
    post = establish()
    assert post.update(fte=1.0, team="ACIN1") == []
    assert event_types(post) == [PostEstablished.type]
    assert post.update(fte=0.5, team="PC3") == ["team", "fte"]
    assert event_types(post)[-1] == PostUpdated.type
    assert last_payload(post).changed == ["team", "fte"]
    assert post.version == 2


def test_only_details_change_through_update() -> None:
    with pytest.raises(TypeError):
        establish().update(external_id="OTHER")
