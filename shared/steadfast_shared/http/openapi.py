"""The OpenAPI document every service serves, made to say what the service really answers.

FastAPI's own document knows the success answer and a 422 in a shape the services never send. The app
factory installs :func:`install_openapi`, which adds to every operation under ``/v1``:

- **the scope it needs**: one ``bearer`` security scheme (a JWT), and per operation ``security`` naming
  the scopes of its :func:`~steadfast_shared.http.deps.require_scope` dependencies (the one place a
  scope is declared; the authorisation matrix test reads the same declaration through
  :func:`operations`). Operational routes (``/healthz``...) say ``security: []``;
- **every problem it can answer**, as ``application/problem+json`` with the :class:`Problem` schema:
  401, 403 and 422 everywhere; 404 where the path names a record; 409 on writes (a duplicate, a
  concurrent change, an ``Idempotency-Key`` in flight); 412 where ``If-Match`` is honoured; 413 where a
  body is read; 415 for CSV imports; 429 for writes and imports (rate limited, and their successes
  carry the ``RateLimit-*`` headers); 503 when the database was busy;
- **the CSV import's columns**: the ``text/csv`` body of ``POST /v1/imports/{kind}`` described from the
  importers' row models (:func:`csv_import_openapi`);
- **examples as the models give them**: a request or response model's ``examples``
  (:func:`~steadfast_shared.schemas.with_examples`) are put back in its component schema whole, since
  FastAPI drops every ``null`` from the document, an example's nulls included (which would leave a
  response example without its required nullable fields).
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

from steadfast_shared.http.deps import required_scope
from steadfast_shared.http.guard import API_PREFIX, IMPORT_PREFIX
from steadfast_shared.http.problems import PROBLEM_JSON

#: The name of the bearer security scheme in ``components.securitySchemes``.
BEARER_SCHEME = "bearer"

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

D = TypeVar("D", bound=Callable[..., object])


class FieldProblem(BaseModel):
    """One reason a request was refused: the field (or column) and why."""

    model_config = ConfigDict(extra="allow")

    field: str | None = Field(default=None, description="the field, header, parameter or CSV column")
    reason: str = Field(description="a stable code: missing_scope, stale_etag, unknown_worker...")


class Problem(BaseModel):
    """An RFC 9457 problem: every error a Steadfast service answers has this shape."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "https://steadfast.example/problems/forbidden",
                    "title": "Forbidden",
                    "status": 403,
                    "detail": "this endpoint needs the scope 'staff:write'",
                    "instance": "/v1/workers",
                    "request_id": "7f0c2a8e-2d7b-4c55-9a3e-1c2b3d4e5f60",
                    "errors": [{"field": "scope", "reason": "missing_scope", "required": "staff:write"}],
                }
            ]
        },
    )

    type: str = Field(description="a URI naming the kind of problem; its last segment is a stable code")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str | None = Field(default=None, description="the request's path")
    request_id: str | None = Field(default=None, description="the X-Request-ID, to find it in the logs")
    errors: list[FieldProblem] | None = Field(default=None, description="each field and reason")
    errors_total: int | None = Field(default=None, description="how many errors, when not all are listed")


#: What each problem status means, in the documents' own words.
PROBLEM_DESCRIPTIONS: dict[int, str] = {
    400: "The request is malformed.",
    401: "No bearer token, or one that is forged, expired or for another issuer or audience.",
    403: "The token lacks the scope this operation needs.",
    404: "No record with that id or external_id.",
    409: "The change conflicts with stored data (a duplicate, or a concurrent change).",
    412: "If-Match names a version that is no longer current (fetch again and retry).",
    413: "The body is larger than the service accepts.",
    415: "The body is not of a type this operation reads.",
    422: "A field, parameter or row breaks a rule; `errors` names each field and reason.",
    429: "Too many requests from this client; retry after the Retry-After seconds.",
    503: "The database was busy (a long atomic import): nothing changed; retry after Retry-After.",
}

_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
#: The headers of an answer to a write (IETF draft-ietf-httpapi-ratelimit-headers; see ``ratelimit``).
_RATE_LIMIT = {
    "RateLimit-Limit": {"description": "the client's budget per window", "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "what is left of it", "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "seconds until the window frees", "schema": {"type": "integer"}},
    "RateLimit-Policy": {"description": "the budget, as `<limit>;w=<seconds>`", "schema": {"type": "string"}},
}
_WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}


_MAY_ANSWER = "steadfast_may_answer"


