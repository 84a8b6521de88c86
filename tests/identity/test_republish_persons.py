"""`python -m identity republish-persons`: PersonRegisteredV1 again for every person, with the
student pseudonym, for persons registered before the event existed, so the attestation service can show each student their own training leave
(ID-10). Sending it again changes nothing for its consumers (they keep the latest per person)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from service_runtime import pii
from service_runtime.settings import ServiceSettings
from tests.identity.conftest import OPERATOR_NUMBER, World
from tests.platform.helpers import eventually, records_on_topic
from wse_contracts.identity import PersonRegisteredV1

pytestmark = pytest.mark.slow


async def _pseudonyms_on_topic(stack) -> dict[str, list[str]]:
    """person id -> the student ids published for them, in order."""
    found: dict[str, list[str]] = {}
    for record in await records_on_topic(stack, PersonRegisteredV1.topic, timeout_ms=1500):
        data = json.loads(record.value)
        data = data.get("data", data)
        if "student_id" in data:
            found.setdefault(str(data["person_id"]), []).append(data["student_id"])
    return found


async def test_id10_every_person_is_published_again_with_their_student_pseudonym(world: World, stack) -> None:
    keys = pii.keys_for(ServiceSettings(platform_environment="test"))
    person = world.register_person(world.operator, born=date(1991, 3, 4), sequence=321, first_name="Jonas")
    operator_id = str(world.operator.person_id)

    async def registered() -> dict[str, list[str]] | None:
        found = await _pseudonyms_on_topic(stack)
        return found if operator_id in found and str(person) in found else None

    before = await eventually(registered, timeout=30, what="the persons' first events")
    assert before[operator_id] == [pii.pseudonym(keys, OPERATOR_NUMBER)]  # bootstrap publishes it too, once

    result = world.identity.cli("republish-persons")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "published PersonRegisteredV1 for" in result.stdout

    async def republished() -> dict[str, list[str]] | None:
        found = await _pseudonyms_on_topic(stack)
        return found if len(found.get(operator_id, [])) >= 2 and len(found.get(str(person), [])) >= 2 else None

    found = await eventually(republished, timeout=30, what="the republished events on the topic")
    assert found[operator_id] == [pii.pseudonym(keys, OPERATOR_NUMBER)] * 2
    assert set(found[str(person)]) == {found[str(person)][0]}  # the same pseudonym as when registered
    assert OPERATOR_NUMBER not in result.stdout + result.stderr
