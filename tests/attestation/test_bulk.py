"""Bulk files through the API on the real stack (Kafka, PostgreSQL): POST /v1/provider/bulk with
the raw file, streamed; every row checked as the single forms are; the receipt, its report per
row, the email; files refused as a whole with nothing stored; the size limit; an upload cut off,
or stopped halfway while stored, completed by sending the same file again."""

from __future__ import annotations

import asyncio
import codecs
import json
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from attestation.use_cases import bulk as bulk_use_cases
from tests.attestation.conftest import nrn
from tests.contract import served
from tests.platform.helpers import eventually
from tests.registration.conftest import Actor
from wse_contracts.identity import OrganisationRegisteredV1, QualityRegistration

pytestmark = pytest.mark.slow

DUTCH = ["soort", "referentie", "odb_nummer", "module", "rijksregisternummer", "naam", "voornaam", "startdatum", "einddatum", "periode_van", "periode_tot", "uren", "doorlopen"]  # fmt: skip
ENGLISH = ["kind", "reference", "odb_number", "module", "national_register_number", "last_name", "first_name", "starts_on", "ends_on", "period_from", "period_to", "hours", "completed"]  # fmt: skip


async def provider_with_contact(attestation) -> tuple[Actor, str]:
    """A provider whose organisation identity knows a contact address of (the bulk receipt's email goes there)."""
    organisation_id = uuid.uuid4()
    email = f"opleidingen-{organisation_id.hex[:8]}@example.org"
    await attestation.publish(
        OrganisationRegisteredV1(
            organisation_id=organisation_id,
            name=f"CVO {organisation_id.hex[:6]}",
            kind="training_provider",
            contact_email=email,
            quality_registration=QualityRegistration(status="registered", valid_from=date(2020, 1, 1)),
        )
    )
    await eventually(
        lambda: attestation.fetchval("SELECT 1 FROM organisations_projection WHERE organisation_id = $1", organisation_id), what="the organisation"
    )
    person_id = await attestation.grant(organisation_id=organisation_id, role="dwse_organisation_officer", context="training_leave")
    return Actor(attestation.client(attestation.token(person=person_id, organisation=organisation_id)), organisation_id, person_id), email


def enrolment_row(reference: str, odb: str, number: str, **overrides: str) -> dict[str, str]:
    return {"kind": "inschrijving", "reference": reference, "odb_number": odb, "national_register_number": number, "last_name": "Peeters",
            "first_name": "Zoë", "starts_on": "15/09/2026", "ends_on": "30/06/2027", **overrides}  # fmt: skip


def attendance_row(reference: str, odb: str, number: str, **overrides: str) -> dict[str, str]:
    return {"kind": "aanwezigheid", "reference": reference, "odb_number": odb, "national_register_number": number, "period_from": "15/09/2026",
            "period_to": "31/12/2026", "hours": "20", **overrides}  # fmt: skip


def csv_file(rows: list[dict[str, str]], *, headers: list[str] = DUTCH, separator: str = ";", bom: bool = True, encoding: str = "utf-8") -> bytes:
    """As a Dutch spreadsheet exports CSV: semicolons, CRLF, a BOM."""
    lines = [separator.join(headers)] + [separator.join(row.get(column, "") for column in ENGLISH) for row in rows]
    return (codecs.BOM_UTF8 if bom else b"") + "\r\n".join(lines).encode(encoding) + b"\r\n"


async def upload(actor: Actor, content: Any, *, media_type: str = "text/csv", filename: str | None = "attesten.csv", headers: dict[str, str] | None = None):
    return await actor.client.post(
        "/v1/provider/bulk", content=content, params={"filename": filename} if filename else {}, headers={"content-type": media_type, **(headers or {})}
    )


