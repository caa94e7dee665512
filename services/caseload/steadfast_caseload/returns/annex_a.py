"""Ofsted's Annex A workbook (one sheet per list): what the caseload service reads of it, as pure
functions over the cells openpyxl gives.

Lists read: 4 (assessments), 6 (children in need), 7 (child protection) and 8 (children looked
after). Each row is a child (``Child Unique ID``, the child's external id) with an episode of the list's
kind, the dates of the last visit (and for list 8 the last review and IRO visit), the year of birth and
the allocated worker. Other sheets are not read (lists 10 and 11 are formulas in Ofsted's template).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from steadfast_shared.codes import EpisodeType, VisitType
from steadfast_shared.dates import FIRST_DAY, LAST_DAY

CHILD = "Child Unique ID"
BIRTH = "Date of Birth"
WORKER = "Allocated Worker"
TEAM = "Allocated Team"


@dataclass(frozen=True)
class ListLayout:
    """What Steadfast reads of one list: the columns naming each fact, and every column of Ofsted's
    layout (the others are listed as not imported; a column not in the layout is unknown)."""

    number: int
    episode_type: EpisodeType
    start: str
    end: str | None
    visit: str | None = None
    seen_alone: str | None = None
    review: str | None = None
    iro_visit: str | None = None
    layout: tuple[str, ...] = ()

    @property
    def read(self) -> tuple[str, ...]:
        named = (
            CHILD,
            BIRTH,
            WORKER,
            self.start,
            self.end,
            self.visit,
            self.seen_alone,
            self.review,
            self.iro_visit,
        )
        return tuple(c for c in named if c is not None)


_COMMON = (
    "Child Unique ID",
    "Gender",
    "Ethnicity",
    "Date of Birth",
    "Age",
    "Does the Child have a Disability",
)
LISTS: dict[int, ListLayout] = {
    4: ListLayout(
        4,
        EpisodeType.assessment,
        start="Continuous Assessment Start Date",
        end="Continuous Assessment Date of Authorisation",
        layout=(
            *_COMMON,
            "Continuous Assessment Start Date",
            "Child Seen During Continuous Assessment",
            "Continuous Assessment Date of Authorisation",
            "Was the child assessed as requiring LA children's social care support?",
            TEAM,
            WORKER,
        ),
    ),
    6: ListLayout(
        6,
        EpisodeType.cin,
        start="CIN Start Date",
        end="CIN Closure Date",
        visit="Date Child Was Last Seen",
        layout=(
            *_COMMON,
            "CIN Start Date",
            "Primary Need Code",
            "Date Child Was Last Seen",
            "CIN Closure Date",
            "Reason for Closure",
            "Case Status",
            TEAM,
            WORKER,
        ),
    ),
    7: ListLayout(
        7,
        EpisodeType.cp,
        start="Child Protection Plan Start Date",
        end="Child Protection Plan End Date",
        visit="Date of the Last Statutory Visit",
        seen_alone="Was the Child Seen Alone?",
        layout=(
            *_COMMON,
            "Child Protection Plan Start Date",
            "Initial Category of Abuse",
            "Latest Category of Abuse",
            "Date of the Last Statutory Visit",
            "Was the Child Seen Alone?",
            "Date of latest review conference",
            "Child Protection Plan End Date",
            "Subject to Emergency Protection Order or Protected Under Police Powers in Last Six Months (Y/N)",
            "Number of Previous Child Protection Plans",
            TEAM,
            WORKER,
        ),
    ),
    8: ListLayout(
        8,
        EpisodeType.cla,
        start="Date Started to be Looked After",
        end="Date Ceased to be Looked After",
        visit="Date of Last Social Work Visit",
        review="Date of Latest Statutory Review",
        iro_visit="Date of Last IRO Visit / Contact to the Child",
        layout=(
            "Child Unique ID",
            "Gender",
            "Ethnicity",
            "Date of Birth",
            "Age",
            "Unaccompanied Asylum Seeking Child (UASC) within the Last 12 Months (Y/N))",
            "Does the Child have a Disability",
            "Date Started to be Looked After",
            "Child's Category of Need",
            "Is this a second or subsequent period of being a Looked After Child within the last 12 months"
            " (Y/N)",
            "Start date of current legal status",
            "Child's Legal Status",
            "Date of Latest Statutory Review",
            "Date of Last Social Work Visit",
            "What is the permanence plan for this child?",
            "Date of Last IRO Visit / Contact to the Child",
            "Date of Last Health Assessment",
            "Date of Last Dental Check",
            "Number of Placements in the Last 12 months",
            "Date Ceased to be Looked After",
            "Reason Ceased to be Looked After",
            "Start Date of Most Recent Placement",
            "Placement Type",
            "Placement Provider",
            "Placement postcode",
            "URN of Placement",
            "Placement Location",
            "LA of Placement",
            "Number of Episodes the Child has been \u2018Missing\u2019 from their Placement"
            " in the last 12 months",
            "Number of Episodes the Child has been \u2018Absent\u2019 from their Placement"
            " in the last 12 months",
            "Was the child offered a Return Interview after their last missing episode (Y/N)?",
            "Did the child accept a Return Interview after their last missing episode (Y/N)?",
            TEAM,
            WORKER,
        ),
    ),
}

_SHEET = re.compile(r"\s*list\s*(\d+)\b", re.IGNORECASE)
_LABEL = re.compile(r"^[a-z]\)\s*", re.IGNORECASE)  # Ofsted's pick lists: "a) Yes"
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_YES = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}
#: The error values Excel writes in a cell (``#N/A`` where a lookup found nothing).
EXCEL_ERRORS = frozenset({"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"})


def list_number(sheet_title: str) -> int | None:
    match = _SHEET.match(sheet_title)
    return int(match.group(1)) if match else None


def header_name(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


class CellError(Exception):
    def __init__(self, column: str, reason: str, message: str, value: Any = None) -> None:
        super().__init__(message)
        self.column, self.reason, self.message = column, reason, message
        self.value = None if value is None else str(value)[:200]


@dataclass
class ListRow:
    """One row of a list, read: the facts Steadfast keeps."""

    sheet: str
    row: int
    layout: ListLayout
    child: str
    birth_year: int | None
    start: date
    end: date | None
    visit: date | None
    seen_alone: bool | None
    review: date | None
    iro_visit: date | None
    worker: str | None
    warnings: list[str] = field(default_factory=list)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and (not value.strip() or value.strip() in EXCEL_ERRORS))


def _date(column: str, value: Any) -> date | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise CellError(column, "not_a_date", f"{column} holds a time of day, not a date", value)
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, str):
        text = value.strip()
        match = _UK_DATE.fullmatch(text)
        try:
            if match:
                day = date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
            else:
                day = date.fromisoformat(text)
        except ValueError:
            raise CellError(
                column, "not_a_date", f"{column} is not a date (DD/MM/YYYY or YYYY-MM-DD)", value
            ) from None
    else:
        raise CellError(column, "not_a_date", f"{column} is not a date", value)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise CellError(
            column, "date_out_of_range", f"{column} is outside {FIRST_DAY.year}-{LAST_DAY.year}", value
        )
    return day


def _yes_no(column: str, value: Any) -> bool | None:
    if _blank(value):
        return None
    found = _YES.get(_LABEL.sub("", str(value)).strip().lower())
    if found is None:
        raise CellError(column, "not_yes_or_no", f"{column} is not yes or no", value)
    return found


def _text(value: Any) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(str(value).split())  # a non-breaking space between the names is a space
    return text or None


def read_row(sheet: str, row: int, layout: ListLayout, cells: dict[str, tuple[Any, str]]) -> ListRow:
    """A list's row from its cells (column -> (value, openpyxl data type)); raises :class:`CellError`
    naming the first bad cell. A formula is refused (its value is never computed here)."""
    for column in layout.read:
        value, data_type = cells.get(column, (None, "n"))
        if data_type == "f" or (isinstance(value, str) and value.startswith("=")):
            raise CellError(
                column, "formula", f"{column} is a formula: send the workbook with values only", value
            )
    value = lambda column: cells.get(column, (None, "n"))[0]  # noqa: E731
    child = _text(value(CHILD))
    if child is None:
        raise CellError(CHILD, "missing", f"{CHILD} is empty: every row names its child")
    if len(child) > 100:
        raise CellError(CHILD, "string_too_long", f"{CHILD} is longer than 100 characters", child)
    start = _date(layout.start, value(layout.start))
    if start is None:
        raise CellError(
            layout.start, "missing", f"{layout.start} is empty: the row's episode needs its start"
        )
    end = _date(layout.end, value(layout.end)) if layout.end else None
    if end is not None and end < start:
        raise CellError(
            layout.end or "", "end_before_start", f"{layout.end} is before {layout.start}", value(layout.end)
        )
    born = _date(BIRTH, value(BIRTH))
    warnings = [
        f"{column}: the Excel error {cells[column][0]} is read as empty"
        for column in layout.read
        if column in cells and isinstance(cells[column][0], str) and cells[column][0].strip() in EXCEL_ERRORS
    ]
    return ListRow(
        sheet=sheet,
        row=row,
        layout=layout,
        child=child,
        birth_year=born.year if born else None,
        start=start,
        end=end,
        visit=_date(layout.visit, value(layout.visit)) if layout.visit else None,
        seen_alone=_yes_no(layout.seen_alone, value(layout.seen_alone)) if layout.seen_alone else None,
        review=_date(layout.review, value(layout.review)) if layout.review else None,
        iro_visit=_date(layout.iro_visit, value(layout.iro_visit)) if layout.iro_visit else None,
        worker=_text(value(WORKER)),
        warnings=warnings,
    )


def episode_end(row: ListRow) -> date | None:
    """The end of the row's episode (exclusive, as Steadfast's intervals are): the list's end date, or
    for an assessment authorised the day it began, the day after."""
    if row.end is not None and row.end == row.start:
        from datetime import timedelta

        return row.start + timedelta(days=1)
    return row.end


def visit_type(layout: ListLayout) -> VisitType:
    return VisitType(layout.episode_type.value)


def assessment_id(row: ListRow) -> str:
    """An Annex A assessment has no id of its own: the child's and its start date make one."""
    return f"{row.child}-assessment-{row.start.isoformat()}"
