"""A council's identity provider for the dashboard's sign-in tests: an OpenID Connect provider on a real
port (discovery, authorisation, token and JWKS endpoints) that issues RS256 access tokens only for a code
it issued, to the client and redirect it was issued for, with the PKCE verifier whose S256 challenge it
was sent, once. The service under test talks to it over HTTP as it would to the council's."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse

AUDIENCE = "steadfast"
CLIENT_ID = "steadfast-dashboard"


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str


@dataclass
class IdentityProvider:
    url: str = ""
    #: The scopes the signed-in user's tokens carry (a test may narrow them).
    user_scopes: str = "metrics:read"
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    grants: dict[str, Grant] = field(default_factory=dict)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "code_challenge_methods_supported": ["S256"],
                "response_types_supported": ["code"],
            }

        @app.get("/jwks")
        async def jwks() -> dict[str, Any]:
            public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            return {"keys": [{**public, "kid": "council-1", "use": "sig", "alg": "RS256"}]}

        @app.get("/authorize")
        async def authorize(request: Request) -> RedirectResponse:
            q = request.query_params
            if q.get("response_type") != "code" or q.get("client_id") != CLIENT_ID:
                raise HTTPException(400, "unknown client or response type")
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                raise HTTPException(400, "PKCE with S256 is required")
            code = secrets.token_urlsafe(24)
            self.grants[code] = Grant(CLIENT_ID, q["redirect_uri"], q["code_challenge"], q.get("scope", ""))
            return RedirectResponse(
                f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302
            )

        @app.post("/token")
        async def token(request: Request) -> JSONResponse:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            grant_type, code = form.get("grant_type"), form.get("code", "")
            redirect_uri, code_verifier = form.get("redirect_uri"), form.get("code_verifier", "")
            client_id = form.get("client_id")
            grant = self.grants.pop(code, None)  # a code works once
            if grant_type != "authorization_code" or grant is None:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).decode().rstrip("=")
            )
            if (
                client_id != grant.client_id
                or redirect_uri != grant.redirect_uri
                or challenge != grant.challenge
            ):
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE check failed"}, 400)
            now = int(time.time())
            claims = {
                "iss": self.url,
                "aud": AUDIENCE,
                "sub": "priya.shah@council.example",
                "scope": self.user_scopes,
                "iat": now,
                "exp": now + 3600,
            }
            access = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "council-1"})
            return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": 3600})

        return app


@contextmanager
def running_identity_provider() -> Iterator[IdentityProvider]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = IdentityProvider(url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise AssertionError("the identity provider did not start")
        time.sleep(0.02)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(10)
