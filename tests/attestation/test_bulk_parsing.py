"""A bulk file read without a stack (attestation.bulk and the spool of use_cases.bulk): the size
limit, UTF-8 judged over the whole file, the header line in English or Dutch with its separator,
rows by the number a spreadsheet shows, JSON Lines; never a national register number in a
problem; and a batch's events written to the outbox exactly as the runtime writes them."""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import uuid
from datetime import date, datetime
from decimal import Decimal

import pytest

from attestation import bulk
from attestation.domain import Kind
from attestation.rows import Row
from attestation.use_cases import attest
from attestation.use_cases.bulk import Spool, batches
from attestation.views.bulk import filename_from_content_disposition, shown_filename
from wse_contracts.attestation import AttendanceAttestedV1, CompletionAttestedV1, EnrolmentAttestedV1, EntitlementReachedV1
from wse_contracts.events import Event

NRN = "85073003328"
DUTCH_HEADER = "soort;referentie;odb_nummer;module;rijksregisternummer;naam;voornaam;startdatum;einddatum;periode_van;periode_tot;uren;doorlopen"
ENGLISH_HEADER = "kind,reference,odb_number,module,national_register_number,last_name,first_name,starts_on,ends_on,period_from,period_to,hours,completed"


def inspect(data: bytes, format: bulk.Format = "csv", *, chunk: int = 7, limit: int = 10_000_000) -> bulk.Inspector:
    inspector = bulk.Inspector(format, limit=limit)
    for start in range(0, len(data), chunk):
        inspector.feed(data[start : start + chunk])
    inspector.finish()
    return inspector


def rows_of(text: str, layout: bulk.Layout) -> list[tuple[int, object]]:
    return list(bulk.records(text.splitlines(keepends=True), layout))


def refusal(data: bytes, format: bulk.Format = "csv", **options: int) -> list[tuple[str, str]]:
    with pytest.raises(bulk.FileRefused) as raised:
        inspect(data, format, **options)
    assert NRN not in str(raised.value)
    return [(p.field, p.reason) for p in raised.value.problems]


def test_a2_csv_as_a_dutch_spreadsheet_exports_it_semicolons_bom_and_crlf():
    # rule A-2: the columns by their Dutch names, sniffed separator, the BOM dropped, rows numbered as the spreadsheet shows them
    text = (
        DUTCH_HEADER + "\r\n"
        "inschrijving;INS-1;ODB-123;;85.07.30-033.28;Peeters;An;15/09/2026;30/06/2027;;;;\r\n"
        "\r\n"  # a blank line: skipped, still counted
        ";;;;;;;;;;;;\r\n"  # only separators: skipped
        'aanwezigheid;INS-1;ODB-123;;85073003328;;;;;2026-09-15;2026-12-31;"7,5";\r\n'
    )
    data = codecs.BOM_UTF8 + text.encode()
    inspector = inspect(data)
    layout = inspector.finish()
    assert layout.delimiter == ";" and layout.columns[:5] == ("kind", "reference", "odb_number", "module", "national_register_number")
    assert inspector.sha256 == hashlib.sha256(data).hexdigest() and inspector.size == len(data)
    found = rows_of(text.lstrip("\ufeff"), layout)
    assert [number for number, _ in found] == [2, 5]
    assert found[0][1]["last_name"] == "Peeters" and found[1][1]["hours"] == "7,5"


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 64 * 1024])
def test_the_chunks_can_break_anywhere_even_inside_the_bom_or_a_character(chunk):
    data = codecs.BOM_UTF8 + (ENGLISH_HEADER + "\nenrolment,INS-é,ODB-1,,85073003328,Çelik,Zoë,2026-09-15,2027-06-30,,,,\n").encode()
    layout = inspect(data, chunk=chunk).layout
    assert layout == bulk.Layout("csv", ",", tuple(bulk.column_of(h) for h in ENGLISH_HEADER.split(",")))


def test_a2_an_unknown_header_refuses_the_file_naming_it():
    # rule A-2
    problems = refusal((ENGLISH_HEADER + ",shoe_size\n").encode())
    assert [field for field, _ in problems] == ["shoe_size"] and "unknown column" in problems[0][1]


