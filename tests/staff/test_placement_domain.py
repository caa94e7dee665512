"""The student placement aggregate's rules, without HTTP or a database."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from steadfast_shared.errors import ValidationFailed
from steadfast_staff.enums import Placement
from steadfast_staff.events import (
    StudentPlacementData,
    StudentPlacementRecorded,
    StudentPlacementRemoved,
    StudentPlacementUpdated,
)
from steadfast_staff.placements.models import StudentPlacement


def record(**overrides: object) -> StudentPlacement:
    fields: dict[str, object] = {
        "external_id": "PL-2015-01",
        "university": "Keele University",
        "placement": Placement.second,
        "team": "ACIN1",
        "start_date": date(2015, 9, 7),
        "end_date": date(2016, 1, 29),
    }
    fields.update(overrides)
    return StudentPlacement.record_placement(**fields)  # type: ignore[arg-type]


def events(placement: StudentPlacement) -> list[str]:
    return [e.event_type.type for e in placement._detached_events()]


def last_payload(placement: StudentPlacement) -> StudentPlacementData:
    data = placement._detached_events()[-1].data
    assert isinstance(data, StudentPlacementData)
    return data


def test_recording_a_placement_publishes_its_state() -> None:
    placement = record()
    assert events(placement) == [StudentPlacementRecorded.type]
    payload = last_payload(placement)
    assert payload.placement is Placement.second
    assert payload.start_date == date(2015, 9, 7)
    assert payload.hired_afterwards is False
    assert payload.version == 1


def test_a_placement_ends_after_it_starts() -> None:
    with pytest.raises(ValidationFailed) as raised:
        record(end_date=date(2015, 9, 7))
    assert raised.value.errors[0]["reason"] == "not_after_start_date"


def test_an_open_ended_placement_is_allowed_and_half_open() -> None:
    assert record(end_date=None).active_on(date(2030, 1, 1))
    placement = record()
    assert placement.active_on(date(2016, 1, 28))
    assert not placement.active_on(date(2016, 1, 29))


def test_naming_the_hired_worker_implies_hired_afterwards() -> None:
    hired = uuid.uuid4()
    assert record(hired_worker_id=hired).hired_afterwards is True
    with pytest.raises(ValidationFailed) as raised:
        record(hired_worker_id=hired, hired_afterwards=False)
    assert raised.value.errors[0]["field"] == "hired_worker"
    assert record(hired_afterwards=True).hired_worker_id is None


def test_an_update_records_what_changed() -> None:
    placement = record()
    hired = uuid.uuid4()
    assert placement.update(hired_worker_id=hired) == ["hired_afterwards", "hired_worker_id"]
    assert events(placement)[-1] == StudentPlacementUpdated.type
    payload = last_payload(placement)
    assert payload.hired_worker_id == hired
    assert payload.version == 2


def test_an_update_that_changes_nothing_records_nothing() -> None:
    placement = record()
    assert placement.update(university="Keele University", placement=Placement.second) == []
    assert events(placement) == [StudentPlacementRecorded.type]
    assert placement.version == 1


def test_un_hiring_needs_the_hired_worker_cleared_too() -> None:
    placement = record(hired_worker_id=uuid.uuid4())
    with pytest.raises(ValidationFailed):
        placement.update(hired_afterwards=False)
    placement = record(hired_worker_id=uuid.uuid4())
    assert placement.update(hired_afterwards=False, hired_worker_id=None) == [
        "hired_afterwards",
        "hired_worker_id",
    ]


def test_removing_publishes_the_last_state_with_a_newer_version() -> None:
    placement = record()
    placement.remove()
    assert events(placement)[-1] == StudentPlacementRemoved.type
    assert last_payload(placement).version == 2
