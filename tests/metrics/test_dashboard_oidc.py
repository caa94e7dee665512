"""Production's sign-in to the dashboard: OpenID Connect's authorisation code flow with PKCE against the
council's identity provider (a real one on a port, tests/metrics/identity_provider.py), the token it
issues verified as the API verifies bearer tokens (JWKS, issuer, audience)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio

from steadfast_metrics.bootstrap import definition
from steadfast_metrics.dashboard.oidc import FLOW_COOKIE
from steadfast_metrics.dashboard.session import SESSION_COOKIE
from steadfast_shared.testing import ServiceClient
from tests.metrics.identity_provider import AUDIENCE, CLIENT_ID, IdentityProvider, running_identity_provider


@pytest.fixture
def provider() -> Iterator[IdentityProvider]:
    with running_identity_provider() as running:
        yield running


@pytest_asyncio.fixture(loop_scope="session")
async def metrics(start_service: Any, provider: IdentityProvider) -> AsyncIterator[ServiceClient]:
    service: ServiceClient = await start_service(
        definition,
        consumers_enabled=False,
        snapshot_interval_days=0,
        oidc_issuer=provider.url,
        oidc_client_id=CLIENT_ID,
        jwt_jwks_url=f"{provider.url}/jwks",
        jwt_issuer=provider.url,
        jwt_audience=AUDIENCE,
    )
    yield service


async def to_the_provider_and_back(metrics: ServiceClient, target: str = "/") -> tuple[httpx.Response, str]:
    """The browser's round trip: the dashboard's redirect, the provider's answer; the callback's path."""
    begun = await metrics.http.get(f"/sign-in/oidc?next={target}")
    assert begun.status_code == 303, begun.text
    authorize = urlsplit(begun.headers["location"])
    asked = parse_qs(authorize.query)
    assert asked["code_challenge_method"] == ["S256"]
    assert asked["client_id"] == [CLIENT_ID]
    assert "code_verifier" not in asked  # only the challenge leaves the browser's cookie
    async with httpx.AsyncClient() as browser:
        answered = await browser.get(begun.headers["location"])
    assert answered.status_code == 302, answered.text
    back = urlsplit(answered.headers["location"])
    return begun, f"{back.path}?{back.query}"


async def test_signing_in_through_the_identity_provider_with_pkce(metrics: ServiceClient) -> None:
    page = await metrics.http.get("/sign-in")
    assert "Sign in with your council account" in page.text
    begun, callback = await to_the_provider_and_back(metrics, "/watch-lists")
    flow = begun.cookies[FLOW_COOKIE]
    flow_header = next(h for h in begun.headers.get_list("set-cookie") if h.startswith(FLOW_COOKIE))
    assert "HttpOnly" in flow_header
    assert "Path=/sign-in" in flow_header
    signed = await metrics.http.get(callback, cookies={FLOW_COOKIE: flow})
    assert signed.status_code == 303, signed.text
    assert signed.headers["location"] == "/watch-lists"
    session = signed.cookies[SESSION_COOKIE]
    shown = await metrics.http.get("/watch-lists", cookies={SESSION_COOKIE: session})
    assert shown.status_code == 200
    assert "Signed in as priya.shah@council.example" in shown.text
    # The same token is a bearer token of the API: the dashboard and the API share one verifier.
    api = await metrics.http.get("/v1/strategy", headers={"Authorization": f"Bearer {session}"})
    assert api.status_code == 200


async def test_a_callback_that_is_not_this_browsers_sign_in_signs_nobody_in(metrics: ServiceClient) -> None:
    begun, callback = await to_the_provider_and_back(metrics)
    flow = begun.cookies[FLOW_COOKIE]
    forged = callback.replace("state=", "state=x")
    refused = await metrics.http.get(forged, cookies={FLOW_COOKIE: flow})
    assert refused.status_code == 401
    assert SESSION_COOKIE not in refused.cookies
    no_cookie = await metrics.http.get(callback)
    assert no_cookie.status_code == 401
    denied = await metrics.http.get("/sign-in/callback?error=access_denied&error_description=cancelled")
    assert denied.status_code == 401
    assert "cancelled" in denied.text


async def test_the_code_needs_the_browsers_verifier_and_works_once(metrics: ServiceClient) -> None:
    begun, callback = await to_the_provider_and_back(metrics)
    flow = begun.cookies[FLOW_COOKIE]
    from steadfast_metrics.dashboard.oidc import Flow

    held = Flow.decode(flow)
    assert held is not None
    other_verifier = Flow(held.state, "x" * 64, held.next, held.started).encode()
    stolen = await metrics.http.get(callback, cookies={FLOW_COOKIE: other_verifier})
    assert stolen.status_code == 401  # the provider refused: the S256 challenge was not this verifier's
    assert "PKCE" in stolen.text or "exchange" in stolen.text
    begun, callback = await to_the_provider_and_back(metrics)
    flow = begun.cookies[FLOW_COOKIE]
    assert (await metrics.http.get(callback, cookies={FLOW_COOKIE: flow})).status_code == 303
    again = await metrics.http.get(callback, cookies={FLOW_COOKIE: flow})
    assert again.status_code == 401


async def test_an_account_without_the_dashboards_scope_is_refused(
    metrics: ServiceClient, provider: IdentityProvider
) -> None:
    provider.user_scopes = "staff:read"
    begun, callback = await to_the_provider_and_back(metrics)
    refused = await metrics.http.get(callback, cookies={FLOW_COOKIE: begun.cookies[FLOW_COOKIE]})
    assert refused.status_code == 403
    assert "metrics:read" in refused.text
