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
   `bulk_batch_rows`, each checked and written as `attest_batch` does it (read_known, decide,
   write_plan) with `count_results`, in a transaction of its own; then the receipt `done` with its
   counts and the email, in one transaction.

Refused as a whole (size, encoding, header): the receipt `rejected`, nothing else stored. Cut off
while arriving, or stopped while stored: the receipt `incomplete` (the whole batches stored stay,
the batch in hand never started its transaction), with the email saying to send the file again;
the same file again stores nothing twice (idempotent on the provider's reference) and completes it.
"""

from __future__ import annotations

import asyncio
import gc
import io
import os
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
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
from attestation.use_cases.attest import Plan, Result, decide, new_outbox, prepare_students, read_known, write_plan
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


def batches(lines: Iterable[str], layout: bulk.Layout, size: int) -> Iterator[tuple[list[Row], list[Result]]]:
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


YIELD_EVERY = 250  # rows read between turns of the event loop


async def _batches(lines: Iterable[str], layout: bulk.Layout, size: int, keys: pii.PiiKeys) -> AsyncIterator[tuple[list[Row], list[Result], dict[str, Any]]]:
    """`batches` with their students prepared (attest.prepare_students: the keyed hashes and the
    encryption), giving the event loop a turn every YIELD_EVERY rows: the batch before, being
    stored meanwhile, goes on between them (its statements), and so do other requests."""
    chunk = max(1, min(size, YIELD_EVERY))
    parsed: list[Row] = []
    refused: list[Result] = []
    students: dict[str, Any] = {}
    for part_parsed, part_refused in batches(lines, layout, chunk):
        prepare_students(keys, part_parsed, students)
        parsed += part_parsed
        refused += part_refused
        if len(parsed) + len(refused) >= size:
            yield parsed, refused, students
            parsed, refused, students = [], [], {}
        await asyncio.sleep(0)
    if parsed or refused:
        yield parsed, refused, students


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
    receipt says `incomplete` and the exception passes on.

    Three batches are in hand at a time, on the one connection: batch k is written and committed
    (PostgreSQL's work) while batch k+1 is decided in Python (attest.decide: every rule) and batch
    k+2 is read from the file and parsed. Batch k+1 reads what it is checked against before batch
    k commits, with what batch k will have stored laid over it (`Plan.overlay`), so it decides as
    it would after the commit: an attendance on an enrolment of the batch before is found. It is
    written only once batch k committed; if that fails, nothing of batch k+1 is written."""

    async def store(plan: Plan, refused: list[Result]) -> None:
        async with connection.transaction():
            await write_plan(connection, plan)
            await count_results(connection, receipt_id, plan.results + refused)

    await connection.execute("UPDATE receipts SET sha256 = $2 WHERE receipt_id = $1", receipt_id, received.sha256)
    try:
        with spool.text() as lines, _fewer_collections():
            decided: tuple[Plan, list[Result]] | None = None  # batch k, to write
            writing: asyncio.Task[None] | None = None  # batch k-1, being written
            try:
                async for parsed, refused, students in _batches(lines, received.layout, batch_rows, keys):
                    if writing is not None:
                        await writing  # batch k-1 committed
                        writing = None
                    known = await read_known(connection, organisation_id=organisation_id, rows=parsed, before=decided[0] if decided else None)
                    if decided is not None:
                        writing = asyncio.create_task(store(*decided))
                    plan = await decide(
                        keys=keys, organisation_id=organisation_id, receipt_id=receipt_id, rows=parsed, now=now, known=known, students=students,
                        outbox=new_outbox(connection),
                    )  # fmt: skip
                    decided = (plan, refused)
                if writing is not None:
                    await writing
                    writing = None
                if decided is not None:
                    await store(*decided)
            finally:
                if writing is not None and not writing.done():
                    await asyncio.wait([writing])  # its batch whole, or not at all, before the receipt is marked
    except BaseException:
        log.warning("bulk file stopped halfway: its receipt says incomplete", receipt_id=str(receipt_id))
        await asyncio.shield(_incomplete(connection, organisation_id=organisation_id, receipt_id=receipt_id))
        raise
    async with connection.transaction():
        return await close(connection, organisation_id=organisation_id, receipt_id=receipt_id, status="done")


GC_THRESHOLD = 50_000
_storing = 0
_thresholds = gc.get_threshold()


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """While files are stored, the cyclic garbage collector looks at its youngest objects every
    50,000 new containers instead of every 700: a batch makes some thirty per row (values, rows,
    results, records), nearly all freed by reference counting as soon as the batch is written,
    and collecting them every few rows cost a third of the ingest's CPU. Process-wide, back to
    what it was when the last file in progress is done."""
    global _storing, _thresholds
    if _storing == 0:
        _thresholds = gc.get_threshold()
        gc.set_threshold(max(GC_THRESHOLD, _thresholds[0]), *_thresholds[1:])
    _storing += 1
    try:
        yield
    finally:
        _storing -= 1
        if _storing == 0:
            gc.set_threshold(*_thresholds)


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
