"""JWT bearer tokens with scopes (SPEC section 6).

The embedded default signs HS256 with a key generated on first start (``var/secrets/jwt.key``);
production verifies RS256 against a JWKS endpoint and checks ``iss`` and ``aud``. Scopes are read from
the ``scope`` claim (space-separated, as OAuth 2 servers issue them) or the ``scp`` claim (a list).
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt

from steadfast_shared.db.types import utcnow
from steadfast_shared.errors import Forbidden, Unauthorized
from steadfast_shared.settings import ServiceSettings

#: Every scope the platform knows, ``<service>:<verb>`` (SPEC section 6), and ``access-log:read``, the
#: auditor's scope for every service's access log (see ``steadfast_shared.access``).
ALL_SCOPES: tuple[str, ...] = (
    "staff:read",
    "staff:write",
    "caseload:read",
    "caseload:write",
    "audit:read",
    "audit:write",
    "metrics:read",
    "strategy:write",
    "ops:admin",
    "access-log:read",
)

LOCAL_ISSUER = "steadfast-local"


@dataclass(frozen=True)
class Principal:
    """Who is calling, and what they may do."""

    subject: str
    scopes: frozenset[str]
    claims: dict[str, Any] = field(default_factory=dict)

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(
                f"this endpoint needs the scope {scope!r}",
                errors=[{"field": "scope", "reason": "missing_scope", "required": scope}],
            )


class TokenVerifier:
    """Verifies bearer tokens according to the service's settings."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._jwks: jwt.PyJWKClient | None = (
            jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, lifespan=300)
            if settings.jwt_jwks_url
            else None
        )
        self._secret = settings.signing_secret() if self._jwks is None else None

    async def verify(self, token: str) -> Principal:
        issuer = self._settings.jwt_issuer
        audience = self._settings.jwt_audience
        try:
            if self._jwks is not None:
                signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
                claims = jwt.decode(
                    token,
                    signing_key.key,
                    algorithms=["RS256"],
                    issuer=issuer,
                    audience=audience,
                    options={"require": ["exp", "sub", "iss", "aud"]},
                )
            else:
                assert self._secret is not None
                claims = jwt.decode(
                    token,
                    self._secret,
                    algorithms=["HS256"],
                    issuer=issuer,
                    audience=audience,
                    options={"require": ["exp", "sub"]},
                )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized(
                "the token has expired", errors=[{"field": "authorization", "reason": "expired"}]
            ) from exc
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
            raise Unauthorized(
                f"the token is not valid: {exc}",
                errors=[{"field": "authorization", "reason": "invalid_token"}],
            ) from exc
        return Principal(subject=str(claims["sub"]), scopes=_scopes(claims), claims=claims)


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    raw = claims.get("scope", claims.get("scp", []))
    if isinstance(raw, str):
        return frozenset(raw.split())
    if isinstance(raw, list):
        return frozenset(str(s) for s in raw)
    return frozenset()


def mint_local_token(
    secret: str,
    *,
    scopes: tuple[str, ...] | list[str] = ALL_SCOPES,
    subject: str = "local-admin",
    ttl: timedelta = timedelta(days=30),
    issuer: str | None = None,
    audience: str | None = None,
) -> str:
    """An HS256 token for local use and tests (``make token``)."""
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": subject,
        "scope": " ".join(scopes),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": str(uuid.uuid4()),
    }
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


def ensure_local_secret(path: Path) -> str:
    """Read the local HS256 key, generating it (readable by the owner only) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key)
    return key
