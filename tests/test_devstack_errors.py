"""./dev stops with a message that names the fix, not a traceback."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from devstack import kafka, postgres
from devstack.config import StackConfig
from devstack.processes import StackError, require_free_port


def test_a_taken_port_names_the_port_the_component_and_the_variable_to_change():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(StackError) as error:
            require_free_port(port, "Kafka", "WSE_KAFKA_PORT")
    assert f"Port {port} (Kafka) is taken" in str(error.value)
    assert "WSE_KAFKA_PORT=<port>" in str(error.value)


def test_missing_postgresql_binaries_name_the_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PG_BIN", str(tmp_path / "nowhere"))
    config = dataclasses.replace(StackConfig.test(), state_dir=tmp_path, postgres_port=0)
    with pytest.raises(StackError, match="apt-get install -y postgresql"):
        postgres.start(config)


def test_missing_java_names_the_package_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(StackError, match="apt-get install -y openjdk-17-jre-headless"):
        kafka.check_java()


def test_missing_maven_names_the_package_when_the_jars_are_not_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "/nonexistent")
    config = dataclasses.replace(StackConfig.test(), jars_dir=tmp_path / "jars")
    with pytest.raises(StackError, match="apt-get install -y maven"):
        kafka.ensure_jars(config)
