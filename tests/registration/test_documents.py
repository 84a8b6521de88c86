"""Uploaded documents (R-4, R-16, R-19): limited in size and type (judged by the content), with a
SHA-256, downloadable only by the owning organisation and the back office.

The `test_http_*` tests run against the registration service on the test stack and use the
fixtures of tests/registration/conftest.py: `provider`, `other_provider` and `case_handler`
(each with `.client`, an httpx.AsyncClient carrying its token, and `.organisation_id`) and
`registration_db` (an asyncpg connection to the service's database). The other tests need no
stack: `pytest tests/registration/test_documents.py -k "not http"`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
import zipfile

import pytest

from registration.documents import (
    DOCX,
    JPEG,
    MAX_DOCUMENT_BYTES,
    MAX_FILENAME_LENGTH,
    ODT,
    PDF,
    PNG,
    content_disposition,
    expected_sha256,
    filename_from_content_disposition,
    inspect_upload,
    safe_filename,
    sniff,
)
from service_runtime.errors import Invalid
from tests.registration.conftest import contact, deciding_body, draft, self_analysis, submit, training

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20) + b"\xff\xd9"
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(64)
TEXT_BYTES = b"Just some text, named .pdf to look like one.\n"


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


DOCX_BYTES = zipped({"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships/>", "word/document.xml": b"<w:document/>"})
ODT_BYTES = zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office:document-content/>", "META-INF/manifest.xml": b"<m/>"})


def field_of(error: pytest.ExceptionInfo[Invalid]) -> list[str]:
    return [violation.field for violation in error.value.violations]


# ------------------------------------------------------------------------------- the type, by content


@pytest.mark.parametrize(
    ("content", "kind"),
    [(PDF_BYTES, PDF), (PNG_BYTES, PNG), (JPEG_BYTES, JPEG), (DOCX_BYTES, DOCX), (ODT_BYTES, ODT)],
    ids=["pdf", "png", "jpeg", "docx", "odt"],
)
def test_accepted_types_are_recognised_by_their_content(content: bytes, kind) -> None:
    assert sniff(content) is kind


@pytest.mark.parametrize(
    "content",
    [
        EXE_BYTES,
        TEXT_BYTES,
        b"",
        b"GIF89a" + bytes(20),
        b"PK\x03\x04 not really a zip",
        zipped({"hello.txt": b"hi"}),  # a plain zip
        zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}),  # a spreadsheet
        zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<c/>"}),  # ODS, not ODT
        zipped({"word/document.xml": b"<w:document/>"}),  # no [Content_Types].xml: not an OOXML package
        b" %PDF-1.4 with something before the header",
    ],
    ids=["exe", "text", "empty", "gif", "broken-zip", "zip", "xlsx", "ods", "bare-word-zip", "pdf-not-at-start"],
)
def test_other_content_is_not_recognised(content: bytes) -> None:
    assert sniff(content) is None


def test_a_word_document_with_macros_is_refused() -> None:
    docm = zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>", "word/vbaProject.bin": b"\x00"})
    with pytest.raises(Invalid) as error:
        inspect_upload(filename="macro.docx", content_type=None, content=docm)
    assert field_of(error) == ["file"]
    assert "macros" in error.value.violations[0].reason


def test_an_upload_is_judged_by_content_not_by_name_or_declared_type() -> None:
    with pytest.raises(Invalid) as error:
        inspect_upload(filename="report.pdf", content_type="application/pdf", content=TEXT_BYTES)
    assert field_of(error) == ["file"]
    with pytest.raises(Invalid) as error:
        inspect_upload(filename="setup.pdf", content_type="application/pdf", content=EXE_BYTES)
    assert field_of(error) == ["file"]


def test_an_accepted_upload_gets_its_type_name_and_checksum() -> None:
    inspected = inspect_upload(filename="C:\\Users\\an\\Plan van aanpak.PDF", content_type="application/pdf", content=PDF_BYTES)
    assert inspected.kind is PDF
    assert inspected.filename == "Plan van aanpak.pdf"
    assert inspected.size_bytes == len(PDF_BYTES)
    assert inspected.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    # A client that does not know the type may say so; DOCX and ODT may be declared as zip.
    assert inspect_upload(filename="a", content_type="application/octet-stream", content=DOCX_BYTES).kind is DOCX
    assert inspect_upload(filename="a.odt", content_type="application/zip", content=ODT_BYTES).kind is ODT
    assert inspect_upload(filename="photo.JPG", content_type="image/jpeg; charset=binary", content=JPEG_BYTES).filename == "photo.jpg"


def test_empty_too_large_and_mismatched_uploads_name_the_field() -> None:
    with pytest.raises(Invalid) as error:
        inspect_upload(filename="empty.pdf", content_type="application/pdf", content=b"")
    assert field_of(error) == ["file"]
    with pytest.raises(Invalid) as error:
        inspect_upload(filename="big.pdf", content_type="application/pdf", content=PDF_BYTES + bytes(100), max_bytes=len(PDF_BYTES))
    assert field_of(error) == ["file"]
    with pytest.raises(Invalid) as error:
        inspect_upload(filename="a.png", content_type="text/plain", content=PNG_BYTES)
    assert field_of(error) == ["content_type"]
    with pytest.raises(Invalid) as error:
        inspect_upload(filename="a.pdf", content_type="application/pdf", content=PDF_BYTES, checksum=("Repr-Digest", "0" * 64))
    assert field_of(error) == ["Repr-Digest"]
    assert MAX_DOCUMENT_BYTES == 20 * 1024 * 1024


# ------------------------------------------------------------------------------- names and headers


@pytest.mark.parametrize(
    ("given", "kind", "expected"),
    [
        ("plan.pdf", PDF, "plan.pdf"),
        ("../../etc/passwd", None, "passwd"),
        ("..\\..\\Windows\\win.ini", None, "win.ini"),
        ("/tmp/../plan.pdf", PDF, "plan.pdf"),
        ("evil\x00name\r\n.pdf", PDF, "evilname.pdf"),
        ("invoice\u202efdp.exe", None, "invoicefdp.exe"),  # the right-to-left override is gone
        ("virus.exe", PDF, "virus.exe.pdf"),  # the content decides the extension
        ("report.docx", PDF, "report.docx.pdf"),
        ("scan", JPEG, "scan.jpg"),
        ("scan.JPEG", JPEG, "scan.jpeg"),
        ('a<b>:c"d|e?f*g;h.pdf', PDF, "a_b__c_d_e_f_g_h.pdf"),
        ("   ...hidden.pdf  ", PDF, "hidden.pdf"),
        ("", PDF, "document.pdf"),
        (None, None, "document"),
        ("..", None, "document"),
        ("CON.pdf", PDF, "_CON.pdf"),
        ("multiple   spaces\there.pdf", PDF, "multiple spaces here.pdf"),
        ("Ève\u0301nement déjà vu.odt", ODT, "Ève\u0301nement déjà vu.odt".replace("e\u0301", "é")),
    ],
)
def test_filenames_are_made_safe(given, kind, expected: str) -> None:
    assert safe_filename(given, kind=kind) == expected


def test_long_filenames_are_cut_and_keep_their_extension() -> None:
    name = safe_filename("x" * 1000 + ".pdf", kind=PDF)
    assert len(name) == MAX_FILENAME_LENGTH
    assert name.endswith("x.pdf")


def test_content_disposition_is_an_attachment_with_an_ascii_fallback_and_the_utf8_name() -> None:
    assert content_disposition("plan.pdf") == "attachment; filename=\"plan.pdf\"; filename*=UTF-8''plan.pdf"
    header = content_disposition("Évaluatie 2024 (v2).pdf")
    assert header.startswith('attachment; filename="Evaluatie 2024 (v2).pdf"; ')
    assert header.endswith("filename*=UTF-8''%C3%89valuatie%202024%20%28v2%29.pdf")
    assert "\r" not in content_disposition(safe_filename("a\r\nSet-Cookie: x.pdf", kind=PDF))


def test_a_filename_may_come_in_a_content_disposition_header() -> None:
    assert filename_from_content_disposition('attachment; filename="plan.pdf"') == "plan.pdf"
    assert filename_from_content_disposition("attachment; filename*=UTF-8''%C3%A9t%C3%A9.pdf") == "été.pdf"
    assert filename_from_content_disposition("inline") is None
    assert filename_from_content_disposition(None) is None


def test_the_clients_checksum_is_read_from_the_usual_headers() -> None:
    digest = hashlib.sha256(PDF_BYTES).digest()
    b64 = base64.b64encode(digest).decode()
    assert expected_sha256({"repr-digest": f"sha-512=:{'A' * 88}:, sha-256=:{b64}:"}) == ("Repr-Digest", digest.hex())
    assert expected_sha256({"content-digest": f"sha-256=:{b64}:"}) == ("Content-Digest", digest.hex())
    assert expected_sha256({"digest": f"SHA-256={b64}"}) == ("Digest", digest.hex())
    assert expected_sha256({"x-checksum-sha256": digest.hex().upper()}) == ("X-Checksum-SHA256", digest.hex())
    assert expected_sha256({"x-checksum-sha256": b64}) == ("X-Checksum-SHA256", digest.hex())
    assert expected_sha256({"repr-digest": "sha-512=:AAAA:"}) is None  # nothing we can compare
    assert expected_sha256({}) is None
    with pytest.raises(Invalid) as error:
        expected_sha256({"x-checksum-sha256": "not a digest"})
    assert field_of(error) == ["X-Checksum-SHA256"]


# ------------------------------------------------------------------------------- over HTTP
# These depend on tests/registration/conftest.py: `provider`, `other_provider`, `case_handler`
# (.client, .organisation_id) and `registration_db` (an asyncpg connection), on the test stack.


async def upload(who, content: bytes, *, content_type: str = "application/pdf", filename: str = "plan.pdf", purpose: str = "extra", **headers: str):
    return await who.client.post(
        "/v1/provider/documents",
        params={"purpose": purpose, "filename": filename},
        content=content,
        headers={"Content-Type": content_type, **headers},
    )


async def test_http_a_pdf_is_stored_with_its_checksum_and_downloaded_by_its_organisation(provider) -> None:
    digest = hashlib.sha256(PDF_BYTES).digest()
    response = await upload(
        provider, PDF_BYTES, filename="../Opvolging leerproces.pdf", purpose="follow_up", **{"Repr-Digest": f"sha-256=:{base64.b64encode(digest).decode()}:"}
    )
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["sha256"] == digest.hex()
    assert stored["size_bytes"] == len(PDF_BYTES)
    assert stored["content_type"] == "application/pdf"
    assert stored["filename"] == "Opvolging leerproces.pdf"
    assert stored["purpose"] == "follow_up"
    assert "content" not in stored
    assert response.headers["location"].endswith(f"/v1/provider/documents/{stored['document_id']}")

    listed = (await provider.client.get("/v1/provider/documents")).json()["items"]
    assert stored["document_id"] in [d["document_id"] for d in listed]

    download = await provider.client.get(f"/v1/provider/documents/{stored['document_id']}")
    assert download.status_code == 200
    assert download.content == PDF_BYTES
    assert download.headers["content-type"].startswith("application/pdf")
    assert download.headers["content-disposition"].startswith('attachment; filename="Opvolging leerproces.pdf"')
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["repr-digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"


@pytest.mark.parametrize(("content", "content_type", "filename"), [(TEXT_BYTES, "text/plain", "notes.pdf"), (EXE_BYTES, "application/pdf", "setup.pdf")])
async def test_http_other_types_are_refused_naming_the_field(provider, content: bytes, content_type: str, filename: str) -> None:
    response = await upload(provider, content, content_type=content_type, filename=filename)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["file"]


async def test_http_a_file_over_20_mb_is_refused(provider) -> None:
    response = await upload(provider, PDF_BYTES + bytes(MAX_DOCUMENT_BYTES))
    assert response.status_code == 413, response.text
    assert response.json()["errors"][0]["field"] == "file"
    assert (await upload(provider, b"")).status_code == 422


async def test_http_another_organisation_cannot_download_it_and_is_audited(provider, other_provider, registration_db) -> None:
    stored = (await upload(provider, PDF_BYTES)).json()
    path = f"/v1/provider/documents/{stored['document_id']}"
    response = await other_provider.client.get(path)
    assert response.status_code == 403, response.text
    assert PDF_BYTES not in response.content
    audit = await registration_db.fetchrow(
        "SELECT outcome, reason FROM audit_log WHERE organisation_id = $1 AND action = $2 ORDER BY id DESC LIMIT 1",
        other_provider.organisation_id,
        f"GET {path}",
    )
    assert audit is not None and audit["outcome"] == "denied"
    listed = (await other_provider.client.get("/v1/provider/documents")).json()["items"]
    assert stored["document_id"] not in [d["document_id"] for d in listed]


async def test_http_the_back_office_can_download_any_organisations_document(provider, case_handler) -> None:
    stored = (await upload(provider, PNG_BYTES, content_type="image/png", filename="scan.png")).json()
    response = await case_handler.client.get(f"/v1/back-office/documents/{stored['document_id']}")
    assert response.status_code == 200, response.text
    assert response.content == PNG_BYTES
    assert response.headers["content-type"].startswith("image/png")
    assert response.headers["etag"] == f'"{hashlib.sha256(PNG_BYTES).hexdigest()}"'
    # A provider cannot use the back office's route.
    assert (await provider.client.get(f"/v1/back-office/documents/{stored['document_id']}")).status_code == 403


async def test_http_the_back_office_lists_a_dossiers_documents_with_their_names(provider, case_handler) -> None:
    # the application's own documents; R-19: those of an answer; a portal names each one.
    brochure = (await upload(provider, PDF_BYTES, filename="Brochure lassen.pdf")).json()
    application = await draft(
        provider,
        contact=contact(),
        training=training(),
        self_analysis=self_analysis(),
        deciding_body=deciding_body(),
        documents={"document_ids": [brochure["document_id"]]},
    )
    assert (await submit(provider, application["application_id"])).status_code == 200
    path = f"/v1/back-office/applications/{application['application_id']}"
    asked = await case_handler.client.post(f"{path}/information-requests", json={"question": "Het lesrooster?"})
    assert asked.status_code == 201, asked.text
    schedule = (await upload(provider, PNG_BYTES, content_type="image/png", filename="rooster.png", purpose="answer")).json()
    answered = await provider.client.post(
        f"/v1/provider/applications/{application['application_id']}/answer", json={"answer": "In bijlage.", "document_ids": [schedule["document_id"]]}
    )
    assert answered.status_code == 200, answered.text

    listed = await case_handler.client.get(f"{path}/documents")
    assert listed.status_code == 200, listed.text
    found = listed.json()
    assert [(d["filename"], d["attached_to"]) for d in found] == [("Brochure lassen.pdf", "application"), ("rooster.png", "answer")]
    assert found[0]["request_id"] is None and found[1]["request_id"] == asked.json()["information_requests"][0]["request_id"]
    assert "content" not in found[0] and found[0]["sha256"] == brochure["sha256"]
    # Only the back office; an unknown dossier is not found.
    assert (await provider.client.get(f"{path}/documents")).status_code == 403
    assert (await case_handler.client.get(f"/v1/back-office/applications/{uuid.uuid4()}/documents")).status_code == 404
