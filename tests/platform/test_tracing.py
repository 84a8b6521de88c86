"""Issue 15, traces, without a stack: what each step of the path records, and that off means off.
The whole path over the real stack (portal to email, one trace id) is tests/portal/test_traces.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, get, post
from litestar.middleware import DefineMiddleware
from litestar.testing import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from service_runtime import tracing
from service_runtime.consumer import Consumer, ConsumerRunner, RetryPolicy, trace_context_of_event
from service_runtime.outbox import OutboxRelay
from service_runtime.settings import load_settings
from wse_contracts import from_kafka_record, new_envelope, to_kafka_record

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert tracing.configure(service="probe", exporter=exporter)
    yield exporter
    tracing.shutdown()


def _envelope(**extra: Any):
    return new_envelope(source="/wse/probe", type="be.vlaanderen.wse.probe.happened.v1", subject="a", data={"n": 1}, correlation_id="c-1", **extra)


def test_tracing_is_off_unless_an_otlp_endpoint_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "PROBE_OTEL_EXPORTER_OTLP_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings("probe")
    assert not tracing.configure(
        service="probe", endpoint=settings.otel_exporter_otlp_endpoint, traces_endpoint_url=settings.otel_exporter_otlp_traces_endpoint
    )
    assert not tracing.enabled
    # Off: no middleware, no trace context in events, spans are no-ops.
    assert tracing.middleware() == []
    assert tracing.current_trace_context() == (None, None)
    with tracing.span("nothing") as span:
        assert span is None
    assert tracing.start_span("nothing") is None
    headers: dict[str, str] = {}
    tracing.inject(headers)
    assert headers == {}
    record = to_kafka_record(_envelope(), topic="probe")
    assert not [name for name, _ in record.headers if "trace" in name]


def test_the_standard_variables_name_the_endpoint_the_service_prefix_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert load_settings("probe").otel_exporter_otlp_endpoint == "http://collector:4318"
    monkeypatch.setenv("PROBE_OTEL_EXPORTER_OTLP_ENDPOINT", "http://other:4318")
    assert load_settings("probe").otel_exporter_otlp_endpoint == "http://other:4318"
    # As the OTLP exporter specification reads them: the base gets /v1/traces, the traces endpoint is used as it is.
    assert tracing.traces_endpoint(endpoint="http://collector:4318/") == "http://collector:4318/v1/traces"
    assert tracing.traces_endpoint(endpoint="http://a:4318", traces_endpoint="http://b:4318/custom") == "http://b:4318/custom"
    assert tracing.traces_endpoint() == ""


def test_the_trace_context_travels_in_the_cloudevents_tracing_attribute_of_the_kafka_record() -> None:
    record = to_kafka_record(_envelope(traceparent=PARENT, tracestate="vendor=1"), topic="probe")
    headers = dict(record.headers)
    assert headers["ce_traceparent"] == PARENT.encode()
    assert headers["ce_tracestate"] == b"vendor=1"
    back = from_kafka_record(record.headers, record.value)
    assert (back.traceparent, back.tracestate) == (PARENT, "vendor=1")


def test_a_request_continues_the_callers_trace_named_by_its_route_template(spans: InMemorySpanExporter) -> None:
    seen: dict[str, Any] = {}

    @get("/things/{thing_id:str}", sync_to_thread=False)
    def thing(thing_id: str) -> dict[str, str]:
        seen["context"] = tracing.current_trace_context()
        return {"id": thing_id}

    @post("/broken", sync_to_thread=False)
    def broken() -> None:
        raise RuntimeError("no")

    app = Litestar([thing, broken], middleware=[DefineMiddleware(tracing.TracingMiddleware)])
    with TestClient(app) as client:
        assert client.get("/things/85073003328", headers={"traceparent": PARENT}).status_code == 200
        assert client.post("/broken").status_code == 500
    first, second = spans.get_finished_spans()
    assert first.name == "GET /things/{thing_id}"  # the template: never a value from the path
    assert f"{first.context.trace_id:032x}" == TRACE_ID
    assert first.parent is not None and f"{first.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert first.attributes["http.response.status_code"] == 200
    assert "85073003328" not in repr(dict(first.attributes))
    # What the handler publishes continues the request's span.
    assert seen["context"][0] == f"00-{TRACE_ID}-{first.context.span_id:016x}-01"
    assert second.parent is None and second.status.status_code.name == "ERROR"


def test_a_log_line_names_its_trace_and_a_requests_span_its_correlation_id(spans: InMemorySpanExporter) -> None:
    from service_runtime.logging import _add_trace_ids

    assert _add_trace_ids(None, "info", {"event": "outside"}) == {"event": "outside"}
    with tracing.span("work") as span:
        tracing.annotate(**{"wse.correlation_id": "c-42"})
        line = _add_trace_ids(None, "info", {"event": "inside"})
    assert line["trace_id"] == f"{span.context.trace_id:032x}" and line["span_id"] == f"{span.context.span_id:016x}"
    assert spans.get_finished_spans()[0].attributes["wse.correlation_id"] == "c-42"


def test_off_a_log_line_has_no_trace_ids() -> None:
    from service_runtime.logging import _add_trace_ids

    assert not tracing.enabled
    assert _add_trace_ids(None, "info", {"event": "x"}) == {"event": "x"}
    tracing.annotate(anything=1)  # nothing to annotate, no error


def _runner() -> ConsumerRunner:
    return ConsumerRunner(consumer=Consumer(name="things", topics=["probe"]), service="probe", pool=None, retry=RetryPolicy())  # type: ignore[arg-type]


def test_a_consumer_continues_the_trace_the_event_was_written_in(spans: InMemorySpanExporter) -> None:
    runner = _runner()
    event = _envelope(traceparent=PARENT)
    with runner._span(event):
        written = tracing.current_trace_context()[0]
    (span,) = spans.get_finished_spans()
    assert span.name == "process be.vlaanderen.wse.probe.happened.v1" and span.kind.name == "CONSUMER"
    assert f"{span.context.trace_id:032x}" == TRACE_ID and f"{span.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert span.attributes["messaging.consumer.group.name"] == "probe.things"
    assert span.attributes["messaging.message.id"] == event.id
    assert written == f"00-{TRACE_ID}-{span.context.span_id:016x}-01"  # events it publishes continue it
    # An event written without tracing gets no span.
    with runner._span(_envelope()):
        pass
    assert len(spans.get_finished_spans()) == 1


def test_a_batch_handler_gets_each_events_own_span_to_continue(spans: InMemorySpanExporter) -> None:
    runner = _runner()
    other_trace = "0af7651916cd43dd8448eb211c80319c"
    traced = [_envelope(traceparent=PARENT), _envelope(traceparent=f"00-{other_trace}-b7ad6b7169203331-01"), _envelope()]
    with runner._batch_spans(traced):
        contexts = [trace_context_of_event(envelope) for envelope in traced]
    finished = spans.get_finished_spans()
    assert len(finished) == 2  # the untraced event has none
    assert {f"{s.context.trace_id:032x}" for s in finished} == {TRACE_ID, other_trace}
    by_trace = {f"{s.context.trace_id:032x}": s for s in finished}
    assert contexts[0] == f"00-{TRACE_ID}-{by_trace[TRACE_ID].context.span_id:016x}-01"
    assert contexts[1] == f"00-{other_trace}-{by_trace[other_trace].context.span_id:016x}-01"
    assert contexts[2] is None
    # A failing batch handler marks its events' spans as failed.
    with pytest.raises(ValueError), runner._batch_spans(traced[:2]):
        raise ValueError("rolled back")
    assert all(s.status.status_code.name == "ERROR" for s in spans.get_finished_spans()[2:])


def test_the_relay_sends_each_traced_row_in_the_trace_it_was_written_in(spans: InMemorySpanExporter) -> None:
    relay = OutboxRelay(pool=None, database_url="", bootstrap_servers="", service="probe")  # type: ignore[arg-type]
    traced = to_kafka_record(_envelope(traceparent=PARENT), topic="probe.events")
    untraced = to_kafka_record(_envelope(), topic="probe.events")
    rows = [{"topic": r.topic, "headers": [[n, v.decode()] for n, v in r.headers]} for r in (traced, untraced)]
    started = relay._publish_spans(rows)  # type: ignore[arg-type]
    assert len(started) == 1
    tracing.end_span(started[0])
    (span,) = spans.get_finished_spans()
    assert span.name == "send probe.events" and span.kind.name == "PRODUCER"
    assert f"{span.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert span.attributes["messaging.destination.name"] == "probe.events"


def test_a_failing_span_says_what_kind_of_error_never_its_message(spans: InMemorySpanExporter) -> None:
    # A message may quote the input (an address, a national register number); spans are not masked as logs are.
    with pytest.raises(ValueError), tracing.span("work"):
        raise ValueError("jan.peeters@example.be 85073003328")
    runner = _runner()
    with pytest.raises(KeyError), runner._batch_spans([_envelope(traceparent=PARENT), _envelope(traceparent=PARENT)]):
        raise KeyError("jan.peeters@example.be")
    for span in spans.get_finished_spans():
        assert span.status.status_code.name == "ERROR" and span.status.description in ("ValueError", "KeyError")
        assert not span.events  # no recorded exception, no traceback
        assert "jan.peeters" not in repr(span.to_json())


def test_an_emails_span_names_the_servers_code_not_its_words() -> None:
    from notification.delivery import span_outcome
    from notification.domain import Answer

    assert span_outcome(Answer.REFUSED, "550 5.1.1 <jan.peeters@example.be>: Recipient address rejected") == f"{Answer.REFUSED} 550 5.1.1"
    assert span_outcome(Answer.DEFERRED, "451 Try again later, jan.peeters@example.be") == f"{Answer.DEFERRED} 451"
    assert span_outcome(Answer.UNREACHABLE, "connection refused") == str(Answer.UNREACHABLE)


@pytest.mark.parametrize(
    "traceparent",
    ["00-4bf92f3577b34da6a3ce929d0e0e4736", "x" * 600, "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01\x00", "00-zz-00f067aa0ba902b7-01"],
)
def test_a_record_with_a_trace_context_that_is_not_one_is_read_without_it(traceparent: str) -> None:
    # The producer's trace context is a hint: a bad one is dropped, the event is still handled.
    record = to_kafka_record(_envelope(), topic="probe")
    headers = [*record.headers, ("ce_traceparent", traceparent.encode()), ("ce_tracestate", b"a=1")]
    envelope = from_kafka_record(headers, record.value)
    assert envelope.traceparent is None and envelope.tracestate is None
    assert envelope.data == {"n": 1}


def test_an_overlong_tracestate_is_dropped_and_the_traceparent_kept() -> None:
    record = to_kafka_record(_envelope(traceparent=PARENT, tracestate="k=" + "v" * 600), topic="probe")
    envelope = from_kafka_record(record.headers, record.value)
    assert envelope.traceparent == PARENT and envelope.tracestate is None
