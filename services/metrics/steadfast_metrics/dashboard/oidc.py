"""Signing in to the dashboard through the council's identity provider: OpenID Connect's authorisation
code flow with PKCE (S256), with Authlib's OAuth 2 client.

1. ``/sign-in/oidc`` reads the provider's discovery document, makes a state and a code verifier, keeps
   them (and where to go afterwards) in a short-lived ``HttpOnly`` cookie on the sign-in paths, and sends
   the browser to the provider's authorisation endpoint with the S256 code challenge.
2. ``/sign-in/callback`` checks the state against the cookie, exchanges the code and the verifier at
   the token endpoint, and verifies the token it keeps exactly as the API verifies bearer tokens (the
   provider's JWKS, issuer, audience, expiry); the token's scopes are the viewer's.

The flow cookie is ``SameSite=Lax``, not ``Strict``: the provider's redirect back is a cross-site
navigation, on which a strict cookie would not be sent. It holds nothing a third party could use: the
verifier only works with a code issued to this browser, for this client.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
import warnings
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.deprecate import AuthlibDeprecationWarning
from fastapi import Request, Response

from steadfast_metrics.settings import MetricsSettings

with warnings.catch_warnings():  # Authlib prefers httpx2 and says so on import; httpx is what we use
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

FLOW_COOKIE = "steadfast_oidc"
FLOW_PATH = "/sign-in"
FLOW_SECONDS = 600
#: How long a discovery document is reused.
DISCOVERY_SECONDS = 3600


class SignInFailed(Exception):
    """The provider's answer does not sign anyone in: why, in words for the sign-in page."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str


@dataclass(frozen=True)
class Flow:
    state: str
    verifier: str
    next: str
    started: float

    def encode(self) -> str:
        raw = json.dumps([self.state, self.verifier, self.next, self.started]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Flow | None:
        try:
            state, verifier, target, started = json.loads(
                base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            )
            return cls(str(state), str(verifier), str(target), float(started))
        except (ValueError, TypeError):
            return None


_discovered: dict[str, tuple[float, Provider]] = {}


def configured(settings: MetricsSettings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


async def provider(settings: MetricsSettings) -> Provider:
    """The provider's endpoints, from its discovery document (cached for an hour)."""
    issuer = (settings.oidc_issuer or "").rstrip("/")
    held = _discovered.get(issuer)
    if held is not None and time.monotonic() - held[0] < DISCOVERY_SECONDS:
        return held[1]
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(f"{issuer}/.well-known/openid-configuration")
            answer.raise_for_status()
            document: dict[str, Any] = answer.json()
        found = Provider(
            issuer=str(document["issuer"]),
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
        )
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        raise SignInFailed(
            f"the identity provider at {issuer} did not answer its discovery document"
        ) from exc
    if found.issuer.rstrip("/") != issuer:
        raise SignInFailed(f"the identity provider says it is {found.issuer}, not {issuer}")
    _discovered[issuer] = (time.monotonic(), found)
    return found


def _client(settings: MetricsSettings, redirect_url: str) -> AsyncOAuth2Client:
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=secret,
        scope=settings.oidc_scopes,
        redirect_uri=redirect_url,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
        timeout=15,
    )


def redirect_url(request: Request, settings: MetricsSettings) -> str:
    return settings.oidc_redirect_url or str(request.url_for("oidc_callback"))


async def begin(request: Request, settings: MetricsSettings, target: str) -> tuple[str, Flow]:
    """The provider's authorisation URL for this browser, and the flow to keep in its cookie."""
    found = await provider(settings)
    verifier = generate_token(64)
    async with _client(settings, redirect_url(request, settings)) as client:
        url, state = client.create_authorization_url(found.authorization_endpoint, code_verifier=verifier)
    return url, Flow(state=state, verifier=verifier, next=target, started=time.time())


async def finish(request: Request, settings: MetricsSettings) -> tuple[str, str]:
    """The token the provider issued for the code in the callback, and where to go next."""
    flow = Flow.decode(request.cookies.get(FLOW_COOKIE, ""))
    params = request.query_params
    if params.get("error"):
        raise SignInFailed(
            f"the identity provider refused: {params.get('error_description') or params['error']}"
        )
    if flow is None or time.time() - flow.started > FLOW_SECONDS:
        raise SignInFailed("the sign-in took too long or began in another browser: sign in again")
    if not hmac.compare_digest(params.get("state", ""), flow.state):
        raise SignInFailed("the identity provider's answer is not for this sign-in: sign in again")
    code = params.get("code")
    if not code:
        raise SignInFailed("the identity provider sent no authorisation code")
    found = await provider(settings)
    try:
        async with _client(settings, redirect_url(request, settings)) as client:
            token = await client.fetch_token(found.token_endpoint, code=code, code_verifier=flow.verifier)
    except Exception as exc:  # Authlib raises its OAuthError, httpx its own: either way no sign-in
        raise SignInFailed(f"the identity provider did not exchange the code: {exc}") from exc
    kept = token.get(settings.oidc_session_token)
    if not isinstance(kept, str) or not kept:
        raise SignInFailed(f"the identity provider's answer has no {settings.oidc_session_token}")
    return kept, flow.next


def keep_flow(request: Request, response: Response, flow: Flow, secure: bool) -> None:
    response.set_cookie(
        FLOW_COOKIE,
        flow.encode(),
        max_age=FLOW_SECONDS,
        httponly=True,
        secure=secure,
        samesite="lax",
        path=FLOW_PATH,
    )


def forget_flow(response: Response, secure: bool) -> None:
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, httponly=True, secure=secure, samesite="lax")
