"""The envelope every event and command travels in: CloudEvents 1.0 attributes plus the
correlation and causation ids that tie one user action to everything it caused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(description="Unique per event; consumers deduplicate on it.")
    source: str = Field(description="The producing service, e.g. /wse/identity.")
    type: str = Field(description="Versioned event type, e.g. be.vlaanderen.wse.identity.right_granted.v1.")
    subject: str | None = Field(default=None, description="The aggregate the event is about; also the Kafka key.")
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    correlationid: str = Field(description="Id of the user action or request that started the chain.")
    causationid: str | None = Field(default=None, description="Id of the event or request that directly caused this one.")
    # The CloudEvents distributed-tracing extension: the W3C trace context of the span that wrote
    # the event (an HTTP request, a consumer), so the consumer's span continues the same trace.
    # Present only when the producing service traces (OpenTelemetry configured).
    traceparent: str | None = Field(
        default=None, description="W3C traceparent of the span that wrote the event (CloudEvents distributed tracing); only when tracing is on."
    )
    tracestate: str | None = Field(default=None, description="W3C tracestate that goes with traceparent, if any.")
    data: dict[str, Any]


def new_envelope(
    *,
    source: str,
    type: str,
    subject: str | None,
    data: dict[str, Any],
    correlation_id: str,
    causation_id: str | None = None,
    time: datetime | None = None,
    id: str | None = None,
    traceparent: str | None = None,
    tracestate: str | None = None,
) -> Envelope:
    return Envelope(
        id=id or str(uuid.uuid4()),
        source=source,
        type=type,
        subject=subject,
        time=time or datetime.now(UTC),
        correlationid=correlation_id,
        causationid=causation_id,
        traceparent=traceparent,
        tracestate=tracestate,
        data=data,
    )
