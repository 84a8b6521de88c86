"""A bulk file of attestations (A-2 to A-9): received whole, then stored in batches, with its
receipt and an email to the provider.

1. `open_receipt`: the receipt (kind bulk) first, status `processing`: every submission gets one.
2. `receive`: the upload streamed to disk as it arrives (never held in memory), through
   `attestation.bulk.Inspector`: size limit, SHA-256, UTF-8 over the whole file, the header line.
   The file waits encrypted (AES-CTR under a random key that lives only in the `Spool` object: a
   national register number never reaches the disk readable), and is unlinked from the start.
   Judging the encoding over the *whole* file before any row is stored is why it waits: a Latin-1
   byte on row 900,000 refuses the file as a whole as surely as one on row 2.
3. `ingest`: the rows read back, parsed (`rows.parse`) and stored in batches of
   `bulk_batch_rows`, each through `attest_batch` and `count_results` in a transaction of its own;
   then the receipt `done` with its counts and the email, in one transaction.

Refused as a whole (size, encoding, header): the receipt `rejected`, nothing else stored. Cut off
while arriving, or stopped while stored: the receipt `incomplete` (the whole batches stored stay,
the batch in hand never started its transaction), with the email saying to send the file again;
the same file again stores nothing twice (idempotent on the provider's reference) and completes it.
"""

from __future__ import annotations

import asyncio
import io
import os
import tempfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO
from uuid import UUID

import asyncpg
import structlog
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from attestation import bulk, rows
from attestation.domain import Kind, Outcome
from attestation.rows import Row
from attestation.use_cases.attest import Result, attest_batch
from attestation.use_cases.provider import RECEIPT_COLUMNS, count_results, new_receipt
from service_runtime import pii
from service_runtime.calendar import brussels_date
from service_runtime.errors import Violation
from service_runtime.outbox import publish_event
from service_runtime.projections import organisation
from wse_contracts.emails import AttestationBulkReceipt, email_request
from wse_contracts.notification import Recipient

log = structlog.get_logger(__name__)

SERVICE = "attestation"


# ------------------------------------------------------------------------------- the file on disk


class Spool:
    """The upload on disk while it is judged: an anonymous temporary file (unlinked at once, gone
    with the process), encrypted with AES-256-CTR under a key made here and never written."""

    def __init__(self, directory: str | None = None) -> None:
        self._file = tempfile.TemporaryFile(dir=directory or None, prefix="attestation-bulk-")  # noqa: SIM115  # closed by close()
        self._cipher = Cipher(algorithms.AES(os.urandom(32)), modes.CTR(os.urandom(16)))
        self._encryptor = self._cipher.encryptor()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(self._encryptor.update(chunk))
        self.size += len(chunk)

    def text(self) -> TextIO:
        """The file's text from the start (a UTF-8 BOM dropped), line by line."""
        self._file.flush()
        self._file.seek(0)
        raw = _Decrypting(self._file, self._cipher.decryptor())
        return io.TextIOWrapper(io.BufferedReader(raw, buffer_size=1 << 20), encoding="utf-8-sig", newline="")

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class _Decrypting(io.RawIOBase):
    def __init__(self, file: Any, decryptor: Any) -> None:
        self._file, self._decryptor = file, decryptor

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        read: int = self._file.readinto(buffer)
        if read:
            view = memoryview(buffer)[:read]
            view[:] = self._decryptor.update(view)
        return read


@dataclass(frozen=True, slots=True)
class Received:
    layout: bulk.Layout
    sha256: str
    size: int


async def receive(chunks: AsyncIterator[bytes], *, spool: Spool, format: bulk.Format, limit: int) -> Received:
    """The upload into `spool` as it arrives, judged on the way (bulk.Inspector): raises
    bulk.TooLarge past `limit`, bulk.FileRefused for an encoding or header problem; whatever the
    stream raises (the client went away) passes through."""
    inspector = bulk.Inspector(format, limit=limit)
    async for chunk in chunks:
        inspector.feed(chunk)
        spool.write(chunk)
    layout = inspector.finish()
    return Received(layout, inspector.sha256, inspector.size)


# ------------------------------------------------------------------------------- the receipt


async def open_receipt(connection: asyncpg.Connection, *, organisation_id: UUID, actor_id: UUID, filename: str | None, now: datetime) -> UUID:
    """A-9: the bulk file's receipt, `processing` until the file is stored."""
    return await new_receipt(connection, organisation_id=organisation_id, actor_id=actor_id, now=now, kind="bulk", filename=filename, status="processing")