def may_answer(*statuses: int) -> Callable[[D], D]:
    """Mark a dependency that can answer these problem statuses itself (a 400 for a malformed header,
    say), so that every operation using it documents them."""

    def mark(dependency: D) -> D:
        setattr(dependency, _MAY_ANSWER, (*getattr(dependency, _MAY_ANSWER, ()), *statuses))
        return dependency

    return mark


@dataclass(frozen=True)
class Operation:
    """One operation of a service's API, with what the OpenAPI document and the tests need to know."""

    method: str
    path: str
    #: Every scope the operation requires (all of them); empty for a public operational route.
    scopes: tuple[str, ...]
    path_parameters: tuple[str, ...]
    reads_body: bool
    idempotency_key: bool
    if_match: bool
    #: Statuses the operation's dependencies declare they answer (see :func:`may_answer`).
    declared_statuses: tuple[int, ...] = ()

    @property
    def protected(self) -> bool:
        """Under ``/v1``: a bearer token is needed before anything else happens."""
        return self.path.startswith(API_PREFIX)

    @property
    def csv_import(self) -> bool:
        return self.path.startswith(IMPORT_PREFIX)

    @property
    def writes(self) -> bool:
        return self.method in WRITE_METHODS

    def problem_statuses(self) -> list[int]:
        """The problem statuses the operation can answer (what its OpenAPI entry documents)."""
        if not self.protected:
            return []
        statuses = {401, 403, 422, 503, *self.declared_statuses}
        if self.path_parameters:
            statuses.add(404)
        if self.writes:
            statuses |= {409, 429}
        if self.if_match:
            statuses.add(412)
        if self.reads_body:
            statuses.add(413)
        if self.csv_import:
            statuses |= {413, 415, 429}
        return sorted(statuses)


