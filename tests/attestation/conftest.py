"""The attestation service on the test stack (the session fixture `attestation` is in
tests/conftest.py): its runtime in this process on a PostgreSQL database of its own and real
Kafka. Registration's trainings and identity's organisations, rights and persons arrive as real
events on their topics, as those services publish them.

Fixtures: `attestation` (session), `provider` / `other_provider` (dwse_organisation_officer in
context training_database, A-1), `department` staff (`case_handler@training_leave`), `clock`.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from tests.identity.conftest import national_register_number
from tests.platform.helpers import eventually
from tests.registration.conftest import Actor, Registration
from wse_contracts.identity import OrganisationRegisteredV1, PersonRegisteredV1, QualityRegistration
from wse_contracts.registration import RegisteredModule, TrainingRegisteredV1, TrainingReplacedV1, TrainingStoppedV1

pytestmark = pytest.mark.slow

_counter = iter(range(10_000_000))


def nrn(born: date | None = None) -> str:
    """A fresh valid national register number (a different serial every call)."""
    return national_register_number(born or date(1985, 7, 30), 1 + next(_counter) % 997)


class Attestation(Registration):
    async def organisation(self, *, kind: str = "training_provider", name: str | None = None, **_: Any) -> UUID:  # type: ignore[override]
        organisation_id = uuid.uuid4()
        await self.publish(
            OrganisationRegisteredV1(
                organisation_id=organisation_id,
                name=name or f"Opleidingscentrum {organisation_id.hex[:6]}",
                kind=kind,
                quality_registration=QualityRegistration(status="registered", valid_from=date(2020, 1, 1)),
            )
        )
        await eventually(
            lambda: self.fetchval("SELECT 1 FROM organisations_projection WHERE organisation_id = $1", organisation_id),
            what="attestation to learn the organisation",
        )
        return organisation_id

    async def provider(self, context: str = "training_database") -> Actor:
        organisation_id = await self.organisation()
        person_id = await self.grant(organisation_id=organisation_id, role="dwse_organisation_officer", context=context)
        return Actor(self.client(self.token(person=person_id, organisation=organisation_id)), organisation_id, person_id)

    async def training(
        self,
        provider: Actor,
        *,
        odb_number: str | None = None,
        holds_from: date = date(2026, 9, 1),
        modules: list[dict[str, Any]] | None = None,
        blended: bool = False,
        replaces: str | None = None,
        wait: bool = True,
    ) -> str:
        """Registration registers a training of this provider (its event on its topic)."""
        odb_number = odb_number or f"ODB-{uuid.uuid4().int % 10**8}"
        module_list = [RegisteredModule(**m) for m in modules] if modules else [
            RegisteredModule(name="Lassen", hours=Decimal(40), blended=blended, starts_on=date(2026, 9, 15), ends_on=date(2027, 6, 30))
        ]  # fmt: skip
        await self.publish(
            TrainingRegisteredV1(
                odb_number=odb_number,
                organisation_id=provider.organisation_id,
                provider_name="Opleidingscentrum",
                name="Lastechnieken",
                holds_from=holds_from,
                blended=blended,
                structure="modular" if modules else "integral",
                modules=module_list,
                school_years=["2026-2027"],
                replaces=replaces,
            )
        )
        if wait:
            await eventually(
                lambda: self.fetchval("SELECT 1 FROM trainings_projection WHERE odb_number = $1", odb_number), what="attestation to learn the training"
            )
        return odb_number

    async def stop(self, provider: Actor, odb_number: str, stop_on: date) -> None:
        await self.publish(TrainingStoppedV1(odb_number=odb_number, organisation_id=provider.organisation_id, stop_on=stop_on, reason="test"))
        await eventually(lambda: self.fetchval("SELECT stop_on = $2 FROM trainings_projection WHERE odb_number = $1", odb_number, stop_on), what="the stop")

    async def replace(self, provider: Actor, old: str, new: str) -> None:
        await self.publish(TrainingReplacedV1(odb_number=old, replaced_by=new, organisation_id=provider.organisation_id))
        await eventually(lambda: self.fetchval("SELECT replaced_by = $2 FROM trainings_projection WHERE odb_number = $1", old, new), what="the replacement")

    async def citizen(self, number: str) -> Any:
        """A person identity registered, signed in as a citizen (no organisation)."""
        from service_runtime import pii

        person_id = uuid.uuid4()
        await self.publish(PersonRegisteredV1(person_id=person_id, student_id=pii.pseudonym(pii.keys_for(self.runtime.settings), number)))
        await eventually(lambda: self.fetchval("SELECT 1 FROM persons_projection WHERE person_id = $1", person_id), what="attestation to learn the person")
        return self.client(self.token(person=person_id, organisation=None))


def enrolment(odb_number: str, number: str, **overrides: Any) -> dict[str, Any]:
    return {
        "reference": f"INS-{uuid.uuid4().hex[:8]}",
        "odb_number": odb_number,
        "national_register_number": number,
        "last_name": "Peeters",
        "first_name": "An",
        "starts_on": "2026-09-15",
        "ends_on": "2027-06-30",
        **overrides,
    }


def attendance(enrolled: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "reference": enrolled["reference"],
        "odb_number": enrolled["odb_number"],
        "module": enrolled.get("module", ""),
        "national_register_number": enrolled["national_register_number"],
        "period_from": "2026-09-15",
        "period_to": "2026-12-31",
        "hours": "20",
        **overrides,
    }


@pytest.fixture
async def clock(attestation):
    start = attestation.clock.now()
    yield attestation.clock
    attestation.clock.set(start)


@pytest.fixture
async def provider(attestation) -> Actor:
    return await attestation.provider()


@pytest.fixture
async def other_provider(attestation) -> Actor:
    return await attestation.provider()


@pytest.fixture
async def department_staff(attestation) -> Actor:
    department = await attestation.organisation(kind="department", name="Departement Werk en Sociale Economie")
    person_id = await attestation.grant(organisation_id=department, role="case_handler", context="training_leave")
    return Actor(attestation.client(attestation.token(person=person_id, organisation=department)), department, person_id)
