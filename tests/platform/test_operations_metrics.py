"""The metrics the alert rules (deploy/prometheus/alerts.yml) read, moving: consumer lag per
partition, dead letters counted from zero, the oldest unpublished outbox row's age, readiness."""

from __future__ import annotations

import re

import httpx
import pytest
from aiokafka import TopicPartition
from prometheus_client import REGISTRY

from service_runtime.consumer import Consumer, ConsumerRunner, RetryPolicy
from service_runtime.db import create_pool
from service_runtime.migrations import apply_migrations, discover
from service_runtime.outbox import OutboxRelay, _producer
from tests.platform.helpers import Probe, connect, eventually, new_database, new_topic, unique


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def scraped(metrics: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))  # the exposition sorts labels
    match = re.search(rf"^{re.escape(name)}\{{{re.escape(wanted)}\}} (\S+)$", metrics, re.MULTILINE)
    return float(match.group(1)) if match else None


class FakeKafkaConsumer:
    def __init__(self, highwaters: dict[TopicPartition, int]) -> None:
        self.highwaters = highwaters

    def assignment(self) -> set[TopicPartition]:
        return set(self.highwaters)

    def highwater(self, partition: TopicPartition) -> int | None:
        return self.highwaters.get(partition)


def test_consumer_lag_is_the_highwater_minus_what_was_handled_per_assigned_partition():
    runner = ConsumerRunner(consumer=Consumer(name=unique("lag"), topics=["t"]), service="ops", pool=None, retry=RetryPolicy())  # type: ignore[arg-type]
    group = runner.group_id
    p0, p1 = TopicPartition("t", 0), TopicPartition("t", 1)
    kafka = FakeKafkaConsumer({p0: 100, p1: 10})
    runner._observe_lag(kafka, {p0: 40, p1: 10})
    assert sample("consumer_lag", consumer=group, topic="t", partition="0") == 60
    assert sample("consumer_lag", consumer=group, topic="t", partition="1") == 0
    kafka.highwaters[p0] = 130  # more records arrive while a batch is stuck (rolled back): the lag grows
    runner._observe_lag(kafka, {})
    assert sample("consumer_lag", consumer=group, topic="t", partition="0") == 90
    runner._observe_lag(kafka, {p0: 130})
    assert sample("consumer_lag", consumer=group, topic="t", partition="0") == 0
    del kafka.highwaters[p1]  # a rebalance gave partition 1 to another replica: it reports it now
    runner._observe_lag(kafka, {p0: 130})
    assert sample("consumer_lag", consumer=group, topic="t", partition="1") is None
    # Dead letters are exported at 0 from the start, so the first one is an increase Prometheus sees.
    assert sample("consumer_events_total", consumer=group, outcome="dead_lettered") == 0


@pytest.mark.slow
async def test_a_dead_letter_moves_the_counter_and_the_lag_is_exported_per_partition(stack, tmp_path):
    topic = await new_topic(stack)
    producer = Probe(stack, database_url=await new_database(stack, "producer"), topic=topic, roles="producer", log_dir=tmp_path, name="producer")
    consumer = Probe(stack, database_url=await new_database(stack, "consumer"), topic=topic, roles="consumer", log_dir=tmp_path, name="consumer")
    try:
        producer.start()
        consumer.start()
        metrics = httpx.get(consumer.url + "/metrics").text
        assert scraped(metrics, "consumer_events_total", consumer="probe.effects", outcome="dead_lettered") == 0
        producer.post_events("org-ops", poison=True)
        producer.post_events("org-ops", first_seq=1, count=3)

        async def dead_lettered() -> bool:
            return scraped(httpx.get(consumer.url + "/metrics").text, "consumer_events_total", consumer="probe.effects", outcome="dead_lettered") == 1

        await eventually(dead_lettered, what="consumer_events_total{outcome=dead_lettered} at 1")
        metrics = httpx.get(consumer.url + "/metrics").text
        lags = re.findall(rf'^consumer_lag\{{consumer="probe.effects",partition="\d+",topic="{re.escape(topic)}"\}} (\S+)$', metrics, re.MULTILINE)
        assert lags and all(float(lag) == 0 for lag in lags), metrics  # all handled: nothing behind

        # A ready replica says so (the readiness check sets the gauges it exports).
        assert httpx.get(consumer.url + "/health/ready").status_code == 200
        metrics = httpx.get(consumer.url + "/metrics").text
        assert scraped(metrics, "service_ready", service="probe") == 1
        assert scraped(metrics, "service_ready_check", service="probe", check="kafka") == 1

        # The outbox's oldest pending row: 0 once everything is published.
        producer_metrics = httpx.get(producer.url + "/metrics").text
        assert scraped(producer_metrics, "outbox_oldest_pending_age_seconds", service="probe") == 0
    finally:
        producer.terminate()
        consumer.terminate()


class RefusingProducer:
    async def send(self, *_args, **_kwargs):
        raise ConnectionError("Kafka refuses")


@pytest.mark.slow
async def test_the_oldest_unpublished_outbox_row_age_grows_while_kafka_refuses_and_drops_to_zero_once_published(stack):
    url = await new_database(stack, "outbox_age")
    connection = await connect(url)
    try:
        await apply_migrations(connection, discover("runtime", "service_runtime.sql"))
        await connection.execute(
            "INSERT INTO outbox (topic, key, value, headers, event_id, event_type, created_at) "
            "VALUES ($1, NULL, '{}'::bytea, '[]'::jsonb, 'e-1', 't', now() - interval '5 minutes')",
            await new_topic(stack, partitions=1),
        )
    finally:
        await connection.close()
    service = unique("ops")
    pool = await create_pool(url, service=service, min_size=1, max_size=2)
    relay = OutboxRelay(pool=pool, database_url=url, bootstrap_servers=stack.kafka_bootstrap, service=service)
    try:
        assert sample("outbox_oldest_pending_age_seconds", service=service) == 0
        with pytest.raises(ConnectionError):
            await relay._relay_batch(RefusingProducer())  # type: ignore[arg-type]
        age = sample("outbox_oldest_pending_age_seconds", service=service)
        assert age is not None and 299 <= age < 360
        producer = _producer(stack.kafka_bootstrap, "ops-test")
        await producer.start()
        try:
            assert await relay._relay_batch(producer) == 1
        finally:
            await producer.stop()
        assert sample("outbox_oldest_pending_age_seconds", service=service) == 0
    finally:
        await pool.close()


async def test_readiness_sets_the_service_ready_gauges(stack):
    from tests.platform.probe.service import service

    settings = service.load_settings(database_url=await new_database(stack, "ready"), kafka_bootstrap_servers="127.0.0.1:1")
    runtime = service.runtime(settings)
    # Not started: no database pool, and no broker at that address.
    assert await runtime.readiness() == {"database": False, "kafka": False}
    assert sample("service_ready", service="probe") == 0
    assert sample("service_ready_check", service="probe", check="kafka") == 0
    runtime.pool = await create_pool(settings.database_url, service="probe", min_size=1, max_size=1)
    try:
        checks = await runtime.readiness()
        assert checks["database"] is True
        assert sample("service_ready_check", service="probe", check="database") == 1
        assert sample("service_ready", service="probe") == 0  # Kafka still missing
    finally:
        await runtime.pool.close()
