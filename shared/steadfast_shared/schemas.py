"""Building blocks of the services' request schemas: the rules every input obeys, kept in one place.

Every request body and CSV row model derives from :class:`Input`, which checks each value it accepts,
whatever the field's own type says:

- **No control characters.** A string may not hold a C0 control character (U+0000 NUL to U+001F) or
  DEL: PostgreSQL cannot store a NUL at all, and the others are corruption, not data. A field typed
  :data:`Text` (free text: findings, notes, reasons) may hold tab and line breaks. The error is
  ``control_character``, naming the field (a JSON body's 422) or the column (a CSV row error).
- **Dates in the calendar.** A date must lie from :data:`~steadfast_shared.dates.FIRST_DAY` to
  :data:`~steadfast_shared.dates.LAST_DAY` (``date_out_of_range``), so the arithmetic on it never
  overflows. Query parameters take the same rule as :data:`Day`.

:data:`ExternalId` is a source system's id, which every service accepts in place of its own id in a
URL path; :data:`NotNull` marks a PATCH field that may be left out but not cleared.

:func:`with_examples` is the ``model_config`` of a request or response schema that shows an example of
itself in the OpenAPI document (``tests/shared/test_openapi_document.py`` validates every one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Unpack, cast, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from steadfast_shared.dates import FIRST_DAY, LAST_DAY, in_calendar

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_character(text: str, *, multiline: bool = False) -> str | None:
    """The first control character ``text`` may not hold, as ``U+XXXX`` (None when it is clean).
    ``multiline`` text may hold tab, line feed and carriage return."""
    found = (_CONTROL_IN_TEXT if multiline else _CONTROL).search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def _check_string(text: str, multiline: bool) -> None:
    character = control_character(text, multiline=multiline)
    if character is not None:
        allowed = " (tab and line breaks are allowed)" if multiline else ""
        raise PydanticCustomError(
            "control_character",
            "may not contain control characters{allowed}; found {character}",
            {"character": character, "allowed": allowed},
        )


def _check_day(day: date) -> date:
    if not in_calendar(day):
        raise PydanticCustomError(
            "date_out_of_range",
            "a date from {first} to {last}",
            {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
        )
    return day


def _check(value: Any, multiline: bool) -> None:
    if isinstance(value, str):
        _check_string(value, multiline)
    elif isinstance(value, date):
        _check_day(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key, False)
            _check(item, multiline)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check(item, multiline)
    # A nested Input checked its own fields; anything else (numbers, enums, UUIDs) holds no text.


class _MultiLine:
    """The marker of :data:`Text`."""

    def __repr__(self) -> str:
        return "MultiLine"


MULTILINE = _MultiLine()

#: Free text that may run over lines (findings, notes, reasons): tab and line breaks allowed.
Text = Annotated[str, MULTILINE]


def _marked_multiline(info: FieldInfo) -> bool:
    def mentions(annotation: Any) -> bool:
        return annotation is MULTILINE or any(mentions(arg) for arg in get_args(annotation))

    return any(m is MULTILINE for m in info.metadata) or mentions(info.annotation)


class Input(BaseModel):
    """The base of every request body and CSV row model: no control characters in any string (but tab
    and line breaks in :data:`Text`), no date outside the calendar, no infinite or NaN number (JSON has
    none, and a stored one breaks the JSON columns that hold it), whatever the field."""

    model_config = ConfigDict(allow_inf_nan=False)

    _multiline_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._multiline_fields = frozenset(
            name for name, info in cls.model_fields.items() if _marked_multiline(info)
        )

    @field_validator("*", mode="after")
    @classmethod
    def _every_input(cls, value: Any, info: ValidationInfo) -> Any:
        _check(value, info.field_name in cls._multiline_fields)
        return value


#: A date input outside a body (a query parameter): ``Annotated[Day | None, Query(...)] = None``.
Day = Annotated[date, AfterValidator(_check_day)]


def _path_segment(value: str) -> str:
    if "/" in value or "\\" in value or value in {".", ".."}:
        raise PydanticCustomError(
            "not_a_path_segment",
            "may not contain / or \\ nor be . or .. (the id is fetched as one segment of a URL path)",
        )
    return value


#: A source system's id (an HR or case-management record's): every route taking a record's id takes
#: it instead, as one URL path segment (``/v1/workers/HR-1001``), so it may not hold ``/`` or ``\\`` (a
#: client or proxy reads either as a separator) nor be ``.`` or ``..`` (a client removes them).
ExternalId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_path_segment)
]


def _not_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError(
            "null_not_allowed", "this field may be left out to keep its value, but it may not be null"
        )
    return value


#: For a PATCH body's field that may be omitted but not cleared: ``Annotated[Role | None, NotNull] = None``.
#: Left out, the field keeps its value; an explicit ``null`` is a 422 naming the field
#: (``null_not_allowed``) instead of reaching a record whose column cannot be empty.
NotNull = AfterValidator(_not_null)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: A point in time in a response: always rendered in UTC with its offset (``...+00:00``), as the
#: ``date-time`` format requires; a naive value is taken to be UTC (the columns store UTC, see
#: :class:`~steadfast_shared.db.types.UtcDateTime`).
Timestamp = Annotated[datetime, AfterValidator(_utc)]


def with_examples(*examples: Mapping[str, Any], **config: Unpack[ConfigDict]) -> ConfigDict:
    """A ``model_config`` whose JSON schema (and so each service's OpenAPI) carries ``examples``: each
    one as a client sends or reads it (JSON: dates as ``"2015-03-02"``), and valid for the model, its
    cross-field rules included (the OpenAPI document test validates every one). ``config`` is the rest
    of the model's configuration (``extra="forbid"``...). A subclass inherits the examples: one whose
    fields differ gives its own."""
    extra = cast(JsonDict, {"examples": [dict(example) for example in examples]})
    return ConfigDict(json_schema_extra=extra, **config)
