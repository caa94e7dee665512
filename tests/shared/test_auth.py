"""Bearer tokens: minted locally, verified with the service's settings, scopes from scope or scp."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from pydantic import SecretStr

from steadfast_shared.auth import ALL_SCOPES, TokenVerifier, mint_local_token
from steadfast_shared.db.types import utcnow
from steadfast_shared.errors import Forbidden, Unauthorized
from steadfast_shared.settings import Environment, ServiceSettings

SECRET = "a-test-secret-that-is-long-enough-for-hs256"


@pytest.fixture
def settings() -> ServiceSettings:
    return ServiceSettings(environment=Environment.test, jwt_secret=SecretStr(SECRET))


def claims(**extra: Any) -> dict[str, Any]:
    now = int(utcnow().timestamp())
    return {"sub": "hr-system", "iat": now, "exp": now + 300, **extra}


def reason(error: Unauthorized) -> str:
    return str(error.errors[0]["reason"])


async def test_a_minted_token_verifies_with_its_subject_and_scopes(settings: ServiceSettings) -> None:
    token = mint_local_token(SECRET, scopes=["staff:read", "staff:write"], subject="hr-system")

    principal = await TokenVerifier(settings).verify(token)

    assert principal.subject == "hr-system"
    assert principal.scopes == {"staff:read", "staff:write"}
    principal.require("staff:write")


async def test_the_default_token_has_every_scope(settings: ServiceSettings) -> None:
    principal = await TokenVerifier(settings).verify(mint_local_token(SECRET))

    assert principal.scopes == set(ALL_SCOPES)


async def test_a_missing_scope_is_forbidden(settings: ServiceSettings) -> None:
    principal = await TokenVerifier(settings).verify(mint_local_token(SECRET, scopes=["staff:read"]))

    with pytest.raises(Forbidden) as raised:
        principal.require("staff:write")
    assert raised.value.status == 403
    assert raised.value.errors[0]["required"] == "staff:write"


async def test_an_expired_token_is_refused(settings: ServiceSettings) -> None:
    token = mint_local_token(SECRET, ttl=timedelta(minutes=-5))

    with pytest.raises(Unauthorized) as raised:
        await TokenVerifier(settings).verify(token)
    assert raised.value.status == 401
    assert reason(raised.value) == "expired"


async def test_a_token_signed_with_another_key_is_refused(settings: ServiceSettings) -> None:
    token = mint_local_token("another-secret-that-is-long-enough-for-hs256")

    with pytest.raises(Unauthorized) as raised:
        await TokenVerifier(settings).verify(token)
    assert reason(raised.value) == "invalid_token"


async def test_a_tampered_token_is_refused(settings: ServiceSettings) -> None:
    header, _payload, signature = mint_local_token(SECRET, scopes=["staff:read"]).split(".")
    forged_claims = json.dumps(claims(scope=" ".join(ALL_SCOPES))).encode()
    forged_payload = base64.urlsafe_b64encode(forged_claims).rstrip(b"=").decode()

    with pytest.raises(Unauthorized):
        await TokenVerifier(settings).verify(f"{header}.{forged_payload}.{signature}")


async def test_an_unsigned_token_is_refused(settings: ServiceSettings) -> None:
    token = jwt.encode(claims(scope="staff:write"), key=None, algorithm="none")  # type: ignore[arg-type]

    with pytest.raises(Unauthorized):
        await TokenVerifier(settings).verify(token)


async def test_a_token_without_a_subject_is_refused(settings: ServiceSettings) -> None:
    body = claims()
    del body["sub"]

    with pytest.raises(Unauthorized):
        await TokenVerifier(settings).verify(jwt.encode(body, SECRET, algorithm="HS256"))


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ({"scope": "audit:read audit:write"}, {"audit:read", "audit:write"}),
        ({"scp": ["audit:read", "metrics:read"]}, {"audit:read", "metrics:read"}),
        ({"scp": "metrics:read strategy:write"}, {"metrics:read", "strategy:write"}),
        ({"scope": "staff:read", "scp": ["ignored:scope"]}, {"staff:read"}),
        ({}, set()),
        ({"scope": 42}, set()),
    ],
)
async def test_scopes_come_from_scope_or_scp(
    settings: ServiceSettings, claim: dict[str, Any], expected: set[str]
) -> None:
    token = jwt.encode(claims(**claim), SECRET, algorithm="HS256")

    principal = await TokenVerifier(settings).verify(token)

    assert principal.scopes == expected


async def test_issuer_and_audience_are_checked_when_configured() -> None:
    settings = ServiceSettings(
        environment=Environment.test,
        jwt_secret=SecretStr(SECRET),
        jwt_issuer="https://login.council.example/",
        jwt_audience="steadfast",
    )
    verifier = TokenVerifier(settings)
    good = mint_local_token(SECRET, issuer="https://login.council.example/", audience="steadfast")

    assert (await verifier.verify(good)).subject == "local-admin"
    for bad in (
        mint_local_token(SECRET),
        mint_local_token(SECRET, issuer="https://elsewhere.example/", audience="steadfast"),
        mint_local_token(SECRET, issuer="https://login.council.example/", audience="other"),
    ):
        with pytest.raises(Unauthorized):
            await verifier.verify(bad)


async def test_the_verifier_uses_the_secret_file(tmp_path: Any) -> None:
    key_file = tmp_path / "jwt.key"
    key_file.write_text("generated-local-key-generated-local-key")
    settings = ServiceSettings(environment=Environment.test, jwt_secret_file=key_file)

    principal = await TokenVerifier(settings).verify(
        mint_local_token("generated-local-key-generated-local-key", scopes=["ops:admin"])
    )

    assert principal.scopes == {"ops:admin"}
