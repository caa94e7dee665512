"""The audit's grading and moderation rules, without HTTP or a database."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from steadfast_audit.audits.models import ActionStatus, Audit, Outcome
from steadfast_audit.events import AuditChanged, AuditModerated, AuditRecorded
from steadfast_audit.settings import DEFAULT_ELEMENTS
from steadfast_shared.codes import AuditType, Grade
from steadfast_shared.errors import ValidationFailed


def reason_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> tuple[str, str]:
    error = exc.value.errors[0]
    return error["field"], error["reason"]


def an_audit(**overrides: object) -> Audit:
    fields: dict[str, object] = {
        "audit_type": AuditType.full,
        "child_ref": "LCS-1",
        "worker_id": uuid.uuid4(),
        "team": "PC3",
        "elements": DEFAULT_ELEMENTS,
        "auditor": "Jo Practice-Manager",
        "started_date": date(2015, 3, 2),
        "completed_date": date(2015, 3, 9),
        "overall_grade": Grade.requires_improvement,
        "element_grades": {"contact": Grade.good},
    }
    fields.update(overrides)
    return Audit.record_new(**fields)  # type: ignore[arg-type]


def events_of(audit: Audit) -> list[str]:
    return [e.event_type.type for e in audit._detached_events()]


def test_an_audit_cannot_be_completed_without_an_overall_grade() -> None:
    with pytest.raises(ValidationFailed) as refused:
        an_audit(overall_grade=None)
    assert reason_of(refused) == ("overall_grade", "overall_grade_required")
    started = an_audit(completed_date=None, overall_grade=None)
    with pytest.raises(ValidationFailed) as refused:
        started.revise({"completed_date": date(2015, 3, 10)}, elements=DEFAULT_ELEMENTS)
    assert reason_of(refused) == ("overall_grade", "overall_grade_required")
    assert started.completed_date is None
    outcome = started.revise(
        {"completed_date": date(2015, 3, 10), "overall_grade": Grade.good}, elements=DEFAULT_ELEMENTS
    )
    assert outcome is Outcome.updated
    assert started.effective_grade is Grade.good
    assert events_of(started) == [AuditRecorded.type, AuditChanged.type]


def test_completed_is_not_before_started_and_elements_are_configured_ones() -> None:
    with pytest.raises(ValidationFailed) as refused:
        an_audit(completed_date=date(2015, 3, 1))
    assert reason_of(refused) == ("completed_date", "completed_before_started")
    with pytest.raises(ValidationFailed) as refused:
        an_audit(element_grades={"kindness": Grade.good})
    assert reason_of(refused) == ("element_grades.kindness", "unknown_element")
    assert an_audit(elements=("contact", "kindness"), element_grades={"kindness": Grade.good}).grades == {
        "kindness": Grade.good
    }


def test_revising_with_the_same_values_changes_and_records_nothing() -> None:
    audit = an_audit()
    outcome = audit.revise(
        {"overall_grade": Grade.requires_improvement},
        elements=DEFAULT_ELEMENTS,
        element_grades={"contact": Grade.good},
    )
    assert outcome is Outcome.unchanged
    assert audit.version == 1
    assert events_of(audit) == [AuditRecorded.type]


def test_moderation_records_who_and_why_and_the_moderated_grade_wins() -> None:
    audit = an_audit()
    assert (
        audit.moderate(
            moderator="Sam Head-of-Service", grade=Grade.good, reason="plan was SMART", on=date(2015, 3, 20)
        )
        is Outcome.updated
    )
    assert (audit.moderator, audit.moderation_reason, audit.moderated_date) == (
        "Sam Head-of-Service",
        "plan was SMART",
        date(2015, 3, 20),
    )
    assert audit.overall_grade is Grade.requires_improvement
    assert audit.effective_grade is Grade.good
    assert audit.snapshot().effective_grade is Grade.good
    # A later change of the auditor's grade does not undo the moderation.
    audit.revise({"overall_grade": Grade.inadequate}, elements=DEFAULT_ELEMENTS)
    assert audit.effective_grade is Grade.good
    assert events_of(audit) == [AuditRecorded.type, AuditModerated.type, AuditChanged.type]


def test_moderation_is_refused_for_the_auditor_an_incomplete_audit_or_without_a_reason() -> None:
    audit = an_audit()
    with pytest.raises(ValidationFailed) as refused:
        audit.moderate(moderator=" jo practice-manager ", grade=Grade.good, reason="x", on=date(2015, 3, 20))
    assert reason_of(refused) == ("moderator", "moderator_is_auditor")
    with pytest.raises(ValidationFailed) as refused:
        audit.moderate(moderator="Sam", grade=Grade.good, reason="  ", on=date(2015, 3, 20))
    assert reason_of(refused) == ("reason", "reason_required")
    incomplete = an_audit(completed_date=None, overall_grade=None)
    with pytest.raises(ValidationFailed) as refused:
        incomplete.moderate(moderator="Sam", grade=Grade.good, reason="x", on=date(2015, 3, 20))
    assert reason_of(refused) == ("audit", "audit_not_completed")
    assert audit.moderated_grade is None
    assert audit.version == 1


def test_learning_actions_are_done_with_a_date_and_overdue_only_while_open() -> None:
    audit = an_audit()
    action = audit.add_learning_action(owner="Jo", description="update the plan", due_date=date(2015, 4, 1))
    assert action.is_overdue_on(date(2015, 4, 2))
    assert not action.is_overdue_on(date(2015, 4, 1))
    with pytest.raises(ValidationFailed) as refused:
        audit.update_learning_action(action.id, status=ActionStatus.done)
    assert reason_of(refused) == ("completed_date", "completed_date_required")
    outcome, done = audit.update_learning_action(
        action.id, status=ActionStatus.done, completed_date=date(2015, 4, 3)
    )
    assert outcome is Outcome.updated
    assert not done.is_overdue_on(date(2015, 5, 1))
    assert audit.update_learning_action(action.id, status=ActionStatus.done)[0] is Outcome.unchanged