def test_a2_a_missing_required_column_refuses_the_file_naming_it():
    # rule A-2
    header = ENGLISH_HEADER.replace("national_register_number,", "")
    problems = refusal((header + "\n").encode())
    assert problems == [("national_register_number", "the column national_register_number is missing (in Dutch: rijksregisternummer, rrn)")]


def test_a_second_column_for_the_same_field_is_refused():
    problems = refusal(("naam;last_name;" + DUTCH_HEADER.replace("naam;", "") + "\n").encode())
    assert problems[0][0] == "last_name" and "second column" in problems[0][1]


def test_a_file_without_header_line_never_echoes_the_number_on_its_first_line():
    problems = refusal(f"enrolment,INS-1,ODB-1,,{NRN},Peeters,An,2026-09-15,2027-06-30,,,,\n".encode())
    assert all(NRN not in field and NRN not in reason for field, reason in problems)
    assert any("header line missing" in field for field, _ in problems)


def test_an_empty_file_is_refused():
    assert refusal(b"")[0][0] == "header"
    assert refusal(codecs.BOM_UTF8 + b"\r\n")[0][0] == "header"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("utf-16 with BOM", (ENGLISH_HEADER + "\n").encode("utf-16")),
        ("utf-16-be with BOM", codecs.BOM_UTF16_BE + (ENGLISH_HEADER + "\n").encode("utf-16-be")),
        ("utf-16 without BOM", (ENGLISH_HEADER + "\n").encode("utf-16-le")),
        ("latin-1 in the first row", (DUTCH_HEADER + "\n").encode() + "inschrijving;INS-é".encode("latin-1")),
        ("latin-1 in the header", DUTCH_HEADER.replace(";naam;", ";familienaam_é;").encode("latin-1") + b"\n"),
        ("truncated at the end", (ENGLISH_HEADER + "\nenrolment,INS-1,ODB-1,,x,Zo").encode() + "ë".encode()[:1]),
    ],
)
def test_a_file_not_in_utf8_is_refused_as_a_whole_naming_the_encoding(name, data):
    problems = refusal(data)
    assert [field for field, _ in problems] == ["encoding"], name
    assert "UTF-8" in problems[0][1]


def test_a_latin1_byte_far_down_the_file_refuses_it_too_with_its_line():
    good = f"enrolment,INS-{{}},ODB-1,,{NRN},Peeters,An,2026-09-15,2027-06-30,,,,\n"
    data = (ENGLISH_HEADER + "\n" + "".join(good.format(i) for i in range(2000))).encode() + "enrolment,INS-x,ODB-1,,1,Françoise,An,,,,,,\n".encode("cp1252")
    problems = refusal(data, chunk=4096)
    assert problems[0][0] == "encoding" and "(line 2002)" in problems[0][1]


def test_the_size_limit_is_counted_on_the_bytes_as_they_arrive():
    data = (ENGLISH_HEADER + "\n").encode() * 3
    inspector = bulk.Inspector("csv", limit=len(data) - 1)
    with pytest.raises(bulk.TooLarge):
        for start in range(0, len(data), 10):
            inspector.feed(data[start : start + 10])
    assert inspect(data, limit=len(data)).size == len(data)


def test_a2_rows_that_cannot_be_read_are_named_by_their_row():
    # rule A-2: too many values, a value under no header
    layout = bulk.csv_layout(ENGLISH_HEADER + ",")
    text = (
        ENGLISH_HEADER + ",\n"
        "enrolment,INS-1,ODB-1,,85073003328,Peeters,An,2026-09-15,2027-06-30,,,,\n"
        "enrolment,INS-2,ODB-1,,85073003328,Peeters,An,2026-09-15,2027-06-30,,,,,,surplus\n"
        "enrolment,INS-3,ODB-1,,85073003328,Peeters,An,2026-09-15,2027-06-30,,,,,unnamed\n"
    )
    found = rows_of(text, layout)
    assert found[0][0] == 2 and found[0][1]["reference"] == "INS-1"
    assert found[1][0] == 3 and [(v.field, v.rule) for v in found[1][1]] == [("row", "A-2")] and "15 values for 14 columns" in found[1][1][0].reason
    assert found[2][0] == 4 and "without a header" in found[2][1][0].reason


