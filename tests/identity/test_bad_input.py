"""Bad input and abuse on every write endpoint: a problem+json 4xx, and nothing written."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.platform.helpers import connect

pytestmark = pytest.mark.slow

BAD_BODIES = {
    "malformed JSON": b'{"name": ',
    "not an object": b"[1, 2, 3]",
    "unknown field": None,  # filled per endpoint: a valid-looking body plus "colour"
    "wrong type": b'{"name": 42, "person_id": 42, "role": 42, "context": 42, "valid_from": 42, "reason": 42, "proof": 42, "approve": "ja"}',
    "oversized": b'{"name": "' + b"x" * 1_100_000 + b'"}',
}

ENDPOINTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v1/organisations", {"name": "Nieuw", "kind": "other"}),
    (
        "POST",
        "/v1/persons",
        {"national_register_number": "85073003328", "first_name": "A", "last_name": "B", "gender": "x", "date_of_birth": "1985-07-30", "email": "a@b.example"},
    ),
    ("POST", "/v1/persons/lookup", {"national_register_number": "85073003328"}),
    ("POST", "/v1/organisations/{org}/members", {"person_id": "{person}"}),
    ("POST", "/v1/organisations/{org}/rights", {"person_id": "{person}", "role": "user", "context": "mijn_onderwijs", "valid_from": "2026-01-01"}),
    ("POST", "/v1/organisations/{org}/right-requests", {"role": "user", "context": "mijn_onderwijs", "reason": "r"}),
    ("POST", "/v1/organisations/{org}/administrators", {"person_id": "{person}"}),
    ("PUT", "/v1/organisations/{org}/quality-registration", {"status": "registered", "valid_from": "2026-01-01"}),
    ("POST", "/v1/sign-in", {"proof": "x"}),
    ("POST", "/v1/me/organisation", {"organisation_id": None}),
]


async def counts(database_url: str) -> dict[str, int]:
    connection = await connect(database_url)
    try:
        return {
            table: await connection.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("organisations", "persons", "memberships", "rights", "right_requests", "outbox")
        }
    finally:
        await connection.close()


@pytest.mark.parametrize("kind", list(BAD_BODIES))
async def test_every_write_endpoint_answers_bad_input_with_a_problem_and_writes_nothing(world, kind):
    organisation_id, head = world.organisation_with_head("Foutencentrum " + kind, "Frank", sequence=500 + list(BAD_BODIES).index(kind))
    database_url = world.identity.env["IDENTITY_DATABASE_URL"]
    before = await counts(database_url)
    for method, path, valid in ENDPOINTS:
        url = world.url + path.format(org=organisation_id)
        body = BAD_BODIES[kind]
        if body is None:
            import json

            body = json.dumps({**{k: (str(uuid4()) if v == "{person}" else v) for k, v in valid.items()}, "colour": "red"}).encode()
        session = world.operator if "organisations/{org}" not in path else head
        response = httpx.request(method, url, content=body, headers={**session.headers, "content-type": "application/json"}, timeout=30)
        assert 400 <= response.status_code < 500, (method, path, kind, response.status_code, response.text[:300])
        assert response.headers["content-type"] == "application/problem+json", (method, path, kind)
        if kind == "unknown field" and response.status_code == 422:
            assert any(e["field"] == "colour" for e in response.json().get("errors", [])), (path, response.json())
    assert await counts(database_url) == before
