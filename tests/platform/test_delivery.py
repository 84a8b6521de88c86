"""The runtime's delivery guarantees, over the real broker and database: events written through
the outbox reach a consumer in another process, with their correlation id, and take effect once,
whatever process dies where."""

from __future__ import annotations

import json
import signal

import pytest

from devstack import kafka
from tests.platform.helpers import Probe, connect, eventually, new_database, new_topic, records_on_topic

pytestmark = pytest.mark.slow


@pytest.fixture
async def probes(stack, tmp_path):
    topic = await new_topic(stack)
    producer = Probe(stack, database_url=await new_database(stack, "producer"), topic=topic, roles="producer", log_dir=tmp_path, name="producer")
    consumer = Probe(stack, database_url=await new_database(stack, "consumer"), topic=topic, roles="consumer", log_dir=tmp_path, name="consumer")
    yield producer, consumer
    producer.terminate()
    consumer.terminate()


async def effects(probe: Probe) -> list[dict]:
    connection = await connect(probe.database_url)
    try:
        return [dict(r) for r in await connection.fetch("SELECT event_id, aggregate, seq, correlation_id FROM probe_effects ORDER BY id")]
    finally:
        await connection.close()


async def unpublished(probe: Probe) -> int:
    connection = await connect(probe.database_url)
    try:
        return await connection.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    finally:
        await connection.close()


async def test_event_reaches_consumer_in_another_process_with_its_correlation_id_once(probes):
    producer, consumer = probes
    producer.start()
    consumer.env["PROBE_LOG_LEVEL"] = "DEBUG"
    consumer.start()
    [event_id] = producer.post_events("org-1", correlation_id="portal-req-42")

    seen = await eventually(lambda: effects(consumer), what="the consumer's effect")
    assert seen == [{"event_id": event_id, "aggregate": "org-1", "seq": 0, "correlation_id": "portal-req-42"}]
    handled = [json.loads(line) for line in consumer.log_tail(400).splitlines() if '"event handled"' in line]
    assert [(h["correlation_id"], h["event_id"], h["outcome"]) for h in handled] == [("portal-req-42", event_id, "processed")]
    await eventually(lambda: _is_zero(unpublished(producer)), what="the outbox row marked published")
    # A second event behind it proves the consumer moved on, and the first was not applied again.
    producer.post_events("org-1", first_seq=1)
    await eventually(lambda: _has_len(effects(consumer), 2), what="the second effect")
    assert [e["seq"] for e in await effects(consumer)] == [0, 1]


async def test_relay_killed_after_commit_before_publish_delivers_after_restart(probes):
    producer, consumer = probes
    consumer.start()
    producer.start(failpoints="relay.before_publish")
    try:
        producer.post_events("org-2", count=3)
    except Exception:
        pass
    assert producer.wait_exit() == -9
    assert await unpublished(producer) == 3  # committed, not published

    producer.start()
    seen = await eventually(lambda: _has_len(effects(consumer), 3), what="three effects after the restart")
    assert [e["seq"] for e in seen] == [0, 1, 2]


async def test_relay_killed_after_publish_before_marking_takes_effect_once(probes, stack):
    producer, consumer = probes
    consumer.start()
    producer.start(failpoints="relay.after_publish")
    [event_id] = producer.post_events("org-3")
    assert producer.wait_exit() == -9
    assert await unpublished(producer) == 1  # published, but the relay died before marking it

    producer.start()
    await eventually(lambda: _is_zero(unpublished(producer)), what="the row marked after the restart")
    on_topic = [r for r in await records_on_topic(stack, producer.topic) if dict(r.headers).get("ce_id") == event_id.encode()]
    assert len(on_topic) == 2  # the restart published it again ...
    await eventually(lambda: effects(consumer), what="the effect")
    producer.post_events("org-3", first_seq=1)
    seen = await eventually(lambda: _has_len(effects(consumer), 2), what="the next effect")
    assert [e["event_id"] for e in seen].count(event_id) == 1  # ... and it took effect once


@pytest.mark.parametrize("failpoint", ["consumer.in_handler", "consumer.after_db_commit"])
async def test_consumer_killed_while_handling_processes_the_event_once_after_restart(probes, failpoint):
    producer, consumer = probes
    producer.start()
    consumer.start(failpoints=failpoint)
    producer.post_events("org-4", count=2)
    assert consumer.wait_exit() == -9

    consumer.start()
    # A third event on the same aggregate (same partition) is handled after any redelivery of
    # the first two, so once it is there, a duplicate effect would be there too.
    producer.post_events("org-4", first_seq=2)
    seen = await eventually(lambda: _has_len(effects(consumer), 3), what="the effects after the restart")
    assert [e["seq"] for e in seen] == [0, 1, 2]


