"""The portal's settings, read from the environment with the prefix PORTAL_ (PORTAL_HTTP_PORT ...)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Its own database holds only the sessions (replicas share them); no service's database.
    database_url: str = "postgresql://portal:portal@127.0.0.1:5433/portal"
    database_pool_max: int = 10
    environment: Literal["development", "test", "acceptance", "production"] = "development"
    log_level: str = "INFO"
    log_json: bool = True

    # The services' public APIs, as any external portal calls them.
    identity_url: str = "http://127.0.0.1:8001"
    registration_url: str = "http://127.0.0.1:8002"
    recognition_url: str = "http://127.0.0.1:8003"
    attestation_url: str = "http://127.0.0.1:8004"
    notification_url: str = "http://127.0.0.1:8005"
    api_timeout_seconds: float = 15.0
    # Prometheus metrics (HTTP requests by route template and status, as the services count them)
    # on a port of their own, which the Ingress does not route: 0 serves none.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # Traces (service_runtime.tracing), off unless an OTLP/HTTP endpoint is set: the standard
    # OpenTelemetry variables, as the services read them (PORTAL_OTEL_... for the portal alone).
    otel_exporter_otlp_endpoint: str = Field(default="", validation_alias=AliasChoices("PORTAL_OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"))
    otel_exporter_otlp_traces_endpoint: str = Field(
        default="", validation_alias=AliasChoices("PORTAL_OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )

    # A session ends after this long without a request, and at the latest after `session_max_hours`.
    session_idle_minutes: int = Field(default=60, ge=1)
    session_max_hours: int = Field(default=12, ge=1)
    # The development identity provider's page to choose a test person (identity's /v1/dev-idp);
    # off in production, where sign-in goes to the configured OpenID Connect provider.
    development_sign_in: bool = True
    # The test persons the development sign-in page lists ([{"name", "national_register_number"}]);
    # `./dev up` sets the demo people (devstack.demo).
    test_persons: list[dict[str, str]] = [{"name": "Hanne Helpdesk: helpdesk van het departement", "national_register_number": "85073003328"}]
    # Sign-in with a digital key: the OpenID Connect provider (authorization code flow with PKCE);
    # its ID token is the proof identity exchanges for a platform token (identity checks it with
    # IDENTITY_IDENTITY_PROVIDER_JWKS_URL). Unset: only the development sign-in, where allowed.
    oidc_authorization_endpoint: str | None = None
    oidc_token_endpoint: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_redirect_uri: str | None = None  # https://<portal>/aanmelden/terug
    oidc_scope: str = "openid profile"
    # Cookies are `Secure` everywhere but on local development over plain http.
    secure_cookies: bool | None = None
    max_upload_bytes: int = 200_000_000

    @property
    def oidc_configured(self) -> bool:
        return bool(self.oidc_authorization_endpoint and self.oidc_token_endpoint and self.oidc_client_id and self.oidc_redirect_uri)

    @property
    def cookies_secure(self) -> bool:
        return self.secure_cookies if self.secure_cookies is not None else self.environment not in ("development", "test")

    def service_url(self, service: str) -> str:
        url: str = getattr(self, f"{service}_url")
        return url.rstrip("/")
