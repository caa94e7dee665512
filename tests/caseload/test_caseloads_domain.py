"""Capacity, limit and a team's figures (SPEC section 3's worked example), without a database."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from steadfast_caseload.caseloads.models import (
    CaseHolder,
    CaseloadPolicy,
    CaseloadStats,
    WorkerCaseload,
    is_nqsw,
)
from steadfast_caseload.settings import CaseloadSettings
from steadfast_shared.codes import EmploymentType, Role

POLICY = CaseloadPolicy()


def holder(name: str, role: Role, fte: float, caseload: int, *, nqsw: bool = False) -> WorkerCaseload:
    return WorkerCaseload.assess(
        CaseHolder(
            worker_id=uuid.uuid4(),
            external_id=name,
            display_name=name,
            role=role,
            team="ACIN1",
            fte=fte,
            employment_type=EmploymentType.permanent,
            nqsw=nqsw,
            caseload=caseload,
        ),
        POLICY,
    )


def test_the_policy_defaults_are_the_settings_defaults() -> None:
    assert CaseloadPolicy.of(CaseloadSettings()) == POLICY


def test_the_worked_example_capacities_limits_and_average() -> None:
    a = holder("A", Role.social_worker, 1.0, 18)
    b = holder("B", Role.social_worker, 1.0, 15)
    c = holder("C", Role.consultant_practitioner, 1.0, 6)
    d = holder("D", Role.social_worker, 0.5, 7, nqsw=True)
    assert [w.capacity for w in (a, b, c, d)] == [Decimal(1), Decimal(1), Decimal("0.5"), Decimal("0.45")]
    assert [w.limit for w in (a, b, c, d)] == [16, 16, 8, 7]
    assert [w.over_by for w in (a, b, c, d)] == [2, 0, 0, 0]
    team = CaseloadStats.of([a, b, c, d])
    assert (team.caseload_total, team.capacity, team.average, team.highest, team.over_limit) == (
        46,
        Decimal("2.95"),
        15.59,
        18,
        1,
    )
    assert team.mean_per_head == 11.5
    nqsws = CaseloadStats.of([d])
    assert (nqsws.workers, nqsws.average, nqsws.mean_per_head, nqsws.highest) == (1, 15.56, 7.0, 7)


def test_a_group_with_nobody_has_no_figures_rather_than_zero() -> None:
    empty = CaseloadStats.of([])
    assert (empty.workers, empty.average, empty.mean_per_head, empty.highest) == (0, None, None, None)


def test_limits_round_down_without_binary_fractions() -> None:
    # 0.3 x 0.5 x 16 is 2.4 and 0.7 x 0.9 x 16 is 10.08: floats would say 10.079999...
    assert POLICY.limit(POLICY.capacity(Role.consultant_practitioner, 0.3, False)) == 2
    assert POLICY.limit(POLICY.capacity(Role.senior_social_worker, 0.7, True)) == 10
    assert POLICY.limit(POLICY.capacity(Role.social_worker, 0.625, False)) == 10


def test_the_asye_period_is_half_open() -> None:
    start, end = date(2014, 3, 3), date(2015, 3, 3)
    assert not is_nqsw(start, end, date(2014, 3, 2))
    assert is_nqsw(start, end, date(2014, 3, 3))
    assert is_nqsw(start, end, date(2015, 3, 2))
    assert not is_nqsw(start, end, date(2015, 3, 3))
    assert not is_nqsw(None, None, date(2015, 3, 3))
