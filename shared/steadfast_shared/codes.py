"""The codes SPEC section 2 fixes for the whole platform, as the APIs, CSV files and events spell them.

They are part of the contract between services (a role in a staff event is read by the caseload and
metrics services), so they live here once rather than in each service.
"""

from enum import StrEnum


class Role(StrEnum):
    social_worker = "social_worker"
    senior_social_worker = "senior_social_worker"
    consultant_practitioner = "consultant_practitioner"
    practice_manager = "practice_manager"
    head_of_service = "head_of_service"
    principal_social_worker = "principal_social_worker"
    independent_reviewing_officer = "independent_reviewing_officer"
    student = "student"

    @property
    def is_qualified(self) -> bool:
        return self is not Role.student


class EmploymentType(StrEnum):
    permanent = "permanent"
    fixed_term = "fixed_term"
    agency = "agency"


class LeavingReason(StrEnum):
    """As the DfE children's social work workforce census codes them."""

    resignation = "resignation"
    voluntary_redundancy = "voluntary_redundancy"
    compulsory_redundancy = "compulsory_redundancy"
    dismissal = "dismissal"
    retirement = "retirement"
    death = "death"
    career_break = "career_break"
    end_of_contract = "end_of_contract"
    transfer_to_other_la = "transfer_to_other_la"
    other = "other"
    unknown = "unknown"


class EpisodeType(StrEnum):
    """A child's episode of involvement with children's social care."""

    assessment = "assessment"
    cin = "cin"
    cp = "cp"
    cla = "cla"


class VisitType(StrEnum):
    assessment = "assessment"
    cin = "cin"
    cp = "cp"
    cla = "cla"
    other = "other"


class AllocationChangeReason(StrEnum):
    """Why a child's social worker changed: the SSDA903 social-worker-episode reason codes."""

    MANAGE = "MANAGE"  # management decision
    FCONTA = "FCONTA"  # first contact: the child's first social worker
    LEFTRL = "LEFTRL"  # the worker left the role
    ORGRST = "ORGRST"  # organisational restructure
    TSPROC = "TSPROC"  # transfer between teams as part of the process
    ABSENC = "ABSENC"  # the worker's absence
    CHCHAN = "CHCHAN"  # the child's choice
    PCCHAN = "PCCHAN"  # parent or carer's choice
    SWDIED = "SWDIED"  # the worker died
    OTHERS = "OTHERS"


class Grade(StrEnum):
    """The Ofsted grading scale, as casework audits use it."""

    outstanding = "outstanding"
    good = "good"
    requires_improvement = "requires_improvement"
    inadequate = "inadequate"


class AuditType(StrEnum):
    full = "full"
    dip_sample = "dip_sample"


#: Roles that hold cases (SPEC section 3: case-holding workers).
CASE_HOLDING_ROLES = frozenset({Role.social_worker, Role.senior_social_worker, Role.consultant_practitioner})
