"""The census XML, read and written: pure functions over bytes and :class:`CensusItem`.

Reading is in two streamed passes over the (spooled) file, so memory does not grow with it:

1. :func:`schema_problems` validates the document against the DfE schema (``schema/csww-2022.xsd``)
   with xmlschema, lazily, through its safe parser: a document type declaration, an entity (the
   "billion laughs") or an external reference is refused before anything is expanded or fetched
   (:class:`HostileXml`). Each schema error names the ``CSWWWorker`` item (its position, 1 first), the
   element and the reason.
2. :class:`CensusReader` reads the items one at a time with expat (which refuses the same
   declarations again), with the line each starts on, and :func:`to_item` makes the Steadfast codes of
   a valid one.

Writing (:func:`document_start`, :func:`worker_element`, :data:`DOCUMENT_END`) makes the document in
pieces, one per worker, in the schema's element order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat
from xml.sax.saxutils import escape

import xmlschema
from xmlschema.exceptions import XMLResourceError, XMLResourceForbidden, XMLResourceParseError

from steadfast_staff.census import mapping
from steadfast_staff.enums import (
    AbsenceReason,
    CensusLeavingReason,
    CensusRole,
    CfkssStatus,
    LeaverDestination,
    QualificationLevel,
    StartOrigin,
)

SCHEMA_PATH = Path(__file__).parent / "schema" / "csww-2022.xsd"
ITEM = "CSWWWorker"
ROOT = "Message"
#: Elements of an item Steadfast does not keep (equality data: the staff service holds none).
NOT_STORED = ("PersonBirthDate", "GenderCurrent", "Ethnicity")
CHUNK_BYTES = 64 * 1024
_ITEM_PATH = re.compile(rf"^/{ROOT}/{ITEM}(?:\[(\d+)\])?(?:/([^/\[]+))?")
_TIMEZONE = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


class HostileXml(Exception):
    """A document that declares a DTD or an entity, or refers to another resource."""


class MalformedXml(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@cache
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_PATH))


@dataclass(frozen=True)
class SchemaProblem:
    """A schema error: in item ``item`` (None: outside every item), at ``element``."""

    item: int | None
    element: str | None
    path: str
    reason: str
    message: str
    value: str | None


def _reason(error: Any) -> str:
    kind = type(error.validator).__name__ if error.validator is not None else ""
    if type(error).__name__ == "XMLSchemaChildrenValidationError":
        return "unexpected_element" if getattr(error, "invalid_tag", None) else "missing_element"
    return {
        "XsdEnumerationFacets": "not_a_census_code",
        "XsdPatternFacets": "pattern_mismatch",
        "XsdFractionDigitsFacet": "too_many_decimals",
        "XsdMinInclusiveFacet": "out_of_range",
        "XsdMaxInclusiveFacet": "out_of_range",
        "XsdMinLengthFacet": "empty",
    }.get(kind, "invalid_value")


def schema_problems(body: IO[bytes]) -> Iterator[SchemaProblem]:
    """Every schema error of the document, in document order (the file is read once, lazily)."""
    body.seek(0)
    try:
        resource = xmlschema.XMLResource(body, defuse="always", allow="none", lazy=True)
        for error in schema().iter_errors(resource):
            path = str(error.path or "")
            found = _ITEM_PATH.match(path)
            item = element = None
            if found:
                item = int(found.group(1) or 1)
                element = found.group(2) or ITEM
                if type(error).__name__ == "XMLSchemaChildrenValidationError":
                    # The child that is out of place, or else the first one missing.
                    expected = [getattr(e, "local_name", None) for e in getattr(error, "expected", ())]
                    element = getattr(error, "invalid_tag", None) or next((e for e in expected if e), element)
            else:
                element = path.rsplit("/", 1)[-1].split("[")[0] or None
            value = error.obj if isinstance(error.obj, str) else None
            yield SchemaProblem(
                item=item,
                element=element,
                path=path,
                reason=_reason(error),
                message=str(error.reason or error.message),
                value=value,
            )
    except XMLResourceForbidden as exc:
        raise HostileXml(str(exc)) from None
    except (XMLResourceParseError, XMLResourceError) as exc:
        raise MalformedXml(str(exc)) from None
    except SyntaxError as exc:  # ElementTree's ParseError
        raise MalformedXml(str(exc), getattr(exc, "lineno", None)) from None


@dataclass
class RawItem:
    """A ``CSWWWorker`` as written: each child element's texts, in order."""

    position: int
    line: int
    values: dict[str, list[str]] = field(default_factory=dict)

    def one(self, name: str) -> str | None:
        found = self.values.get(name)
        return found[0] if found else None


