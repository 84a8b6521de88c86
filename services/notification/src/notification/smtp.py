"""Sending over SMTP with aiosmtplib: a few connections, each reused for every message (reopened when
the server dropped it), STARTTLS and authentication as configured, and a rate limit.

The SMTP server's answer decides what happens next: 2xx delivered; 4xx, a dropped connection or a
timeout is temporary (retried with backoff, up to a bound); 5xx is permanent (not retried).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiosmtplib
import structlog

from notification.mime import Email

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


# Answers about the session, not the email: the service is closing (421), or it wants
# authentication or encryption we did not give (530, 534, 535, 538). Our configuration or the
# server's state, so they are retried like an unreachable server, never a permanent failure.
SESSION_REFUSALS = frozenset({421, 530, 534, 535, 538})


class ServerUnreachable(TemporaryFailure):
    """No conversation with the server about this email (refused, timed out, dropped, or the
    session itself refused): the rest of a batch is not tried against it, so a server that is
    down costs one timeout per connection, not one per email. Not the email's fault, so it does
    not count toward the email's attempts."""


def _close_quietly(client: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(Exception):  # closing a broken session must not hide why it broke
        client.close()


class _Connection:
    """One SMTP session, opened when first needed and reused for every message after that."""

    def __init__(self, sender: SmtpSender) -> None:
        self._sender = sender
        self._client: aiosmtplib.SMTP | None = None

    async def _session(self) -> tuple[aiosmtplib.SMTP, bool]:
        """The session, and whether it was already open (a reused one may have been closed by the
        server in the meantime); ServerUnreachable when none can be opened."""
        if self._client is not None and self._client.is_connected:
            return self._client, True
        s = self._sender
        client = aiosmtplib.SMTP(hostname=s.host, port=s.port, use_tls=s.use_tls, start_tls=s.starttls, timeout=s.timeout, cert_bundle=s.ca_file)
        try:
            await client.connect()
            if s.username:
                await client.login(s.username, s.password or "")
        except aiosmtplib.SMTPResponseException as error:
            # Refused at greeting, STARTTLS or login: our side or the server's, never the email's,
            # so it is retried (and logged for the operator), not failed for good.
            _close_quietly(client)
            log.error("the SMTP server refused the session", code=error.code, answer=error.message)
            raise ServerUnreachable(f"{error.code} {error.message}") from None
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as error:
            _close_quietly(client)
            raise ServerUnreachable(f"{type(error).__name__}: {error}") from None
        self._client = client
        return client, False

    async def send(self, email: Email) -> str:
        """The server's answer when it accepted the message; TemporaryFailure or PermanentFailure."""
        client, reused = await self._session()
        try:
            return await self._send_on(client, email)
        except aiosmtplib.SMTPServerDisconnected:
            self.drop()
            if not reused:
                raise ServerUnreachable("the server closed the connection") from None
        # The server had closed an idle session: once more on a fresh one.
        client, _ = await self._session()
        try:
            return await self._send_on(client, email)
        except aiosmtplib.SMTPServerDisconnected:
            self.drop()
            raise ServerUnreachable("the server closed the connection") from None

    async def _send_on(self, client: aiosmtplib.SMTP, email: Email) -> str:
        try:
            _errors, answer = await client.sendmail(email.mail_from, [email.recipient], email.data)
        except aiosmtplib.SMTPServerDisconnected:
            raise
        except aiosmtplib.SMTPSenderRefused as error:
            # MAIL FROM refused: our sender address or the relay's rules for it, never the email's.
            self.drop()
            log.error("the SMTP server refused our sender", code=error.code, answer=error.message, sender=error.sender)
            raise ServerUnreachable(f"{error.code} {error.message}") from None
        except aiosmtplib.SMTPRecipientsRefused as error:
            text = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
            if any(r.code in SESSION_REFUSALS for r in error.recipients):
                self.drop()
                log.error("the SMTP server refused the session", answer=text)
                raise ServerUnreachable(text) from None
            await self._reset_after_error()
            if all(r.code >= 500 for r in error.recipients):
                raise PermanentFailure(text) from None
            raise TemporaryFailure(text) from None
        except aiosmtplib.SMTPResponseException as error:
            text = f"{error.code} {error.message}"
            if error.code in SESSION_REFUSALS:
                self.drop()
                log.error("the SMTP server refused the session", code=error.code, answer=error.message)
                raise ServerUnreachable(text) from None
            await self._reset_after_error()
            if error.code >= 500:
                raise PermanentFailure(text) from None
            raise TemporaryFailure(text) from None
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as error:
            self.drop()
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from None
        return f"250 {answer}"  # sendmail gives the text of the reply to the message; its code is 250

    async def _reset_after_error(self) -> None:
        # After a refused command the session can go on; RSET makes sure it starts clean.
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.rset()
            except Exception:
                self.drop()

    def drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            _close_quietly(client)

    async def close(self) -> None:
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.quit()
            except Exception:
                pass
        self._client = None


class SmtpSender:
    """A few SMTP sessions, each reused for every message it sends; a batch of emails is spread
    over them. One session waits for the server's reply to each command (MAIL, RCPT, DATA, the
    message), so throughput comes from sending on several at once."""

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
        connections: int = 4,
        ca_file: str | None = None,
    ) -> None:
        self.host, self.port, self.username, self.password = host, port, username, password
        self.ca_file = ca_file  # trust this CA for the server's certificate (an internal relay), beside the system's
        self.starttls, self.use_tls, self.timeout = starttls, use_tls, timeout
        self._rate = RateLimit(rate_per_second)
        self._connections = [_Connection(self) for _ in range(max(1, connections))]
        self._lock = asyncio.Lock()  # one batch at a time owns the sessions

    async def send_all(self, emails: list[Email], *, within_seconds: float | None = None) -> list[str | TemporaryFailure | PermanentFailure]:
        """Each email's outcome, in order: the server's answer, or the failure. No send starts
        after `within_seconds` (a slow server or a tight rate limit must not keep a batch past its
        lease, or another replica would send it again); those come back as not tried."""
        results: list[str | TemporaryFailure | PermanentFailure | None] = [None] * len(emails)
        pending = iter(range(len(emails)))  # shared by the sessions: each email is taken once
        unreachable: str | None = None
        deadline = time.monotonic() + within_seconds if within_seconds is not None else None

        async def work(connection: _Connection) -> None:
            nonlocal unreachable
            for index in pending:
                if unreachable is not None:
                    results[index] = ServerUnreachable(f"not tried, the server was unreachable: {unreachable}")
                    continue
                await self._rate.wait()
                if deadline is not None and time.monotonic() > deadline:
                    results[index] = ServerUnreachable("not tried, the batch ran out of time")
                    continue
                try:
                    results[index] = await connection.send(emails[index])
                except ServerUnreachable as failure:
                    unreachable = failure.answer
                    results[index] = failure
                except (TemporaryFailure, PermanentFailure) as failure:
                    results[index] = failure
                except Exception as error:
                    connection.drop()
                    log.exception("unexpected error while sending")
                    results[index] = TemporaryFailure(f"{type(error).__name__}: {error}")

        async with self._lock:
            await asyncio.gather(*(work(c) for c in self._connections[: len(emails)]))
        return [result if result is not None else TemporaryFailure("not tried") for result in results]  # every index was taken by one session

    async def close(self) -> None:
        for connection in self._connections:
            await connection.close()
