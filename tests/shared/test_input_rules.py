"""The rules every input obeys, in one place (steadfast_shared.schemas; hardening issue, defects 2 and 9):
no control characters in a string (tab and line breaks only in free text), no date outside the
calendar the services compute on, no ``/`` in a source system's id."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import pytest
from pydantic import ConfigDict, TypeAdapter, ValidationError

from steadfast_shared.dates import FIRST_DAY, LAST_DAY, in_calendar
from steadfast_shared.schemas import Day, ExternalId, Input, Text, control_character


class Body(Input):
    model_config = ConfigDict(extra="forbid")

    name: str
    notes: Text | None = None
    on: date | None = None
    tags: list[str] = []
    grades: dict[str, str] = {}
    ref: ExternalId | None = None


def reasons(**fields: object) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as raised:
        Body.model_validate(fields)
    return [(e["loc"], e["type"]) for e in raised.value.errors()]


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\x7f", "\n", "\r", "\t"])
def test_a_name_may_hold_no_control_character(character: str) -> None:
    assert reasons(name=f"Amira{character}Khan") == [(("name",), "control_character")]


def test_free_text_may_run_over_lines_but_hold_no_nul() -> None:
    assert Body.model_validate({"name": "A", "notes": "line one\r\n\tline two"}).notes is not None
    assert reasons(name="A", notes="a\x00b") == [(("notes",), "control_character")]


def test_strings_inside_lists_and_mappings_are_checked_too() -> None:
    assert reasons(name="A", tags=["ok", "b\x00d"]) == [(("tags",), "control_character")]
    assert reasons(name="A", grades={"con\x00tact": "good"}) == [(("grades",), "control_character")]


def test_the_error_names_the_character() -> None:
    with pytest.raises(ValidationError) as raised:
        Body.model_validate({"name": "a\x00"})
    assert raised.value.errors()[0]["ctx"]["character"] == "U+0000"
    assert control_character("tab\there", multiline=True) is None
    assert control_character("tab\there") == "U+0009"


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1899, 12, 31), date(2200, 1, 1), date(9999, 12, 31)])
def test_a_day_outside_the_calendar_is_refused_in_a_body_and_a_query(day: date) -> None:
    assert not in_calendar(day)
    assert reasons(name="A", on=day.isoformat()) == [(("on",), "date_out_of_range")]
    with pytest.raises(ValidationError, match="date_out_of_range"):
        TypeAdapter(Day).validate_python(day)


def test_the_calendars_first_and_last_days_are_accepted() -> None:
    for day in (FIRST_DAY, LAST_DAY):
        assert Body.model_validate({"name": "A", "on": day}).on == day
        assert TypeAdapter(Day).validate_python(day) == day


@pytest.mark.parametrize("ref", ["HR/1001", "HR\\1001", ".", ".."])
def test_an_external_id_is_one_url_path_segment(ref: str) -> None:
    assert reasons(name="A", ref=ref) == [(("ref",), "not_a_path_segment")]


def test_an_external_id_keeps_its_other_punctuation() -> None:
    assert Body.model_validate({"name": "A", "ref": " HR-1001.a_b:c "}).ref == "HR-1001.a_b:c"


def test_a_nested_input_checks_its_own_fields() -> None:
    class Outer(Input):
        inner: Body
        items: list[Annotated[Body, "x"]] = []

    with pytest.raises(ValidationError) as raised:
        Outer.model_validate({"inner": {"name": "A"}, "items": [{"name": "b\x00"}]})
    assert [(e["loc"], e["type"]) for e in raised.value.errors()] == [
        (("items", 0, "name"), "control_character")
    ]
