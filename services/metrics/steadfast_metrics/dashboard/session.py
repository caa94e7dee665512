"""Who is looking at the dashboard: the same bearer tokens and scopes as the API, carried by a cookie.

Signing in (the embedded default's page where a token from ``make token`` is pasted) verifies the token
with the service's own verifier and keeps it in an ``HttpOnly``, ``SameSite=Strict`` cookie, ``Secure``
outside the development environment; every page verifies it again, so an expired or revoked token signs
the viewer out. A request may also send ``Authorization: Bearer`` as the API does (the cookie is for
browsers).

Forms that change something carry a CSRF token: a random value in a second cookie and in a hidden field,
which must match (double submit), and the request's ``Origin``, when the browser sends one, must be the
service's own.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from steadfast_shared.auth import Principal, TokenVerifier
from steadfast_shared.errors import Forbidden, Unauthorized
from steadfast_shared.settings import Environment

SESSION_COOKIE = "steadfast_session"
CSRF_COOKIE = "steadfast_csrf"
CSRF_FIELD = "csrf_token"
#: The scope every page needs (the API's ``metrics:read``).
READ_SCOPE = "metrics:read"
#: The scope of the strategy form.
STRATEGY_SCOPE = "strategy:write"
#: The longest token a sign-in form takes (a JWT with many scopes is a few kilobytes).
MAX_TOKEN_LENGTH = 8192


class SignInNeeded(Exception):
    """No valid token: the page answers with the way to the sign-in page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    #: The CSRF token the page's forms carry (set as a cookie on the answer when it is new).
    csrf_token: str
    csrf_is_new: bool

    @property
    def may_change_strategy(self) -> bool:
        return STRATEGY_SCOPE in self.principal.scopes


async def verify_token(request: Request, token: str) -> Principal:
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify(token)


async def current_viewer(request: Request) -> Viewer:
    """The signed-in viewer, with ``metrics:read``; :class:`SignInNeeded` without a valid token."""
    token = request.cookies.get(SESSION_COOKIE)
    scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and bearer.strip():
        token = bearer.strip()
    if not token:
        raise SignInNeeded("not_signed_in")
    try:
        principal = await verify_token(request, token)
    except Unauthorized as exc:
        raise SignInNeeded(
            str(exc.errors[0].get("reason", "invalid_token")) if exc.errors else "invalid"
        ) from exc
    principal.require(READ_SCOPE)
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and 16 <= len(existing) <= 64:
        return Viewer(principal, existing, csrf_is_new=False)
    return Viewer(principal, secrets.token_urlsafe(32), csrf_is_new=True)


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


def check_form(request: Request, viewer: Viewer, form: Mapping[str, list[str]]) -> None:
    """A changing form's CSRF token and origin; a 403 problem when either is wrong."""
    sent = form.get(CSRF_FIELD) or [""]
    if viewer.csrf_is_new or len(sent) != 1 or not hmac.compare_digest(sent[0], viewer.csrf_token):
        raise Forbidden(
            "the form has expired or did not come from this dashboard: reload the page and try again",
            errors=[{"field": CSRF_FIELD, "reason": "csrf_mismatch"}],
        )
    check_origin(request)


def check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is None:  # not every browser sends it on a same-origin POST; the CSRF token still holds
        return
    own = f"{request.url.scheme}://{request.url.netloc}"
    parts = urlsplit(origin)
    if f"{parts.scheme}://{parts.netloc}" != own:
        raise Forbidden(
            "the form was sent from another site",
            errors=[{"field": "origin", "reason": "cross_origin", "origin": origin}],
        )


def secure_cookies(request: Request) -> bool:
    """``Secure`` cookies everywhere but the development environment (``make run`` on plain HTTP)."""
    return bool(request.app.state.settings.environment is not Environment.development)


def remember(request: Request, response: Response, token: str, max_age: int | None) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        secure=secure_cookies(request),
        samesite="strict",
        path="/",
    )


def forget(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, secure=secure_cookies(request), samesite="strict"
    )


def keep_csrf(request: Request, response: Response, viewer: Viewer | None, token: str | None = None) -> None:
    """Set the CSRF cookie when the page handed out a new token."""
    value = (
        token
        if token is not None
        else viewer.csrf_token
        if viewer is not None and viewer.csrf_is_new
        else None
    )
    if value is None:
        return
    response.set_cookie(
        CSRF_COOKIE, value, httponly=True, secure=secure_cookies(request), samesite="strict", path="/"
    )


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never ``//host`` or a full URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target
