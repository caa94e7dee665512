"""Cells as councils' extracts write them, turned into the codes and ISO dates the row models expect.

An analyst's extract often comes out of Excel: UK dates (``31/03/2015``) and codes written as labels
(``Social Worker``, ``Agency``, ``Child Protection``). Where the meaning is unambiguous the cell is
normalised before validation and the answer says what was changed; anything else is left as it is and
the row model refuses it with the row, column and reason.

- Dates: ISO ``YYYY-MM-DD`` always; ``DD/MM/YYYY`` (one or two digits for day and month, an Excel
  midnight time ``00:00[:00]`` allowed) only when the import says ``date_format=DD/MM/YYYY``, since
  ``03/04/2015`` means different days in different countries.
- Codes: matched case-insensitively with spaces, hyphens and other punctuation read as ``_``
  (``Social Worker`` is ``social_worker``), plus the few labels in :data:`LABELS` that are the same
  thing under another name (``Advanced Practitioner`` is ``consultant_practitioner``).
"""

from __future__ import annotations

import functools
import re
import types
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Field

from steadfast_shared.codes import (
    AuditType,
    EmploymentType,
    EpisodeType,
    Grade,
    LeavingReason,
    Role,
    VisitType,
)

#: How many distinct (column, label) normalisations the answer lists; the row counts stay complete.
MAX_LISTED_NORMALISATIONS = 200


class DateFormat(StrEnum):
    iso = "YYYY-MM-DD"
    uk = "DD/MM/YYYY"


#: Labels that name a code under another name, after folding (lower case, punctuation as ``_``).
LABELS: dict[type[Enum], dict[str, str]] = {
    Role: {
        "advanced_practitioner": "consultant_practitioner",
        "iro": "independent_reviewing_officer",
        "social_work_student": "student",
        "student_social_worker": "student",
    },
    EmploymentType: {"fixed_term_contract": "fixed_term", "locum": "agency"},
    EpisodeType: {
        "child_in_need": "cin",
        "children_in_need": "cin",
        "child_protection": "cp",
        "child_protection_plan": "cp",
        "looked_after": "cla",
        "child_looked_after": "cla",
        "children_looked_after": "cla",
        "looked_after_child": "cla",
    },
    VisitType: {
        "child_in_need": "cin",
        "child_protection": "cp",
        "looked_after": "cla",
        "child_looked_after": "cla",
        "looked_after_child": "cla",
    },
    Grade: {"requires_improvement_to_be_good": "requires_improvement"},
    AuditType: {"full_audit": "full", "dip": "dip_sample"},
    LeavingReason: {
        "transfer_to_another_la": "transfer_to_other_la",
        "transfer_to_another_local_authority": "transfer_to_other_la",
        "transfer_to_other_local_authority": "transfer_to_other_la",
    },
}

_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?: 00:00(?::00)?)?")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(label: str) -> str:
    """``'Social Worker'`` -> ``'social_worker'``: the form labels and codes are compared in."""
    return _NON_ALNUM.sub("_", label.casefold()).strip("_")


@functools.cache
def _codes_of(codes: type[Enum]) -> frozenset[str]:
    return frozenset(str(member.value) for member in codes)


@dataclass(frozen=True)
class _Column:
    kind: str  # "date" or "code"
    codes: type[Enum] | None = None


def _column_kind(annotation: Any) -> _Column | None:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _column_kind(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        for arg in get_args(annotation):
            if arg is not type(None) and (found := _column_kind(arg)) is not None:
                return found
        return None
    if isinstance(annotation, type):
        if issubclass(annotation, date) and not issubclass(annotation, datetime):
            return _Column("date")
        if issubclass(annotation, Enum) and issubclass(annotation, str):
            return _Column("code", annotation)
    return None


class CodeNormalisation(BaseModel):
    column: str
    value: str
    normalised_to: str
    rows: int


class Normalisation(BaseModel):
    """What the import changed in the file to read it, so the sender can see it was understood."""

    encoding: str
    byte_order_mark_removed: bool = False
    date_format: DateFormat
    dates_converted: int = 0
    codes: list[CodeNormalisation] = Field(default_factory=list)
    codes_truncated: bool = False


class CellNormaliser:
    """Normalises a row's raw cells (column -> text or None) for one row model, counting what it did."""

    def __init__(self, row_model: type[BaseModel], date_format: DateFormat, report: Normalisation) -> None:
        self._columns = {
            name: kind
            for name, info in row_model.model_fields.items()
            if (kind := _column_kind(info.annotation)) is not None
        }
        self._date_format = date_format
        self._report = report
        self._codes: dict[tuple[str, str], CodeNormalisation] = {}

    def __call__(self, raw: dict[str, str | None]) -> dict[str, str | None]:
        for name, column in self._columns.items():
            value = raw.get(name)
            if value is None:
                continue
            normalised = self._date(value) if column.kind == "date" else self._code(name, value, column)
            if normalised is not None:
                raw[name] = normalised
        return raw

    def _date(self, value: str) -> str | None:
        if self._date_format is not DateFormat.uk:
            return None
        match = _UK_DATE.fullmatch(value)
        if match is None:
            return None
        day, month, year = (int(g) for g in match.groups())
        self._report.dates_converted += 1
        # An impossible day (31/02/2015) stays impossible: the row model names it.
        return f"{year:04d}-{month:02d}-{day:02d}"

    def _code(self, name: str, value: str, column: _Column) -> str | None:
        assert column.codes is not None
        codes = _codes_of(column.codes)
        if value in codes:
            return None
        folded = fold(value)
        code = folded if folded in codes else LABELS.get(column.codes, {}).get(folded)
        if code is None:
            return None
        key = (name, value)
        entry = self._codes.get(key)
        if entry is None:
            entry = CodeNormalisation(column=name, value=value, normalised_to=code, rows=0)
            if len(self._report.codes) < MAX_LISTED_NORMALISATIONS:
                self._codes[key] = entry
                self._report.codes.append(entry)
            else:
                self._report.codes_truncated = True
        entry.rows += 1
        return code