def test_quoted_values_with_separators_and_line_breaks():
    layout = bulk.csv_layout(ENGLISH_HEADER)
    text = (
        ENGLISH_HEADER + '\nenrolment,"INS,1",ODB-1,,85073003328,"Peeters, ""jr""","An\nMarie",2026-09-15,2027-06-30,,,,\nenrolment,INS-2,ODB-1,,1,P,A,,,,,,\n'
    )
    found = rows_of(text, layout)
    assert found[0][1]["reference"] == "INS,1" and found[0][1]["last_name"] == 'Peeters, "jr"' and found[0][1]["first_name"] == "An\nMarie"
    assert [number for number, _ in found] == [2, 3]  # a record, not a physical line


def test_a2_json_lines_first_object_names_the_columns_later_lines_are_judged_row_by_row():
    # rule A-2
    first = {"kind": "enrolment", "reference": "INS-1", "odb_nummer": "ODB-1", "rijksregisternummer": NRN, "naam": "Peeters", "voornaam": "An"}
    lines = [
        json.dumps(first),
        "",
        json.dumps(
            {
                "kind": "attendance",
                "reference": "INS-1",
                "odb_number": "ODB-1",
                "national_register_number": NRN,
                "hours": 7.5,
                "completed": True,
                "module": None,
            }
        ),
        json.dumps({**first, "shoe_size": 42}),
        "[1, 2]",
        "{not json",
        json.dumps({**first, "last_name": "Janssens"}),
        json.dumps({**{k: v for k, v in first.items() if k != "naam"}, "last_name": {"nested": 1}}),
    ]
    text = "\n".join(lines) + "\n"
    assert inspect(text.encode(), "jsonl").layout == bulk.Layout("jsonl")
    found = dict(rows_of(text, bulk.Layout("jsonl")))
    assert sorted(found) == [1, 3, 4, 5, 6, 7, 8]
    assert found[1]["odb_number"] == "ODB-1" and found[1]["national_register_number"] == NRN
    assert found[3]["hours"] == "7.5" and found[3]["completed"] == "true" and found[3]["module"] == ""
    assert [(v.field, v.rule) for v in found[4]] == [("shoe_size", "A-2")]
    assert found[5][0].field == "row" and found[6][0].field == "row"
    assert [(v.field, v.reason) for v in found[7]] == [("last_name", "a second key for last_name")]  # besides naam
    assert [(v.field, v.reason) for v in found[8]] == [("last_name", "text, a number, true/false or null")]


def test_a2_json_lines_a_national_register_number_as_a_json_number_is_refused_not_guessed():
    # rule A-2: 01.02.03-... as a number loses its leading zero; the row is refused, naming the field, never the number
    first = {"kind": "enrolment", "reference": "INS-1", "odb_number": "ODB-1", "national_register_number": NRN, "last_name": "Peeters", "first_name": "An"}
    text = json.dumps(first) + "\n" + json.dumps({**first, "national_register_number": int("01" + NRN[2:])}) + "\n"
    found = dict(rows_of(text, bulk.Layout("jsonl")))
    assert found[1]["national_register_number"] == NRN
    [violation] = found[2]
    assert violation.field == "national_register_number" and "JSON string" in violation.reason and violation.rule == "A-2"
    assert NRN[2:] not in violation.reason


def test_json_lines_whose_first_line_is_not_an_object_or_has_unknown_keys_is_refused():
    assert refusal(b"[1]\n", "jsonl")[0][0] == "row"
    assert [f for f, _ in refusal(json.dumps({"kind": "x", "reference": "r", "odb_number": "o", NRN: "1"}).encode() + b"\n", "jsonl")] == [
        "(a value, not a column name: is the header line missing?)",
        "national_register_number",
    ]