class CensusReader:
    """The items of a census document, streamed; the header's ``Year`` and ``ReferenceDate`` are read
    on the way (they precede the items)."""

    def __init__(self, body: IO[bytes]) -> None:
        self.body = body
        self.year: int | None = None
        self.reference_date: str | None = None

    def items(self) -> Iterator[RawItem]:
        self.body.seek(0)
        parser = expat.ParserCreate()
        ready: list[RawItem] = []
        path: list[str] = []
        text: list[str] = []
        current: RawItem | None = None
        count = 0

        def refuse(*_: Any) -> Any:
            raise HostileXml("document type declarations and entities are refused")

        def start(name: str, _attributes: dict[str, str]) -> None:
            nonlocal current, count
            path.append(name)
            text.clear()
            if len(path) == 2 and name == ITEM:
                count += 1
                current = RawItem(position=count, line=parser.CurrentLineNumber)

        def end(name: str) -> None:
            nonlocal current
            value = "".join(text).strip()
            text.clear()
            if len(path) == 3 and current is not None:
                current.values.setdefault(name, []).append(value)
            elif len(path) == 2 and current is not None:
                ready.append(current)
                current = None
            elif path[-2:] == ["CollectionDetails", "Year"]:
                self.year = int(value) if value.isdigit() else None
            elif path[-2:] == ["CollectionDetails", "ReferenceDate"]:
                self.reference_date = value
            path.pop()

        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        parser.ExternalEntityRefHandler = refuse
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text.append
        try:
            while chunk := self.body.read(CHUNK_BYTES):
                parser.Parse(chunk, False)
                yield from ready
                ready.clear()
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise MalformedXml(str(exc), exc.lineno) from None
        yield from ready


# -- items ---------------------------------------------------------------------------------------------


@dataclass
class CensusItem:
    """One worker's census item in Steadfast's codes (the DfE elements in the schema's order)."""

    agency_worker: bool
    swe_number: str
    fte: Decimal | None = None
    qualifying_institutions: list[str] = field(default_factory=list)
    qualification_level: QualificationLevel | None = None
    step_up_graduate: bool | None = None
    census_role: CensusRole | None = None
    role_start_date: date | None = None
    start_origin: StartOrigin | None = None
    role_end_date: date | None = None
    leaver_destination: LeaverDestination | None = None
    census_leaving_reason: CensusLeavingReason | None = None
    fte_30_sept: Decimal | None = None
    cases_30_sept: int | None = None
    working_days_lost: Decimal | None = None
    contract_weeks: list[Decimal] = field(default_factory=list)
    frontline_graduate: bool | None = None
    absent_30_sept: list[bool] = field(default_factory=list)
    absence_reasons: list[AbsenceReason] = field(default_factory=list)
    cfkss_statuses: list[CfkssStatus] = field(default_factory=list)


@dataclass(frozen=True)
class ItemProblem:
    """A value the schema lets through that Steadfast cannot keep."""

    element: str
    reason: str
    message: str
    value: str | None


def _date(text: str) -> date:
    return date.fromisoformat(_TIMEZONE.sub("", text))


def _decimal(text: str) -> Decimal:
    return Decimal(text)


