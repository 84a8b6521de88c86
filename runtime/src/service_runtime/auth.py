"""Platform tokens and the access rules routes declare.

The identity service signs short-lived tokens (JWT) and publishes its keys as a JWKS; every
service verifies tokens with those keys (cached, refreshed when a token names an unknown key),
and answers "does this person hold role R in context C for organisation O today" from its own
projection of identity's rights events, without calling identity.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import httpx
import jwt
import structlog

log = structlog.get_logger(__name__)


class InvalidToken(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Principal:
    person_id: UUID
    organisation_id: UUID | None  # None: acting as a citizen, for oneself
    token_id: str | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts in a use case: a person, the organisation they chose to act for (ID-10), if any,
    and the day (in Brussels, on the runtime's clock) by which their rights are judged."""

    person_id: UUID
    acting_for: UUID | None
    today: date


class KeySource(Protocol):
    async def key(self, kid: str) -> Any:
        """The public key with that key id; InvalidToken if there is none."""


class JwksKeys:
    """The identity service's public keys, fetched over HTTP and cached."""

    def __init__(self, url: str, *, cache_seconds: int = 300, min_refresh_seconds: float = 10.0) -> None:
        self._url = url
        self._cache_seconds = cache_seconds
        self._min_refresh_seconds = min_refresh_seconds
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> Any:
        if kid not in self._keys or time.monotonic() - self._fetched_at > self._cache_seconds:
            await self._refresh(force=kid not in self._keys)
        try:
            return self._keys[kid]
        except KeyError:
            raise InvalidToken(f"unknown signing key {kid!r}") from None

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            # An unknown kid may be a rotated key: refresh, but not more often than
            # min_refresh_seconds, so tokens with made-up kids cannot hammer identity.
            if time.monotonic() - self._fetched_at < self._min_refresh_seconds and (self._keys or not force):
                return
            # A failed attempt counts as an attempt: while identity is unreachable, requests keep
            # the keys they have instead of each waiting for a fetch that will time out.
            self._fetched_at = time.monotonic()
            try:
                async with httpx.AsyncClient(timeout=5.0) as client:
                    response = await client.get(self._url)
                    response.raise_for_status()
                    document = response.json()
            except (httpx.HTTPError, ValueError) as error:
                log.warning("could not fetch signing keys", url=self._url, error=repr(error))
                if not self._keys:
                    raise InvalidToken("signing keys unavailable") from error
                return
            keys = {}
            for jwk in document.get("keys", []) if isinstance(document, dict) else []:
                try:
                    keys[jwk["kid"]] = jwt.PyJWK(jwk).key
                except (KeyError, TypeError, jwt.PyJWKError) as error:  # one odd key must not break the others
                    log.warning("ignored a published key", error=repr(error))
            self._keys = keys


def _algorithm_for(key: Any) -> str:
    """The one algorithm a key may verify: taken from the key, never from the token's header
    (a token that names another algorithm than its key is refused)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ES256"
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    raise InvalidToken("unsupported key type")


async def verified_claims(token: str, keys: KeySource, *, issuer: str, audience: str, required: list[str]) -> dict[str, Any]:
    """The claims of a signed JWT from a known key, issuer and audience; InvalidToken otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidToken(f"malformed token: {error}") from error
    if header.get("typ") not in (None, "JWT", "at+jwt"):
        raise InvalidToken("not an access token")
    key = await keys.key(str(header.get("kid")))
    algorithm = _algorithm_for(key)
    if header.get("alg") != algorithm:
        raise InvalidToken("the token's algorithm does not match its key")  # never "none", never HS* with a public key
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=issuer,
            audience=audience,
            options={"require": required},
            leeway=5,
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error


class TokenVerifier:
    """Verifies platform tokens; a token already verified is remembered until it expires.

    A portal sends the same token with every request for up to 15 minutes, and the signature
    check is most of the cost of an authorised request. A token cannot change, so the outcome
    of its check cannot either; only its expiry is checked again.
    """

    def __init__(self, keys: KeySource, *, issuer: str, audience: str, cache_size: int = 10_000) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = cache_size

    async def verify(self, token: str) -> Principal:
        cached = self._cache.get(token)
        if cached is not None:
            principal, expires_at = cached
            if time.time() < expires_at:
                self._cache.move_to_end(token)
                return principal
            del self._cache[token]
            raise InvalidToken("Signature has expired")
        claims = await verified_claims(token, self._keys, issuer=self._issuer, audience=self._audience, required=["exp", "iat", "sub", "iss", "aud"])
        try:
            principal = Principal(
                person_id=UUID(claims["sub"]),
                organisation_id=UUID(claims["org"]) if claims.get("org") else None,
                token_id=claims.get("jti"),
            )
            expires_at = float(claims["exp"])
        except (ValueError, TypeError) as error:
            raise InvalidToken(f"malformed claims: {error}") from error
        self._cache[token] = (principal, expires_at)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal


async def holds_right(
    connection: asyncpg.Connection,
    *,
    person_id: UUID,
    organisation_id: UUID,
    role: str,
    context: str,
    on: date,
) -> bool:
    """Whether the person holds role@context for the organisation on that day (rule ID-6, ID-14):
    a right outside its validity period grants nothing, without any job having to run."""
    return bool(
        await connection.fetchval(
            """
            SELECT EXISTS (
                SELECT 1 FROM rights_projection
                WHERE person_id = $1 AND organisation_id = $2 AND role = $3 AND context = $4
                  AND revoked_at IS NULL AND valid_from <= $5 AND (valid_until IS NULL OR valid_until >= $5)
            )
            """,
            person_id,
            organisation_id,
            role,
            context,
            on,
        )
    )