@pytest.mark.parametrize(
    ("media_type", "filename", "expected"),
    [
        ("text/csv; charset=utf-8", None, "csv"),
        ("application/jsonl", None, "jsonl"),
        ("application/x-ndjson", "x.csv", "jsonl"),
        ("application/octet-stream", "Inschrijvingen.CSV", "csv"),
        (None, "export.ndjson", "jsonl"),
        ("multipart/form-data; boundary=x", "a.csv", None),
        ("application/pdf", None, None),
    ],
)
def test_the_format_from_the_content_type_or_the_name(media_type, filename, expected):
    assert bulk.format_of(media_type, filename) == expected


def test_the_spool_keeps_the_file_encrypted_on_disk_and_reads_it_back_as_text(tmp_path):
    data = codecs.BOM_UTF8 + (DUTCH_HEADER + "\r\n" + f"inschrijving;INS-1;ODB-1;;{NRN};Peeters;Zoë;15/09/2026;30/06/2027;;;;\r\n").encode()
    with Spool(str(tmp_path)) as spool:
        for start in range(0, len(data), 5):
            spool.write(data[start : start + 5])
        spool._file.flush()
        spool._file.seek(0)
        on_disk = spool._file.read()
        assert len(on_disk) == len(data) and NRN.encode() not in on_disk and b"Peeters" not in on_disk
        assert list(tmp_path.iterdir()) == []  # unlinked from the start
        with spool.text() as lines:
            text = lines.read()
    assert text == data.decode("utf-8-sig")


def test_rows_come_in_batches_with_the_refused_ones_named_by_row_field_and_rule_never_the_number():
    # rule A-2
    layout = bulk.csv_layout(ENGLISH_HEADER)
    good = "enrolment,INS-{},ODB-1,,85073003328,Peeters,An,2026-09-15,2027-06-30,,,,\n"
    text = (
        ENGLISH_HEADER + "\n" + "".join(good.format(i) for i in range(5)) + "enrolment,INS-X,ODB-1,,85073003329,Peeters,An,31/02/2026,,,,,\n" + good.format(9)
    )
    found = list(batches(text.splitlines(keepends=True), layout, 3))
    assert [(len(parsed), len(refused)) for parsed, refused in found] == [(3, 0), (2, 1), (1, 0)]
    assert all(isinstance(row, Row) and row.kind == Kind.ENROLMENT for parsed, _ in found for row in parsed)
    [bad] = found[1][1]
    assert bad.row_number == 7
    assert sorted((v.field, v.rule) for v in bad.problems) == [("ends_on", "A-2"), ("national_register_number", "A-2"), ("starts_on", "A-2")]
    assert all("85073003329" not in v.reason for v in bad.problems)


# ------------------------------------------------------------------------------- the outbox rows of a batch


def _events() -> list[Event]:
    ids = [uuid.UUID(int=i) for i in range(1, 5)]
    return [
        EnrolmentAttestedV1(
            attestation_id=ids[0], organisation_id=ids[1], student_id="abc234", odb_number='ODB-1 "ü"\t\\', module="Online", version=2,
            starts_on=date(2026, 9, 15), ends_on=date(2027, 6, 30), school_year="2026-2027",
        ),
        AttendanceAttestedV1(
            attestation_id=ids[2], organisation_id=ids[1], student_id="abc234", odb_number="ODB-1", module=None, version=1, enrolment_id=ids[0],
            period_from=date(2026, 9, 15), period_to=date(2026, 12, 31), hours=Decimal("7.50"), school_year="2026-2027",
        ),
        EntitlementReachedV1(student_id="abc234", school_year="2026-2027", hours=Decimal("34.00"), odb_number=None),
        CompletionAttestedV1(
            attestation_id=ids[0], organisation_id=ids[1], student_id="abc234", odb_number="ODB-1", module="Online", enrolment_id=ids[0], school_year="2026-2027"
        ),
    ]  # fmt: skip


