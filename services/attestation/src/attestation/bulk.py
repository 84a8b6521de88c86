"""A bulk file of attestations, as spreadsheets export it, read without holding it: plain Python,
no I/O (the use case streams the upload in and the rows out).

- `Inspector` is fed the upload's bytes chunk by chunk as they arrive: it counts them against the
  size limit, hashes them (SHA-256, the receipt's), and checks that the whole file is UTF-8 (with
  or without a BOM; UTF-16, Latin-1 or NUL bytes are refused) and that its first line is a header
  naming known columns, English or Dutch (`rows.column_of`), with every required one. What is
  refused is refused as a whole (`FileRefused`, each problem naming the header, column or
  `encoding`), so the caller stores nothing of such a file.
- `records(lines, layout)` then reads the file's text lines (the header skipped) into each row's
  values by column, or the row's problems: the row number as a spreadsheet shows it (the header
  is row 1), or the line number of a JSON Lines file.

CSV: comma, semicolon or tab, sniffed from the header line (the separator that names the most
known columns); quoted values as the csv module reads them; empty rows skipped. JSON Lines: one
object per line with the same column names as keys; values text, numbers, booleans or null.

Nothing here repeats a national register number: a header or key that looks like one (a file
without a header line) is not echoed.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from attestation.rows import COLUMNS, REQUIRED, column_of
from service_runtime.errors import Violation
from service_runtime.pii import looks_like_nrn

Format = Literal["csv", "jsonl"]

MEDIA_TYPES: dict[str, Format] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/vnd.ms-excel": "csv",  # what some browsers send for a .csv
    "application/jsonl": "jsonl",
    "application/x-ndjson": "jsonl",
    "application/x-jsonlines": "jsonl",
}
EXTENSIONS: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
DELIMITERS = (";", ",", "\t")
MAX_HEADER_BYTES = 64 * 1024
RULE = "A-2"  # what an attestation carries (the columns of a row)

Values = dict[str, str]


class FileRefused(Exception):
    """The file as a whole: not UTF-8, no header, unknown headers, missing columns."""

    def __init__(self, problems: list[Violation]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))
        self.problems = problems


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than {limit} bytes")
        self.limit = limit


def format_of(media_type: str | None, filename: str | None) -> Format | None:
    """csv or jsonl from the Content-Type, or from the file name's extension when the type says
    nothing (application/octet-stream or none); None for anything else."""
    media = (media_type or "").split(";", 1)[0].strip().lower()
    if media in MEDIA_TYPES:
        return MEDIA_TYPES[media]
    if media in ("", "application/octet-stream", "text/plain") and filename:
        name = filename.lower()
        return next((found for extension, found in EXTENSIONS.items() if name.endswith(extension)), None)
    return None


def _shown(name: str) -> str:
    """A header or key as it may be shown back: never something written like a national register
    number (a file whose first line is data), never more than 60 characters."""
    if looks_like_nrn(name):
        return "(a value, not a column name: is the header line missing?)"
    name = name.strip()
    return name if len(name) <= 60 else name[:57] + "..."


def _known_columns() -> str:
    return ", ".join(f"{column} ({'/'.join(names[1:3])})" if len(names) > 1 else column for column, names in COLUMNS.items())


@dataclass(frozen=True, slots=True)
class Layout:
    """How the file's rows are read: its format, and for CSV the separator and the column of each
    position (None for a column without a header, ignored when empty)."""

    format: Format
    delimiter: str = ","
    columns: tuple[str | None, ...] = ()


def csv_layout(header: str) -> Layout:
    """The separator and columns of a CSV header line; FileRefused naming each unknown header,
    repeated column and missing required column."""
    best: tuple[int, str, list[str]] | None = None
    for delimiter in DELIMITERS:
        names = next(csv.reader([header], delimiter=delimiter), [])
        known = sum(1 for name in names if column_of(name))
        if best is None or known > best[0]:
            best = (known, delimiter, names)
    assert best is not None
    _, delimiter, names = best
    columns: list[str | None] = []
    problems: list[Violation] = []
    for name in names:
        if not name.strip():
            columns.append(None)
            continue
        column = column_of(name)
        if column is None:
            problems.append(Violation(_shown(name), f"unknown column; the columns are {_known_columns()}", RULE))
        elif column in columns:
            problems.append(Violation(_shown(name), f"a second column for {column}", RULE))
        columns.append(column)
    problems += _missing(set(c for c in columns if c))
    if problems:
        raise FileRefused(problems)
    return Layout("csv", delimiter, tuple(columns))


def _missing(present: set[str]) -> list[Violation]:
    return [
        Violation(column, f"the column {column} is missing (in Dutch: {', '.join(COLUMNS[column][1:3]) or column})", RULE)
        for column in REQUIRED
        if column not in present
    ]


def jsonl_layout(first_line: str) -> Layout:
    """A JSON Lines file's first object names its columns: unknown keys or a missing required
    column refuse the file as a whole (later lines are judged row by row)."""
    try:
        first = json.loads(first_line)
    except ValueError:
        first = None
    if not isinstance(first, dict):
        raise FileRefused([Violation("row", "the first line is not a JSON object: JSON Lines has one object per line", RULE)])
    problems = [Violation(_shown(str(key)), f"unknown column; the columns are {_known_columns()}", RULE) for key in first if column_of(str(key)) is None]
    problems += _missing({column for key in first if (column := column_of(str(key)))})
    if problems:
        raise FileRefused(problems)
    return Layout("jsonl")


class Inspector:
    """The upload as it arrives: fed every chunk (`feed`), then `finish()` gives the layout.
    Raises TooLarge past `limit` bytes, FileRefused for an encoding other than UTF-8 (judged over
    the whole file) or a bad header line (judged as soon as the line is complete)."""

    def __init__(self, format: Format, *, limit: int) -> None:
        self.format = format
        self.limit = limit
        self.size = 0
        self.lines = 0  # newlines seen: where an encoding problem is
        self._sha256 = hashlib.sha256()
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._start = b""  # the first bytes, until the BOM is judged
        self._header: list[str] | None = []  # text of the header line while it is incomplete; None once judged
        self.layout: Layout | None = None

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        if self.size > self.limit:
            raise TooLarge(self.limit)
        self._sha256.update(chunk)
        if self._start is not None:
            self._start += chunk
            if len(self._start) < 4:
                return
            chunk, self._start = self._without_bom(self._start), None  # type: ignore[assignment]  # judged once
        self._text(chunk, final=False)

    def finish(self) -> Layout:
        if self._start is not None:  # a file of fewer than 4 bytes
            chunk, self._start = self._without_bom(self._start), None  # type: ignore[assignment]
            self._text(chunk, final=False)
        self._text(b"", final=True)
        if self._header is not None:  # no line break: the header is the whole file
            self._judge_header("".join(self._header))
        assert self.layout is not None
        return self.layout

    def _without_bom(self, start: bytes) -> bytes:
        if start.startswith(codecs.BOM_UTF8):
            return start[len(codecs.BOM_UTF8) :]
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # also UTF-32 LE's
            raise FileRefused([_encoding("the file is UTF-16 (or UTF-32)")])
        return start

    def _text(self, chunk: bytes, *, final: bool) -> None:
        if b"\x00" in chunk:
            raise FileRefused([_encoding("the file holds NUL bytes: it is UTF-16 or not a text file")])
        try:
            text = self._decoder.decode(chunk, final)
        except UnicodeDecodeError as error:
            line = self.lines + chunk.count(b"\n", 0, error.start) + 1
            raise FileRefused([_encoding(f"byte {self.size - len(chunk) + error.start + 1} (line {line}) is not UTF-8")]) from None
        self.lines += chunk.count(b"\n")
        if self._header is not None and text:
            end = text.find("\n")
            if end < 0:
                self._header.append(text)
                if sum(len(part) for part in self._header) > MAX_HEADER_BYTES:
                    raise FileRefused([Violation("header", f"no line break in the first {MAX_HEADER_BYTES} bytes: the first line names the columns", RULE)])
                return
            self._header.append(text[:end])
            self._judge_header("".join(self._header))

    def _judge_header(self, line: str) -> None:
        self._header = None
        line = line.rstrip("\r")
        if not line.strip():
            raise FileRefused([Violation("header", "the file is empty or its first line is: the first line names the columns", RULE)])
        self.layout = csv_layout(line) if self.format == "csv" else jsonl_layout(line)


def _encoding(what: str) -> Violation:
    return Violation("encoding", f"{what}; save the file as UTF-8 (in a spreadsheet: CSV UTF-8)", RULE)


# ------------------------------------------------------------------------------- rows


def records(lines: Iterable[str], layout: Layout) -> Iterator[tuple[int, Values | list[Violation]]]:
    """Each row after the header as (row number, its values by column), or (row number, its
    problems) when it cannot be read as a row. `lines`: the file's text (a text file opened with
    newline="" and encoding utf-8-sig, or any iterable of lines with their line endings)."""
    if layout.format == "csv":
        return _csv_records(lines, layout)
    return _jsonl_records(lines)


def _csv_records(lines: Iterable[str], layout: Layout) -> Iterator[tuple[int, Values | list[Violation]]]:
    reader = csv.reader(lines, delimiter=layout.delimiter)
    next(reader, None)  # the header, judged by the Inspector
    columns = layout.columns
    width = len(columns)
    plain = None not in columns
    row_number = 1
    for record in reader:
        row_number += 1
        if len(record) == width and plain and record[0]:  # the usual row: as many values as columns, the first one given
            yield row_number, dict(zip(columns, record, strict=True))  # type: ignore[arg-type]  # no None in a plain layout
            continue
        if not any(value.strip() for value in record):
            continue  # an empty row (a spreadsheet's blank line, or only separators)
        problems = []
        if len(record) > width and any(value.strip() for value in record[width:]):
            problems.append(Violation("row", f"{len(record)} values for {width} columns: check the separators and quotes", RULE))
        if any(column is None and value.strip() for column, value in zip(columns, record, strict=False)):
            problems.append(Violation("row", "a value in a column without a header", RULE))
        if problems:
            yield row_number, problems
            continue
        yield row_number, {column: value for column, value in zip(columns, record, strict=False) if column is not None}


_COLUMN_OF_KEY: dict[str, str | None] = {}  # a JSON Lines file repeats its keys on every line


def _column_of_key(key: str) -> str | None:
    if key in _COLUMN_OF_KEY:
        return _COLUMN_OF_KEY[key]
    column = column_of(key)
    if len(_COLUMN_OF_KEY) < 1_000:  # bounded: keys are the client's
        _COLUMN_OF_KEY[key] = column
    return column


def _jsonl_records(lines: Iterable[str]) -> Iterator[tuple[int, Values | list[Violation]]]:
    # The first object names the columns (judged by the Inspector) and is a row too.
    for line_number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            found = json.loads(line)
        except ValueError:
            yield line_number, [Violation("row", "not a JSON object (JSON Lines: one object per line)", RULE)]
            continue
        if not isinstance(found, dict):
            yield line_number, [Violation("row", "not a JSON object (JSON Lines: one object per line)", RULE)]
            continue
        values: Values = {}
        problems = []
        for key, value in found.items():
            column = _column_of_key(key)
            if column is None:
                problems.append(Violation(_shown(key), "unknown column", RULE))
                continue
            if column in values:
                problems.append(Violation(_shown(key), f"a second key for {column}", RULE))
                continue
            if isinstance(value, str):
                values[column] = value
            elif column == "national_register_number" and isinstance(value, (int, float)) and not isinstance(value, bool):
                # 01234567890 as a JSON number would arrive as 1234567890: never guess the lost zero.
                problems.append(Violation(column, "send the national register number as a JSON string: as a number it loses its leading zeros", RULE))
            elif value is None:
                values[column] = ""
            elif isinstance(value, bool):
                values[column] = "true" if value else "false"
            elif isinstance(value, (int, float)):
                values[column] = str(value)
            else:
                problems.append(Violation(column, "text, a number, true/false or null", RULE))
        yield line_number, problems or values
