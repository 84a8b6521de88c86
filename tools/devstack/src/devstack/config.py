from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("identity", "registration", "recognition", "attestation", "notification")

REPO_ROOT = Path(__file__).resolve().parents[4]


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class StackConfig:
    """Where one stack lives and listens. `dev` is what `./dev up` runs; `test` is what
    `./dev test` runs, on other ports and in another folder, so the two never meet."""

    name: str
    state_dir: Path
    kafka_port: int
    kafka_controller_port: int
    postgres_port: int
    smtp_port: int
    smtp_http_port: int
    service_ports: dict[str, int] = field(default_factory=dict)
    jars_dir: Path = REPO_ROOT / ".cache" / "kafka-jars"

    @classmethod
    def dev(cls) -> "StackConfig":
        return cls(
            name="dev",
            state_dir=Path(os.environ.get("WSE_DEV_STATE_DIR", REPO_ROOT / ".run" / "dev")),
            kafka_port=_port("WSE_KAFKA_PORT", 9092),
            kafka_controller_port=_port("WSE_KAFKA_CONTROLLER_PORT", 9093),
            postgres_port=_port("WSE_POSTGRES_PORT", 5433),
            smtp_port=_port("WSE_SMTP_PORT", 1025),
            smtp_http_port=_port("WSE_SMTP_HTTP_PORT", 8025),
            service_ports={s: _port(f"WSE_{s.upper()}_PORT", 8001 + i) for i, s in enumerate(SERVICES)},
        )

    @classmethod
    def test(cls) -> "StackConfig":
        return cls(
            name="test",
            state_dir=Path(os.environ.get("WSE_TEST_STATE_DIR", REPO_ROOT / ".run" / "test")),
            kafka_port=_port("WSE_TEST_KAFKA_PORT", 19092),
            kafka_controller_port=_port("WSE_TEST_KAFKA_CONTROLLER_PORT", 19093),
            postgres_port=_port("WSE_TEST_POSTGRES_PORT", 15433),
            smtp_port=_port("WSE_TEST_SMTP_PORT", 11025),
            smtp_http_port=_port("WSE_TEST_SMTP_HTTP_PORT", 18025),
            service_ports={s: _port(f"WSE_TEST_{s.upper()}_PORT", 18001 + i) for i, s in enumerate(SERVICES)},
        )

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def pids_dir(self) -> Path:
        return self.state_dir / "pids"

    def admin_database_url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:postgres@127.0.0.1:{self.postgres_port}/{database}"

    def database_url(self, service: str) -> str:
        # One role and one database per service; passwords are for this local cluster only.
        return f"postgresql://{service}:{service}@127.0.0.1:{self.postgres_port}/{service}"

    def service_env(self, service: str) -> dict[str, str]:
        prefix = service.upper()
        return {
            f"{prefix}_DATABASE_URL": self.database_url(service),
            f"{prefix}_HTTP_PORT": str(self.service_ports[service]),
            f"{prefix}_HTTP_HOST": "127.0.0.1",
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "JWKS_URL": f"http://127.0.0.1:{self.service_ports['identity']}/.well-known/jwks.json",
            "NOTIFICATION_SMTP_HOST": "127.0.0.1",
            "NOTIFICATION_SMTP_PORT": str(self.smtp_port),
        }
