"""What every service's HTTP side does, on a real probe process: deny by default, tokens verified
against published keys, rights answered from the local projection fed by Kafka, problem+json."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import timedelta

import httpx
import jwt
import pytest
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric import rsa

from service_runtime.calendar import today as brussels_today  # the Brussels date, as the services judge validity
from service_runtime.clock import SystemClock
from tests.platform.helpers import Probe, connect, eventually, new_database, new_topic, serve_jwks
from wse_contracts import to_kafka_record
from wse_contracts.identity import RightGrantedV1, RightRevokedV1

pytestmark = pytest.mark.slow

KID = "test-key-1"


@pytest.fixture(scope="module")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key, kid: str) -> dict:
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "use": "sig", "alg": "RS256"}


@pytest.fixture(scope="module")
def published_keys(signing_key) -> list[dict]:
    """What the JWKS endpoint serves; a test may add a key (a rotation)."""
    return [jwk(signing_key, KID)]


@pytest.fixture(scope="module")
def jwks_url(published_keys):
    with serve_jwks(published_keys) as url:
        yield url


@pytest.fixture
async def probe(stack, tmp_path, jwks_url):
    probe = Probe(
        stack,
        database_url=await new_database(stack, "http"),
        topic=await new_topic(stack),
        roles="producer,rights",
        log_dir=tmp_path,
        name="http",
        JWKS_URL=jwks_url,
        PROBE_REQUEST_MAX_BODY_BYTES="2000",
        PROBE_JWKS_MIN_REFRESH_SECONDS="0",
    )
    probe.start()
    yield probe
    probe.terminate()


def token(signing_key, *, person: uuid.UUID, organisation: uuid.UUID | None, kid: str = KID, expires_in: int = 300) -> str:
    now = int(time.time())
    claims = {"iss": "wse-identity", "aud": "wse-platform", "sub": str(person), "iat": now, "exp": now + expires_in}
    if organisation:
        claims["org"] = str(organisation)
    return jwt.encode(claims, signing_key, algorithm="RS256", headers={"kid": kid})


async def publish(stack, *events) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
    await producer.start()
    try:
        for event in events:
            record = to_kafka_record(event.to_envelope(source="/wse/identity", correlation_id="test"), topic=event.topic)
            await producer.send_and_wait(record.topic, record.value, key=record.key, headers=record.headers)
    finally:
        await producer.stop()


def test_a_route_without_an_access_rule_cannot_be_reached(probe):
    response = httpx.get(probe.url + "/probe/undeclared")
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_tokens_are_verified_against_the_published_keys(probe, signing_key):
    assert httpx.get(probe.url + "/probe/me").status_code == 401
    person = uuid.uuid4()
    good = token(signing_key, person=person, organisation=None)
    assert httpx.get(probe.url + "/probe/me", headers={"Authorization": f"Bearer {good}"}).json() == {"person_id": str(person)}
    expired = token(signing_key, person=person, organisation=None, expires_in=-60)
    assert httpx.get(probe.url + "/probe/me", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = token(other_key, person=person, organisation=None)
    assert httpx.get(probe.url + "/probe/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    unknown_kid = token(signing_key, person=person, organisation=None, kid="rotated-away")
    assert httpx.get(probe.url + "/probe/me", headers={"Authorization": f"Bearer {unknown_kid}"}).status_code == 401


def test_a_key_identity_rotated_in_is_fetched_when_a_token_names_it(probe, signing_key, published_keys):
    person = uuid.uuid4()
    first = token(signing_key, person=person, organisation=None)
    assert httpx.get(probe.url + "/probe/me", headers={"Authorization": f"Bearer {first}"}).status_code == 200  # keys cached
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    published_keys.append(jwk(new_key, "rotated-in"))
    try:
        second = token(new_key, person=person, organisation=None, kid="rotated-in")
        assert httpx.get(probe.url + "/probe/me", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    finally:
        published_keys.pop()


async def test_a_right_from_identitys_events_opens_the_route_and_its_revocation_closes_it(probe, stack, signing_key):
    # rule ID-6 and ID-14: a right is role@context for one organisation, within its validity.
    person, organisation = uuid.uuid4(), uuid.uuid4()
    headers = {"Authorization": f"Bearer {token(signing_key, person=person, organisation=organisation)}"}
    assert httpx.get(probe.url + "/probe/officer", headers=headers).status_code == 403

    in_other_context = RightGrantedV1(
        right_id=uuid.uuid4(),
        person_id=person,
        organisation_id=organisation,
        role="dwse_organisation_officer",
        context="platos",
        valid_from=brussels_today(SystemClock()),
    )
    expired = RightGrantedV1(
        right_id=uuid.uuid4(),
        person_id=person,
        organisation_id=organisation,
        role="dwse_organisation_officer",
        context="training_database",
        valid_from=brussels_today(SystemClock()) - timedelta(days=30),
        valid_until=brussels_today(SystemClock()) - timedelta(days=1),
    )
    valid = RightGrantedV1(
        right_id=uuid.uuid4(),
        person_id=person,
        organisation_id=organisation,
        role="dwse_organisation_officer",
        context="training_database",
        valid_from=brussels_today(SystemClock()),
    )
    await publish(stack, in_other_context, expired)

    connection = await connect(probe.database_url)
    try:

        async def projected(n: int):
            return await connection.fetchval("SELECT count(*) FROM rights_projection WHERE person_id = $1", person) >= n

        await eventually(lambda: projected(2), what="two rights projected")
        assert httpx.get(probe.url + "/probe/officer", headers=headers).status_code == 403  # ID-6, ID-14

        await publish(stack, valid)
        await eventually(lambda: projected(3), what="the valid right projected")
        assert httpx.get(probe.url + "/probe/officer", headers=headers).json() == {"organisation_id": str(organisation)}

        await publish(stack, RightRevokedV1(right_id=valid.right_id, person_id=person, organisation_id=organisation, role=valid.role, context=valid.context))

        async def closed() -> bool:
            return httpx.get(probe.url + "/probe/officer", headers=headers).status_code == 403

        await eventually(closed, what="the route closed after the revocation")
        denials = await connection.fetch("SELECT actor_id, outcome, reason FROM audit_log WHERE actor_id = $1 ORDER BY id", person)
        assert len(denials) >= 3 and all(d["outcome"] == "denied" for d in denials)
        assert "lacks dwse_organisation_officer@training_database" in denials[0]["reason"]
    finally:
        await connection.close()


def test_bad_input_gets_a_422_problem_naming_the_field_and_changes_nothing(probe):
    unknown = httpx.post(probe.url + "/probe/events", json={"aggregate": "a", "count": 1, "colour": "red"})
    assert unknown.status_code == 422
    assert unknown.headers["content-type"] == "application/problem+json"
    assert any("colour" in e["field"] or "colour" in e["reason"] for e in unknown.json()["errors"]), unknown.json()

    wrong_type = httpx.post(probe.url + "/probe/events", json={"aggregate": "a", "count": "many"})
    assert wrong_type.status_code == 422
    assert [e["field"] for e in wrong_type.json()["errors"]] == ["count"], wrong_type.json()

    too_big = httpx.post(probe.url + "/probe/events", content=b'{"aggregate": "' + b"x" * 5000 + b'"}', headers={"content-type": "application/json"})
    assert too_big.status_code == 413
    assert httpx.get(probe.url + "/probe/effects").json() == []


def test_the_correlation_id_is_returned_and_health_and_metrics_answer(probe):
    response = httpx.get(probe.url + "/health/live", headers={"X-Correlation-ID": "abc-123"})
    assert response.headers["x-correlation-id"] == "abc-123"
    assert httpx.get(probe.url + "/health/ready").json()["checks"] == {"database": True, "kafka": True}
    assert httpx.get(probe.url + "/probe/effects").status_code == 200
    metrics = httpx.get(probe.url + "/metrics").text
    assert 'outbox_pending{service="probe"}' in metrics
    assert 'http_requests_total{app_name="probe",method="GET",path="/probe/effects",status_code="200"}' in metrics
    assert 'http_request_duration_seconds_count{app_name="probe",method="GET",path="/probe/effects",status_code="200"}' in metrics
    assert 'path="/health/live"' not in metrics  # probes are not counted

    # Without one from the caller, each request gets a fresh id.
    made = {httpx.get(probe.url + "/health/live").headers["x-correlation-id"] for _ in range(3)}
    assert len(made) == 3
    # A header that could forge log lines is not taken over.
    forged = httpx.get(probe.url + "/health/live", headers={"X-Correlation-ID": 'a b"c'}).headers["x-correlation-id"]
    assert forged != 'a b"c' and re.fullmatch(r"[A-Za-z0-9._:\-]+", forged), forged


def test_every_problem_says_what_a_client_needs_to_act_on_it(probe, signing_key):
    # 401: the challenge a client library understands (RFC 6750), with the error when a token came.
    anonymous = httpx.get(probe.url + "/probe/me")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == 'Bearer realm="wse"'
    assert anonymous.json()["title"] == "Not signed in" and "token is required" in anonymous.json()["detail"]
    expired = token(signing_key, person=uuid.uuid4(), organisation=None, expires_in=-60)
    refused = httpx.get(probe.url + "/probe/me", headers={"Authorization": f"Bearer {expired}"})
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert refused.json()["title"] == "Not signed in"  # the same title for every 401; the detail differs
    # 405: Allow names the methods there are (RFC 9110).
    wrong_method = httpx.delete(probe.url + "/probe/events")
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["allow"]
    assert wrong_method.headers["content-type"] == "application/problem+json" and wrong_method.json()["title"] == "Method not allowed"
    # A missing body, and a body that is not JSON, in plain words.
    missing = httpx.post(probe.url + "/probe/events")
    assert missing.status_code == 422 and missing.json()["errors"] == [{"field": "body", "reason": "a JSON body is required"}]
    broken = httpx.post(probe.url + "/probe/events", content=b'{"aggregate": ', headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["detail"].startswith("The body is not valid JSON")


def test_the_openapi_document_is_the_contract(probe):
    from openapi_spec_validator import validate

    document = httpx.get(probe.url + "/schema/openapi.json").json()
    validate(document)
    assert document["components"]["securitySchemes"]["platformToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": document["components"]["securitySchemes"]["platformToken"]["description"],
    }
    events = document["paths"]["/probe/events"]["post"]
    assert events["security"] == []  # public
    assert set(events["responses"]) == {"201", "400", "413", "422"}  # 400: a body that is not JSON; no Litestar default error schema
    assert events["responses"]["422"]["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    me = document["paths"]["/probe/me"]["get"]
    assert me["security"] == [{"platformToken": []}] and {"401", "403"} <= set(me["responses"])
    assert "WWW-Authenticate" in me["responses"]["401"]["headers"]
    assert document["components"]["schemas"]["ProbeEvents"]["additionalProperties"] is False  # unknown fields are refused
    assert set(document["components"]["schemas"]["Problem"]["required"]) == {"title", "status"}
