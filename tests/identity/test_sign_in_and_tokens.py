"""Sign-in with a choice of organisation (ID-10) and the platform's tokens and keys."""

from __future__ import annotations

import json
import time
from datetime import date
from uuid import UUID

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

from tests.identity.conftest import IdentityProcess, national_register_number, sign_in
from tests.platform.helpers import new_database, serve_jwks

pytestmark = pytest.mark.slow


def test_id_10_tiles_are_oneself_and_every_organisation_and_acting_for_one_needs_a_membership(world):
    organisation_id, head = world.organisation_with_head("Tegelcentrum", "Tine", sequence=201)
    other = world.organisation("Niet de mijne")
    me = sign_in(world.url, national_register_number(date(1980, 1, 1 + 201 % 28), 201))
    tiles = me.get("/v1/me").json()
    assert [(t["kind"], t["name"]) for t in tiles["tiles"]] == [("citizen", "Tine Peeters"), ("organisation", "Tegelcentrum")]
    assert tiles["message"] is None
    refused = me.post("/v1/me/organisation", {"organisation_id": str(other)})
    assert refused.status_code == 403
    acting = me.act_for(organisation_id)
    claims = jwt.decode(acting.token, options={"verify_signature": False})
    assert claims["org"] == str(organisation_id)


def test_id_10_without_membership_only_the_citizen_tile_with_whom_to_contact(world):
    person = world.register_person(world.operator, born=date(1970, 3, 3), sequence=203, first_name="Karel")
    me = sign_in(world.url, national_register_number(date(1970, 3, 3), 203)).get("/v1/me").json()
    assert [t["kind"] for t in me["tiles"]] == ["citizen"]
    assert "lokale beheerder" in me["message"]
    assert me["person_id"] == str(person)


def test_platform_tokens_are_eddsa_with_a_key_id_and_live_at_most_15_minutes_and_the_jwks_publishes_the_key(world):
    token = world.operator.token
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "EdDSA" and header["kid"]
    assert claims["exp"] - claims["iat"] <= 15 * 60
    assert claims["aud"] == "wse-platform"
    keys = httpx.get(world.url + "/.well-known/jwks.json").json()["keys"]
    key = next(k for k in keys if k["kid"] == header["kid"])
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and "d" not in key  # public only
    jwt.decode(token, jwt.PyJWK(key).key, algorithms=["EdDSA"], audience="wse-platform")


@pytest.mark.parametrize("tamper", ["expired", "foreign", "forged", "garbage"])
def test_an_expired_foreign_or_forged_proof_gives_401(world, tamper):
    number = "85073003328"
    if tamper == "garbage":
        proof = "not-a-jwt"
    else:
        key = generate_private_key(SECP256R1())
        now = int(time.time())
        claims = {
            "iss": "wse-development-identity-provider",
            "aud": "wse-identity",
            "sub": "x",
            "national_register_number": number,
            "iat": now - 600,
            "exp": now - 300 if tamper == "expired" else now + 300,
        }
        if tamper == "foreign":
            claims["iss"] = "https://elsewhere.example"
        if tamper == "expired":
            good = httpx.post(world.url + "/v1/dev-idp/proofs", json={"national_register_number": number}).json()["proof"]
            header = jwt.get_unverified_header(good)
            claims["iss"] = "wse-development-identity-provider"
            proof = jwt.encode(claims, key, algorithm="ES256", headers={"kid": header["kid"]})  # the right kid, the wrong key
        else:
            proof = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "someone-else"})
    response = httpx.post(world.url + "/v1/sign-in", json={"proof": proof})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_a_token_signed_by_another_key_or_expired_is_refused_by_the_service(world):
    key = generate_private_key(SECP256R1())
    now = int(time.time())
    forged = jwt.encode(
        {"iss": "wse-identity", "aud": "wse-platform", "sub": str(world.operator.person_id), "iat": now, "exp": now + 60},
        key,
        algorithm="ES256",
        headers={"kid": jwt.get_unverified_header(world.operator.token)["kid"]},
    )
    assert httpx.get(world.url + "/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


async def test_key_rotation_keeps_old_tokens_valid_and_publishes_both_keys(world):
    old_token = world.operator.token
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    rotated = world.identity.cli("rotate-keys")
    assert rotated.returncode == 0, rotated.stderr
    new_kid = rotated.stdout.strip().splitlines()[-1]
    kids = {k["kid"] for k in httpx.get(world.url + "/.well-known/jwks.json").json()["keys"]}
    assert {old_kid, new_kid} <= kids  # both published during the change
    assert world.operator.get("/v1/me").status_code == 200  # the old token still works
    # Within the cache time (30 s) every replica signs with the new key; this one is asked directly.
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        fresh = world.operator.act_for(world.department_id)
        if jwt.get_unverified_header(fresh.token)["kid"] == new_kid:
            break
        time.sleep(1)
    else:
        raise AssertionError("the new key never signed")
    assert fresh.get("/v1/me").status_code == 200


@pytest.fixture
def external_provider():
    """A second key pair standing in for the government's OpenID Connect provider."""
    key = generate_private_key(SECP256R1())
    jwk = {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key())), "kid": "acm-idm-1", "use": "sig", "alg": "ES256"}
    with serve_jwks([jwk]) as url:
        yield key, url


