"""A single-node Kafka 4 broker in KRaft mode, from the jars on Maven Central (no .tgz, no Docker)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

from devstack import processes
from devstack.config import REPO_ROOT, StackConfig
from devstack.processes import StackError

NAME = "kafka"
POM = REPO_ROOT / "deploy" / "kafka" / "pom.xml"


def check_java() -> None:
    java = shutil.which("java")
    if not java:
        raise StackError("Java 17 or newer is needed to run Kafka. Install it: apt-get install -y openjdk-17-jre-headless")
    output = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', output)
    if match and int(match.group(1)) < 17:
        raise StackError(f"Kafka 4 needs Java 17 or newer, found {match.group(1)}. Install it: apt-get install -y openjdk-17-jre-headless")


def ensure_jars(config: StackConfig) -> None:
    """Copy the broker's jars from Maven Central once; later runs reuse the cache."""
    if config.jars_dir.is_dir() and any(config.jars_dir.glob("kafka_2.13-*.jar")):
        return
    mvn = shutil.which("mvn")
    if not mvn:
        raise StackError("Maven is needed once, to fetch Kafka's jars from Maven Central. Install it: apt-get install -y maven")
    print(f"Fetching Kafka's jars from Maven Central into {config.jars_dir} (once) ...", flush=True)
    partial = config.jars_dir.with_name(config.jars_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    result = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-f",
            str(POM),
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
            f"-DoutputDirectory={partial}",
            "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise StackError(f"Maven could not fetch Kafka's jars:\n{(result.stdout + result.stderr)[-3000:]}")
    shutil.rmtree(config.jars_dir, ignore_errors=True)
    partial.rename(config.jars_dir)


def _write_config(config: StackConfig) -> None:
    home = config.state_dir / "kafka"
    (home / "data").mkdir(parents=True, exist_ok=True)
    (home / "server.properties").write_text(
        f"""# Written by ./dev: a single node that is broker and controller (KRaft).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{config.kafka_controller_port}
listeners=PLAINTEXT://127.0.0.1:{config.kafka_port},CONTROLLER://127.0.0.1:{config.kafka_controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{config.kafka_port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={home / "data"}
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.cleaner.dedupe.buffer.size=33554432
group.coordinator.append.linger.ms=0
"""
    )
    (home / "log4j2.properties").write_text(
        """status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
"""
    )


def _classpath(config: StackConfig) -> str:
    return f"{config.jars_dir}/*"


def start(config: StackConfig, *, timeout: float = 90.0) -> None:
    if processes.running_pid(config, NAME):
        return
    check_java()
    ensure_jars(config)
    processes.require_free_port(config.kafka_port, "Kafka", config.port_variable("KAFKA"))
    processes.require_free_port(config.kafka_controller_port, "Kafka controller", config.port_variable("KAFKA_CONTROLLER"))
    _write_config(config)
    home = config.state_dir / "kafka"
    properties = home / "server.properties"
    if not (home / "data" / "meta.properties").exists():
        cluster_id = subprocess.run(
            ["java", "-cp", _classpath(config), "kafka.tools.StorageTool", "random-uuid"], capture_output=True, text=True, check=True
        ).stdout.strip()
        formatted = subprocess.run(
            [
                "java",
                f"-Dlog4j2.configurationFile={home / 'log4j2.properties'}",
                "-cp",
                _classpath(config),
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(properties),
            ],
            capture_output=True,
            text=True,
        )
        if formatted.returncode != 0:
            raise StackError(f"Kafka's storage could not be formatted:\n{formatted.stdout}{formatted.stderr}")
    log = processes.log_file(config, NAME)
    offset = log.stat().st_size if log.exists() else 0
    processes.start(
        config,
        NAME,
        [
            "java",
            "-Xms256m",
            "-Xmx512m",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={home / 'log4j2.properties'}",
            "-cp",
            _classpath(config),
            "kafka.Kafka",
            str(properties),
        ],
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(log, "rb") as handle:
            handle.seek(offset)
            if b"Kafka Server started" in handle.read():
                return
        if not processes.running_pid(config, NAME):
            break
        time.sleep(0.2)
    tail = processes.tail(log, 40)
    processes.stop(config, NAME, timeout=5)
    raise StackError(f"Kafka did not become ready within {timeout:.0f} s. The last lines of {log}:\n{tail}")


def stop(config: StackConfig) -> None:
    processes.stop(config, NAME, timeout=30)
