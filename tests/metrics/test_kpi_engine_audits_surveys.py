"""The audit and survey KPIs, worked by hand: the population of full audits in the window, moderated
grades, the contact element, and survey means with their change against the previous window."""

from __future__ import annotations

from datetime import date

import pytest

from steadfast_metrics.facts.records import Audit, Facts, SurveyReturn
from steadfast_metrics.kpis.engine import compute_kpis
from steadfast_shared.codes import AuditType, Grade
from tests.metrics.kpi_builders import AS_OF, STRATEGY, d, new_id

FULL, DIP = AuditType.full, AuditType.dip_sample
OUTSTANDING, GOOD, RI, INADEQUATE = (
    Grade.outstanding,
    Grade.good,
    Grade.requires_improvement,
    Grade.inadequate,
)
AUDIT_KPIS = ["audits_good_or_better_pct", "audits_inadequate_pct", "audits_contact_good_or_better_pct"]


def audit(
    grade: Grade | None,
    contact: Grade | None = None,
    completed: date | None = AS_OF,
    audit_type: AuditType = FULL,
    team: str = "T1",
) -> Audit:
    return Audit(new_id(), audit_type, team, completed, grade, contact)


def test_full_audits_in_the_window_are_the_population() -> None:
    # Counted: outstanding, good, requires improvement, inadequate (4). Not counted: a dip sample graded
    # good, a full audit not yet graded, one not completed.
    facts = Facts(
        audits=[
            audit(OUTSTANDING, GOOD),
            audit(GOOD, RI),
            audit(RI),
            audit(INADEQUATE, INADEQUATE),
            audit(GOOD, GOOD, audit_type=DIP),
            audit(None, GOOD),
            audit(GOOD, completed=None),
        ]
    )
    answer = compute_kpis(facts, STRATEGY, AS_OF, ids=AUDIT_KPIS)
    good = answer["audits_good_or_better_pct"]
    assert (good.value, good.numerator, good.denominator) == (50.0, 2, 4)
    assert good.breakdown == {
        "grades": {"outstanding": 1, "good": 1, "requires_improvement": 1, "inadequate": 1}
    }
    inadequate = answer["audits_inadequate_pct"]
    assert (inadequate.value, inadequate.numerator, inadequate.denominator) == (25.0, 1, 4)
    # Contact: the three of the four with a contact grade; good or better: 1 of 3.
    contact = answer["audits_contact_good_or_better_pct"]
    assert (contact.numerator, contact.denominator) == (1, 3)
    assert contact.value == pytest.approx(100 / 3)


def test_a_moderated_audit_counts_with_its_moderated_grade() -> None:
    # Graded requires improvement by the auditor, moderated to good: the facts carry the moderated
    # grade as the audit's grade, and the audit counts as good or better.
    facts = Facts(audits=[audit(GOOD), audit(INADEQUATE)])
    answer = compute_kpis(facts, STRATEGY, AS_OF, ids=AUDIT_KPIS)
    assert answer["audits_good_or_better_pct"].value == 50.0
    assert answer["audits_inadequate_pct"].value == 50.0
    assert answer["audits_contact_good_or_better_pct"].value is None  # no contact grade at all


def test_the_audit_window_includes_both_ends() -> None:
    # Window of 2015-03-02: [2014-09-02, 2015-03-02]. Good on 2014-09-02 and on 2015-03-02 count;
    # inadequate on 2014-09-01 and on 2015-03-03 do not.
    facts = Facts(
        audits=[
            audit(GOOD, completed=d("2014-09-02")),
            audit(GOOD, completed=AS_OF),
            audit(INADEQUATE, completed=d("2014-09-01")),
            audit(INADEQUATE, completed=d("2015-03-03")),
        ]
    )
    good = compute_kpis(facts, STRATEGY, AS_OF, ids=AUDIT_KPIS)["audits_good_or_better_pct"]
    assert (good.value, good.denominator) == (100.0, 2)


def test_the_window_is_the_strategys() -> None:
    # A 30-day window of 2015-03-02 is [2015-02-01, 2015-03-02] (February 2015 has 28 days).
    facts = Facts(
        audits=[audit(GOOD, completed=d("2015-02-01")), audit(INADEQUATE, completed=d("2015-01-31"))]
    )
    strategy = STRATEGY.model_copy(update={"window_days": 30})
    good = compute_kpis(facts, strategy, AS_OF, ids=AUDIT_KPIS)["audits_good_or_better_pct"]
    assert (good.value, good.denominator) == (100.0, 1)