async def test_sign_in_with_an_external_openid_connect_provider_and_the_development_provider_off(stack, tmp_path, external_provider):
    key, jwks_url = external_provider
    identity = IdentityProcess(
        stack,
        await new_database(stack, "identity_oidc"),
        tmp_path / "identity.log",
        IDENTITY_IDENTITY_PROVIDER_ISSUER="https://authenticatie.vlaanderen.example",
        IDENTITY_IDENTITY_PROVIDER_AUDIENCE="wse-platform-client",
        IDENTITY_IDENTITY_PROVIDER_JWKS_URL=jwks_url,
        IDENTITY_DEVELOPMENT_IDENTITY_PROVIDER="false",
    )
    number = national_register_number(date(1988, 8, 8), 301)
    result = identity.cli(
        "bootstrap",
        "--national-register-number",
        number,
        "--first-name",
        "Ilse",
        "--last-name",
        "Idp",
        "--email",
        "ilse@wse.example",
        "--date-of-birth",
        "1988-08-08",
    )
    assert result.returncode == 0, result.stderr
    identity.start()
    try:
        assert httpx.post(identity.url + "/v1/dev-idp/proofs", json={"national_register_number": number}).status_code == 404
        now = int(time.time())
        proof = jwt.encode(
            {
                "iss": "https://authenticatie.vlaanderen.example",
                "aud": "wse-platform-client",
                "sub": "acm-123",
                "national_register_number": number,
                "iat": now,
                "exp": now + 120,
            },
            key,
            algorithm="ES256",
            headers={"kid": "acm-idm-1"},
        )
        response = httpx.post(identity.url + "/v1/sign-in", json={"proof": proof})
        assert response.status_code == 200, response.text
        me = httpx.get(identity.url + "/v1/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}).json()
        assert UUID(me["person_id"]) and me["tiles"][0]["name"] == "Ilse Idp"
    finally:
        identity.stop()


def test_sign_in_refusals_have_a_constant_title_and_the_explanation_in_detail(world):
    """One problem shape: `title` the same for every problem of a status, `detail` this one's
    explanation (in Dutch where a person reads it)."""
    unknown = national_register_number(date(1966, 6, 16), 211)  # valid, but nobody registered it
    proof = httpx.post(world.url + "/v1/dev-idp/proofs", json={"national_register_number": unknown}).json()["proof"]
    not_known = httpx.post(world.url + "/v1/sign-in", json={"proof": proof})
    assert not_known.status_code == 403
    assert not_known.json()["title"] == "Forbidden" and "nog niet gekend" in not_known.json()["detail"]
    assert unknown not in not_known.text
    forged = httpx.post(world.url + "/v1/sign-in", json={"proof": "not-a-jwt"})
    assert forged.status_code == 401 and forged.json()["title"] == "Not signed in" and forged.json()["detail"].startswith("The proof of identity is not valid")
    assert forged.headers["www-authenticate"].startswith("Bearer ")
