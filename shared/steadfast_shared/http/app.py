"""The app factory: every service's FastAPI app is built here, from its :class:`ServiceDefinition`.

It gives every service the same operational surface: ``/healthz``, ``/readyz`` (database and broker),
``/metrics`` (Prometheus), ``/docs`` and ``/redoc`` (from files it serves itself, see
:mod:`~steadfast_shared.http.docs`), request ids (``X-Request-ID``), structured access logs,
problem+json errors, and, in the lifespan, the database engine, the outbox relay and the service's
consumers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text

from steadfast_shared.auth import TokenVerifier
from steadfast_shared.db.engine import create_database
from steadfast_shared.db.types import utcnow
from steadfast_shared.http.docs import install_docs
from steadfast_shared.http.guard import RequestGuard
from steadfast_shared.http.openapi import install_openapi
from steadfast_shared.http.problems import install_problem_handlers
from steadfast_shared.http.ratelimit import RateLimits
from steadfast_shared.http.routing import TransactionalRoute
from steadfast_shared.kafka import broker_reachable
from steadfast_shared.logging import SCOPE_KEY, RequestScope, configure_logging, request_path
from steadfast_shared.outbox.relay import BACKLOG, BACKLOG_AGE, OutboxRelay, build_relay
from steadfast_shared.service import Runtime, ServiceDefinition
from steadfast_shared.settings import ServiceSettings

log = structlog.get_logger(__name__)

REQUESTS = Counter("steadfast_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram(
    "steadfast_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
)

BACKGROUND_STOP_TIMEOUT = 15.0


def new_router(prefix: str = "", *, tags: list[str] | None = None) -> APIRouter:
    """A router whose routes commit the request's unit of work once (see ``TransactionalRoute``)."""
    return APIRouter(prefix=prefix, tags=list(tags or []), route_class=TransactionalRoute)


def create_app(definition: ServiceDefinition, settings: ServiceSettings | None = None) -> FastAPI:
    """Build a service's app. Nothing connects until the lifespan starts."""
    settings = settings or definition.settings()
    configure_logging(settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = create_database(
            settings.database_url,
            pool_size=settings.database_pool_size,
            pool_timeout=settings.database_pool_timeout_seconds,
        )
        runtime = Runtime(definition=definition, settings=settings, database=database)
        app.state.runtime = runtime
        app.state.token_verifier = TokenVerifier(settings)
        background: list[tuple[Callable[[], None], asyncio.Task[None]]] = []
        if settings.relay_enabled:
            relay = build_relay(definition, settings, database)
            app.state.relay = relay
            background.append((relay.stop, asyncio.create_task(relay.run(), name=f"{definition.name}-relay")))
        #: The consumers and tasks by name, for endpoints that report on them (a consumer's lag, say).
        app.state.background_tasks = {}
        consumers = definition.consumers if settings.consumers_enabled else ()
        for factory in (*consumers, *definition.tasks):
            worker = factory(runtime)
            app.state.background_tasks[worker.name] = worker
            background.append((worker.stop, asyncio.create_task(worker.run(), name=worker.name)))
        log.info("service.started", service=definition.name, environment=settings.environment.value)
        try:
            yield
        finally:
            for stop, _task in background:
                stop()
            for _stop, task in background:
                try:
                    await asyncio.wait_for(task, BACKGROUND_STOP_TIMEOUT)
                except (TimeoutError, asyncio.CancelledError):
                    task.cancel()
                except Exception:
                    log.exception("service.background_task_failed", task=task.get_name())
            await database.dispose()
            log.info("service.stopped", service=definition.name)

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version=definition.version,
        lifespan=lifespan,
        # /docs and /redoc come from install_docs, with files the service serves itself (no CDN).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.definition = definition
    install_problem_handlers(app)
    # Inside the request context (so its log line and metrics count what the guard answers).
    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.max_request_body_bytes,
        max_import_bytes=settings.max_import_bytes,
        rate_limits=RateLimits(
            writes_per_minute=settings.rate_limit_writes_per_minute,
            imports_per_minute=settings.rate_limit_imports_per_minute,
        ),
    )
    _install_request_middleware(app, definition.name)
    _install_operational_routes(app, settings)
    install_docs(app)
    for router in definition.routers:
        app.include_router(router)
    for prefix, folder in definition.static_files.items():
        app.mount(prefix, StaticFiles(directory=folder), name=f"static:{prefix}")
    install_openapi(app)
    return app


def _install_request_middleware(app: FastAPI, service: str) -> None:
    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
        request.state.request_id = request_id
        structlog.contextvars.bind_contextvars(
            request_id=request_id, **{SCOPE_KEY: RequestScope(request.scope)}
        )
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            response.headers["X-Request-ID"] = request_id
            return response
        finally:
            elapsed = time.perf_counter() - started
            route = request.scope.get("route")
            template = getattr(route, "path", "unmatched")
            REQUESTS.labels(service, request.method, template, str(status)).inc()
            LATENCY.labels(service, request.method, template).observe(elapsed)
            if template not in {"/healthz", "/readyz", "/metrics"}:
                log.info(
                    "http.request",
                    method=request.method,
                    path=request_path(request.scope),
                    route=template,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )
            structlog.contextvars.unbind_contextvars("request_id", SCOPE_KEY)


def _install_operational_routes(app: FastAPI, settings: ServiceSettings) -> None:
    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="The database and the broker are reachable",
        responses={503: {"description": "The database or the broker is unreachable (the checks say which)"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        checks: dict[str, Any] = {}
        try:
            # A read session: on SQLite it does not queue behind a writer holding the lock (an import).
            async with runtime.database.read_sessionmaker() as session:
                await asyncio.wait_for(session.execute(text("SELECT 1")), 5)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        reachable = await broker_reachable(settings.kafka_bootstrap_servers)
        checks["broker"] = "ok" if reachable else "unreachable"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
        include_in_schema=True,
    )
    async def metrics() -> Response:
        with contextlib.suppress(Exception):
            relay: OutboxRelay | None = getattr(app.state, "relay", None)
            if relay is not None:
                count, oldest = await relay.store.backlog()
                BACKLOG.labels(relay.service).set(count)
                age = 0.0
                if oldest is not None:
                    oldest_aware = oldest if oldest.tzinfo else oldest.replace(tzinfo=utcnow().tzinfo)
                    age = max(0.0, (utcnow() - oldest_aware).total_seconds())
                BACKLOG_AGE.labels(relay.service).set(age)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
