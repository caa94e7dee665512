from typing import Literal

from pydantic import Field, SecretStr

from steadfast_shared.service import Runtime
from steadfast_shared.settings import ServiceSettings, service_config


class MetricsSettings(ServiceSettings):
    """The metrics service's settings: every field is ``METRICS_<FIELD>`` in the environment."""

    model_config = service_config("METRICS_")

    database_url: str = "sqlite+aiosqlite:///var/data/metrics.db"
    #: The topics the projections are built from.
    staff_topic: str = "steadfast.staff"
    caseload_topic: str = "steadfast.caseload"
    audit_topic: str = "steadfast.audit"
    #: The council whose strategy document applies (one document per council, versioned).
    council: str = Field(default="slough", min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    #: Days between scheduled KPI snapshots (weekly by default, the Worcestershire rhythm); 0 turns the
    #: schedule off (snapshots are then taken on demand only).
    snapshot_interval_days: int = Field(default=7, ge=0)
    #: How often the snapshot schedule checks whether a snapshot is due.
    snapshot_check_seconds: float = Field(default=300, gt=0)
    #: How many of the latest snapshots the forecast's trend is fitted to.
    forecast_points: int = Field(default=8, ge=2)
    #: While events keep arriving, a computed answer is reused for up to this many seconds (every answer
    #: says when it was computed); with no new event it is reused until one arrives.
    kpi_cache_seconds: float = Field(default=2.0, ge=0)
    #: The records are the generated demo council's (``make run`` loads it into an empty ``var/``): the
    #: dashboard says so on every page. Never set in production.
    demo_council: bool = False
    #: The dashboard's sign-in through the council's identity provider (OpenID Connect, authorisation
    #: code with PKCE): its issuer URL (discovery at ``<issuer>/.well-known/openid-configuration``).
    #: Unset: the dashboard takes pasted tokens only. The token it keeps is verified as the API's are
    #: (``jwt_jwks_url``, ``jwt_issuer``, ``jwt_audience``), so it must carry the API's scopes.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    #: A confidential client's secret; unset for a public client (PKCE alone).
    oidc_client_secret: SecretStr | None = None
    #: What to ask the identity provider for: ``openid`` and the scopes the dashboard needs.
    oidc_scopes: str = "openid metrics:read"
    #: Where the identity provider sends the browser back; default ``<the dashboard>/sign-in/callback``.
    oidc_redirect_url: str | None = None
    #: The token of the provider's answer that becomes the dashboard's session (the one with the scopes).
    oidc_session_token: Literal["access_token", "id_token"] = "access_token"


def metrics_settings(runtime: Runtime) -> MetricsSettings:
    """The running service's settings, typed (every metrics component reads its own fields from them)."""
    settings = runtime.settings
    if not isinstance(settings, MetricsSettings):
        raise TypeError(f"the metrics service needs MetricsSettings, not {type(settings).__name__}")
    return settings
