"""The staff service's codes. The platform-wide ones (SPEC section 2) are defined in
:mod:`steadfast_shared.codes` and re-exported here; ``Placement`` and the census code lists are the staff
service's own."""

from enum import StrEnum

from steadfast_shared.codes import EmploymentType, LeavingReason, Role

__all__ = [
    "AbsenceReason",
    "CensusLeavingReason",
    "CensusRole",
    "CfkssStatus",
    "EmploymentType",
    "LeaverDestination",
    "LeavingReason",
    "Placement",
    "QualificationLevel",
    "Role",
    "StartOrigin",
]


class Placement(StrEnum):
    """Which of a social work student's two professional placements (on average a year apart)."""

    first = "first"
    second = "second"


# -- The DfE children's social work workforce census (CSWW) code lists, in Steadfast's words ------------
# One Steadfast code per DfE code, both ways: steadfast_staff.census.mapping holds the table.


class CensusRole(StrEnum):
    """The census's classification of a worker's role (``OrgRole``)."""

    senior_manager = "senior_manager"
    middle_manager = "middle_manager"
    first_line_manager = "first_line_manager"
    senior_practitioner = "senior_practitioner"
    case_holder = "case_holder"
    qualified_without_cases = "qualified_without_cases"


class StartOrigin(StrEnum):
    """Where a starter came from (``StartOrigin``)."""

    newly_qualified = "newly_qualified"
    social_work_other_council = "social_work_other_council"
    social_work_outside_england = "social_work_outside_england"
    agency_or_consultancy = "agency_or_consultancy"
    social_work_not_council = "social_work_not_council"
    other_social_care = "other_social_care"
    not_social_care_or_no_employment = "not_social_care_or_no_employment"
    other = "other"
    unknown = "unknown"
    not_yet_collected = "not_yet_collected"


class LeaverDestination(StrEnum):
    """Where a leaver went (``LeaverDestination``)."""

    social_work_other_council = "social_work_other_council"
    social_work_outside_england = "social_work_outside_england"
    agency_or_consultancy = "agency_or_consultancy"
    social_work_not_council = "social_work_not_council"
    other_social_care = "other_social_care"
    not_social_care_or_no_employment = "not_social_care_or_no_employment"
    other = "other"
    unknown = "unknown"
    not_yet_collected = "not_yet_collected"


class CensusLeavingReason(StrEnum):
    """Why a leaver left, as the 2022 census codes it (``ReasonLeave``). Finer than
    :class:`LeavingReason` in two places (a move to a non-children's social work role within the council;
    not yet collected) and coarser in three (career break, end of contract and transfer to another
    council are "other" or a resignation): ``census.mapping`` says which agree."""

    resignation = "resignation"
    voluntary_redundancy = "voluntary_redundancy"
    compulsory_redundancy = "compulsory_redundancy"
    dismissal = "dismissal"
    retirement = "retirement"
    death = "death"
    moved_within_council = "moved_within_council"
    other = "other"
    unknown = "unknown"
    not_yet_collected = "not_yet_collected"


class AbsenceReason(StrEnum):
    """Why a worker was absent on 30 September (``ReasonAbsence``)."""

    maternity_paternity = "maternity_paternity"
    other_paid = "other_paid"
    public_duties = "public_duties"
    sickness = "sickness"
    training = "training"
    unauthorised = "unauthorised"
    unpaid_authorised = "unpaid_authorised"


class CfkssStatus(StrEnum):
    """The worker's stage of the Children and Family Knowledge and Skills Statements (``CFKSSstatus``)."""

    asye = "asye"
    frontline_practitioner = "frontline_practitioner"
    practice_supervisor = "practice_supervisor"
    practice_leader = "practice_leader"


class QualificationLevel(StrEnum):
    """The level of the worker's social work qualification (``QualLevel``)."""

    undergraduate = "undergraduate"
    postgraduate = "postgraduate"
    other = "other"
