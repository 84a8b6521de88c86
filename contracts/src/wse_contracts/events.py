"""Events and commands as versioned Pydantic models.

Each model names its type (`...v1`) and its topic, and says which field is the aggregate id. A
change that would break a consumer is a new model with a new version, published beside the old
one until every consumer has moved.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from wse_contracts.envelope import Envelope, new_envelope
from wse_contracts.topics import topic as _topic

_REGISTRY: dict[str, type[Event]] = {}

TYPE_PREFIX = "be.vlaanderen.wse."


class Event(BaseModel):
    """Unknown fields are ignored, not refused: adding an optional field to a v1 event must not
    send every consumer's copy to its dead letters (a breaking change is a new version)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    topic: ClassVar[str]
    key_field: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            _topic(cls.topic)  # fail at import time on a topic nobody registered
            if cls.event_type in _REGISTRY:
                raise TypeError(f"event type {cls.event_type} is defined twice")
            _REGISTRY[cls.event_type] = cls

    @property
    def key(self) -> str:
        return str(getattr(self, self.key_field))

    def to_envelope(self, *, source: str, correlation_id: str, causation_id: str | None = None, **kwargs: Any) -> Envelope:
        return new_envelope(
            source=source,
            type=self.event_type,
            subject=self.key,
            data=self.model_dump(mode="json"),
            correlation_id=correlation_id,
            causation_id=causation_id,
            **kwargs,
        )


def event_model(event_type: str) -> type[Event] | None:
    return _REGISTRY.get(event_type)


def registered_event_types() -> dict[str, type[Event]]:
    # Importing the modules registers their models.
    from wse_contracts import attestation, identity, notification, platform, recognition, registration  # noqa: F401

    return dict(_REGISTRY)
