"""Sending over SMTP with aiosmtplib: one connection reused for every message (reconnected when the
server dropped it), STARTTLS and authentication as configured, and a rate limit.

The SMTP server's answer decides what happens next: 2xx delivered; 4xx, a dropped connection or a
timeout is temporary (retried with backoff, up to a bound); 5xx is permanent (not retried).
"""

from __future__ import annotations

import asyncio
import time
from email.message import EmailMessage

import aiosmtplib
import structlog

log = structlog.get_logger(__name__)


class TemporaryFailure(Exception):
    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


class PermanentFailure(Exception):
    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


class RateLimit:
    """At most `per_second` sends per second, spread evenly (no bursts that a relay would refuse)."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self._interval:
            return
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(self._next, now) + self._interval


class SmtpSender:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        use_tls: bool = False,
        timeout: float = 10.0,
        rate_per_second: float = 0.0,
    ) -> None:
        self._host, self._port, self._username, self._password = host, port, username, password
        self._starttls, self._use_tls, self._timeout = starttls, use_tls, timeout
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()  # one conversation at a time on the shared connection
        self._rate = RateLimit(rate_per_second)

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        client = aiosmtplib.SMTP(
            hostname=self._host, port=self._port, use_tls=self._use_tls, start_tls=self._starttls, timeout=self._timeout
        )
        await client.connect()
        if self._username:
            await client.login(self._username, self._password or "")
        self._client = client
        return client

    async def send(self, message: EmailMessage) -> str:
        """The server's answer when it accepted the message; TemporaryFailure or PermanentFailure."""
        await self._rate.wait()
        async with self._lock:
            try:
                client = await self._connected()
                errors, answer = await client.send_message(message)
            except aiosmtplib.SMTPRecipientsRefused as error:
                codes = [r.code for r in error.recipients]
                text = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
                if all(code >= 500 for code in codes):
                    raise PermanentFailure(text) from None
                raise TemporaryFailure(text) from None
            except aiosmtplib.SMTPResponseException as error:
                text = f"{error.code} {error.message}"
                await self._reset_after_error()
                if error.code >= 500:
                    raise PermanentFailure(text) from None
                raise TemporaryFailure(text) from None
            except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as error:
                await self._drop()
                raise TemporaryFailure(f"{type(error).__name__}: {error}") from None
            return str(answer)

    async def _reset_after_error(self) -> None:
        # After a refused DATA the session can go on; RSET makes sure it starts clean.
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.rset()
            except Exception:  # noqa: BLE001 - a broken session is dropped and reconnected next time
                await self._drop()

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001
                pass

    async def close(self) -> None:
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.quit()
            except Exception:  # noqa: BLE001
                pass
        self._client = None
