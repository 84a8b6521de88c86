"""National register numbers at rest: encrypted under a key named in each value, rotated by a
command, found by the blind index whichever key encrypted them; never in an event or a log line."""

from __future__ import annotations

import base64
import json
import logging

from attestation.use_cases.keys import reencrypt_students
from service_runtime import pii
from tests.attestation.conftest import enrolment, nrn
from tests.platform.helpers import connect


async def test_rotating_the_key_re_encrypts_every_number_and_finds_them_as_before(attestation, provider, department_staff):
    odb = await attestation.training(provider)
    numbers = [nrn() for _ in range(3)]
    for number in numbers:
        assert (await provider.client.post("/v1/provider/enrolments", json=enrolment(odb, number))).status_code == 201
    old = pii.keys_for(attestation.runtime.settings)
    new_key = base64.b64encode(b"k" * 32).decode()
    rotated = old.__class__(
        encryption_keys={**old.encryption_keys, "k2": base64.b64decode(new_key)}, active_key_id="k2", index_key=old.index_key, pseudonym_key=old.pseudonym_key
    )
    connection = await connect(attestation.runtime.settings.database_url)
    try:
        moved = await reencrypt_students(connection, keys=rotated, batch=2)
        assert moved >= 3
        assert await connection.fetchval("SELECT count(*) FROM students WHERE key_id <> 'k2'") == 0
        for number in numbers:
            value = await connection.fetchval("SELECT nrn_encrypted FROM students WHERE nrn_index = $1", pii.blind_index(rotated, number))
            assert pii.key_id_of(bytes(value)) == "k2" and pii.decrypt(rotated, bytes(value)) == number
        assert await reencrypt_students(connection, keys=rotated) == 0  # run again: nothing left
        # put them back under the service's own key for the other tests
        assert await reencrypt_students(connection, keys=old.__class__(
            encryption_keys=rotated.encryption_keys, active_key_id=old.active_key_id, index_key=old.index_key, pseudonym_key=old.pseudonym_key
        )) >= 3  # fmt: skip
    finally:
        await connection.close()


async def test_no_national_register_number_in_events_or_logs(attestation, provider, caplog):
    caplog.set_level(logging.DEBUG)
    odb = await attestation.training(provider)
    number = nrn()
    body = enrolment(odb, number)
    await provider.client.post("/v1/provider/enrolments", json=body)
    await provider.client.post("/v1/provider/enrolments", json={**body, "reference": body["reference"] + "x", "ends_on": "2029-06-30"})  # refused: A-7
    rows = await attestation.fetch("SELECT value FROM outbox")
    assert not any(number in bytes(r["value"]).decode(errors="replace") for r in rows)
    assert number not in caplog.text
    assert not any(pii.looks_like_nrn(json.dumps(json.loads(bytes(r["value"])))) for r in rows[-20:])
