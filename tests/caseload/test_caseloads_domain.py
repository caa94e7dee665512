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
from steadfast_shared.codes import EmploymentType, Role
from steadfast_shared.strategy import SHIPPED_STRATEGY
from steadfast_shared.strategy.document import CaseloadWeights

AS_OF = date(2015, 3, 2)
POLICY = CaseloadPolicy.of(SHIPPED_STRATEGY, AS_OF)


def holder(
    name: str, role: Role, fte: float, caseload: int, *, nqsw: bool = False, policy: CaseloadPolicy = POLICY
) -> WorkerCaseload:
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
        policy,
    )


def test_the_shipped_strategy_gives_the_numbers_the_settings_used_to() -> None:
    assert POLICY.limit_per_full_caseload == Decimal(16)
    assert POLICY.weighting.nqsw_factor == Decimal("0.9")
    assert POLICY.weighting.weights[Role.consultant_practitioner] == Decimal("0.5")
    assert POLICY.weighting.weights[Role.social_worker] == Decimal(1)


def test_the_strategys_limit_and_weights_change_limits_and_a_strategy_without_one_has_none() -> None:
    tighter = CaseloadPolicy.of(
        SHIPPED_STRATEGY.model_copy(
            update={"caseload_limit": 12, "caseload_weights": CaseloadWeights(consultant_practitioner=0.6)}
        ),
        AS_OF,
        version=2,
    )
    a = holder("A", Role.social_worker, 1.0, 13, policy=tighter)
    c = holder("C", Role.consultant_practitioner, 1.0, 6, policy=tighter)
    assert [(w.capacity, w.limit, w.over_by) for w in (a, c)] == [(Decimal(1), 12, 1), (Decimal("0.6"), 7, 0)]
    no_limit = CaseloadPolicy.of(SHIPPED_STRATEGY.model_copy(update={"targets": {}}), AS_OF)
    free = holder("A", Role.social_worker, 1.0, 40, policy=no_limit)
    assert (free.limit, free.over_by) == (None, 0)


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