def to_item(raw: RawItem) -> tuple[CensusItem | None, list[ItemProblem]]:
    """A schema-valid item in Steadfast's codes, or the problems that stop it being kept."""
    problems: list[ItemProblem] = []

    def one(name: str, convert: Any) -> Any:
        text = raw.one(name)
        if text is None:
            return None
        try:
            return convert(text)
        except (ValueError, KeyError, InvalidOperation):
            problems.append(ItemProblem(name, "invalid_value", f"{name} cannot be read", text))
            return None

    def many(name: str, convert: Any) -> list[Any]:
        values = []
        for text in raw.values.get(name, []):
            try:
                values.append(convert(text))
            except (ValueError, KeyError, InvalidOperation):
                problems.append(ItemProblem(name, "invalid_value", f"{name} cannot be read", text))
        return values

    item = CensusItem(
        agency_worker=mapping.YES_NO[raw.one("AgencyWorker") or "0"],
        swe_number=(raw.one("SWENo") or "").upper(),
        fte=one("FTE", _decimal),
        qualifying_institutions=list(raw.values.get("QualInst", [])),
        qualification_level=one("QualLevel", mapping.QUALIFICATION_LEVEL.__getitem__),
        step_up_graduate=one("StepUpGrad", mapping.YES_NO.__getitem__),
        census_role=one("OrgRole", mapping.CENSUS_ROLE.__getitem__),
        role_start_date=one("RoleStartDate", _date),
        start_origin=one("StartOrigin", mapping.START_ORIGIN.__getitem__),
        role_end_date=one("RoleEndDate", _date),
        leaver_destination=one("LeaverDestination", mapping.LEAVER_DESTINATION.__getitem__),
        census_leaving_reason=one("ReasonLeave", mapping.CENSUS_LEAVING_REASON.__getitem__),
        fte_30_sept=one("FTE30", _decimal),
        cases_30_sept=one("Cases30", int),
        working_days_lost=one("WorkingDaysLost", _decimal),
        contract_weeks=many("ContractWeeks", _decimal),
        frontline_graduate=one("FrontlineGrad", mapping.YES_NO.__getitem__),
        absent_30_sept=many("Absat30Sept", mapping.YES_NO.__getitem__),
        absence_reasons=many("ReasonAbsence", mapping.ABSENCE_REASON.__getitem__),
        cfkss_statuses=many("CFKSSstatus", mapping.CFKSS_STATUS.__getitem__),
    )
    for name, value in (("Cases30", item.cases_30_sept), ("WorkingDaysLost", item.working_days_lost)):
        if value is not None and value < 0:
            problems.append(ItemProblem(name, "negative", f"{name} cannot be negative", str(value)))
    if any(weeks < 0 for weeks in item.contract_weeks):
        problems.append(ItemProblem("ContractWeeks", "negative", "ContractWeeks cannot be negative", None))
    if item.working_days_lost is not None and item.working_days_lost >= 10_000:
        problems.append(
            ItemProblem(
                "WorkingDaysLost",
                "out_of_range",
                "more working days than a year has",
                str(item.working_days_lost),
            )
        )
    for name in ("QualInst",):
        if any(len(text) > 200 for text in raw.values.get(name, [])):
            problems.append(ItemProblem(name, "too_long", f"{name} is longer than 200 characters", None))
    return (None, problems) if problems else (item, [])


# -- writing -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vacancies:
    """``LALevelVacancies``: the council's figures on the reference date."""

    vacancies_fte: Decimal
    agency_fte: Decimal
    agency_headcount: int


def _element(name: str, value: str) -> str:
    return f"<{name}>{escape(value)}</{name}>"


