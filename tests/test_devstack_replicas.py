"""`./dev up --replicas`: what it accepts, and where each replica listens (no stack needed)."""

from __future__ import annotations

import os

import pytest

from devstack.__main__ import main
from devstack.config import MAX_REPLICAS, SERVICES, StackConfig, parse_replicas, replica_name


def test_replicas_are_named_per_service_and_counted():
    assert parse_replicas("registration=3,notification=2") == {"registration": 3, "notification": 2}
    assert parse_replicas(" notification = 2 ,") == {"notification": 2}
    assert [replica_name("notification", n) for n in (1, 2, 3)] == ["notification", "notification-2", "notification-3"]


@pytest.mark.parametrize("text", ["mailer=2", "notification", "notification=0", f"notification={MAX_REPLICAS + 1}", "notification=two"])
def test_a_wrong_replica_count_is_refused_with_what_is_wrong(text):
    with pytest.raises(ValueError, match="notification|mailer"):
        parse_replicas(text)


def test_dev_up_refuses_an_unknown_service_before_starting_anything(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["up", "--replicas", "mailer=2"])
    assert exit_.value.code == 2
    assert "'mailer' is not a service" in capsys.readouterr().err


@pytest.mark.parametrize("stack", [StackConfig.dev, StackConfig.test, StackConfig.browser, StackConfig.bench])
def test_every_replica_of_every_service_has_a_port_of_its_own(stack):
    config = stack()
    others = {config.kafka_port, config.kafka_controller_port, config.postgres_port, config.smtp_port, config.smtp_http_port, config.portal_port}
    ports = [config.replica_port(s, n) for s in SERVICES for n in range(1, MAX_REPLICAS + 1)]
    assert len(set(ports)) == len(ports)
    assert not others & set(ports)
    assert all(config.replica_env(s, 1)[f"{s.upper()}_HTTP_PORT"] == str(config.service_ports[s]) for s in SERVICES)
    with pytest.raises(ValueError):
        config.replica_port("notification", MAX_REPLICAS + 1)


@pytest.mark.parametrize("stack", [StackConfig.dev, StackConfig.test, StackConfig.browser, StackConfig.bench])
def test_no_stack_listens_in_the_ephemeral_port_range_or_on_another_stacks_port(stack, monkeypatch):
    # A listening port inside the range the kernel hands out to outgoing connections can be taken
    # for a moment by any client's local end, and the stack then fails to start.
    for variable in [v for v in os.environ if v.startswith("WSE_")]:
        monkeypatch.delenv(variable)
    low, high = 32768, 60999  # Linux's default net.ipv4.ip_local_port_range
    config = stack()
    ports = _ports(config)
    assert not [p for p in ports if low <= p <= high], f"{config.name}: ports in the ephemeral range"
    for other in (StackConfig.dev(), StackConfig.test(), StackConfig.browser(), StackConfig.bench()):
        if other.name != config.name:
            assert not ports & _ports(other), f"{config.name} and {other.name} share ports"


def _ports(config: StackConfig) -> set[int]:
    fixed = {
        config.kafka_port,
        config.kafka_controller_port,
        config.postgres_port,
        config.smtp_port,
        config.smtp_http_port,
        config.portal_port,
        config.portal_metrics_port,
    }
    return fixed | {config.replica_port(s, n) for s in SERVICES for n in range(1, MAX_REPLICAS + 1)}
