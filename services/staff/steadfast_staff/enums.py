"""The staff service's codes, as the API and the CSV files spell them (SPEC section 2)."""

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


class Placement(StrEnum):
    """Which of a social work student's two professional placements (on average a year apart)."""

    first = "first"
    second = "second"
