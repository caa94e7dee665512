"""The import engine's fast row reader: every row it reads is exactly what the row model would make of
it, and every row it is not sure of is left to the row model (so its errors are the model's)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from steadfast_shared.codes import AllocationChangeReason, EpisodeType, VisitType
from steadfast_shared.imports.fast import FastRows
from steadfast_shared.schemas import ExternalId, Input, Text

Ref = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=12)]


class Row(Input):
    model_config = ConfigDict(extra="ignore", frozen=True)

    external_id: ExternalId
    child: Ref
    start: date
    end: date | None = None
    episode_type: EpisodeType
    reason: AllocationChangeReason | None = None
    seen_alone: bool | None = None


CELLS = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "2015-03-02",
            "2015-02-30",
            "1899-12-31",
            "2200-01-01",
            "0000-01-01",
            "02/03/2015",
            "2015-3-2",
            "20150302",
            "1425254400",
            "cin",
            "CIN",
            "child_in_need",
            "assessment",
            "true",
            "false",
            "yes",
            "No",
            "1",
            "0",
            "maybe",
            "LCS0001",
            "HR/1",
            "..",
            ".",
            "a" * 12,
            "a" * 13,
            "x\ty",
            "x\x00y",
            "x\u2028y",
            "x\xa0y",
            "é",
            "=1+1",
        ]
        + [reason.value for reason in AllocationChangeReason]
    ),
    st.text(max_size=14),
)
COLUMNS = ["external_id", "child", "start", "end", "episode_type", "reason", "seen_alone"]


def _model(raw: dict[str, Any]) -> Row | None:
    try:
        return Row.model_validate(raw)
    except ValidationError:
        return None


@settings(max_examples=3000, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={column: CELLS for column in COLUMNS},
    )
)
def test_a_row_read_fast_is_the_row_the_model_validates(raw: dict[str, Any]) -> None:
    fast = FastRows.for_model(Row)
    assert fast is not None
    # The engine hands over stripped cells, empty ones as None.
    raw = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in raw.items()}
    read = fast(raw)
    if read is None:
        return  # left to the model, whatever it makes of it
    validated = _model(raw)
    assert validated is not None, f"read fast, but the model refuses {raw!r}"
    assert read == validated
    assert read.model_fields_set == validated.model_fields_set
    assert read.model_dump() == validated.model_dump()
    assert {k: type(v) for k, v in read.__dict__.items()} == {
        k: type(v) for k, v in validated.__dict__.items()
    }
    assert list(read.__dict__) == list(validated.__dict__)


def test_the_common_row_is_read_fast() -> None:
    fast = FastRows.for_model(Row)
    assert fast is not None
    raw = {
        "external_id": "LCS0001",
        "child": "C1",
        "start": "2015-03-02",
        "end": None,
        "episode_type": "cin",
        "reason": "MANAGE",
        "seen_alone": "true",
    }
    read = fast(raw)
    assert read is not None
    assert read == Row.model_validate(raw)
    assert fast({k: v for k, v in raw.items() if k != "seen_alone"}) is not None


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("start", "02/03/2015"),  # a UK date: normalised first, then read
        ("episode_type", "Child in Need"),  # a label
        ("child", "x\x01y"),  # a control character: the model names it
        ("start", "1899-12-31"),  # outside the calendar
        ("external_id", "a/b"),  # the external id's own rule
        ("child", "a" * 13),  # too long
    ],
)
def test_a_cell_it_is_not_sure_of_goes_to_the_model(column: str, value: str) -> None:
    fast = FastRows.for_model(Row)
    assert fast is not None
    raw: dict[str, str | None] = {
        "external_id": "LCS0001",
        "child": "C1",
        "start": "2015-03-02",
        "episode_type": "cin",
        column: value,
    }
    assert fast(raw) is None


def test_a_missing_required_column_or_an_empty_required_cell_goes_to_the_model() -> None:
    fast = FastRows.for_model(Row)
    assert fast is not None
    assert fast({"external_id": "LCS0001", "child": "C1", "episode_type": "cin"}) is None
    assert fast({"external_id": "LCS0001", "child": "C1", "start": None, "episode_type": "cin"}) is None


class WithValidator(Input):
    code: str

    @field_validator("code")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class WithText(Input):
    notes: Text


class WithNumber(Input):
    fte: float


class WithAlias(Input):
    code: str = Field(alias="Code")


class WithTransform(Input):
    code: Annotated[str, StringConstraints(to_lower=True)]


class WithVisit(Input):
    visit_type: VisitType
    note: Annotated[str, AfterValidator(lambda v: v)] | None = None


@pytest.mark.parametrize("model", [WithValidator, WithText, WithNumber, WithAlias, WithTransform])
def test_a_model_with_rules_of_its_own_or_fields_it_does_not_know_is_always_validated(model: Any) -> None:
    assert FastRows.for_model(model) is None


def test_an_optional_annotated_text_with_a_plain_after_validator_is_read() -> None:
    fast = FastRows.for_model(WithVisit)
    assert fast is not None
    read = fast({"visit_type": "cla", "note": "fine"})
    assert read == WithVisit.model_validate({"visit_type": "cla", "note": "fine"})
