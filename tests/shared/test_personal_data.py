"""The event contract against the personal-data allow-list: every published type has a list, and its
JSON Schema names exactly the fields on it (a field added to a payload fails here until it is listed)."""

from __future__ import annotations

from typing import Any

from steadfast_shared.events.asyncapi import installed_definitions
from steadfast_shared.events.personal_data import (
    ALLOWED_FIELDS,
    PERSONAL_FIELDS,
    field_paths,
    leaf_values,
    unlisted_fields,
)


def _schema_paths(schema: dict[str, Any], defs: dict[str, Any], prefix: str = "") -> set[str]:
    if "$ref" in schema:
        return _schema_paths(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, prefix)
    for variant in schema.get("anyOf", []):
        if variant.get("type") != "null":
            return _schema_paths(variant, defs, prefix)
    if schema.get("type") == "array":
        return _schema_paths(schema["items"], defs, prefix)
    if "properties" in schema:
        paths: set[str] = set()
        for name, sub in schema["properties"].items():
            paths |= _schema_paths(sub, defs, f"{prefix}.{name}" if prefix else name)
        return paths
    if isinstance(schema.get("additionalProperties"), dict):
        return {f"{prefix}.*"}
    return {prefix}


def _published() -> dict[str, dict[str, Any]]:
    return {t.type: t.json_schema() for d in installed_definitions() for t in d.registry}


def test_every_published_event_type_has_an_allow_list_and_no_other_does() -> None:
    assert set(_published()) == set(ALLOWED_FIELDS)


def test_each_event_types_schema_names_exactly_the_fields_on_its_allow_list() -> None:
    for event_type, schema in _published().items():
        assert _schema_paths(schema, schema.get("$defs", {})) == ALLOWED_FIELDS[event_type], event_type


def test_no_registration_number_or_auditor_moderator_or_owner_name_is_published() -> None:
    published = set().union(*ALLOWED_FIELDS.values())
    leaves = {path.rsplit(".", 1)[-1] for path in published}
    assert not leaves & {"swe_registration_number", "auditor", "moderator", "owner", "findings"}
    assert {path for path in published if path in PERSONAL_FIELDS} == set(PERSONAL_FIELDS)


def test_unlisted_fields_finds_nested_and_unknown_fields() -> None:
    worker_type = "org.steadfast.staff.worker.hired.v2"
    data = {
        "id": "x",
        "display_name": "Amara Okafor",
        "swe_registration_number": "SW123456",
        "history": [{"role": "social_worker", "team": "ACIN1", "line_manager": "Ben Ross"}],
        "changed": ["hired"],
    }
    assert unlisted_fields(worker_type, data) == ["history.line_manager", "swe_registration_number"]
    assert unlisted_fields("org.steadfast.staff.worker.hired.v1", {"id": "x"}) == ["id"]
    audit = {"element_grades": {"contact": "good"}, "audit_id": "a", "moderator": "Mo"}
    assert unlisted_fields("org.steadfast.audit.audit.moderated.v2", audit) == ["moderator"]
    assert unlisted_fields("org.steadfast.audit.audit.moderated.v2", {"element_grades": {}}) == []


def test_field_paths_and_leaf_values_walk_maps_and_lists() -> None:
    data = {"a": 1, "b": [{"c": "x"}, {"c": "y", "d": None}], "e": {"k": "v"}, "f": []}
    assert sorted(set(field_paths(data))) == ["a", "b.c", "b.d", "e.k"]
    assert set(leaf_values(data)) == {"a", 1, "b", "c", "x", "y", "d", None, "e", "k", "v", "f"}
