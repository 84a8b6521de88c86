"""The envelope and its CloudEvents Kafka binding; the AsyncAPI documents generated from code."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from uuid import uuid4

import pytest
from pydantic import ValidationError

from devstack.config import REPO_ROOT, SERVICES
from wse_contracts import from_kafka_record, registered_event_types, to_kafka_record
from wse_contracts.identity import RightGrantedV1
from wse_contracts.kafka_binding import MalformedRecord


def granted() -> RightGrantedV1:
    return RightGrantedV1(
        right_id=uuid4(),
        person_id=uuid4(),
        organisation_id=uuid4(),
        role="dwse_organisation_officer",
        context="training_database",
        valid_from=date(2026, 1, 1),
    )


def test_an_event_travels_as_ce_headers_keyed_by_its_aggregate_and_comes_back_equal():
    event = granted()
    envelope = event.to_envelope(source="/wse/identity", correlation_id="req-1", causation_id="cause-1")
    record = to_kafka_record(envelope, topic=event.topic)
    headers = dict(record.headers)
    assert record.topic == "identity.rights"
    assert record.key == str(event.organisation_id).encode()
    assert headers["ce_type"] == b"be.vlaanderen.wse.identity.right_granted.v1"
    assert headers["ce_specversion"] == b"1.0" and headers["content-type"] == b"application/json"
    assert headers["ce_correlationid"] == b"req-1" and headers["ce_causationid"] == b"cause-1"
    back = from_kafka_record(record.headers, record.value)
    assert back == envelope
    assert RightGrantedV1.model_validate(back.data) == event


def test_a_record_without_cloudevents_headers_is_malformed():
    with pytest.raises(MalformedRecord, match="ce_id"):
        from_kafka_record([("ce_type", b"x")], b"{}")


def test_consumers_ignore_fields_a_later_producer_adds_and_every_type_is_versioned():
    event = granted()
    assert RightGrantedV1.model_validate({**event.model_dump(), "added_later": "x"}) == event
    with pytest.raises(ValidationError, match="valid_from"):
        RightGrantedV1.model_validate({k: v for k, v in event.model_dump().items() if k != "valid_from"})
    for event_type in registered_event_types():
        assert event_type.rsplit(".", 1)[-1].startswith("v"), event_type


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_an_asyncapi_document_generated_from_its_code(service):
    output = subprocess.run([sys.executable, "-m", service, "asyncapi"], capture_output=True, text=True, check=True, cwd=REPO_ROOT).stdout
    document = json.loads(output)
    assert document["asyncapi"].startswith("3.")
    assert document["info"]["title"] == f"WSE {service} service"
    addresses = {channel["address"] for channel in document.get("channels", {}).values()}
    if service != "identity":
        assert "identity.rights" in addresses  # every other service keeps a projection of rights
    # How each message travels (issue 11): its ce_ headers, the correlation id in the header that
    # carries it, the record key; and where the consumers' failures go.
    assert f"{service}.dead-letters" in addresses
    for name, message in document["components"]["messages"].items():
        assert message["correlationId"]["location"] == "$message.header#/ce_correlationid", name
        assert {"ce_id", "ce_type", "ce_source", "ce_correlationid"} <= set(message["headers"]["properties"]), name
        assert message["bindings"]["kafka"]["key"]["type"] == "string", name
        assert message["payload"] != {"$ref": "#/components/schemas/EmptyPayload"}, f"{name}: a consumer documents the events it takes"