def _fixed(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


def document_start(
    *,
    year: int,
    reference_date: date,
    la_code: str | None,
    generated_at: datetime,
    vacancies: Vacancies,
) -> str:
    """Everything before the first ``CSWWWorker``."""
    source = ""
    if la_code:
        source = (
            "<Source>"
            + _element("SourceLevel", "L")
            + _element("LEA", la_code)
            + _element("SoftwareCode", "Steadfast")
            + _element("DateTime", generated_at.replace(microsecond=0).isoformat())
            + "</Source>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Message>\n<Header><CollectionDetails>'
        + _element("Collection", "CSWW")
        + _element("Year", str(year))
        + _element("ReferenceDate", reference_date.isoformat())
        + "</CollectionDetails>"
        + source
        + "</Header>\n<LALevelVacancies>"
        + _element("NumberOfVacancies", _fixed(vacancies.vacancies_fte, 2))
        + _element("NoAgencyFTE", _fixed(vacancies.agency_fte, 2))
        + _element("NoAgencyHeadcount", str(vacancies.agency_headcount))
        + "</LALevelVacancies>\n"
    )


DOCUMENT_END = "</Message>\n"


def worker_element(item: CensusItem) -> str:
    """One ``CSWWWorker``, its elements in the schema's order."""
    parts = [
        _element("AgencyWorker", mapping.yes_no(item.agency_worker)),
        _element("SWENo", item.swe_number),
    ]
    if item.fte is not None:
        parts.append(_element("FTE", _fixed(item.fte, 6)))
    # QualInst is required at least once: an unknown institution is written empty.
    parts.extend(_element("QualInst", text) for text in item.qualifying_institutions or [""])
    if item.qualification_level is not None:
        parts.append(
            _element("QualLevel", mapping.dfe_code(mapping.QUALIFICATION_LEVEL, item.qualification_level))
        )
    if item.step_up_graduate is not None:
        parts.append(_element("StepUpGrad", mapping.yes_no(item.step_up_graduate)))
    if item.census_role is not None:
        parts.append(_element("OrgRole", mapping.dfe_code(mapping.CENSUS_ROLE, item.census_role)))
    if item.role_start_date is not None:
        parts.append(_element("RoleStartDate", item.role_start_date.isoformat()))
    if item.start_origin is not None:
        parts.append(_element("StartOrigin", mapping.dfe_code(mapping.START_ORIGIN, item.start_origin)))
    if item.role_end_date is not None:
        parts.append(_element("RoleEndDate", item.role_end_date.isoformat()))
    if item.leaver_destination is not None:
        parts.append(
            _element(
                "LeaverDestination", mapping.dfe_code(mapping.LEAVER_DESTINATION, item.leaver_destination)
            )
        )
    if item.census_leaving_reason is not None:
        parts.append(
            _element(
                "ReasonLeave", mapping.dfe_code(mapping.CENSUS_LEAVING_REASON, item.census_leaving_reason)
            )
        )
    if item.fte_30_sept is not None:
        parts.append(_element("FTE30", _fixed(item.fte_30_sept, 6)))
    if item.cases_30_sept is not None:
        parts.append(_element("Cases30", str(item.cases_30_sept)))
    if item.working_days_lost is not None:
        parts.append(_element("WorkingDaysLost", _fixed(item.working_days_lost, 2)))
    parts.extend(_element("ContractWeeks", _fixed(weeks, 1)) for weeks in item.contract_weeks)
    if item.frontline_graduate is not None:
        parts.append(_element("FrontlineGrad", mapping.yes_no(item.frontline_graduate)))
    parts.extend(_element("Absat30Sept", mapping.yes_no(absent)) for absent in item.absent_30_sept)
    parts.extend(
        _element("ReasonAbsence", mapping.dfe_code(mapping.ABSENCE_REASON, reason))
        for reason in item.absence_reasons
    )
    parts.extend(
        _element("CFKSSstatus", mapping.dfe_code(mapping.CFKSS_STATUS, status))
        for status in item.cfkss_statuses
    )
    return f"<{ITEM}>" + "".join(parts) + f"</{ITEM}>\n"


def skipped_comment(external_ids: list[str], total: int) -> str:
    """An XML comment after the document's end: workers of the census year left out because they have
    no Social Work England number the census can hold."""
    if not total:
        return ""
    listed = ", ".join(external_ids)
    more = f" and {total - len(external_ids)} more" if total > len(external_ids) else ""
    text = (
        f"{total} worker(s) of the census year have no Social Work England number and are not in this "
        f"return (external ids: {listed}{more})"
    )
    return "<!-- " + text.replace("--", "- -") + " -->\n"
