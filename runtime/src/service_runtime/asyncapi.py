"""The AsyncAPI document as the contract too: FastStream generates channels, operations and the
payload schemas of what a service publishes; this completes what only the runtime knows.

- Every message documents how it travels: the CloudEvents Kafka binding's `ce_*` headers, the
  record key (the aggregate id, so one aggregate's events keep their order), and its correlation
  id at the header that really carries it (`ce_correlationid`).
- A consumer's message is the events it handles (FastStream sees raw records there).
- The service's dead-letter channel appears, with what a dead letter carries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from wse_contracts import event_model, registered_event_types
from wse_contracts.topics import dead_letter_topic

if TYPE_CHECKING:
    from service_runtime.service import ServiceRuntime

_REF = "#/components/schemas/{model}"

CLOUDEVENTS_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents attributes in the Kafka binding's binary mode: each a header, the data is the record's value.",
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "The event's id: consumers record it in their inbox and ignore a repeat."},
        "ce_source": {"type": "string", "description": "/wse/<service> that published it."},
        "ce_type": {"type": "string", "description": "The versioned event type, e.g. be.vlaanderen.wse.identity.right_granted.v1."},
        "ce_subject": {"type": "string", "description": "The aggregate's id; the same as the record key."},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_correlationid": {"type": "string", "description": "The request or event that started the chain (X-Correlation-ID)."},
        "ce_causationid": {"type": "string", "description": "The event whose handling published this one, if any."},
        "ce_traceparent": {
            "type": "string",
            "description": "W3C traceparent of the span that wrote the event (CloudEvents distributed-tracing extension); only when the producer traces.",
        },
        "ce_tracestate": {"type": "string", "description": "W3C tracestate that goes with ce_traceparent, if any."},
        "content-type": {"type": "string", "const": "application/json"},
    },
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_correlationid", "content-type"],
}
CORRELATION_ID = {"location": "$message.header#/ce_correlationid", "description": "The correlation id travels in the ce_correlationid header."}


class DeadLetterV1(BaseModel):
    """What a consumer could not handle after its bounded retries (the partition moved on past it);
    an operator lists and replays it with `python -m <service> dead-letters`."""

    dead_letter_id: int
    consumer: str = Field(description="The consumer group that gave up.")
    topic: str
    partition: int
    offset: int
    error: str
    attempts: int
    event: dict[str, Any] | None = Field(description="The CloudEvent as read, when it could be read.")
    headers: list[list[str]] = Field(description="The record's headers, as read.")
    value: str | None = Field(description="The record's value as text.")


def _key_binding(description: str) -> dict[str, Any]:
    return {"kafka": {"key": {"type": "string", "description": description}, "bindingVersion": "0.5.0"}}


def complete_asyncapi(document: dict[str, Any], runtime: ServiceRuntime) -> dict[str, Any]:
    service = runtime.service
    registered_event_types()  # every contract module imported, so each consumed type names its model
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    messages = components.setdefault("messages", {})

    def add_schema(model: type[BaseModel]) -> dict[str, str]:
        schema = model.model_json_schema(ref_template=_REF)
        schemas.update(schema.pop("$defs", {}))
        schemas.setdefault(model.__name__, schema)
        return {"$ref": _REF.format(model=model.__name__)}

    # What a service publishes: its events, keyed by their aggregate.
    for event in service.publishes:
        message = messages.get(f"{event.event_type}:Message")
        if message is not None:
            message["bindings"] = _key_binding(f"The event's {event.key_field}: one aggregate's events keep their order.")
    # What its consumers take: the events they handle, not the raw record FastStream sees.
    for runner in runtime.runners:
        message = messages.get(f"{runner.group_id}:SubscribeMessage")
        if message is None:
            continue
        handled = [m for m in (event_model(t) for t in [*runner.consumer.handlers, *runner.consumer.batch_handlers]) if m is not None]
        if handled:
            message["payload"] = add_schema(handled[0]) if len(handled) == 1 else {"oneOf": [add_schema(m) for m in handled]}
        message["bindings"] = _key_binding("The aggregate id the publisher keyed the event by.")
    # Where what cannot be handled goes.
    channel = dead_letter_topic(service.name)
    messages["DeadLetterV1"] = {
        "name": "DeadLetterV1",
        "title": "A dead letter",
        "summary": (DeadLetterV1.__doc__ or "").strip().split("\n")[0],
        "payload": add_schema(DeadLetterV1),
        "bindings": _key_binding("The failed event's subject (its aggregate id), when it could be read."),
    }
    document.setdefault("channels", {})[channel] = {
        "address": channel,
        "description": f"What the {service.name} service's consumers gave up on, through its outbox, once each.",
        "messages": {"DeadLetterV1": {"$ref": "#/components/messages/DeadLetterV1"}},
        "bindings": {"kafka": {"topic": channel, "bindingVersion": "0.5.0"}},
    }
    document.setdefault("operations", {})[f"{channel}:Publish"] = {
        "action": "send",
        "channel": {"$ref": f"#/channels/{channel}"},
        "messages": [{"$ref": f"#/channels/{channel}/messages/DeadLetterV1"}],
    }
    # Every message: the CloudEvents headers and the correlation id where it really is.
    for message in messages.values():
        message["headers"] = CLOUDEVENTS_HEADERS
        message["correlationId"] = CORRELATION_ID
        message.setdefault("contentType", "application/json")
    return document
