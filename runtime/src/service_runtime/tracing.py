"""Traces across the whole path of a user action: the HTTP request, the outbox row it writes, the
Kafka record (the W3C `traceparent` in the CloudEvents distributed-tracing attribute,
`ce_traceparent`), the consumer that handles it, and the email that leaves at the end.

Off by default. `configure` turns it on when an OTLP endpoint is set (the standard
OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT for traces alone; per service
with the service's prefix, REGISTRATION_OTEL_EXPORTER_OTLP_ENDPOINT): then OpenTelemetry's SDK
batches the spans and exports them over OTLP/HTTP from a thread of its own. Off, OpenTelemetry is
not even imported: every place that could trace tests `tracing.enabled` (one attribute read) and
goes on, the HTTP middleware is not installed, and events carry no trace context.

What a span records is what an operator needs to follow a request, never personal data: route
templates (not paths with values), topics, event types and ids, the notification id of an email
(not its address or subject). The sampler is the SDK's, set by OTEL_TRACES_SAMPLER (parent-based,
always on, by default).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

# Read at every place that could trace; True only after configure() found an endpoint.
enabled = False
_tracer: Any = None
_provider: Any = None
_propagator: Any = None

SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL = "server", "client", "producer", "consumer", "internal"


def traces_endpoint(*, endpoint: str = "", traces_endpoint: str = "") -> str:
    """Where spans go, as the OTLP exporter specification reads the two variables: the traces
    endpoint as it is, or the base endpoint with /v1/traces added; empty: tracing stays off."""
    if traces_endpoint:
        return traces_endpoint
    if endpoint:
        return endpoint.rstrip("/") + "/v1/traces"
    return ""


def configure(*, service: str, version: str = "", endpoint: str = "", traces_endpoint_url: str = "", exporter: Any = None) -> bool:
    """Turn tracing on for this process when an endpoint is given; returns whether it is on.
    `exporter` (a SpanExporter, spans handed over one by one) is for tests of what is traced."""
    global enabled, _tracer, _provider, _propagator
    url = traces_endpoint(endpoint=endpoint, traces_endpoint=traces_endpoint_url)
    if not url and exporter is None:
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    resource = Resource.create({"service.name": service, "service.namespace": "wse", "service.version": version or "0"})
    provider = TracerProvider(resource=resource)
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    # This process's own provider, not the global one: a test that configures twice, or a library
    # that sets its own, changes nothing here.
    _provider, _tracer, _propagator = provider, provider.get_tracer("service_runtime"), TraceContextTextMapPropagator()
    enabled = True
    return True


def shutdown() -> None:
    """Export what is buffered and stop (blocking: call it from a thread at the process's end)."""
    global enabled, _tracer, _provider
    if _provider is not None:
        with contextlib.suppress(Exception):
            _provider.shutdown()
    enabled, _tracer, _provider = False, None, None


def _kind(kind: str) -> Any:
    from opentelemetry.trace import SpanKind

    return {SERVER: SpanKind.SERVER, CLIENT: SpanKind.CLIENT, PRODUCER: SpanKind.PRODUCER, CONSUMER: SpanKind.CONSUMER}.get(kind, SpanKind.INTERNAL)


def context_from(traceparent: str | None, tracestate: str | None = None) -> Any:
    """The OpenTelemetry context a W3C traceparent names (an invalid one names none)."""
    carrier = {"traceparent": traceparent or ""}
    if tracestate:
        carrier["tracestate"] = tracestate
    return _propagator.extract(carrier)


def _headers_of(context: Any = None) -> dict[str, str]:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=context)
    return carrier


def current_trace_context() -> tuple[str | None, str | None]:
    """The current span's traceparent and tracestate, for an event or a row that continues it
    later; (None, None) when tracing is off or nothing is being traced."""
    if not enabled:
        return None, None
    carrier = _headers_of()
    return carrier.get("traceparent"), carrier.get("tracestate")


def current_ids() -> tuple[str, str] | None:
    """The current span's trace and span id in hex (for log lines), or None."""
    if not enabled:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"


