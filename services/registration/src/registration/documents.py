"""Uploaded documents: the follow-up document of R-4/R-7, extra documents (R-16) and the
documents of an answer (R-19).

They are kept in this service's own database, limited in size (20 MB by default) and in type
(PDF, DOCX, ODT, PNG, JPEG), with the SHA-256 of their content computed here. The type is judged
by the content (its magic bytes, and for DOCX and ODT the zip's entries), never by the name or
the Content-Type the client gives. Only the organisation that uploaded a document and the back
office can download it; another organisation is refused and audited (the runtime's UseCases).

The upload is the raw file as the request body (not multipart): its Content-Type is the file's
type, its name comes from the `filename` query parameter or a Content-Disposition header, and an
optional checksum header (Repr-Digest, Content-Digest, Digest or X-Checksum-SHA256) is compared
with what arrived.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from email.message import Message
from typing import Any, Literal
from urllib.parse import quote

from service_runtime.errors import Invalid, Violation, raise_if_any

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
"""The default limit; a `max_document_bytes` setting of the service, if it has one, wins."""

MAX_FILENAME_LENGTH = 180
PURPOSES = ("follow_up", "extra", "answer")
Purpose = Literal["follow_up", "extra", "answer"]

# What a client may declare without naming the type (browsers and tools that do not know it).
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/binary"})


@dataclass(frozen=True)
class Kind:
    """An accepted type of file."""

    name: str  # for people: "PDF document"
    content_type: str  # what is stored and served
    extensions: tuple[str, ...]  # the first is added to a name without a fitting one
    declared_as: frozenset[str]  # Content-Types a client may send for it (besides the generic ones)


PDF = Kind("PDF document", "application/pdf", (".pdf",), frozenset({"application/pdf", "application/x-pdf", "application/acrobat"}))
DOCX = Kind(
    "Word document (DOCX)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
    frozenset({"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/zip", "application/x-zip-compressed"}),
)
ODT = Kind(
    "OpenDocument text (ODT)",
    "application/vnd.oasis.opendocument.text",
    (".odt",),
    frozenset({"application/vnd.oasis.opendocument.text", "application/zip", "application/x-zip-compressed"}),
)
PNG = Kind("PNG image", "image/png", (".png",), frozenset({"image/png", "image/x-png"}))
JPEG = Kind("JPEG image", "image/jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"), frozenset({"image/jpeg", "image/jpg", "image/pjpeg"}))
KINDS = (PDF, DOCX, ODT, PNG, JPEG)
ACCEPTED = "PDF, DOCX, ODT, PNG or JPEG"

_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


class Refused(Invalid):
    """The content is of an accepted family but not acceptable (a Word document with macros): the
    file is invalid."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, field="file")


# ------------------------------------------------------------------------------- pure checks


def sniff(content: bytes) -> Kind | None:
    """The accepted type this content is, judged by its bytes; None for anything else.

    Raises Refused for a document of an accepted type that carries macros or scripts."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"PK\x03\x04"):
        return _sniff_zip(content)
    return None


def _sniff_zip(content: bytes) -> Kind | None:
    # Only the central directory and the tiny 'mimetype' entry are read: nothing is unpacked.
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names and "[Content_Types].xml" in names:
                if any(name.lower().endswith("vbaproject.bin") for name in names):
                    raise Refused("Word documents with macros are not accepted; save it as a plain .docx")
                return DOCX
            if "mimetype" in names and "content.xml" in names:
                info = archive.getinfo("mimetype")
                if info.file_size > 200:
                    return None
                with archive.open(info) as entry:
                    mimetype = entry.read(200).strip()
                if mimetype != _ODT_MIMETYPE:
                    return None
                if any(name.startswith(("Basic/", "Scripts/")) for name in names):
                    raise Refused("OpenDocument files with macros or scripts are not accepted")
                return ODT
    except Refused:
        raise
    except Exception:  # not a readable zip (BadZipFile, encrypted, odd compression, ...)
        return None
    return None


_CONTROL_OR_FORMAT = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
_RESERVED = re.compile(r'[<>:"|?*\\/;]')


def safe_filename(name: str | None, *, kind: Kind | None = None) -> str:
    """A name safe to store and to send back: no directories, control or bidi-format characters,
    reserved characters or leading dots; at most MAX_FILENAME_LENGTH characters with the
    extension kept; ending in an extension that fits the content's type."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]  # the last path part, Windows or POSIX
    name = "".join(" " if c.isspace() else c for c in name if c.isspace() or unicodedata.category(c) not in _CONTROL_OR_FORMAT)
    name = _RESERVED.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 16 or " " in extension:
        stem, extension = name, ""  # no extension, just a name
    if kind is not None and f".{extension.lower()}" not in kind.extensions:
        stem, extension = name, kind.extensions[0][1:]  # 'virus.exe' holding a PDF is kept as 'virus.exe.pdf'
    suffix = f".{extension.lower()}" if extension else ""
    stem = stem[: max(1, MAX_FILENAME_LENGTH - len(suffix))].rstrip(" .") or "document"
    if stem.split(".")[0].upper() in _WINDOWS_DEVICES:
        stem = "_" + stem
    return stem + suffix


