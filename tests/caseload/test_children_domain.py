"""The child aggregate's rules for episodes and allocations, without a database."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from steadfast_caseload.children.models import Child, Outcome
from steadfast_shared.codes import AllocationChangeReason, EpisodeType
from steadfast_shared.errors import ValidationFailed

A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def error_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, object]:
    assert exc.value.status == 422
    (error,) = exc.value.errors
    return error


def test_an_allocation_may_not_overlap_another_of_the_same_child_to_the_same_worker() -> None:
    child = Child.register("C1")
    _, first = child.allocate(A, date(2015, 1, 5), date(2015, 3, 2))
    with pytest.raises(ValidationFailed) as exc:
        child.allocate(A, date(2015, 3, 1), None)
    error = error_of(exc)
    assert error["rule"] == error["reason"] == "overlapping_allocation"
    assert error["conflicting_allocation"] == str(first.id)
    assert error["worker_id"] == str(A)
    assert error["start_date"] == "2015-03-01"


def test_back_to_back_allocations_to_one_worker_and_overlaps_across_workers_are_allowed() -> None:
    child = Child.register("C1")
    child.allocate(A, date(2015, 1, 5), date(2015, 3, 2))
    # half-open: the second starts on the day the first ended
    assert child.allocate(A, date(2015, 3, 2), None)[0] is Outcome.created
    assert child.allocate(B, date(2015, 2, 1), None)[0] is Outcome.created


def test_an_allocation_must_end_after_it_starts_and_the_error_names_the_record() -> None:
    child = Child.register("C1")
    with pytest.raises(ValidationFailed) as exc:
        child.allocate(A, date(2015, 3, 2), date(2015, 3, 2))
    error = error_of(exc)
    assert (error["field"], error["rule"]) == ("end_date", "end_not_after_start")
    assert (error["worker_id"], error["start_date"], error["end_date"]) == (
        str(A),
        "2015-03-02",
        "2015-03-02",
    )


def test_an_allocation_is_upserted_by_worker_and_start_date() -> None:
    child = Child.register("C1")
    outcome, allocation = child.allocate(A, date(2015, 1, 5), None)
    assert outcome is Outcome.created
    version = child.version
    outcome, same = child.allocate(A, date(2015, 1, 5), date(2015, 3, 2), AllocationChangeReason.LEFTRL)
    assert (outcome, same.id, same.end_date, same.reason) == (
        Outcome.updated,
        allocation.id,
        date(2015, 3, 2),
        AllocationChangeReason.LEFTRL,
    )
    assert child.version == version + 1
    assert child.allocate(A, date(2015, 1, 5), date(2015, 3, 2))[0] is Outcome.unchanged
    assert len(child.allocations) == 1


def test_an_episode_type_must_be_known() -> None:
    child = Child.register("C1")
    with pytest.raises(ValidationFailed) as exc:
        child.record_episode("wardship", date(2015, 1, 5), None)  # type: ignore[arg-type]
    error = error_of(exc)
    assert (error["field"], error["rule"], error["episode_type"]) == (
        "episode_type",
        "unknown_episode_type",
        "wardship",
    )
    assert child.record_episode("cp", date(2015, 1, 5), None)[1].episode_type is EpisodeType.cp  # type: ignore[arg-type]


def test_an_episode_must_end_after_it_starts_and_is_closed_by_an_upsert() -> None:
    child = Child.register("C1")
    with pytest.raises(ValidationFailed) as exc:
        child.record_episode(EpisodeType.cin, date(2015, 1, 5), date(2015, 1, 4))
    error = error_of(exc)
    assert (error["field"], error["rule"], error["episode_type"], error["start_date"]) == (
        "episode_end",
        "end_not_after_start",
        "cin",
        "2015-01-05",
    )
    _, episode = child.record_episode(EpisodeType.cin, date(2015, 1, 5), None)
    outcome, closed = child.record_episode(EpisodeType.cin, date(2015, 1, 5), date(2015, 6, 1))
    assert (outcome, closed.id, closed.end_date) == (Outcome.updated, episode.id, date(2015, 6, 1))


def test_workers_in_the_current_run_count_a_returning_worker_once() -> None:
    child = Child.register("C1")
    # an earlier, separate run of episodes with worker C
    child.record_episode(EpisodeType.cin, date(2013, 1, 7), date(2013, 6, 3))
    child.allocate(C, date(2013, 1, 7), date(2013, 6, 3))
    # the current run: cin then cp starting the day cin ends (touching episodes are one run)
    child.record_episode(EpisodeType.cin, date(2014, 5, 1), date(2014, 9, 1))
    child.record_episode(EpisodeType.cp, date(2014, 9, 1), None)
    child.allocate(A, date(2014, 5, 1), date(2014, 10, 1))
    child.allocate(B, date(2014, 10, 1), date(2015, 1, 5))
    child.allocate(A, date(2015, 1, 5), None)
    as_of = date(2015, 3, 2)
    start = child.current_run_start(as_of)
    assert start == date(2014, 5, 1)
    assert child.workers_since(start, as_of) == [A, B]
    # before B's allocation began, only A
    assert child.workers_since(start, date(2014, 9, 30)) == [A]
