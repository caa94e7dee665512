"""The dashboard's pages (not part of the API's OpenAPI document): thin handlers that check the viewer,
ask :mod:`.pages` for the figures and render a template."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response

from steadfast_metrics.dashboard import oidc
from steadfast_metrics.dashboard.forms import FormErrors, first, read_form, target_from_form, with_target
from steadfast_metrics.dashboard.pages import Dashboard
from steadfast_metrics.dashboard.rendering import render
from steadfast_metrics.dashboard.routing import DashboardRoute
from steadfast_metrics.dashboard.session import (
    CSRF_COOKIE,
    CSRF_FIELD,
    MAX_TOKEN_LENGTH,
    READ_SCOPE,
    STRATEGY_SCOPE,
    Viewer,
    ViewerDep,
    check_form,
    check_origin,
    forget,
    keep_csrf,
    remember,
    safe_next,
    secure_cookies,
    verify_token,
)
from steadfast_metrics.history.endpoints import history_service
from steadfast_metrics.kpis.catalogue import BY_ID, CATALOGUE, KpiDefinition
from steadfast_metrics.kpis.endpoints import AsOf, KpiId, Team, request_kpi_service
from steadfast_metrics.reports.endpoints import board_report_service, report_answer
from steadfast_metrics.reports.formats import ReportFormat
from steadfast_metrics.reports.service import MONTH_PATTERN
from steadfast_metrics.settings import metrics_settings
from steadfast_metrics.strategy.endpoints import strategy_service
from steadfast_metrics.strategy.schemas import StrategyChange
from steadfast_metrics.watchlists.endpoints import ListName
from steadfast_shared.auth import Principal
from steadfast_shared.dates import today
from steadfast_shared.errors import NotFound, PreconditionFailed, Unauthorized, ValidationFailed
from steadfast_shared.http.deps import RuntimeDep, UoWDep
from steadfast_shared.http.pagination import MAX_LIMIT, PageParams
from steadfast_shared.service import Runtime
from steadfast_shared.settings import Environment
from steadfast_shared.uow import UnitOfWork

#: The dashboard's own stylesheets, scripts and the vendored libraries (``static/vendor/``).
STATIC = Path(__file__).resolve().parent / "static"

router = APIRouter(route_class=DashboardRoute, include_in_schema=False, tags=["dashboard"])

TeamCode = Annotated[str, PathParam(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
SortField = Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")]
Order = Annotated[str, Query(pattern=r"^(asc|desc)$")]
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def dashboard(request: Request, uow: UnitOfWork, runtime: Runtime) -> Dashboard:
    return Dashboard(request_kpi_service(request, uow, runtime), history_service(request, uow, runtime))


@router.get("/")
async def overview(
    request: Request,
    uow: UoWDep,
    runtime: RuntimeDep,
    viewer: ViewerDep,
    as_of: AsOf = None,
    team: Team = None,
) -> Response:
    page = await dashboard(request, uow, runtime).overview(as_of or today(), team)
    return render(request, "overview.html", {"page": page, "as_of": page.as_of, "team": team}, viewer=viewer)


@router.get("/kpis/{kpi_id}")
async def kpi(
    kpi_id: KpiId,
    request: Request,
    uow: UoWDep,
    runtime: RuntimeDep,
    viewer: ViewerDep,
    as_of: AsOf = None,
    team: Team = None,
) -> Response:
    day = as_of or today()
    page = await dashboard(request, uow, runtime).kpi(kpi_id, day, team)
    return render(request, "kpi.html", {"page": page, "as_of": day, "team": team}, viewer=viewer)


@router.get("/teams/{team}")
async def team_page(
    team: TeamCode, request: Request, uow: UoWDep, runtime: RuntimeDep, viewer: ViewerDep, as_of: AsOf = None
) -> Response:
    day = as_of or today()
    page = await dashboard(request, uow, runtime).team(team, day)
    return render(request, "team.html", {"page": page, "as_of": day, "team": team}, viewer=viewer)


@router.get("/watch-lists")
async def watch_lists(
    request: Request,
    uow: UoWDep,
    runtime: RuntimeDep,
    viewer: ViewerDep,
    as_of: AsOf = None,
    team: Team = None,
) -> Response:
    day = as_of or today()
    page = await dashboard(request, uow, runtime).watch_lists(day, team)
    return render(request, "watch_lists.html", {"page": page, "as_of": day, "team": team}, viewer=viewer)


@router.get("/watch-lists/{name}")
async def watch_list(
    name: ListName,
    request: Request,
    uow: UoWDep,
    runtime: RuntimeDep,
    viewer: ViewerDep,
    as_of: AsOf = None,
    team: Team = None,
    sort: SortField = None,
    order: Order = "asc",
    cursor: Cursor = None,
    limit: Limit = 25,
) -> Response:
    day = as_of or today()
    page = await dashboard(request, uow, runtime).watch_list(
        name, day, team, PageParams(limit=limit, cursor=cursor), sort, order == "desc"
    )
    return render(request, "watch_list.html", {"page": page, "as_of": day, "team": team}, viewer=viewer)


@router.get("/reports/board")
async def board_report(
    request: Request,
    uow: UoWDep,
    runtime: RuntimeDep,
    viewer: ViewerDep,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
    format_: Annotated[ReportFormat, Query(alias="format")] = ReportFormat.html,
) -> Response:
    """The programme board report (``/v1/reports/board``'s), for a browser signed in to the dashboard."""
    if format_ is ReportFormat.json:
        raise ValidationFailed.field("format", "not_a_page", "the dashboard offers html, pdf, xlsx or csv")
    chosen = month or today().strftime("%Y-%m")
    report = await board_report_service(request, uow, runtime).board(chosen)
    return report_answer(report, format_)


@router.get("/strategy")
async def strategy(request: Request, uow: UoWDep, runtime: RuntimeDep, viewer: ViewerDep) -> Response:
    current = await strategy_service(uow, runtime).current()
    versions = await strategy_service(uow, runtime).versions(PageParams(limit=MAX_LIMIT))
    return render(
        request,
        "strategy.html",
        {
            "strategy": current,
            "versions": list(reversed(versions.items)),
            "catalogue": CATALOGUE,
            "changed": request.query_params.get("changed"),
        },
        viewer=viewer,
    )


@router.get("/strategy/targets/{kpi_id}")
async def edit_target(
    kpi_id: KpiId, request: Request, uow: UoWDep, runtime: RuntimeDep, viewer: ViewerDep
) -> Response:
    viewer.principal.require(STRATEGY_SCOPE)
    definition = _kpi(kpi_id)
    current = await strategy_service(uow, runtime).current()
    target = current.document.targets.get(kpi_id)
    form = {
        "direction": [target.direction.value if target else ""],
        "tolerance_pct": [
            "" if target is None or target.tolerance_pct is None else f"{target.tolerance_pct:g}"
        ],
        "milestone_date": [m.date.isoformat() for m in (target.milestones if target else [])],
        "milestone_value": [f"{m.value:g}" for m in (target.milestones if target else [])],
        "note": [""],
    }
    return _target_form(request, viewer, definition.id, current.version, form, [])


@router.post("/strategy/targets/{kpi_id}")
async def change_target(
    kpi_id: KpiId, request: Request, uow: UoWDep, runtime: RuntimeDep, viewer: ViewerDep
) -> Response:
    viewer.principal.require(STRATEGY_SCOPE)
    definition = _kpi(kpi_id)
    form = await read_form(request)
    check_form(request, viewer, form)
    service = strategy_service(uow, runtime)
    current = await service.current()
    based_on = first(form, "version") or ""
    try:
        target = target_from_form(form)
        document = with_target(current.document, kpi_id, target)
        note = (first(form, "note") or "").strip() or f"{definition.title}: target changed on the dashboard"
        change = StrategyChange(document=document, note=note[:2000])
    except FormErrors as invalid:
        return _target_form(request, viewer, kpi_id, current.version, form, invalid.errors, status_code=422)

    def check_version(held: int) -> None:
        if based_on != str(held):
            raise PreconditionFailed(
                f"the strategy changed (version {held}) since this form was opened: reload it and try again",
                errors=[{"field": "version", "reason": "stale", "current": held}],
            )

    await service.change(change, viewer.principal.subject, check_version)
    return RedirectResponse(f"/strategy?changed={kpi_id}", status_code=303)


@router.get("/sign-in")
async def sign_in_page(
    request: Request,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    reason: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    return _sign_in(request, safe_next(next), [("token", _REASONS[reason])] if reason in _REASONS else [])


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await read_form(request, limit=MAX_TOKEN_LENGTH + 4096)
    check_origin(request)
    target = safe_next(first(form, "next"))
    sent, cookie = first(form, CSRF_FIELD), request.cookies.get(CSRF_COOKIE)
    if not sent or not cookie or not hmac.compare_digest(sent, cookie):
        return _sign_in(request, target, [("token", "The page had expired: paste the token again")], 403)
    token = (first(form, "token") or "").strip()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return _sign_in(request, target, [("token", "Paste a token: the output of make token")], 401)
    try:
        principal = await verify_token(request, token)
    except Unauthorized as exc:
        return _sign_in(request, target, [("token", f"This token does not sign you in: {exc.detail}")], 401)
    if READ_SCOPE not in principal.scopes:
        return _sign_in(request, target, [("token", f"This token does not have the {READ_SCOPE} scope")], 403)
    response = RedirectResponse(target, status_code=303)
    remember(request, response, token, _max_age(principal))
    return response


@router.get("/sign-in/oidc")
async def oidc_sign_in(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    """To the council's identity provider (OpenID Connect, authorisation code with PKCE)."""
    settings = metrics_settings(request.app.state.runtime)
    if not oidc.configured(settings):
        raise NotFound("sign-in through an identity provider is not configured (METRICS_OIDC_ISSUER)")
    try:
        url, flow = await oidc.begin(request, settings, safe_next(next))
    except oidc.SignInFailed as failed:
        return _sign_in(request, safe_next(next), [("token", str(failed))], 502)
    response = RedirectResponse(url, status_code=303)
    oidc.keep_flow(request, response, flow, secure_cookies(request))
    return response


@router.get("/sign-in/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    """Back from the identity provider: the code exchanged, the token verified as the API's are."""
    settings = metrics_settings(request.app.state.runtime)
    if not oidc.configured(settings):
        raise NotFound("sign-in through an identity provider is not configured (METRICS_OIDC_ISSUER)")
    try:
        token, target = await oidc.finish(request, settings)
        principal = await verify_token(request, token)
    except oidc.SignInFailed as failed:
        return _sign_in(request, "/", [("token", f"You are not signed in: {failed}")], 401)
    except Unauthorized as exc:
        return _sign_in(
            request, "/", [("token", f"The identity provider's token is not valid here: {exc.detail}")], 401
        )
    if READ_SCOPE not in principal.scopes:
        return _sign_in(request, "/", [("token", f"Your account does not have the {READ_SCOPE} scope")], 403)
    response = RedirectResponse(safe_next(target), status_code=303)
    remember(request, response, token, _max_age(principal))
    oidc.forget_flow(response, secure_cookies(request))
    return response


@router.post("/sign-out")
async def sign_out(request: Request, viewer: ViewerDep) -> Response:
    form = await read_form(request)
    check_form(request, viewer, form)
    response = RedirectResponse("/sign-in", status_code=303)
    forget(request, response)
    return response


_REASONS = {
    "not_signed_in": "Sign in to see the dashboard",
    "expired": "Your token has expired: sign in with a new one",
    "invalid_token": "Your token is no longer valid: sign in again",
}


def _max_age(principal: Principal) -> int | None:
    """The session cookie lasts as long as the token does."""
    expires = principal.claims.get("exp")
    return max(int(expires - time.time()), 0) if isinstance(expires, int | float) else None


def _kpi(kpi_id: str) -> KpiDefinition:
    definition = BY_ID.get(kpi_id)
    if definition is None:
        raise NotFound(f"there is no KPI {kpi_id!r}")
    return definition


def _target_form(
    request: Request,
    viewer: Viewer,
    kpi_id: str,
    version: int,
    form: Mapping[str, list[str]],
    errors: list[tuple[str, str]],
    status_code: int = 200,
) -> Response:
    dates, values = list(form.get("milestone_date", [])), list(form.get("milestone_value", []))
    rows = list(zip(dates, values, strict=False)) + [("", "")] * 2  # two blank rows to add milestones
    return render(
        request,
        "target_form.html",
        {
            "definition": BY_ID[kpi_id],
            "version": version,
            "direction": first(form, "direction") or "",
            "tolerance_pct": first(form, "tolerance_pct") or "",
            "note": first(form, "note") or "",
            "rows": rows,
            "errors": errors,
        },
        viewer=viewer,
        status_code=status_code,
    )


def _sign_in(
    request: Request, target: str, errors: list[tuple[str, str]], status_code: int = 200
) -> Response:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    settings = metrics_settings(request.app.state.runtime)
    with_provider = oidc.configured(settings)
    response = render(
        request,
        "sign_in.html",
        {
            "next": target,
            "errors": errors,
            "csrf_token": csrf,
            "with_provider": with_provider,
            # Production signs in through the provider; a pasted token is for the embedded default.
            "paste": not with_provider or settings.environment is not Environment.production,
        },
        viewer=None,
        status_code=status_code,
    )
    keep_csrf(request, response, None, token=csrf)
    return response
