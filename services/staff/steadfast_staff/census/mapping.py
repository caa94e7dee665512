"""The DfE census codes and Steadfast's, in one place (docs/integration.md prints these tables).

Two kinds of mapping:

- **One to one.** Every census code list Steadfast has no code of its own for (start origin, leaver
  destination, absence reason, CFKSS status, qualification level, the census role and leaving reason)
  has a Steadfast code per DfE code (``steadfast_staff.enums``): the dictionaries below read one way and
  their inverses the other.
- **Against the worker's record.** The census reports facts the worker's employment record already
  holds: the agency flag (the employment type), the role, the leaving reason. A worker's role or
  leaving reason has a *default* census code, the one the export writes, and the codes that *agree*
  with it: a census return may say a social worker is ``case_holder`` or ``qualified_without_cases``,
  and both agree. The census value a return reported is kept, and exported again while it still agrees
  with the worker's record.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from steadfast_staff.enums import (
    AbsenceReason,
    CensusLeavingReason,
    CensusRole,
    CfkssStatus,
    EmploymentType,
    LeaverDestination,
    LeavingReason,
    QualificationLevel,
    Role,
    StartOrigin,
)

E = TypeVar("E", bound=StrEnum)

#: ``OrgRole``
CENSUS_ROLE: Mapping[str, CensusRole] = {
    "1": CensusRole.senior_manager,
    "2": CensusRole.middle_manager,
    "3": CensusRole.first_line_manager,
    "4": CensusRole.senior_practitioner,
    "5": CensusRole.case_holder,
    "6": CensusRole.qualified_without_cases,
}
#: ``StartOrigin``
START_ORIGIN: Mapping[str, StartOrigin] = {
    "1": StartOrigin.newly_qualified,
    "2": StartOrigin.social_work_other_council,
    "3": StartOrigin.social_work_outside_england,
    "4": StartOrigin.agency_or_consultancy,
    "5": StartOrigin.social_work_not_council,
    "6": StartOrigin.other_social_care,
    "7": StartOrigin.not_social_care_or_no_employment,
    "8": StartOrigin.other,
    "9": StartOrigin.unknown,
    "10": StartOrigin.not_yet_collected,
}
#: ``LeaverDestination``
LEAVER_DESTINATION: Mapping[str, LeaverDestination] = {
    "1": LeaverDestination.social_work_other_council,
    "2": LeaverDestination.social_work_outside_england,
    "3": LeaverDestination.agency_or_consultancy,
    "4": LeaverDestination.social_work_not_council,
    "5": LeaverDestination.other_social_care,
    "6": LeaverDestination.not_social_care_or_no_employment,
    "7": LeaverDestination.other,
    "8": LeaverDestination.unknown,
    "9": LeaverDestination.not_yet_collected,
}
#: ``ReasonLeave``
CENSUS_LEAVING_REASON: Mapping[str, CensusLeavingReason] = {
    "1": CensusLeavingReason.resignation,
    "2": CensusLeavingReason.voluntary_redundancy,
    "3": CensusLeavingReason.compulsory_redundancy,
    "4": CensusLeavingReason.dismissal,
    "5": CensusLeavingReason.retirement,
    "6": CensusLeavingReason.death,
    "7": CensusLeavingReason.moved_within_council,
    "8": CensusLeavingReason.other,
    "9": CensusLeavingReason.unknown,
    "10": CensusLeavingReason.not_yet_collected,
}
#: ``ReasonAbsence``
ABSENCE_REASON: Mapping[str, AbsenceReason] = {
    "MAT": AbsenceReason.maternity_paternity,
    "OTH": AbsenceReason.other_paid,
    "PUB": AbsenceReason.public_duties,
    "SIC": AbsenceReason.sickness,
    "TRN": AbsenceReason.training,
    "UNA": AbsenceReason.unauthorised,
    "UNP": AbsenceReason.unpaid_authorised,
}
#: ``CFKSSstatus``
CFKSS_STATUS: Mapping[str, CfkssStatus] = {
    "1": CfkssStatus.asye,
    "2": CfkssStatus.frontline_practitioner,
    "3": CfkssStatus.practice_supervisor,
    "4": CfkssStatus.practice_leader,
}
#: ``QualLevel``
QUALIFICATION_LEVEL: Mapping[str, QualificationLevel] = {
    "1": QualificationLevel.undergraduate,
    "2": QualificationLevel.postgraduate,
    "3": QualificationLevel.other,
}
#: ``AgencyWorker``, ``StepUpGrad``, ``FrontlineGrad``, ``Absat30Sept``
YES_NO: Mapping[str, bool] = {"0": False, "1": True}


def dfe_code(table: Mapping[str, E], value: E) -> str:
    """The DfE code of a Steadfast code (the inverse of a one-to-one table)."""
    for code, mapped in table.items():
        if mapped is value:
            return code
    raise KeyError(value)


def yes_no(value: bool) -> str:
    return "1" if value else "0"


# -- against the worker's record ----------------------------------------------------------------------

#: The census role the export writes for a worker's role, and the census roles that agree with it. A
#: student is not a registered social worker and is not in the census.
ROLE_CENSUS_ROLES: Mapping[Role, tuple[CensusRole, frozenset[CensusRole]]] = {
    Role.social_worker: (
        CensusRole.case_holder,
        frozenset({CensusRole.case_holder, CensusRole.qualified_without_cases}),
    ),
    Role.senior_social_worker: (
        CensusRole.case_holder,
        frozenset(
            {CensusRole.case_holder, CensusRole.senior_practitioner, CensusRole.qualified_without_cases}
        ),
    ),
    Role.consultant_practitioner: (
        CensusRole.senior_practitioner,
        frozenset(
            {CensusRole.senior_practitioner, CensusRole.case_holder, CensusRole.qualified_without_cases}
        ),
    ),
    Role.practice_manager: (CensusRole.first_line_manager, frozenset({CensusRole.first_line_manager})),
    Role.head_of_service: (
        CensusRole.middle_manager,
        frozenset({CensusRole.middle_manager, CensusRole.senior_manager}),
    ),
    Role.principal_social_worker: (
        CensusRole.senior_practitioner,
        frozenset(
            {
                CensusRole.senior_practitioner,
                CensusRole.middle_manager,
                CensusRole.senior_manager,
                CensusRole.qualified_without_cases,
            }
        ),
    ),
    Role.independent_reviewing_officer: (
        CensusRole.qualified_without_cases,
        frozenset({CensusRole.qualified_without_cases}),
    ),
}

#: The census leaving reason the export writes for a worker's leaving reason.
LEAVING_REASON_DEFAULT: Mapping[LeavingReason, CensusLeavingReason] = {
    LeavingReason.resignation: CensusLeavingReason.resignation,
    LeavingReason.voluntary_redundancy: CensusLeavingReason.voluntary_redundancy,
    LeavingReason.compulsory_redundancy: CensusLeavingReason.compulsory_redundancy,
    LeavingReason.dismissal: CensusLeavingReason.dismissal,
    LeavingReason.retirement: CensusLeavingReason.retirement,
    LeavingReason.death: CensusLeavingReason.death,
    LeavingReason.career_break: CensusLeavingReason.other,
    LeavingReason.end_of_contract: CensusLeavingReason.other,
    LeavingReason.transfer_to_other_la: CensusLeavingReason.resignation,
    LeavingReason.other: CensusLeavingReason.other,
    LeavingReason.unknown: CensusLeavingReason.unknown,
}
#: The worker's leaving reason a census leaving reason records, when the worker's record has none.
LEAVING_REASON_FROM_CENSUS: Mapping[CensusLeavingReason, LeavingReason] = {
    CensusLeavingReason.resignation: LeavingReason.resignation,
    CensusLeavingReason.voluntary_redundancy: LeavingReason.voluntary_redundancy,
    CensusLeavingReason.compulsory_redundancy: LeavingReason.compulsory_redundancy,
    CensusLeavingReason.dismissal: LeavingReason.dismissal,
    CensusLeavingReason.retirement: LeavingReason.retirement,
    CensusLeavingReason.death: LeavingReason.death,
    CensusLeavingReason.moved_within_council: LeavingReason.other,
    CensusLeavingReason.other: LeavingReason.other,
    CensusLeavingReason.unknown: LeavingReason.unknown,
    CensusLeavingReason.not_yet_collected: LeavingReason.unknown,
}


def census_role_for(role: Role, reported: CensusRole | None) -> CensusRole | None:
    """The census role of a worker of ``role``: the one a return reported while it agrees, else the
    default. None for a student (not in the census)."""
    entry = ROLE_CENSUS_ROLES.get(role)
    if entry is None:
        return None
    default, agreeing = entry
    return reported if reported is not None and reported in agreeing else default


def role_agrees(role: Role, census_role: CensusRole) -> bool:
    entry = ROLE_CENSUS_ROLES.get(role)
    return entry is not None and census_role in entry[1]


def leaving_reason_agrees(reason: LeavingReason, census_reason: CensusLeavingReason) -> bool:
    return (
        LEAVING_REASON_DEFAULT[reason] is census_reason or LEAVING_REASON_FROM_CENSUS[census_reason] is reason
    )


def census_leaving_reason_for(
    reason: LeavingReason, reported: CensusLeavingReason | None
) -> CensusLeavingReason:
    if reported is not None and leaving_reason_agrees(reason, reported):
        return reported
    return LEAVING_REASON_DEFAULT[reason]


def is_agency(employment_type: EmploymentType) -> bool:
    """``AgencyWorker``: 1 for an agency worker; permanent and fixed-term staff are 0."""
    return employment_type is EmploymentType.agency


# -- Social Work England numbers ----------------------------------------------------------------------

#: The census writes a registration number as two letters and ten digits; Steadfast (and Social Work
#: England) as ``SW`` and up to eight digits, without the padding zeros.
CENSUS_NUMBER_DIGITS = 10
STEADFAST_NUMBER_DIGITS = 8


def census_swe_number(number: str) -> str | None:
    """``SW123456`` as the census writes it, ``SW0000123456``; None when it cannot be written."""
    letters, digits = number[:2].upper(), number[2:]
    if letters != "SW" or not digits.isdigit() or len(digits) > CENSUS_NUMBER_DIGITS:
        return None
    return letters + digits.zfill(CENSUS_NUMBER_DIGITS)


def steadfast_swe_numbers(census_number: str) -> list[str]:
    """The spellings of a census registration number a Steadfast record may hold (``SW0000123456``:
    ``SW123456``, ``SW0123456``, ``SW00123456``). Empty when it is not a Social Work England number."""
    letters, digits = census_number[:2].upper(), census_number[2:]
    if letters != "SW" or not digits.isdigit():
        return []
    significant = digits.lstrip("0") or "0"
    return ["SW" + significant.zfill(width) for width in range(len(significant), STEADFAST_NUMBER_DIGITS + 1)]
