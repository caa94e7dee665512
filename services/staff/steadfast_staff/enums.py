"""The staff service's codes. The platform-wide ones (SPEC section 2) are defined in
:mod:`steadfast_shared.codes` and re-exported here; ``Placement`` is the staff service's own."""

from enum import StrEnum

from steadfast_shared.codes import EmploymentType, LeavingReason, Role

__all__ = ["EmploymentType", "LeavingReason", "Placement", "Role"]


class Placement(StrEnum):
    """Which of a social work student's two professional placements (on average a year apart)."""

    first = "first"
    second = "second"
