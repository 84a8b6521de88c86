"""The token verifier remembers a verified token only until it expires."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service_runtime import auth
from service_runtime.auth import InvalidToken, TokenVerifier


class OneKey:
    def __init__(self, key):
        self.public = key.public_key()
        self.lookups = 0

    async def key(self, kid):
        self.lookups += 1
        if kid != "k1":
            raise InvalidToken("unknown")
        return self.public


async def test_a_verified_token_is_remembered_until_its_expiry_and_refused_after(monkeypatch):
    private = Ed25519PrivateKey.generate()
    keys = OneKey(private)
    verifier = TokenVerifier(keys, issuer="wse-identity", audience="wse-platform")
    now = int(time.time())
    person = uuid.uuid4()
    token = jwt.encode(
        {"iss": "wse-identity", "aud": "wse-platform", "sub": str(person), "iat": now, "exp": now + 60}, private, algorithm="EdDSA", headers={"kid": "k1"}
    )
    assert (await verifier.verify(token)).person_id == person
    assert (await verifier.verify(token)).person_id == person
    assert keys.lookups == 1  # the second time came from memory

    monkeypatch.setattr(auth.time, "time", lambda: now + 61)
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(token)  # remembered, but not past its expiry
