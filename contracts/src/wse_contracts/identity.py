"""Events of the identity service that other services build their rights projection from.

No national register number ever travels in an event: persons are named by their platform id.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID

from wse_contracts.events import TYPE_PREFIX, Event


class RightGrantedV1(Event):
    event_type: ClassVar[str] = TYPE_PREFIX + "identity.right_granted.v1"
    topic: ClassVar[str] = "identity.rights"
    key_field: ClassVar[str] = "organisation_id"

    right_id: UUID
    person_id: UUID
    organisation_id: UUID
    role: str
    context: str
    valid_from: date
    valid_until: date | None = None


class RightRevokedV1(Event):
    event_type: ClassVar[str] = TYPE_PREFIX + "identity.right_revoked.v1"
    topic: ClassVar[str] = "identity.rights"
    key_field: ClassVar[str] = "organisation_id"

    right_id: UUID
    person_id: UUID
    organisation_id: UUID
    role: str
    context: str


class RightValidityChangedV1(Event):
    event_type: ClassVar[str] = TYPE_PREFIX + "identity.right_validity_changed.v1"
    topic: ClassVar[str] = "identity.rights"
    key_field: ClassVar[str] = "organisation_id"

    right_id: UUID
    person_id: UUID
    organisation_id: UUID
    role: str
    context: str
    valid_from: date
    valid_until: date | None = None