async def problems_of(actor: Actor, receipt_id: str) -> list[tuple[int, str, str | None]]:
    answer = await actor.client.get(f"/v1/provider/receipts/{receipt_id}/problems", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return [(p["row_number"], p["field"], p["rule"]) for p in answer.json()["items"]]


async def stored(attestation, organisation_id: uuid.UUID) -> tuple[int, int]:
    enrolments = await attestation.fetchval("SELECT count(*) FROM enrolments WHERE organisation_id = $1", organisation_id)
    attendances = await attestation.fetchval("SELECT count(*) FROM attendances WHERE organisation_id = $1", organisation_id)
    return enrolments, attendances


async def receipt_row(attestation, organisation_id: uuid.UUID, status: str | None = None) -> Any:
    found = await attestation.fetch(
        "SELECT * FROM receipts WHERE organisation_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY receipt_seq", organisation_id, status
    )
    return found[0] if found else None


async def events_of(attestation, organisation_id: uuid.UUID) -> list[str]:
    rows = await attestation.fetch(
        "SELECT convert_from(value, 'UTF8') AS data FROM outbox WHERE convert_from(value, 'UTF8') LIKE $1 ORDER BY id", f"%{organisation_id}%"
    )
    return [r["data"] for r in rows]


async def emails_to(attestation, address: str) -> list[dict[str, Any]]:
    return [e for e in await attestation.emails() if any(r["email"] == address for r in e["recipients"])]


def no_number(numbers: list[str], *texts: str) -> None:
    for text in texts:
        for number in numbers:
            assert number not in text


async def test_a2_to_a9_a_dutch_spreadsheets_csv_with_bad_rows_each_named_by_row_field_and_rule(attestation):
    # rule A-2, rule A-3, rule A-4, rule A-9
    provider, email = await provider_with_contact(attestation)
    odb = await attestation.training(provider, holds_from=date(2026, 9, 1))
    other = await attestation.training(provider)
    unknown = f"ODB-{8_000_000 + provider.organisation_id.int % 1_000_000}"
    numbers = [nrn() for _ in range(6)]
    rows = [
        enrolment_row("INS-1", odb, numbers[0]),  # 2 accepted
        enrolment_row("INS-2", odb, numbers[1]),  # 3 accepted
        attendance_row("INS-1", odb, numbers[0]),  # 4 accepted
        enrolment_row("INS-3", odb, numbers[2][:-1]),  # 5 ten digits
        enrolment_row("INS-4", odb, numbers[3], starts_on="31/08/2026"),  # 6 before the registration holds
        attendance_row("INS-2", other, numbers[1]),  # 7 on another number than the enrolment
        attendance_row("INS-NONE", odb, numbers[4]),  # 8 no enrolment
        enrolment_row("INS-5", unknown, numbers[4]),  # 9 held: the register does not know the number yet
        enrolment_row("INS-6", odb, numbers[5], ends_on="31/02/2027"),  # 10 not a date
        attendance_row("INS-2", odb, numbers[1], hours="twintig"),  # 11 not hours
    ]
    answer = await upload(provider, csv_file(rows), filename="inschrijvingen najaar.csv")
    assert answer.status_code == 201, answer.text
    receipt = answer.json()
    assert answer.headers["location"] == f"/v1/provider/receipts/{receipt['receipt_id']}"
    assert receipt["kind"] == "bulk" and receipt["status"] == "done" and receipt["filename"] == "inschrijvingen najaar.csv"
    assert len(receipt["sha256"]) == 64 and receipt["receipt_number"].startswith("ONT-")
    assert (receipt["rows_total"], receipt["accepted"], receipt["held"], receipt["refused"], receipt["unchanged"]) == (10, 3, 1, 6, 0)
    report = await problems_of(provider, receipt["receipt_id"])
    assert report == [
        (5, "national_register_number", "A-2"),
        (6, "starts_on", "A-4"),
        (7, "odb_number", "A-3"),
        (8, "reference", "A-3"),
        (10, "ends_on", "A-2"),
        (11, "hours", "A-2"),
    ]
    assert await stored(attestation, provider.organisation_id) == (3, 1)
    # retrievable later, with its report; the organisation's contact address gets the summary
    later = await provider.client.get(f"/v1/provider/receipts/{receipt['receipt_id']}")
    [sent] = await attestation.emails(receipt["receipt_number"])
    assert sent["template_id"] == "attestation.bulk_receipt" and [r["email"] for r in sent["recipients"]] == [email]
    assert {k: sent["personalisation"][k] for k in ("outcome", "rows_total", "accepted", "held", "refused", "filename")} == {
        "outcome": "done", "rows_total": 10, "accepted": 3, "held": 1, "refused": 6, "filename": "inschrijvingen najaar.csv"
    }  # fmt: skip
    enrolled = await attestation.events("attestation.enrolment_attested.v1", organisation_id=provider.organisation_id)
    attended = await attestation.events("attestation.attendance_attested.v1", organisation_id=provider.organisation_id)
    assert (len(enrolled), len(attended)) == (2, 1)  # nothing yet for the held one, nothing for the refused ones
    reports = (await provider.client.get(f"/v1/provider/receipts/{receipt['receipt_id']}/problems")).text
    no_number(numbers, answer.text, later.text, reports, json.dumps(sent), *await events_of(attestation, provider.organisation_id))


async def test_a2_json_lines_with_a_blended_module_completed(attestation):
    # rule A-2, rule A-5
    provider, _ = await provider_with_contact(attestation)
    odb = await attestation.training(
        provider, modules=[{"name": "Online", "hours": "20", "blended": True, "starts_on": "2026-09-15", "ends_on": "2027-06-30"}], blended=True
    )
    number = nrn()
    lines = [
        {"kind": "enrolment", "reference": "J-1", "odb_number": odb, "module": "Online", "national_register_number": number, "last_name": "Janssens",
         "first_name": "Jan", "starts_on": "2026-09-15", "ends_on": "2027-06-30"},
        {"kind": "attendance", "reference": "J-1", "odb_number": odb, "module": "Online", "national_register_number": number, "period_from": "2026-09-15",
         "period_to": "2026-12-31", "hours": 12.5, "completed": True},
        {"kind": "attendance", "reference": "J-1", "odb_number": odb, "module": "Online", "national_register_number": number, "period_from": "2027-01-01",
         "period_to": "2027-01-31", "hours": 4, "completed": "misschien"},
        {"kind": "attendance", "reference": "J-1", "odb_number": odb, "module": "Online", "shoe_size": 42},
    ]  # fmt: skip
    body = "\n".join(json.dumps(line) for line in lines).encode() + b"\n"
    for media_type in ("application/jsonl", "application/x-ndjson"):
        answer = await upload(
            provider, body, media_type=media_type, filename=None, headers={"content-disposition": "attachment; filename*=UTF-8''attesten%20%C3%A9%C3%A9n.jsonl"}
        )
        assert answer.status_code == 201, answer.text
        receipt = answer.json()
        assert receipt["filename"] == "attesten één.jsonl"
        if media_type == "application/jsonl":
            assert (receipt["accepted"], receipt["refused"]) == (2, 2)
        else:  # the same file again: stored once
            assert (receipt["unchanged"], receipt["refused"], receipt["accepted"]) == (2, 2, 0)
        assert await problems_of(provider, receipt["receipt_id"]) == [(3, "completed", "A-5"), (4, "shoe_size", "A-2")]
    assert await attestation.fetchval("SELECT completed FROM enrolments WHERE organisation_id = $1", provider.organisation_id) is True
    assert number not in answer.text


async def test_a2_the_same_file_twice_stores_nothing_twice(attestation):
    # rule A-2: idempotent on the provider's reference
    provider, _ = await provider_with_contact(attestation)
    odb = await attestation.training(provider)
    numbers = [nrn() for _ in range(70)]  # enough rows for the batch's tables to be written with COPY
    rows = [enrolment_row(f"R-{i}", odb, n) for i, n in enumerate(numbers)] + [attendance_row(f"R-{i}", odb, n) for i, n in enumerate(numbers)]
    rows.append(enrolment_row("R-BAD", odb, "123"))
    content = csv_file(rows, headers=ENGLISH, separator=",", bom=False)
    first = (await upload(provider, content)).json()
    events = await events_of(attestation, provider.organisation_id)
    second = (await upload(provider, content)).json()
    assert (first["accepted"], first["unchanged"], first["refused"]) == (140, 0, 1)
    assert (second["accepted"], second["unchanged"], second["refused"]) == (0, 140, 1)
    assert first["sha256"] == second["sha256"] and first["receipt_id"] != second["receipt_id"]
    assert await stored(attestation, provider.organisation_id) == (70, 70)
    assert await events_of(attestation, provider.organisation_id) == events and len(events) == 140
    assert await problems_of(provider, second["receipt_id"]) == [(142, "national_register_number", "A-2")]
    # the events written with COPY are the relay's to publish like any other
    await eventually(
        lambda: attestation.fetchval(
            "SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL AND convert_from(value, 'UTF8') LIKE $1", f"%{provider.organisation_id}%"
        ),
        what="the relay to publish the bulk file's events",
    )


@pytest.mark.parametrize(
    ("case", "content", "field", "words"),
    [
        ("unknown header", lambda odb, n: csv_file([enrolment_row("U-1", odb, n)], headers=[*DUTCH[:-1], "schoenmaat"]), "schoenmaat", "unknown column"),
        ("missing column", lambda odb, n: csv_file([enrolment_row("U-1", odb, n)], headers=DUTCH[:1] + DUTCH[2:]), "reference", "is missing"),
        ("latin-1", lambda odb, n: csv_file([enrolment_row("U-1", odb, n, first_name="An"), enrolment_row("U-2", odb, n, last_name="Françoise")], encoding="cp1252", bom=False),
         "encoding", "line 3"),
        ("utf-16", lambda odb, n: "\r\n".join([";".join(DUTCH), ";".join(enrolment_row("U-1", odb, n).values())]).encode("utf-16"), "encoding", "UTF-16"),
        ("no header", lambda odb, n: csv_file([enrolment_row("U-1", odb, n)])[3:].split(b"\r\n", 1)[1], "national_register_number", "missing"),
    ],
)  # fmt: skip
async def test_a2_a_file_in_another_encoding_or_with_unknown_or_missing_columns_is_refused_whole_with_nothing_stored(attestation, case, content, field, words):
    # rule A-2
    provider, email = await provider_with_contact(attestation)
    odb = await attestation.training(provider)
    number = nrn()
    answer = await upload(provider, content(odb, number))
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert field in [e["field"] for e in problem["errors"]] and any(words in e["reason"] for e in problem["errors"]), problem
    assert "nothing of it is stored" in problem["detail"] and number not in answer.text
    assert await stored(attestation, provider.organisation_id) == (0, 0)
    receipts = await attestation.fetch("SELECT status, rows_total, receipt_id FROM receipts WHERE organisation_id = $1", provider.organisation_id)
    assert [(r["status"], r["rows_total"]) for r in receipts] == [("rejected", 0)]  # the submission is on record, refused
    assert await attestation.fetchval("SELECT count(*) FROM receipt_problems WHERE receipt_id = $1", receipts[0]["receipt_id"]) == 0
    assert await emails_to(attestation, email) == []


async def test_a_file_over_the_size_limit_is_a_413_and_nothing_is_stored(attestation, monkeypatch):
    provider, _ = await provider_with_contact(attestation)
    odb = await attestation.training(provider)
    content = csv_file([enrolment_row(f"L-{i}", odb, nrn()) for i in range(40)])
    monkeypatch.setattr(attestation.runtime.settings, "bulk_max_bytes", len(content) - 1)
    # announced by Content-Length: refused before anything is read or stored
    announced = await upload(provider, content)
    assert announced.status_code == 413 and announced.json()["errors"][0]["field"] == "file"
    assert await attestation.fetchval("SELECT count(*) FROM receipts WHERE organisation_id = $1", provider.organisation_id) == 0

    # streamed without a length: refused once it passes the limit, the receipt rejected
    async def chunks():
        for start in range(0, len(content), 100):
            yield content[start : start + 100]

    streamed = await upload(provider, chunks())
    assert streamed.status_code == 413, streamed.text
    assert await attestation.fetchval("SELECT status FROM receipts WHERE organisation_id = $1", provider.organisation_id) == "rejected"
    assert await stored(attestation, provider.organisation_id) == (0, 0)
    monkeypatch.setattr(attestation.runtime.settings, "bulk_max_bytes", len(content))
    assert (await upload(provider, content)).json()["accepted"] == 40


async def test_an_upload_cut_off_halfway_stores_nothing_and_the_same_file_again_completes_it(attestation):
    # rule A-9: the receipt says incomplete, the email says to send it again
    provider, _ = await provider_with_contact(attestation)
    odb = await attestation.training(provider)
    numbers = [nrn() for _ in range(60)]
    content = csv_file([enrolment_row(f"C-{i}", odb, n) for i, n in enumerate(numbers)])
    token = provider.client.headers["authorization"]
    async with served(attestation.app) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        head = (
            f"POST /v1/provider/bulk?filename=afgebroken.csv HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token}\r\n"
            f"Content-Type: text/csv\r\nContent-Length: {len(content)}\r\n\r\n"
        )
        writer.write(head.encode() + content[: len(content) // 2])  # whole rows among them
        await writer.drain()
        await asyncio.sleep(0.3)
        writer.close()  # the connection drops
        cut = await eventually(lambda: receipt_row(attestation, provider.organisation_id, "incomplete"), what="the cut-off upload's receipt marked incomplete")
    assert cut["filename"] == "afgebroken.csv" and cut["rows_total"] == 0
    assert await stored(attestation, provider.organisation_id) == (0, 0)
    [sent] = await attestation.emails(cut["receipt_number"])
    assert sent["personalisation"]["outcome"] == "incomplete"
    again = await upload(provider, content, filename="afgebroken.csv")
    assert again.status_code == 201 and again.json()["accepted"] == 60 and again.json()["status"] == "done"
    assert await stored(attestation, provider.organisation_id) == (60, 0)


async def test_a_file_stopped_halfway_while_stored_keeps_only_whole_batches_and_the_same_file_again_completes_it(attestation, monkeypatch):
    provider, _ = await provider_with_contact(attestation)
    odb = await attestation.training(provider)
    numbers = [nrn() for _ in range(10)]
    content = csv_file([enrolment_row(f"S-{i}", odb, n) for i, n in enumerate(numbers)])
    monkeypatch.setattr(attestation.runtime.settings, "bulk_batch_rows", 4)
    calls = 0
    real = bulk_use_cases.write_plan

    async def failing_third_batch(connection, plan):
        nonlocal calls
        calls += 1
        await real(connection, plan)  # written in the batch's transaction, which then fails
        if calls == 3:
            raise ConnectionResetError("the database went away")

    monkeypatch.setattr(bulk_use_cases, "write_plan", failing_third_batch)
    stopped = await upload(provider, content)
    assert stopped.status_code == 500
    receipt = await receipt_row(attestation, provider.organisation_id)
    assert (receipt["status"], receipt["rows_total"], receipt["accepted"]) == ("incomplete", 8, 8)
    assert await stored(attestation, provider.organisation_id) == (8, 0)  # two whole batches; the third rolled back
    assert (await attestation.emails(receipt["receipt_number"]))[0]["personalisation"]["outcome"] == "incomplete"
    monkeypatch.setattr(bulk_use_cases, "write_plan", real)
    again = (await upload(provider, content)).json()
    assert (again["status"], again["unchanged"], again["accepted"]) == ("done", 8, 2)
    assert await stored(attestation, provider.organisation_id) == (10, 0)


async def test_a2_a_files_outcome_does_not_depend_on_where_its_batches_end(attestation, monkeypatch):
    # rule A-2, rule A-3: a row is judged against the rows above it, in its batch or the one before (decided while that one is written)
    async def sent(batch_rows: int) -> tuple[Actor, dict[str, Any]]:
        provider, _ = await provider_with_contact(attestation)
        odb = await attestation.training(provider)
        a, b, c, d = (nrn() for _ in range(4))
        rows = [
            enrolment_row("A", odb, a), enrolment_row("B", odb, b), enrolment_row("C", odb, c),
            attendance_row("A", odb, a), enrolment_row("A", odb, a, ends_on="31/05/2027"), enrolment_row("D", odb, d),  # a correction of A
            attendance_row("A", odb, a), attendance_row("B", odb, b), attendance_row("D", odb, d),  # A's again: unchanged
            enrolment_row("A", odb, a, ends_on="31/05/2027"), enrolment_row("C", odb, d),  # unchanged; C is another student's reference
            attendance_row("A", odb, a, hours="24"),  # a correction of A's attendance
        ]  # fmt: skip
        monkeypatch.setattr(attestation.runtime.settings, "bulk_batch_rows", batch_rows)
        answer = await upload(provider, csv_file(rows))
        assert answer.status_code == 201, answer.text
        return provider, answer.json()

    outcomes = []
    for batch_rows in (1, 2, 3, 5_000):
        provider, receipt = await sent(batch_rows)
        versions = await attestation.fetch(
            "SELECT reference, version, ends_on FROM enrolments WHERE organisation_id = $1 ORDER BY reference", provider.organisation_id
        )
        attended = await attestation.fetch(
            "SELECT reference, version, hours FROM attendances WHERE organisation_id = $1 ORDER BY reference", provider.organisation_id
        )
        history = await attestation.fetchval(
            "SELECT count(*) FROM attestation_history h JOIN enrolments e ON e.enrolment_id = h.attestation_id WHERE e.organisation_id = $1",
            provider.organisation_id,
        )
        outcomes.append(
            (
                {k: receipt[k] for k in ("rows_total", "accepted", "unchanged", "refused")},
                await problems_of(provider, receipt["receipt_id"]),
                [tuple(r) for r in versions],
                [tuple(r) for r in attended],
                history,
            )
        )
    assert outcomes[0] == (
        {"rows_total": 12, "accepted": 9, "unchanged": 2, "refused": 1},
        [(12, "reference", "A-2")],
        [("A", 2, date(2027, 5, 31)), ("B", 1, date(2027, 6, 30)), ("C", 1, date(2027, 6, 30)), ("D", 1, date(2027, 6, 30))],
        [("A", 2, Decimal("24.00")), ("B", 1, Decimal("20.00")), ("D", 1, Decimal("20.00"))],
        1,
    )
    assert all(outcome == outcomes[0] for outcome in outcomes), outcomes


async def test_a1_bulk_files_need_the_right_and_only_csv_or_json_lines(attestation):
    # rule A-1, rule ID-8
    platos = await attestation.provider(context="platos")
    refused = await upload(platos, b"kind\n")
    assert refused.status_code == 403 and "right-requests" in refused.json()["detail"]
    provider, _ = await provider_with_contact(attestation)
    assert (await upload(provider, b"%PDF-1.7", media_type="application/pdf", filename="a.pdf")).status_code == 415
    assert (await upload(provider, b"--x\r\n", media_type="multipart/form-data; boundary=x")).status_code == 415
