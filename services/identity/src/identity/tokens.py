"""Platform tokens: Ed25519-signed JWTs that name a person and the organisation they act for.

- The signing keys live in this service's database, so every replica signs with the same key
  and publishes the same JWKS. A rotation adds a new key and retires the old one; the old key
  stays published until the last token it signed has expired, so nobody is signed out.
- Sign-in exchanges a proof of identity from the identity provider (an ID token with the
  national register number) for a platform token. In production the settings name the external
  OpenID Connect issuer and its JWKS; for local runs and tests the development provider below
  signs proofs for any national register number.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service_runtime.auth import InvalidToken, KeySource, verified_claims

ACCESS_TOKEN_MAX_SECONDS = 15 * 60  # never longer, whatever the settings say
PROOF_SECONDS = 5 * 60


def _new_key() -> tuple[str, str, dict[str, Any]]:
    private = Ed25519PrivateKey.generate()
    kid = f"wse-{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:8]}"
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    public_jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private.public_key()))
    return kid, pem, {**public_jwk, "kid": kid, "use": "sig", "alg": "EdDSA"}


async def _insert_key(connection: asyncpg.Connection, table: str) -> str:
    kid, pem, public_jwk = _new_key()
    await connection.execute(f"INSERT INTO {table} (kid, private_key_pem, public_jwk) VALUES ($1, $2, $3)", kid, pem, public_jwk)
    return kid


async def rotate_signing_key(connection: asyncpg.Connection, *, table: str = "signing_keys") -> str:
    """In the caller's transaction: retire the signing key(s) and add a new one; returns its key id.
    Every replica picks it up within its cache time; the retired keys stay published until the
    tokens they signed have expired."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", table)
    await connection.execute(f"UPDATE {table} SET retired_at = now() WHERE retired_at IS NULL")
    return await _insert_key(connection, table)


@dataclass(frozen=True)
class _ActiveKey:
    kid: str
    private_key: Any
    loaded_at: float


class SigningKeys(KeySource):
    """Keys from the `signing_keys` table; the active one is cached for a short while, so a
    rotation reaches every replica within `cache_seconds` (the old key still verifies meanwhile)."""

    def __init__(self, pool_getter, *, table: str = "signing_keys", cache_seconds: float = 30.0) -> None:
        self._pool_getter = pool_getter
        self._table = table
        self._cache_seconds = cache_seconds
        self._active: _ActiveKey | None = None
        self._public: dict[str, Any] = {}
        self._lock = asyncio.Lock()

    @property
    def _pool(self) -> asyncpg.Pool:
        return self._pool_getter()

    async def ensure_key(self) -> None:
        """At start: make sure one key signs (two replicas starting together make one)."""
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", self._table)
            if not await connection.fetchval(f"SELECT count(*) FROM {self._table} WHERE retired_at IS NULL"):
                await _insert_key(connection, self._table)

    async def active(self) -> _ActiveKey:
        active = self._active
        if active is None or time.monotonic() - active.loaded_at > self._cache_seconds:
            async with self._lock:
                async with self._pool.acquire() as connection:
                    row = await connection.fetchrow(f"SELECT kid, private_key_pem FROM {self._table} WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1")
                if row is None:
                    raise RuntimeError("no signing key: the service did not start properly")
                active = _ActiveKey(row["kid"], serialization.load_pem_private_key(row["private_key_pem"].encode(), None), time.monotonic())
                self._active = active
        return active

    async def published(self) -> list[dict[str, Any]]:
        """The JWKS: the signing key and the retired ones whose tokens may still be in use."""
        async with self._pool.acquire() as connection:
            rows = await connection.fetch(
                f"SELECT public_jwk FROM {self._table} WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1) ORDER BY created_at DESC",
                float(ACCESS_TOKEN_MAX_SECONDS + 60),
            )
        return [row["public_jwk"] for row in rows]

    async def key(self, kid: str) -> Any:
        if kid not in self._public:
            for public_jwk in await self.published():
                self._public[public_jwk["kid"]] = jwt.PyJWK(public_jwk).key
        try:
            return self._public[kid]
        except KeyError:
            raise InvalidToken(f"unknown signing key {kid!r}") from None

    async def sign(self, claims: dict[str, Any], *, typ: str = "JWT") -> str:
        active = await self.active()
        return jwt.encode(claims, active.private_key, algorithm="EdDSA", headers={"kid": active.kid, "typ": typ})


async def issue_access_token(
    keys: SigningKeys, *, person_id: UUID, organisation_id: UUID | None, issuer: str, audience: str, lifetime_seconds: int
) -> tuple[str, int]:
    lifetime = min(lifetime_seconds, ACCESS_TOKEN_MAX_SECONDS)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": str(person_id),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    if organisation_id is not None:
        claims["org"] = str(organisation_id)
    return await keys.sign(claims, typ="at+jwt"), lifetime


# ------------------------------------------------------------------------------- proofs from the identity provider


class ProofVerifier:
    """Checks the identity provider's proof (an OIDC ID token) with the provider's keys."""

    def __init__(self, keys: KeySource, *, issuer: str, audience: str) -> None:
        self._keys, self._issuer, self._audience = keys, issuer, audience

    async def national_register_number(self, proof: str) -> str:
        claims = await verified_claims(proof, self._keys, issuer=self._issuer, audience=self._audience, required=["exp", "iat", "iss", "aud", "sub"])
        number = claims.get("national_register_number")
        if not isinstance(number, str):
            raise InvalidToken("the proof names no national register number")
        return number


async def sign_development_proof(keys: SigningKeys, *, national_register_number: str, issuer: str, audience: str) -> str:
    """What the development identity provider hands out: never enabled in production."""
    now = int(time.time())
    return await keys.sign(
        {
            "iss": issuer,
            "aud": audience,
            "sub": uuid.uuid5(uuid.NAMESPACE_OID, national_register_number).hex,
            "national_register_number": national_register_number,
            "iat": now,
            "exp": now + PROOF_SECONDS,
        }
    )
