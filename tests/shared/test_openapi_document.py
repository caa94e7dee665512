"""Each service's ``/openapi.json`` says what the service really answers (hardening issue, evidence):
problem+json with the Problem schema for every error status it can give, the scope each operation
needs, the CSV imports' columns, and the answers the fuzzing found undocumented (an upsert's 200, the
Prometheus text of ``/metrics``, the 503 of ``/readyz``), and request and response examples that the
services would accept and could answer."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from steadfast_audit.bootstrap import definition as audit
from steadfast_caseload.bootstrap import definition as caseload
from steadfast_caseload.imports.importers import IMPORTERS as CASELOAD_IMPORTERS
from steadfast_metrics.bootstrap import definition as metrics
from steadfast_shared.auth import ALL_SCOPES
from steadfast_shared.http.app import create_app
from steadfast_shared.http.openapi import model_examples, operations, route_models
from steadfast_shared.http.problems import PROBLEM_JSON
from steadfast_shared.service import ServiceDefinition
from steadfast_shared.settings import Environment
from steadfast_shared.testing import ServiceClient
from steadfast_staff.bootstrap import definition as staff
from steadfast_staff.imports.endpoints import IMPORTERS as STAFF_IMPORTERS

SERVICES: dict[str, ServiceDefinition] = {
    "staff": staff,
    "caseload": caseload,
    "audit": audit,
    "metrics": metrics,
}
PROBLEM = {"$ref": "#/components/schemas/Problem"}
#: The document needs no database: nothing connects until the lifespan starts.
UNUSED_DATABASE = "sqlite+aiosqlite:///unused.db"
#: JSON request bodies allowed to have no example yet (none: every body has one). A name listed here
#: fails the test once it has one, so that the set only shrinks.
EXAMPLES_PENDING: set[str] = set()
#: The main read models of each service, whose answers the document shows by example.
MAIN_RESPONSES: dict[str, set[str]] = {
    "staff": {"WorkerRead", "TeamRead"},
    "caseload": {"TeamCaseloads", "WorkerCaseloadAnswer", "AssessmentRead", "ChildRead", "AllocationRead"},
    "audit": {"AuditRead", "AuditDetail", "LearningActionRead"},
    "metrics": {"KpiReport", "KpiReading", "StrategyRead"},
}


async def openapi_of(definition: ServiceDefinition) -> dict[str, Any]:
    """The document as a client reads it, from ``GET /openapi.json`` (no database needed for it)."""
    settings = definition.settings_class(environment=Environment.test, database_url=UNUSED_DATABASE)
    transport = httpx.ASGITransport(app=create_app(definition, settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def app_of(definition: ServiceDefinition) -> Any:
    settings = definition.settings_class(environment=Environment.test, database_url=UNUSED_DATABASE)
    return create_app(definition, settings)


def api_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, entry)
        for path, entries in document["paths"].items()
        if path.startswith("/v1/")
        for method, entry in entries.items()
    ]


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_every_api_operation_documents_its_problems_as_problem_json(name: str) -> None:
    document = await openapi_of(SERVICES[name])
    schemas = document["components"]["schemas"]
    assert {"type", "title", "status", "detail"} <= set(schemas["Problem"]["required"])
    assert "HTTPValidationError" not in schemas  # FastAPI's 422 shape, which no service sends
    found = api_operations(document)
    assert found
    for method, path, entry in found:
        responses = entry["responses"]
        must = {"401", "403", "422", "503"}
        if "{" in path:
            must.add("404")
        if method in {"POST", "PUT", "PATCH", "DELETE"}:
            must |= {"409", "429"}
        assert must <= set(responses), f"{method} {path} documents {sorted(responses)}"
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"] == {PROBLEM_JSON: {"schema": PROBLEM}}, f"{method} {path} {status}"
        assert "WWW-Authenticate" in responses["401"]["headers"]
        assert "Retry-After" in responses["429"]["headers"] if "429" in responses else True


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_every_operation_names_the_scope_its_route_requires(name: str) -> None:
    definition = SERVICES[name]
    document = await openapi_of(definition)
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    settings = definition.settings_class(environment=Environment.test, database_url=UNUSED_DATABASE)
    declared = {(o.method, o.path): o for o in operations(create_app(definition, settings))}
    for path, entries in document["paths"].items():
        for method, entry in entries.items():
            operation = declared[(method.upper(), path)]
            if path.startswith("/v1/"):
                assert entry["security"] == [{"bearer": list(operation.scopes)}]
                assert set(operation.scopes) <= set(ALL_SCOPES)
                assert f"`{operation.scopes[0]}`" in entry["description"]
            else:
                assert entry["security"] == [], f"{method} {path} is answered without a token"


async def test_if_match_and_idempotency_key_are_documented_where_honoured() -> None:
    document = await openapi_of(staff)
    update = document["paths"]["/v1/workers/{worker}"]["patch"]
    assert "412" in update["responses"]
    assert any(p["in"] == "header" and p["name"] == "If-Match" for p in update["parameters"])
    hire = document["paths"]["/v1/workers"]["post"]
    assert "412" not in hire["responses"]
    assert any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in hire["parameters"])
    assert "413" in hire["responses"]
    assert "RateLimit-Remaining" in hire["responses"]["201"]["headers"]
    assert "headers" not in document["paths"]["/v1/workers"]["get"]["responses"]["200"]  # reads: no limit


@pytest.mark.parametrize(
    ("definition", "importers"), [(staff, STAFF_IMPORTERS), (caseload, CASELOAD_IMPORTERS)]
)
async def test_csv_imports_document_a_text_csv_body_with_each_kinds_columns(
    definition: ServiceDefinition, importers: dict[str, Any]
) -> None:
    document = await openapi_of(definition)
    entry = document["paths"]["/v1/imports/{kind}"]["post"]
    assert {"413", "415"} <= set(entry["responses"])
    kind = next(p for p in entry["parameters"] if p["name"] == "kind")
    assert kind["schema"]["enum"] == sorted(importers)
    body = entry["requestBody"]
    assert body["required"] is True
    assert set(body["content"]) == {"text/csv"}
    for name, importer in importers.items():
        assert f"**{name}**" in body["description"]
        for column in importer.required_columns:
            assert f"| `{column}` | yes |" in body["description"], (name, column)
        example = body["content"]["text/csv"]["examples"][name]["value"]
        assert example.splitlines()[0].split(",") == list(importer.required_columns)


async def test_audit_import_names_its_element_grade_columns() -> None:
    entry = (await openapi_of(audit))["paths"]["/v1/imports/{kind}"]["post"]
    assert "| `overall_grade` | yes |" in entry["requestBody"]["description"]
    assert "`<element>_grade`" in entry["requestBody"]["description"]


async def test_upserting_creates_document_their_200_and_operational_routes_their_answers() -> None:
    document = await openapi_of(caseload)
    for path in (
        "/v1/children/{child}/assessments",
        "/v1/children/{child}/visits",
        "/v1/children/{child}/reviews",
        "/v1/children/{child}/iro-visits",
        "/v1/children/{child}/episodes",
        "/v1/children/{child}/allocations",
    ):
        responses = document["paths"][path]["post"]["responses"]
        assert responses["200"]["content"] == responses["201"]["content"], path
    programme = (await openapi_of(audit))["paths"]["/v1/programme/{team}/{month}"]["put"]["responses"]
    assert programme["200"]["content"] == programme["201"]["content"]
    assert "text/plain" in document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert "503" in document["paths"]["/readyz"]["get"]["responses"]


def component(document: dict[str, Any], schema: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The component a ``$ref`` names (and its name), or the inline schema itself."""
    ref: str | None = schema.get("$ref")
    if ref is None:
        return "", schema
    name = ref.rsplit("/", 1)[-1]
    return name, document["components"]["schemas"][name]


