"""Production auth: RS256 tokens verified against a JWKS endpoint, with ``iss`` and ``aud`` required.

The JWKS is served over real HTTP on this machine, as an identity provider would serve it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from steadfast_shared.auth import TokenVerifier, mint_local_token
from steadfast_shared.db.types import utcnow
from steadfast_shared.errors import Unauthorized
from steadfast_shared.settings import Environment, ServiceSettings

ISSUER = "https://login.council.example/"
AUDIENCE = "steadfast"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(signing_key: rsa.RSAPrivateKey) -> Iterator[str]:
    public = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "council-2026", "use": "sig", "alg": "RS256"}]}).encode()

    class JWKS(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), JWKS)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def rs256(key: rsa.RSAPrivateKey, **overrides: Any) -> str:
    now = int(utcnow().timestamp())
    claims = {
        "sub": "hr-system",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "scope": "staff:write",
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "council-2026"})


@pytest.fixture
def verifier(jwks_url: str) -> TokenVerifier:
    settings = ServiceSettings(
        environment=Environment.production,
        database_url="postgresql+asyncpg://steadfast@db/staff",
        jwt_jwks_url=jwks_url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )
    return TokenVerifier(settings)


async def test_an_rs256_token_from_the_identity_provider_is_accepted(
    verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    principal = await verifier.verify(rs256(signing_key))
    assert principal.subject == "hr-system"
    assert principal.scopes == {"staff:write"}


@pytest.mark.parametrize(
    "overrides",
    [{"iss": "https://elsewhere.example/"}, {"aud": "another-app"}, {"exp": 1}],
    ids=["wrong issuer", "wrong audience", "expired"],
)
async def test_wrong_issuer_audience_or_expiry_is_refused(
    verifier: TokenVerifier, signing_key: rsa.RSAPrivateKey, overrides: dict[str, Any]
) -> None:
    with pytest.raises(Unauthorized):
        await verifier.verify(rs256(signing_key, **overrides))


async def test_a_token_signed_by_another_key_is_refused(verifier: TokenVerifier) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized):
        await verifier.verify(rs256(stranger))


async def test_an_hs256_token_is_refused_when_jwks_is_configured(verifier: TokenVerifier) -> None:
    forged = mint_local_token("anything-at-all-anything-at-all-anything", issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(Unauthorized):
        await verifier.verify(forged)
