from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "acceptance", "production"]


class ServiceSettings(BaseSettings):
    """Settings every service shares, read from the environment.

    Each service reads them with its own prefix (IDENTITY_DATABASE_URL, REGISTRATION_HTTP_PORT,
    ...), and falls back to the unprefixed name for what the whole platform shares
    (KAFKA_BOOTSTRAP_SERVERS, IDENTITY_JWKS_URL), so one replica can be configured alone.
    """

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    # Unset: the service's own database and role on the local PostgreSQL (postgresql://<name>:<name>@127.0.0.1:5433/<name>).
    database_url: str = ""
    database_pool_min: int = 2
    database_pool_max: int = 10
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # A topic the service finds missing at start is created with this many replicas. On a cluster
    # the topics are declared first (Strimzi KafkaTopics, replication 3), but a service started
    # before the topic operator made them must not create them with one replica: a cluster's
    # configuration says 3 (deploy/kubernetes), one broker (./dev, docker-compose) keeps 1.
    kafka_topic_replication_factor: int = Field(default=1, ge=1)
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    migrate_on_start: bool = True

    # Where platform tokens' signing keys are published (the identity service).
    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    token_issuer: str = "wse-identity"
    token_audience: str = "wse-platform"
    jwks_cache_seconds: int = 300
    # An unknown key id refetches the keys (identity rotated them), at most this often.
    jwks_min_refresh_seconds: float = 10.0

    request_max_body_bytes: int = Field(default=1_000_000, description="Larger request bodies get a 413.")

    # Consumers: bounded retries with exponential backoff, then the dead-letter topic.
    consumer_max_attempts: int = 5
    consumer_backoff_initial_seconds: float = 0.2
    consumer_backoff_max_seconds: float = 5.0
    consumer_max_batch: int = 500
    # Two environments sharing one Kafka cluster keep their consumer groups apart with a prefix
    # ("acceptance."): without one they would split each other's partitions.
    consumer_group_prefix: str = ""
    consumer_batch_timeout_ms: int = 10
    # How fast the group notices a replica that died without leaving (SIGKILL, a node lost): the
    # coordinator expels a member it has not heard from for the session timeout, then the others
    # take its partitions. aiokafka's defaults (10 s, heartbeat every 3 s) make that 10-13 s; 6 s
    # with a heartbeat every 1.5 s keeps it under 10 s. A heartbeat runs in its own task, so a
    # long batch does not count against it (that is max_poll_interval_ms, 5 minutes).
    consumer_session_timeout_ms: int = 6_000
    consumer_heartbeat_interval_ms: int = 1_500

    outbox_batch_size: int = 1000
    outbox_poll_seconds: float = 0.5
    # Housekeeping (hourly): published outbox rows are kept this long for inspection; inbox rows
    # this long, far beyond any redelivery, so a replayed old event is still recognised.
    outbox_retention_hours: int = 72
    inbox_retention_days: int = 30

    # Traces (service_runtime.tracing): off unless an OTLP/HTTP endpoint is set, by the standard
    # OpenTelemetry variables (OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318).
    otel_exporter_otlp_endpoint: str = ""
    otel_exporter_otlp_traces_endpoint: str = ""

    scheduler_poll_seconds: float = 1.0
    graceful_shutdown_seconds: float = 15.0

    # Where this runs. Anything that could mislead in production (an adjustable clock) is refused
    # there; unset counts as production, so forgetting it never opens anything.
    platform_environment: Environment = "production"
    # Acceptance testers move the clock of every running service together (`./dev clock advance
    # 40d`); off unless set, and refused when the environment is production.
    adjustable_clock: bool = False

    # National register numbers at rest (service_runtime.pii): AES-256 keys by id, "k1:<base64 of
    # 32 bytes>,k2:<...>", the one new values are encrypted under, and the HMAC keys (base64) of
    # the blind index and of the pseudonymous student id in events (the pseudonym key is shared by
    # every service that must agree on a student: set the platform-wide PII_PSEUDONYM_KEY). Unset
    # in development or test: fixed development keys; elsewhere PiiKeys.from_settings refuses, so
    # a service that keeps numbers and builds its keys at start does not start without them.
    pii_keys: str = Field(default="", repr=False)
    pii_active_key: str = ""
    pii_index_key: str = Field(default="", repr=False)
    pii_pseudonym_key: str = Field(default="", repr=False)

    @model_validator(mode="after")
    def _defaults_and_safety(self) -> ServiceSettings:
        if not self.database_url:
            name = self.service_name
            self.database_url = f"postgresql://{name}:{name}@127.0.0.1:5433/{name}"
        if self.adjustable_clock and self.platform_environment == "production":
            raise ValueError(
                "ADJUSTABLE_CLOCK is refused in production (PLATFORM_ENVIRONMENT=production, the default): "
                "set PLATFORM_ENVIRONMENT=development, test or acceptance where testers may move the clock"
            )
        return self


def load_settings(service_name: str, settings_class: type[ServiceSettings] = ServiceSettings, **overrides: object) -> ServiceSettings:
    """Settings for one service: `<SERVICE>_X` wins over the shared `X`."""
    import os

    prefix = service_name.upper() + "_"
    values: dict[str, object] = {}
    for field in settings_class.model_fields:
        shared = os.environ.get(field.upper())
        own = os.environ.get(prefix + field.upper())
        if own is not None:
            values[field] = own
        elif shared is not None:
            values[field] = shared
    values["service_name"] = service_name
    values.update(overrides)
    return settings_class.model_validate(values)