def filename_from_content_disposition(value: str | None) -> str | None:
    """The filename (RFC 6266, also `filename*=UTF-8''...`) of a Content-Disposition header."""
    if not value:
        return None
    message = Message()
    message["content-disposition"] = value
    try:
        return message.get_filename()
    except Exception:
        return None


_CHECKSUM_HEADERS = ("repr-digest", "content-digest", "digest", "x-checksum-sha256")


def expected_sha256(headers: Any) -> tuple[str, str] | None:
    """The SHA-256 the client says it sent, as (header name, hex digest), from the first of
    Repr-Digest / Content-Digest (RFC 9530, `sha-256=:base64:`), Digest (RFC 3230,
    `SHA-256=base64`) or X-Checksum-SHA256 (hex or base64). None when no such header or only
    other algorithms are given. Raises Invalid for a header that cannot be read."""
    for header in _CHECKSUM_HEADERS:
        value = headers.get(header)
        if not value:
            continue
        field = {"repr-digest": "Repr-Digest", "content-digest": "Content-Digest", "digest": "Digest"}.get(header, "X-Checksum-SHA256")
        if header == "x-checksum-sha256":
            digest = _digest_bytes(value.strip())
        else:
            digest = None
            for member in value.split(","):
                algorithm, _, encoded = member.strip().partition("=")
                if algorithm.strip().lower() == "sha-256":
                    digest = _digest_bytes(encoded.strip().strip(":"))
                    break
            else:
                continue  # only other algorithms: nothing to compare
        if digest is None:
            raise Invalid("give the SHA-256 of the file as base64 (sha-256=:...:) or as 64 hexadecimal digits", field=field)
        return field, digest.hex()
    return None


def _digest_bytes(text: str) -> bytes | None:
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if len(decoded) == 32 else None


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class Inspected:
    kind: Kind
    filename: str
    size_bytes: int
    sha256: str


def inspect_upload(
    *,
    filename: str | None,
    content_type: str | None,
    content: bytes,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    checksum: tuple[str, str] | None = None,
) -> Inspected:
    """Judges an upload: every problem at once, per field (Invalid), or what to store."""
    if not content:
        raise Invalid("the file is empty", field="file")
    if len(content) > max_bytes:
        raise Invalid(f"the file is {len(content)} bytes; at most {max_bytes} bytes ({max_bytes // (1024 * 1024)} MB) are accepted", field="file")
    problems: list[Violation] = []
    kind = sniff(content)  # Refused is Invalid (the file)
    if kind is None:
        raise Invalid(f"only {ACCEPTED} files are accepted; this file is none of these (judged by its content)", field="file")
    declared = media_type(content_type)
    if declared not in _GENERIC_TYPES and declared not in kind.declared_as:
        problems.append(Violation("content_type", f"the file is a {kind.name} but was sent as {declared[:100]}; send it as {kind.content_type}"))
    sha256 = hashlib.sha256(content).hexdigest()
    if checksum is not None and checksum[1] != sha256:
        problems.append(
            Violation(checksum[0], "the SHA-256 of what arrived differs from the one given: the file was changed or cut off on the way, send it again")
        )
    raise_if_any(problems)
    return Inspected(kind=kind, filename=safe_filename(filename, kind=kind), size_bytes=len(content), sha256=sha256)


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266, RFC 8187)."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = re.sub(r"[^A-Za-z0-9._ ()\-]", "_", fallback).strip() or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
