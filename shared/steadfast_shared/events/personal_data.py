"""What each published event type may carry: the allow-list of its payload's fields, in one place.

Events outlive the records they describe (they stay in topics, in the producers' outboxes for the
retention period, and in every consumer's projections), so a payload carries only what a consumer
needs. Every field of every event type is listed here, by its path in the payload (``history.role``:
the ``role`` of each entry of the list ``history``; ``element_grades.*``: any key of that map). A field
that is not listed is a field nobody decided to publish: :func:`unlisted_fields` finds it, and the
tests fail on it (the unit test on the event contract, the end-to-end test on every event of a run).
Adding a field to an event means adding it here, which is the moment to ask whether it is personal.

The few personal fields that do travel are in :data:`PERSONAL_FIELDS`, each with the consumer that
needs it; ``docs/security.md`` ("Personal data") says why, and what is deliberately not published.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

_STAFF = "org.steadfast.staff."
_CASELOAD = "org.steadfast.caseload."
_AUDIT = "org.steadfast.audit."
_METRICS = "org.steadfast.metrics."

_TEAM = frozenset({"code", "name", "version"})
_WORKER = frozenset(
    {
        "id",
        "external_id",
        "version",
        "display_name",
        "start_date",
        "end_date",
        "leaving_reason",
        "asye_start",
        "asye_end",
        "protected_development_pct",
        "swe_registration_expiry",
        "history.effective_from",
        "history.effective_to",
        "history.role",
        "history.team",
        "history.fte",
        "history.employment_type",
        "changed",
    }
)
_POST = frozenset(
    {
        "id",
        "external_id",
        "version",
        "team",
        "role",
        "fte",
        "start_date",
        "end_date",
        "holdings.id",
        "holdings.worker_id",
        "holdings.start_date",
        "holdings.end_date",
        "changed",
    }
)
_PLACEMENT = frozenset(
    {
        "id",
        "external_id",
        "version",
        "student_worker_id",
        "university",
        "placement",
        "team",
        "start_date",
        "end_date",
        "hired_afterwards",
        "hired_worker_id",
        "changed",
    }
)
_SURVEY = frozenset({"id", "version", "returned_date", "team"})
_CHILD = frozenset({"child_id", "child_external_id", "child_version"})
_AUDIT_FIELDS = frozenset(
    {
        "audit_id",
        "external_id",
        "audit_type",
        "child_ref",
        "worker_id",
        "team",
        "started_date",
        "completed_date",
        "overall_grade",
        "element_grades.*",
        "moderated_grade",
        "moderated_date",
        "effective_grade",
        "audit_version",
    }
)
_LEARNING_ACTION = frozenset(
    {"learning_action_id", "audit_id", "team", "due_date", "status", "completed_date", "audit_version"}
)

#: Every published event type and the payload fields it may carry.
ALLOWED_FIELDS: Mapping[str, frozenset[str]] = {
    _STAFF + "team.created.v1": _TEAM,
    _STAFF + "team.renamed.v1": _TEAM,
    **{_STAFF + f"worker.{change}.v2": _WORKER for change in ("hired", "updated", "terms_changed", "left")},
    **{
        _STAFF + f"post.{change}.v1": _POST
        for change in ("established", "updated", "disestablished", "holder_assigned", "holding_ended")
    },
    **{
        _STAFF + f"student_placement.{change}.v1": _PLACEMENT for change in ("recorded", "updated", "removed")
    },
    _STAFF + "recruitment_survey.returned.v2": _SURVEY
    | {
        "right_post_right_time",
        "place",
        "development_opportunities",
        "advert_and_communications",
        "terms_and_conditions",
    },
    _STAFF + "exit_survey.returned.v2": _SURVEY
    | {"insufficient_support_supervision", "workload_too_high", "no_career_path"},
    _STAFF + "staff_health_check.returned.v2": _SURVEY
    | {"private_space", "office_environment", "supervision_quality", "senior_manager_visibility"},
    # A worker's census facts for a year: not the registration number, working days lost or absence
    # (health data), contract weeks or qualification, which stay in the staff service.
    **{
        _STAFF + f"census_record.{change}.v1": frozenset(
            {
                "id",
                "worker_id",
                "census_year",
                "version",
                "census_role",
                "start_origin",
                "leaver_destination",
                "cases_30_sept",
                "cfkss_statuses",
                "changed",
            }
        )
        for change in ("recorded", "changed")
    },
    # A CPD entry: when, whether with peer reflection; never its description (free text).
    _STAFF + "cpd_entry.recorded.v1": frozenset(
        {"id", "worker_id", "version", "entry_date", "peer_reflection", "registration_year"}
    ),
    _CASELOAD + "child.registered.v1": _CHILD,
    **{
        _CASELOAD + f"episode.{change}.v1": _CHILD | {"episode_id", "episode_type", "start_date", "end_date"}
        for change in ("recorded", "changed")
    },
    **{
        _CASELOAD + f"allocation.{change}.v1": _CHILD
        | {"allocation_id", "worker_id", "start_date", "end_date", "reason"}
        for change in ("started", "changed")
    },
    **{
        _CASELOAD + f"assessment.{change}.v1": _CHILD
        | {"assessment_id", "external_id", "start_date", "completed_date"}
        for change in ("recorded", "changed")
    },
    **{
        _CASELOAD + f"visit.{change}.v1": _CHILD | {"visit_id", "visit_date", "visit_type", "seen_alone"}
        for change in ("recorded", "changed")
    },
    _CASELOAD + "review.recorded.v1": _CHILD | {"review_id", "review_date"},
    _CASELOAD + "iro_visit.recorded.v1": _CHILD | {"iro_visit_id", "visit_date"},
    _CASELOAD + "feedback.returned.v1": frozenset(
        {
            "feedback_id",
            "external_id",
            "child_id",
            "team",
            "returned_date",
            "involved_in_decisions",
            "worker_stability",
            "contact_quality",
        }
    ),
    **{_AUDIT + f"audit.{change}.v2": _AUDIT_FIELDS for change in ("recorded", "changed", "moderated")},
    **{_AUDIT + f"learning_action.{change}.v2": _LEARNING_ACTION for change in ("recorded", "changed")},
    _AUDIT + "programme.planned.v1": frozenset({"team", "month", "planned", "version"}),
    # The whole strategy document, but not who stored the version nor the note saying why.
    _METRICS + "strategy.version_recorded.v1": frozenset(
        {
            "council",
            "version",
            "created_at",
            "document.name",
            "document.window_days",
            "document.tolerance_pct",
            "document.caseload_weights.social_worker",
            "document.caseload_weights.senior_social_worker",
            "document.caseload_weights.consultant_practitioner",
            "document.caseload_weights.nqsw_factor",
            "document.visit_intervals.cp_working_days",
            "document.visit_intervals.cla_days",
            "document.caseload_limit",
            "document.nqsw_protected_caseload",
            "document.registration_warning_days",
            "document.targets.*",
        }
    ),
}

#: The personal fields that are published, and the consumer whose answers need each.
PERSONAL_FIELDS: Mapping[str, str] = {
    "display_name": (
        "a worker's name, in staff worker events: the caseload service's caseload answers and the metrics "
        "service's watch lists name each worker to their manager"
    ),
    "swe_registration_expiry": (
        "in staff worker events: the metrics service's watch list of registrations expiring soon"
    ),
}


def field_paths(data: Any, prefix: str = "") -> Iterator[str]:
    """The path of every leaf field of a payload (lists are walked through; their items share a path;
    an empty map is a leaf)."""
    if isinstance(data, list):
        for item in data:
            yield from field_paths(item, prefix)
    elif isinstance(data, dict) and (data or not prefix):
        for key, value in data.items():
            yield from field_paths(value, f"{prefix}.{key}" if prefix else str(key))
    elif prefix:
        yield prefix


def _allowed(path: str, allowed: frozenset[str]) -> bool:
    """``a.*`` allows every key of the map ``a`` and everything below it (``document.targets.*`` allows
    ``document.targets.permanent_rate.milestones.value``)."""
    if path in allowed or f"{path}.*" in allowed:
        return True
    parts = path.split(".")
    return any(".".join(parts[:n]) + ".*" in allowed for n in range(1, len(parts)))


def unlisted_fields(event_type: str, data: Mapping[str, Any]) -> list[str]:
    """The fields of an event's payload that its type's allow-list does not name, sorted; every field
    when the type has no allow-list at all."""
    allowed = ALLOWED_FIELDS.get(event_type, frozenset())
    return sorted({path for path in field_paths(dict(data)) if not _allowed(path, allowed)})


def leaf_values(data: Any) -> Iterator[Any]:
    """Every leaf value of a payload, and every key of its maps (a map key can carry data too)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from leaf_values(value)
    elif isinstance(data, list):
        for item in data:
            yield from leaf_values(item)
    else:
        yield data