def operations(app: FastAPI) -> list[Operation]:
    """Every operation of ``app``'s API routes, in route order, with the scopes its dependencies declare."""
    found: list[Operation] = []
    for route in _api_routes(app):
        dependant: Dependant = route.dependant
        scopes = tuple(dict.fromkeys(_scopes(dependant)))
        calls = set(_calls(dependant))
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            found.append(
                Operation(
                    method=method,
                    path=route.path_format,
                    scopes=scopes,
                    path_parameters=tuple(p.name for p in dependant.path_params),
                    reads_body=route.body_field is not None or "requestBody" in (route.openapi_extra or {}),
                    idempotency_key=any(getattr(c, "__name__", "") == "idempotency_key" for c in calls),
                    if_match=_names("check_if_match", route.endpoint.__code__),
                    declared_statuses=tuple(sorted({s for c in calls for s in getattr(c, _MAY_ANSWER, ())})),
                )
            )
    return found


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` document scopes and problems (see the module docstring)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        if not document.get("x-steadfast-documented"):
            document_operations(document, operations(app))
            restore_examples(document, route_models(app))
            document["x-steadfast-documented"] = True
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def document_operations(document: dict[str, Any], found: list[Operation]) -> None:
    """Add the security scheme, each operation's scopes and its problem answers to ``document``."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, schema in problem_schema.pop("$defs", {}).items():
        schemas[name] = schema
    schemas["Problem"] = problem_schema
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = {
        BEARER_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "A JWT whose `scope` claim (space-separated) or `scp` claim (a list) holds the scopes the "
                "operation names in its `security`: `<service>:read`, `<service>:write`, `strategy:write`."
            ),
        }
    }
    paths: dict[str, Any] = document.get("paths", {})
    for operation in found:
        entry = paths.get(operation.path, {}).get(operation.method.lower())
        if entry is None:
            continue
        if not operation.protected:
            entry["security"] = []
            continue
        entry["security"] = [{BEARER_SCHEME: list(operation.scopes)}]
        kinds = entry.pop("x-import-kinds", None)
        if kinds:
            for parameter in entry.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("name") == "kind":
                    parameter["schema"] = {"type": "string", "enum": kinds}
        if operation.scopes:
            needs = ", ".join(f"`{s}`" for s in operation.scopes)
            entry["description"] = (entry.get("description", "") + f"\n\nNeeds the scope {needs}.").strip()
        responses: dict[str, Any] = entry.setdefault("responses", {})
        if operation.writes:
            for code, response in responses.items():
                if code.startswith("2"):
                    response.setdefault("headers", {}).update(_RATE_LIMIT)
        for status in operation.problem_statuses():
            responses[str(status)] = _problem_response(status)
        if operation.if_match:
            _add_header_parameter(entry, "If-Match", "the ETag last read; a stale one is refused with 412")


def route_models(app: FastAPI) -> set[type[BaseModel]]:
    """Every pydantic model an API route reads or answers, and every model nested in those."""
    found: set[type[BaseModel]] = set()

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in found:
                found.add(annotation)
                for field in annotation.model_fields.values():
                    visit(field.annotation)
            return
        for argument in typing.get_args(annotation):
            visit(argument)

    for context in _api_routes(app):
        route: APIRoute = context.original_route
        if route.body_field is not None:
            visit(route.body_field.field_info.annotation)
        visit(route.response_model)
        for response in route.responses.values():
            visit(response.get("model"))
    return found


def model_examples(model: type[BaseModel]) -> list[Any]:
    """The ``examples`` a model's configuration gives its JSON schema (none: an empty list)."""
    extra = model.model_config.get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, dict) else None
    return list(examples) if isinstance(examples, list) else []


def restore_examples(document: dict[str, Any], models: set[type[BaseModel]]) -> None:
    """Give each model's component schema (``Name``, ``Name-Input``, ``Name-Output``) the model's
    examples as written, nulls included."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for model in models:
        examples = model_examples(model)
        if not examples:
            continue
        for name in (model.__name__, f"{model.__name__}-Input", f"{model.__name__}-Output"):
            if name in schemas:
                schemas[name]["examples"] = copy.deepcopy(examples)


def csv_import_openapi(importers: Mapping[str, type[Any]], *, note: str = "") -> dict[str, Any]:
    """``openapi_extra`` for ``POST /v1/imports/{kind}``: a ``text/csv`` body whose columns, per kind,
    come from each importer's ``required_columns`` and ``row_model``."""
    sections: list[str] = []
    examples: dict[str, Any] = {}
    for kind, importer in importers.items():
        required: tuple[str, ...] = tuple(importer.required_columns)
        properties: dict[str, Any] = importer.row_model.model_json_schema().get("properties", {})
        lines = [f"**{kind}** — columns:", "", "| column | required | value |", "|---|---|---|"]
        for column, schema in properties.items():
            lines.append(f"| `{column}` | {'yes' if column in required else ''} | {_describe(schema)} |")
        sections.append("\n".join(lines))
        examples[kind] = {"summary": f"{kind}.csv (the header row)", "value": ",".join(required) + "\n"}
    description = (
        "The CSV file (UTF-8 unless `charset` says otherwise, a header row, comma-separated). Columns may "
        "come in any order; unknown columns are ignored; an empty cell is a null.\n\n"
        + "\n\n".join(sections)
        + (f"\n\n{note}" if note else "")
    )
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "text/csv": {"schema": {"type": "string"}, "examples": examples},
            },
        },
        "x-import-kinds": sorted(importers),
    }


def _problem_response(status: int) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if status == 401:
        headers = _WWW_AUTHENTICATE
    elif status in {429, 503}:
        headers = _RETRY_AFTER
    response: dict[str, Any] = {
        "description": PROBLEM_DESCRIPTIONS[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _add_header_parameter(entry: dict[str, Any], name: str, description: str) -> None:
    parameters: list[dict[str, Any]] = entry.setdefault("parameters", [])
    if any(p.get("in") == "header" and p.get("name", "").lower() == name.lower() for p in parameters):
        return
    parameters.append(
        {
            "name": name,
            "in": "header",
            "required": False,
            "description": description,
            "schema": {"type": "string"},
        }
    )


def _describe(schema: dict[str, Any]) -> str:
    options = schema.get("anyOf", [schema])
    described = []
    for option in options:
        if option.get("type") == "null":
            continue
        if "enum" in option:
            described.append(", ".join(f"`{v}`" for v in option["enum"]))
        elif "$ref" in option:
            described.append(option["$ref"].rsplit("/", 1)[-1])
        else:
            described.append(option.get("format") or option.get("type", "text"))
    return " or ".join(described) or "text"


def _api_routes(app: FastAPI) -> Iterator[Any]:
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield context


def _scopes(dependant: Dependant) -> Iterator[str]:
    for call in _calls(dependant):
        scope = required_scope(call)
        if scope is not None:
            yield scope


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _names(name: str, code: types.CodeType) -> bool:
    """Whether ``code`` (or a function or lambda inside it) refers to the global ``name``."""
    if name in code.co_names:
        return True
    return any(isinstance(c, types.CodeType) and _names(name, c) for c in code.co_consts)


def upsert_responses(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a create that upserts by a key: besides its 201, a 200 with the stored record
    when the record was already there (changed if the request changed it)."""
    return {200: {"model": model, "description": "The record was already there: the stored one, as updated"}}