def documented_examples(node: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """Every example in the document, as (the JSON pointer of the schema it illustrates, the example):
    a schema's ``examples`` and a media type's ``examples`` (each ``value``) or ``example``."""
    if isinstance(node, dict):
        schema = node.get("schema")
        if isinstance(schema, dict) and ("examples" in node or "example" in node):  # a media type
            where = f"{pointer}/schema"
            if isinstance(node.get("examples"), dict):
                yield from ((where, entry["value"]) for entry in node["examples"].values())
            if "example" in node:
                yield where, node["example"]
        elif isinstance(node.get("examples"), list) and ("type" in node or "properties" in node):
            yield from ((pointer, example) for example in node["examples"])
        for key, value in node.items():
            yield from documented_examples(value, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from documented_examples(value, f"{pointer}/{index}")


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_every_request_body_shows_an_example(name: str) -> None:
    document = await openapi_of(SERVICES[name])
    bodies: set[str] = set()
    for method, path, entry in api_operations(document):
        for media_type, content in entry.get("requestBody", {}).get("content", {}).items():
            schema_name, schema = component(document, content["schema"])
            bodies.add(schema_name or f"{method} {path} {media_type}")
            if schema_name in EXAMPLES_PENDING:
                assert "examples" not in schema, (
                    f"{schema_name} has examples now: take it out of EXAMPLES_PENDING"
                )
                continue
            assert schema.get("examples") or content.get("examples") or "example" in content, (
                f"{method} {path}: the {media_type} body {schema_name} shows no example"
            )
    assert bodies, f"{name} reads no request body"


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_the_main_read_models_show_an_example(name: str) -> None:
    schemas = (await openapi_of(SERVICES[name]))["components"]["schemas"]
    for model in MAIN_RESPONSES[name]:
        assert schemas[model].get("examples"), f"{name}: {model} shows no example"


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_every_example_in_the_document_fits_its_schema(name: str) -> None:
    """Each example validates against the JSON schema it illustrates, as the document states it (its
    ``$ref`` resolved in the document; ``date``, ``uuid``... formats checked)."""
    document = await openapi_of(SERVICES[name])
    registry = Registry().with_resource("urn:steadfast:openapi", DRAFT202012.create_resource(document))
    checked: set[str] = set()
    for pointer, example in documented_examples(document):
        validator = Draft202012Validator(
            {"$ref": f"urn:steadfast:openapi#{pointer}"},
            registry=registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(example)
        ]
        assert not errors, f"{name} {pointer}: {json.dumps(example)[:200]}\n" + "\n".join(errors)
        checked.add(pointer)
    assert {f"/components/schemas/{model}" for model in MAIN_RESPONSES[name]} <= checked
    assert "/components/schemas/Problem" in checked


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_models_examples_pass_its_own_validation(name: str) -> None:
    """Each model's examples, sent as JSON, pass the model itself: its cross-field rules too (a terms
    change that changes nothing, an update that sends nothing) and an example a subclass inherits."""
    models = route_models(app_of(SERVICES[name]))
    shown = set()
    for model in sorted(models, key=lambda m: m.__qualname__):
        for example in model_examples(model):
            model.model_validate_json(json.dumps(example))
            shown.add(model.__name__)
    assert MAIN_RESPONSES[name] <= shown


@pytest.mark.integration
async def test_a_strategy_version_beyond_the_column_is_a_422_not_a_500(
    start_service: Callable[..., Awaitable[ServiceClient]],
) -> None:
    service = await start_service(metrics, consumers_enabled=False, snapshot_interval_days=0)
    answer = await service.http.get("/v1/strategy/versions/39318857527", headers=service.auth("metrics:read"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "version"
    assert (
        await service.http.get("/v1/strategy/versions/1", headers=service.auth("metrics:read"))
    ).status_code == 200