def _fast(outbox: attest._Outbox, event: Event) -> None:
    """Each event as attest_batch adds it: enrolment, attendance and entitlement from their data, the others from their model."""
    d = event.model_dump()
    if isinstance(event, EnrolmentAttestedV1):
        data = attest.enrolment_json(
            d["attestation_id"], d["organisation_id"], d["student_id"], d["odb_number"], d["module"] or "", d["version"], d["starts_on"], d["ends_on"],
            d["school_year"],
        )  # fmt: skip
        outbox.add_json(EnrolmentAttestedV1, event.key, data)
    elif isinstance(event, AttendanceAttestedV1):
        data = attest.attendance_json(
            d["attestation_id"], d["organisation_id"], d["student_id"], d["odb_number"], "", d["version"], d["enrolment_id"], d["period_from"],
            d["period_to"], d["hours"], d["school_year"],
        )  # fmt: skip
        outbox.add_json(AttendanceAttestedV1, event.key, data)
    elif isinstance(event, EntitlementReachedV1):
        outbox.add_json(EntitlementReachedV1, event.key, attest.entitlement_json({**d, "odb_number": d["odb_number"] or ""}))
    else:
        outbox.add(event)


def test_a_batchs_outbox_rows_are_the_rows_the_runtime_writes_for_the_same_events():
    # What service_runtime.outbox writes (to_kafka_record of event.to_envelope), built without the models and envelopes.
    outbox = attest._Outbox(None, source="/wse/attestation")  # type: ignore[arg-type]  # no database here
    events = _events()
    for event in events:
        _fast(outbox, event)
    for i, event in enumerate(events):
        row = outbox.row(i)
        envelope = event.to_envelope(source="/wse/attestation", correlation_id="none", id=row[4], time=datetime.fromisoformat(outbox.time))
        assert row == attest.outbox_row_of(envelope, event.topic)


def test_traced_a_batchs_outbox_rows_carry_the_requests_trace_as_the_runtimes_do():
    # Issue 15, traces: a bulk upload's events continue the upload request's trace (ce_traceparent), in the runtime's header order.
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from service_runtime import tracing

    assert tracing.configure(service="attestation", exporter=InMemorySpanExporter())
    try:
        with tracing.span("POST /v1/provider/bulk", kind=tracing.SERVER):
            traceparent, _ = tracing.current_trace_context()
            outbox = attest._Outbox(None, source="/wse/attestation")  # type: ignore[arg-type]
        events = _events()
        for event in events:
            _fast(outbox, event)
    finally:
        tracing.shutdown()
    assert traceparent
    for i, event in enumerate(events):
        row = outbox.row(i)
        envelope = event.to_envelope(
            source="/wse/attestation", correlation_id="none", id=row[4], time=datetime.fromisoformat(outbox.time), traceparent=traceparent
        )
        assert row == attest.outbox_row_of(envelope, event.topic)
        assert ["ce_traceparent", traceparent] in row[3]


def test_the_outbox_rows_copy_text_reads_back_as_written():
    outbox = attest._Outbox(None, source="/wse/attestation")  # type: ignore[arg-type]
    events = _events()
    for event in events:
        _fast(outbox, event)
    outbox.add_json(EnrolmentAttestedV1, "not a pseudonym\\", "{}")  # a key COPY must take as hex
    lines = outbox.copy_text().decode().split("\n")
    assert lines[-1] == "" and len(lines) == len(outbox.rows) + 1

    def copy_field(field: str) -> str:  # COPY's text format
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r", "t": "\t"}.get(m.group(1), m.group(1)), field)

    def bytea(text: str) -> bytes:  # bytea's input: hex, or the escape format
        if text.startswith("\\x"):
            return bytes.fromhex(text[2:])
        return re.sub(r"\\\\", lambda m: "\\", text).encode()

    for i, line in enumerate(lines[:-1]):
        topic, key, value, headers, event_id, event_type = (copy_field(f) for f in line.split("\t"))
        assert (topic, bytea(key), bytea(value), json.loads(headers), event_id, event_type) == outbox.row(i)


def test_the_files_name_from_content_disposition_as_the_receipt_shows_it():
    assert filename_from_content_disposition("attachment; filename*=UTF-8''attesten%20%C3%A9%C3%A9n.csv") == "attesten één.csv"
    assert filename_from_content_disposition('attachment; filename="a.csv"') == "a.csv"
    assert filename_from_content_disposition("inline") is None and filename_from_content_disposition(None) is None
    assert shown_filename("a\x00b\r\nBcc: x.csv") == "abBcc: x.csv" and shown_filename("\x00") is None and len(shown_filename("x" * 300) or "") == 200
