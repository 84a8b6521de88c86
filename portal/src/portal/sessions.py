"""Server-side sessions in the portal's own PostgreSQL database.

The browser holds only a random secret in an `HttpOnly`, `SameSite=Lax` cookie; the platform
tokens, who is signed in, the CSRF token and what a person typed before their token expired live
here, so any replica serves any request and the portal keeps no per-request state in memory.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

COOKIE = "wse_portal_session"


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


@dataclass
class PortalSession:
    """One browser's session. `data` is what is stored; change it through the methods so the
    middleware knows to save it."""

    secret: str | None = None  # None: not stored yet (an anonymous visitor who never needed one)
    data: dict[str, Any] = field(default_factory=dict)
    modified: bool = False
    ended: bool = False
    old_secret: str | None = None  # set when the secret is renewed (sign-in), to delete the old row

    # ------------------------------------------------------------------ who
    @property
    def signed_in(self) -> bool:
        return bool(self.data.get("person_token"))

    @property
    def person(self) -> dict[str, Any]:
        person: dict[str, Any] = self.data.get("person") or {}
        return person

    @property
    def acting_for(self) -> dict[str, Any] | None:
        """The chosen tile: {"kind": "citizen"} or {"kind": "organisation", "organisation_id", "name", "role"}."""
        tile: dict[str, Any] | None = self.data.get("acting_for")
        return tile

    @property
    def organisation_id(self) -> str | None:
        tile = self.acting_for
        return str(tile["organisation_id"]) if tile and tile.get("organisation_id") else None

    def token(self) -> str | None:
        """The platform token for the chosen tile (the person's own before a choice)."""
        token: str | None = self.data.get("token") or self.data.get("person_token")
        return token

    def sign_in(self, *, person_token: str, expires_at: datetime, person: dict[str, Any]) -> None:
        """A new secret on sign-in (no session fixation); what was typed before it is kept."""
        kept = {k: self.data[k] for k in ("resume",) if k in self.data}
        self.renew()
        self.data = {
            **kept,
            "person_token": person_token,
            "token": None,
            "expires_at": expires_at.isoformat(),
            "person": person,
            "csrf": secrets.token_urlsafe(32),
        }
        self.modified = True

    def act_as(self, *, tile: dict[str, Any], token: str, expires_at: datetime) -> None:
        self.data["acting_for"] = tile
        self.data["token"] = token
        self.data["expires_at"] = expires_at.isoformat()
        self.modified = True

    def token_expired(self, now: datetime) -> bool:
        expires = self.data.get("expires_at")
        return expires is None or datetime.fromisoformat(expires) <= now

    def end(self) -> None:
        self.ended = True
        self.data = {}

    def renew(self) -> None:
        if self.secret is not None:
            self.old_secret = self.secret
        self.secret = secrets.token_urlsafe(32)

    # ------------------------------------------------------------------ forms
    def csrf_token(self) -> str:
        """The token every form carries (created, with the session, on the first form shown)."""
        token = self.data.get("csrf")
        if not token:
            token = self.data["csrf"] = secrets.token_urlsafe(32)
            self.modified = True
        return str(token)

    def flash(self, message: str, *, kind: str = "success") -> None:
        self.data.setdefault("flash", []).append({"kind": kind, "message": message})
        self.modified = True

    def take_flashes(self) -> list[dict[str, str]]:
        flashes: list[dict[str, str]] = self.data.pop("flash", [])
        if flashes:
            self.modified = True
        return flashes

    def keep_for_after_sign_in(self, *, path: str, form: dict[str, Any] | None) -> None:
        """The token expired while a step was posted: where to go back to, and what was typed."""
        self.data["resume"] = {"path": path, "form": form}
        self.modified = True

    def resume(self) -> dict[str, Any] | None:
        resume: dict[str, Any] | None = self.data.get("resume")
        return resume

    def take_resumed_form(self, path: str) -> dict[str, Any] | None:
        """What was typed on `path` before sign-in, once."""
        resume = self.data.get("resume")
        if resume and resume.get("path") == path:
            self.data.pop("resume")
            self.modified = True
            form: dict[str, Any] | None = resume.get("form")
            return form
        return None

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.modified = True

    def pop(self, key: str) -> Any:
        if key in self.data:
            self.modified = True
        return self.data.pop(key, None)


class SessionStore:
    def __init__(self, pool: asyncpg.Pool, *, idle: timedelta, maximum: timedelta) -> None:
        self.pool, self.idle, self.maximum = pool, idle, maximum

    async def load(self, secret: str | None) -> PortalSession:
        if not secret or len(secret) > 100:
            return PortalSession()
        row = await self.pool.fetchrow(
            "UPDATE sessions SET last_seen_at = now(), expires_at = least(created_at + $2::interval, now() + $3::interval) "
            "WHERE session_hash = $1 AND expires_at > now() RETURNING data",
            _hash(secret),
            self.maximum,
            self.idle,
        )
        if row is None:
            return PortalSession()
        return PortalSession(secret=secret, data=json.loads(row["data"]))

    async def save(self, session: PortalSession) -> None:
        async with self.pool.acquire() as connection, connection.transaction():
            if session.old_secret is not None:
                await connection.execute("DELETE FROM sessions WHERE session_hash = $1", _hash(session.old_secret))
            if session.ended:
                if session.secret is not None:
                    await connection.execute("DELETE FROM sessions WHERE session_hash = $1", _hash(session.secret))
                return
            if session.secret is None:
                session.secret = secrets.token_urlsafe(32)
            await connection.execute(
                "INSERT INTO sessions (session_hash, data, expires_at) VALUES ($1, $2::jsonb, now() + $3::interval) "
                "ON CONFLICT (session_hash) DO UPDATE SET data = EXCLUDED.data, last_seen_at = now()",
                _hash(session.secret),
                json.dumps(session.data),
                self.idle,
            )

    async def delete_expired(self) -> int:
        result: str = await self.pool.execute("DELETE FROM sessions WHERE expires_at <= now()")
        return int(result.split()[-1])


def now() -> datetime:
    return datetime.now(UTC)