async def test_kafka_stopped_and_started_while_producing_loses_nothing_and_keeps_each_aggregates_order(probes, stack):
    producer, consumer = probes
    producer.start()
    consumer.start()
    aggregates = [f"org-{i}" for i in range(6)]
    sent: dict[str, int] = {a: 0 for a in aggregates}

    def produce(rounds: int) -> None:
        for _ in range(rounds):
            for aggregate in aggregates:
                producer.post_events(aggregate, first_seq=sent[aggregate], count=5)
                sent[aggregate] += 5

    produce(3)
    kafka.stop(stack)
    produce(3)  # accepted and committed while Kafka is down
    kafka.start(stack)
    produce(2)

    total = sum(sent.values())
    await eventually(lambda: _has_len(effects(consumer), total), timeout=120, what=f"{total} effects")
    seen = await effects(consumer)
    for aggregate in aggregates:
        assert [e["seq"] for e in seen if e["aggregate"] == aggregate] == list(range(sent[aggregate])), aggregate


async def test_poison_message_is_dead_lettered_after_retries_while_the_partition_moves_on(probes, stack):
    producer, consumer = probes
    producer.start()
    consumer.start()
    [poison_id] = producer.post_events("org-5", poison=True)
    producer.post_events("org-5", first_seq=1, count=3)  # same aggregate, so same partition, behind it

    seen = await eventually(lambda: _has_len(effects(consumer), 3), what="the events behind the poison one")
    assert [e["seq"] for e in seen] == [1, 2, 3]
    connection = await connect(consumer.database_url)
    try:
        dead = await connection.fetch("SELECT id, event_id, attempts, error FROM dead_letters")
        assert [(d["event_id"], d["attempts"]) for d in dead] == [(poison_id, 3)]
        assert "poison event org-5/0" in dead[0]["error"]
    finally:
        await connection.close()
    dead_letter_records = await eventually(lambda: records_on_topic(stack, "probe.dead-letters"), what="the dead-letter topic")
    assert any(poison_id.encode() in r.value for r in dead_letter_records)

    # The operator lists it, replays it while the cause persists (it stays), fixes the cause, and
    # replays it again: now it takes effect, once.
    listed = json.loads(consumer.cli("dead-letters", "list").stdout)
    assert [(d["event_id"], d["consumer"]) for d in listed] == [(poison_id, "probe.effects")]
    still_failing = consumer.cli("dead-letters", "replay", str(listed[0]["id"]))
    assert still_failing.returncode == 1 and "failed again" in still_failing.stdout
    connection = await connect(consumer.database_url)
    try:
        await connection.execute("INSERT INTO probe_cures (event_id) VALUES ($1)", poison_id)
    finally:
        await connection.close()
    replayed = consumer.cli("dead-letters", "replay", str(listed[0]["id"]))
    assert replayed.returncode == 0 and replayed.stdout.strip() == "replayed", replayed.stdout + replayed.stderr
    assert [e["seq"] for e in await effects(consumer)] == [1, 2, 3, 0]
    assert json.loads(consumer.cli("dead-letters", "list").stdout) == []
    assert consumer.cli("dead-letters", "replay", str(listed[0]["id"])).stdout.strip() == "already replayed"


async def test_sigterm_lets_the_handler_in_flight_finish_and_commit(probes):
    producer, consumer = probes
    producer.start()
    consumer.start()
    producer.post_events("org-6", slow_seconds=3.0)

    # Wait until the consumer has the event in hand: its effect row is written but not committed.
    await eventually(lambda: _in_flight(consumer), what="the slow handler to start")
    consumer.process.send_signal(signal.SIGTERM)
    # uvicorn re-raises the SIGTERM after its graceful shutdown, so the status says "terminated";
    # the log says the runtime stopped in order, and the row below says the work finished.
    assert consumer.wait_exit() == -signal.SIGTERM
    assert '"event": "service stopped"' in consumer.log_tail(20)
    assert [e["seq"] for e in await effects(consumer)] == [0]  # committed before exiting

    consumer.start()
    producer.post_events("org-6", first_seq=1)
    seen = await eventually(lambda: _has_len(effects(consumer), 2), what="the next event after the restart")
    assert [e["seq"] for e in seen] == [0, 1]  # and the offset was committed: no second effect


async def _in_flight(probe: Probe) -> bool:
    connection = await connect(probe.database_url)
    try:
        return bool(await connection.fetchval("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = current_database()"))
    finally:
        await connection.close()


async def _is_zero(value) -> bool:
    return (await value) == 0


async def _has_len(value, n: int):
    items = await value
    return items if len(items) >= n else None
