"""CloudEvents Kafka protocol binding, binary content mode.

The attributes travel as `ce_` headers, `datacontenttype` as the `content-type` header, the data
as the record value, and the subject (the aggregate id) as the record key, so one aggregate's
events land on one partition and keep their order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from wse_contracts.envelope import Envelope

# traceparent and tracestate: the CloudEvents distributed-tracing extension (ce_traceparent).
_ATTRIBUTES = ("specversion", "id", "source", "type", "subject", "time", "correlationid", "causationid", "traceparent", "tracestate")


_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
_MAX_TRACESTATE = 512  # W3C: at most 32 members; OpenTelemetry ignores a longer one too


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


class MalformedRecord(ValueError):
    """A Kafka record that is not a CloudEvent in binary mode (missing or bad `ce_` headers)."""


def to_kafka_record(envelope: Envelope, *, topic: str) -> KafkaRecord:
    headers: list[tuple[str, bytes]] = []
    for name in _ATTRIBUTES:
        value = getattr(envelope, name)
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        headers.append((f"ce_{name}", str(value).encode()))
    headers.append(("content-type", envelope.datacontenttype.encode()))
    return KafkaRecord(
        topic=topic,
        key=envelope.subject.encode() if envelope.subject is not None else None,
        value=json.dumps(envelope.data, separators=(",", ":"), default=str).encode(),
        headers=headers,
    )


def from_kafka_record(headers: Iterable[tuple[str, bytes]], value: bytes | None) -> Envelope:
    attributes: dict[str, str] = {}
    content_type = "application/json"
    try:
        for name, raw in headers:
            if name.startswith("ce_"):
                attributes[name[3:]] = raw.decode()
            elif name.lower() == "content-type":
                content_type = raw.decode()
    except (AttributeError, UnicodeDecodeError) as error:  # a header without value, or not UTF-8
        raise MalformedRecord(f"unreadable CloudEvents header: {error}") from error
    missing = [name for name in ("specversion", "id", "source", "type", "time", "correlationid") if name not in attributes]
    if missing:
        raise MalformedRecord(f"missing CloudEvents headers: {', '.join('ce_' + m for m in missing)}")
    try:
        data = json.loads(value) if value else {}
    except ValueError as error:
        raise MalformedRecord(f"record value is not JSON: {error}") from error
    # The trace context is the producer's word and only ever a hint: one that is not a W3C
    # traceparent (or a tracestate longer than W3C allows) is dropped, never a reason to refuse
    # the event, and never carried on into a row, a dead letter's event or a span.
    if "traceparent" in attributes and not _TRACEPARENT.fullmatch(attributes["traceparent"]):
        del attributes["traceparent"]
    if "traceparent" not in attributes or len(attributes.get("tracestate", "")) > _MAX_TRACESTATE:
        attributes.pop("tracestate", None)
    try:
        return Envelope.model_validate({**{k: v for k, v in attributes.items() if k in _ATTRIBUTES}, "datacontenttype": content_type, "data": data})
    except ValueError as error:
        raise MalformedRecord(str(error)) from error