def test_audits_count_for_their_own_team() -> None:
    facts = Facts(audits=[audit(GOOD, team="T1"), audit(INADEQUATE, team="T2"), audit(RI, team="T2")])
    t2 = compute_kpis(facts, STRATEGY, AS_OF, team="T2", ids=AUDIT_KPIS)
    assert (t2["audits_inadequate_pct"].value, t2["audits_inadequate_pct"].denominator) == (50.0, 2)
    assert (
        compute_kpis(facts, STRATEGY, AS_OF, team="T3", ids=AUDIT_KPIS)["audits_inadequate_pct"].value is None
    )


def health_check(returned: str, team: str | None = "T1", **scores: int) -> SurveyReturn:
    return SurveyReturn("staff_health_check", d(returned), team, scores)


def test_a_survey_is_the_mean_of_its_factor_means_with_the_change_against_the_previous_window() -> None:
    # Window [2014-09-02, 2015-03-02]; previous [2014-03-04, 2014-09-01], where one return (with no team:
    # the council's) answered nothing.
    # Now: private_space 4 and 2 -> 3.0 (2); office_environment 2 -> 2.0 (1); supervision_quality 5 ->
    # 5.0 (1); senior_manager_visibility unanswered. Value (3 + 2 + 5) / 3 = 3.333...
    # Before: private_space 1 -> 1.0; office_environment 4 -> 4.0; value 2.5. Change +0.8333...
    facts = Facts(
        surveys=[
            health_check("2015-03-02", private_space=4, office_environment=2),
            health_check("2014-09-02", private_space=2, supervision_quality=5),
            health_check("2014-09-01", private_space=1, office_environment=4),
            health_check("2014-03-04", team=None),
            health_check("2014-03-03", private_space=5),  # before the previous window
            health_check("2015-03-03", private_space=5),  # after as_of
            SurveyReturn("recruit_reasons", d("2015-01-05"), "T1", {"place": 1}),
        ]
    )
    kpi = compute_kpis(facts, STRATEGY, AS_OF, ids=["staff_health_check"])["staff_health_check"]
    assert kpi.value == pytest.approx(10 / 3)
    assert (kpi.numerator, kpi.denominator) == (None, 2)
    assert kpi.breakdown["responses"] == 2
    assert kpi.breakdown["previous_responses"] == 2
    assert kpi.breakdown["previous_value"] == 2.5
    assert kpi.breakdown["change"] == pytest.approx(10 / 3 - 2.5)
    assert kpi.breakdown["factors"] == {
        "private_space": {"mean": 3.0, "responses": 2, "previous_mean": 1.0, "change": 2.0},
        "office_environment": {"mean": 2.0, "responses": 1, "previous_mean": 4.0, "change": -2.0},
        "supervision_quality": {"mean": 5.0, "responses": 1, "previous_mean": None, "change": None},
        "senior_manager_visibility": {"mean": None, "responses": 0, "previous_mean": None, "change": None},
    }


def test_a_survey_with_no_return_in_the_window_has_no_value_but_keeps_the_previous_one() -> None:
    facts = Facts(surveys=[health_check("2014-06-01", private_space=2)])
    kpi = compute_kpis(facts, STRATEGY, AS_OF, ids=["staff_health_check"])["staff_health_check"]
    assert (kpi.value, kpi.denominator) == (None, 0)
    assert (kpi.breakdown["previous_value"], kpi.breakdown["change"]) == (2.0, None)


def test_survey_returns_count_for_their_own_team_and_those_with_none_only_for_the_council() -> None:
    facts = Facts(
        surveys=[
            SurveyReturn("leaver_reasons", d("2015-01-05"), "T1", {"workload_too_high": 5}),
            SurveyReturn(
                "leaver_reasons", d("2015-01-05"), None, {"workload_too_high": 3, "no_career_path": 1}
            ),
        ]
    )
    council = compute_kpis(facts, STRATEGY, AS_OF, ids=["leaver_reasons"])["leaver_reasons"]
    # workload_too_high (5 + 3) / 2 = 4; no_career_path 1; value (4 + 1) / 2 = 2.5.
    assert (council.value, council.denominator) == (2.5, 2)
    t1 = compute_kpis(facts, STRATEGY, AS_OF, team="T1", ids=["leaver_reasons"])["leaver_reasons"]
    assert (t1.value, t1.denominator) == (5.0, 1)