async def reject(connection: asyncpg.Connection, *, receipt_id: UUID) -> None:
    """Refused as a whole (size, encoding, header): the answer says why; nothing else is stored."""
    await connection.execute("UPDATE receipts SET status = 'rejected' WHERE receipt_id = $1", receipt_id)


async def close(connection: asyncpg.Connection, *, organisation_id: UUID, receipt_id: UUID, status: str, sha256: str | None = None) -> dict[str, Any]:
    """The receipt `done` (or `incomplete`) with its counts, and the email to the provider's
    contact address with the summary (A-9), in the caller's transaction. Returns the receipt."""
    receipt = await connection.fetchrow(
        f"UPDATE receipts SET status = $2, sha256 = coalesce($3, sha256) WHERE receipt_id = $1 RETURNING {RECEIPT_COLUMNS}", receipt_id, status, sha256
    )
    found = await organisation(connection, organisation_id)
    if found is not None and found.contact_email:
        email = AttestationBulkReceipt(
            organisation_name=found.name,
            receipt_number=receipt["receipt_number"],
            filename=receipt["filename"],
            received_on=brussels_date(receipt["received_at"]),
            outcome="done" if status == "done" else "incomplete",
            rows_total=receipt["rows_total"],
            accepted=receipt["accepted"],
            held=receipt["held"],
            unchanged=receipt["unchanged"],
            refused=receipt["refused"],
        )
        await publish_event(
            connection,
            email_request(
                email,
                to=[Recipient(email=found.contact_email, name=found.name)],
                reference=receipt["receipt_number"],
                idempotency_key=f"{SERVICE}:{receipt_id}:bulk_receipt",
                requested_by=SERVICE,
            ),
        )
    return dict(receipt)


# ------------------------------------------------------------------------------- the rows


def batches(lines: Iterable[str], layout: bulk.Layout, size: int) -> Iterable[tuple[list[Row], list[Result]]]:
    """The file's rows, `size` at a time: those that parse, and the refused ones with their problems."""
    parsed: list[Row] = []
    refused: list[Result] = []
    parse = rows.parse
    for row_number, values in bulk.records(lines, layout):
        found: Row | list[Violation] = values if isinstance(values, list) else parse(values, row_number)
        if isinstance(found, list):
            refused.append(Result(row_number, Outcome.REFUSED, Kind.ENROLMENT, problems=found))
        else:
            parsed.append(found)
        if len(parsed) + len(refused) >= size:
            yield parsed, refused
            parsed, refused = [], []
    if parsed or refused:
        yield parsed, refused


async def ingest(
    connection: asyncpg.Connection,
    *,
    keys: pii.PiiKeys,
    organisation_id: UUID,
    receipt_id: UUID,
    spool: Spool,
    received: Received,
    batch_rows: int,
    now: datetime,
) -> dict[str, Any]:
    """The received file's rows stored in batches, each batch in a transaction of its own (run
    without one: `read_only=True`); then the receipt done and the email. Stopped halfway, the
    receipt says `incomplete` and the exception passes on."""
    await connection.execute("UPDATE receipts SET sha256 = $2 WHERE receipt_id = $1", receipt_id, received.sha256)
    try:
        with spool.text() as lines:
            for parsed, refused in batches(lines, received.layout, batch_rows):
                async with connection.transaction():
                    results = (
                        await attest_batch(connection, keys=keys, organisation_id=organisation_id, receipt_id=receipt_id, rows=parsed, now=now)
                        if parsed
                        else []
                    )
                    await count_results(connection, receipt_id, results + refused)
                await asyncio.sleep(0)  # let the process's other requests in between batches
    except BaseException:
        log.warning("bulk file stopped halfway: its receipt says incomplete", receipt_id=str(receipt_id))
        await asyncio.shield(_incomplete(connection, organisation_id=organisation_id, receipt_id=receipt_id))
        raise
    async with connection.transaction():
        return await close(connection, organisation_id=organisation_id, receipt_id=receipt_id, status="done")


async def _incomplete(connection: asyncpg.Connection, *, organisation_id: UUID, receipt_id: UUID) -> None:
    try:
        async with connection.transaction():
            await close(connection, organisation_id=organisation_id, receipt_id=receipt_id, status="incomplete")
    except Exception:
        log.exception("the receipt of a bulk file stopped halfway could not be marked incomplete", receipt_id=str(receipt_id))


async def cut_off(connection: asyncpg.Connection, *, organisation_id: UUID, receipt_id: UUID) -> None:
    """The upload ended before the whole file arrived: nothing of it was stored; the receipt says
    `incomplete` and the email says to send it again."""
    await close(connection, organisation_id=organisation_id, receipt_id=receipt_id, status="incomplete")
