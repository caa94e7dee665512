"""The audit service's event contract: every type it publishes, with its payload model.

Audit and learning-action events go to the topic ``steadfast.audit`` keyed by the audit's id, so the
events about one audit stay in order; programme events are keyed ``<team>/<yyyy-mm>``. Every audit
payload carries the whole audit as it now is (an upsert for consumers): the grades, the moderated grade
and the *effective* grade (the moderated one when there is one), which is the grade the KPIs count.
Children travel as the reference the audit was recorded with (the caseload id or the external id);
findings and moderation reasons are free text and are not published (they may name people), and
neither are the people the audit service records by name: the auditor, the moderator and a learning
action's owner (no consumer needs them; docs/security.md, "Personal data"). The audit and learning
action event types are at version 2 since those names were dropped; consumers still read version 1.
"""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel

from steadfast_shared.codes import AuditType, Grade
from steadfast_shared.events import EventRegistry

TOPIC = "steadfast.audit"

registry = EventRegistry(source="/steadfast/audit")


class AuditData(BaseModel):
    audit_id: uuid.UUID
    external_id: str | None
    audit_type: AuditType
    #: The child's caseload id or external id (pseudonymous).
    child_ref: str
    worker_id: uuid.UUID
    team: str
    started_date: date | None
    completed_date: date | None
    overall_grade: Grade | None
    element_grades: dict[str, Grade]
    moderated_grade: Grade | None
    moderated_date: date | None
    #: The grade that counts: the moderated grade when the audit was moderated, else the overall grade.
    effective_grade: Grade | None
    audit_version: int


class LearningActionData(BaseModel):
    learning_action_id: uuid.UUID
    audit_id: uuid.UUID
    team: str
    due_date: date
    status: str
    completed_date: date | None
    audit_version: int


class ProgrammeData(BaseModel):
    team: str
    month: str
    planned: int
    version: int


AuditRecorded = registry.register(
    "org.steadfast.audit.audit.recorded.v2",
    AuditData,
    topic=TOPIC,
    aggregate="audit",
    description="A casework audit (full audit or dip sample) was recorded, possibly already completed.",
)
AuditChanged = registry.register(
    "org.steadfast.audit.audit.changed.v2",
    AuditData,
    topic=TOPIC,
    aggregate="audit",
    description="An audit's details changed: completed, graded, element grades or team corrected.",
)
AuditModerated = registry.register(
    "org.steadfast.audit.audit.moderated.v2",
    AuditData,
    topic=TOPIC,
    aggregate="audit",
    description="A second reviewer confirmed or changed an audit's grade; the moderated grade now counts.",
)
LearningActionRecorded = registry.register(
    "org.steadfast.audit.learning_action.recorded.v2",
    LearningActionData,
    topic=TOPIC,
    aggregate="audit",
    description="A learning action arising from an audit was agreed, with a due date.",
)
LearningActionChanged = registry.register(
    "org.steadfast.audit.learning_action.changed.v2",
    LearningActionData,
    topic=TOPIC,
    aggregate="audit",
    description="A learning action's status, owner or due date changed (done, cancelled, re-dated).",
)
ProgrammePlanned = registry.register(
    "org.steadfast.audit.programme.planned.v1",
    ProgrammeData,
    topic=TOPIC,
    aggregate="programme",
    description="The number of audits planned for a team in a month was set.",
)