def annotate(**attributes: Any) -> None:
    """Add attributes to the current span (nothing when off or outside a span)."""
    if not enabled:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attributes(attributes)


def trace_context_of(span: Any) -> str | None:
    """The traceparent of a span (one from `start_span`), for what continues after it."""
    if span is None:
        return None
    from opentelemetry import trace

    return _headers_of(trace.set_span_in_context(span)).get("traceparent")


def inject(headers: dict[str, str]) -> None:
    """Add the current trace context to an outgoing HTTP request's headers (nothing when off)."""
    if enabled:
        headers.update(_headers_of())


@contextlib.contextmanager
def span(
    name: str, *, kind: str = INTERNAL, parent: str | None = None, tracestate: str | None = None, attributes: Mapping[str, Any] | None = None
) -> Iterator[Any]:
    """A span around the block, the current one inside it (what the block publishes continues
    it); its parent is `parent` (a traceparent) when given, else the current span. Yields None when
    tracing is off."""
    if not enabled:
        yield None
        return
    context = context_from(parent, tracestate) if parent else None
    # Exceptions are not recorded as OpenTelemetry would (their message and traceback): a message
    # may quote the input (an address, a national register number) and spans are not masked as
    # logs are. The span says only that it failed, and with what kind of error.
    with _tracer.start_as_current_span(
        name, context=context, kind=_kind(kind), attributes=dict(attributes or {}), record_exception=False, set_status_on_exception=False
    ) as current:
        try:
            yield current
        except BaseException as error:
            failed(current, error)
            raise


def failed(span: Any, error: BaseException) -> None:
    """Mark a span failed with the error's type only (never its message: see `span`)."""
    from opentelemetry.trace import Status, StatusCode

    span.set_status(Status(StatusCode.ERROR, type(error).__name__))


def start_span(
    name: str, *, kind: str = INTERNAL, parent: str | None = None, tracestate: str | None = None, attributes: Mapping[str, Any] | None = None
) -> Any:
    """A span that is not made current (many at once: a batch), ended by `end_span`; None when off."""
    if not enabled:
        return None
    context = context_from(parent, tracestate) if parent else None
    return _tracer.start_span(name, context=context, kind=_kind(kind), attributes=dict(attributes or {}))


def end_span(span: Any, *, error: str | None = None, attributes: Mapping[str, Any] | None = None) -> None:
    """End a span from `start_span`; `error` is a kind of failure (an error's type name, an SMTP
    code), never a message that could quote personal data."""
    if span is None:
        return
    if attributes:
        span.set_attributes(dict(attributes))
    if error is not None:
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR, error))
    span.end()


class TracingMiddleware:
    """A server span per HTTP request, continuing the caller's `traceparent` (a portal's), named by
    the route's template. Installed only when tracing is on (`middleware()`)."""

    _EXCLUDED = ("/metrics", "/health")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not enabled:
            await self.app(scope, receive, send)
            return
        route = scope.get("path_template") or "<unmatched>"
        if route.startswith(self._EXCLUDED):
            await self.app(scope, receive, send)
            return
        carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"] if name in (b"traceparent", b"tracestate")}
        method = scope["method"]  # type: ignore[typeddict-item]  # an http scope
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with _tracer.start_as_current_span(
            f"{method} {route}",
            context=_propagator.extract(carrier) if carrier else None,
            kind=_kind(SERVER),
            record_exception=False,
            set_status_on_exception=False,
            attributes={"http.request.method": method, "http.route": route},
        ) as current:
            try:
                await self.app(scope, receive, send_with_status)
            finally:
                current.set_attribute("http.response.status_code", status)
                if status >= 500:
                    from opentelemetry.trace import Status, StatusCode

                    current.set_status(Status(StatusCode.ERROR))


def middleware() -> list[Any]:
    """The HTTP middleware to install: the tracing one when tracing is on, none when off."""
    if not enabled:
        return []
    from litestar.middleware import DefineMiddleware

    return [DefineMiddleware(TracingMiddleware)]
