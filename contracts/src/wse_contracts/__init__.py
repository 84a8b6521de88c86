"""Contracts shared by the WSE services: the envelope events travel in, the topics, and every
event and command as a versioned Pydantic model.

A consumer depends on these models, never on another service's code.
"""

from wse_contracts.envelope import Envelope, new_envelope
from wse_contracts.events import Event, event_model, registered_event_types
from wse_contracts.kafka_binding import KafkaRecord, from_kafka_record, to_kafka_record
from wse_contracts.models import StrictModel
from wse_contracts.topics import TOPICS, Topic, topic

__all__ = [
    "Envelope",
    "Event",
    "KafkaRecord",
    "StrictModel",
    "TOPICS",
    "Topic",
    "event_model",
    "from_kafka_record",
    "new_envelope",
    "registered_event_types",
    "to_kafka_record",
    "topic",
]
