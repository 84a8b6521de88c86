"""Local mail sink for ``./dev up`` and the tests.

A real SMTP server (aiosmtpd) that accepts any sender and recipient and keeps
every message, plus a minimal HTTP/1.1 server (asyncio streams, standard library
only) on the same event loop:

* ``GET /`` and ``GET /messages/<id>``: HTML views for people;
* ``GET /api/messages[?to=addr][&after=id][&view=envelope]``, ``GET /api/messages/<id>``,
  ``DELETE /api/messages``: JSON API for tests (list is oldest first; ``after`` gives only
  newer messages, ``view=envelope`` only ids, times and addresses, without parsing);
* ``GET /api/messages/<id>/raw``: the message's bytes exactly as SMTP carried them
  (``message/rfc822``), for anyone who wants to check the headers' encoding themselves (the JSON
  shows what Python's parser made of them);
* ``GET|POST /api/faults``: fault injection, e.g. ``{"mode": "temporary",
  "count": 2}`` makes the next two DATA commands answer 451, ``"permanent"``
  answers 550, ``{"mode": "none"}`` clears;
* ``POST /v1/traces``: an OTLP/HTTP trace receiver (protobuf, as OpenTelemetry's exporter sends
  it; gzip or not): the browser stack's services export their spans here, and ``GET
  /api/spans[?trace_id=hex]`` lists them (``DELETE /api/spans`` forgets them), so the trace test
  can follow one trace from a portal request to the email without a collector of its own;
  ``GET /traces`` and ``GET /traces/<trace id>`` show them to people, each trace as a tree
  (``OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:8025 ./dev up`` sends the dev stack's there);
* ``GET /health``.

With ``--store DIR`` each message is also written to ``DIR/<id>.eml`` (envelope
kept in ``X-Mailsink-*`` headers at the top) and reloaded on start.

Run: ``python -m devstack.mailsink --smtp-port 1025 --http-port 8025``.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import html
import json
import logging
import signal
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger("devstack.mailsink")

FAULT_REPLIES = {
    "temporary": "451 4.3.0 Temporary failure (injected)",
    "permanent": "550 5.7.1 Rejected (injected)",
}
_ENVELOPE_HEADERS = ("X-Mailsink-Received-At", "X-Mailsink-Mail-From", "X-Mailsink-Rcpt-To")


@dataclass
class Message:
    id: int
    received_at: str
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    # Parsed when first asked for, not on arrival: parsing every message as it came in was 44 %
    # of the sink's time and held it at ~190 messages/s, below what the notification service is
    # measured against.
    @cached_property
    def _parsed(self) -> EmailMessage:
        msg = email.message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg

    @cached_property
    def subject(self) -> str:
        return str(self._parsed.get("Subject", ""))

    @cached_property
    def headers(self) -> list[list[str]]:
        return [[name, str(value)] for name, value in self._parsed.items()]

    @cached_property
    def text(self) -> str | None:
        return _part(self._parsed, "plain")

    @cached_property
    def html(self) -> str | None:
        return _part(self._parsed, "html")

    def to_json(self) -> dict[str, Any]:
        try:
            self.subject, self.headers, self.text, self.html  # noqa: B018 - parse now, inside the guard
        except Exception as error:
            return {**self.summary(), "subject": "", "text": None, "html": None, "headers": [], "parse_error": repr(error)}
        return {
            "id": self.id,
            "received_at": self.received_at,
            "mail_from": self.mail_from,
            "rcpt_tos": self.rcpt_tos,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "headers": self.headers,
            "size": len(self.raw),
        }

    def summary(self) -> dict[str, Any]:
        """The envelope only: cheap to list for thousands of messages."""
        return {"id": self.id, "received_at": self.received_at, "mail_from": self.mail_from, "rcpt_tos": self.rcpt_tos, "size": len(self.raw)}


def _part(msg: EmailMessage, subtype: str) -> str | None:
    body = msg.get_body(preferencelist=(subtype,))
    if body is None or body.get_content_subtype() != subtype:
        return None
    try:
        content = str(body.get_content())
    except (LookupError, ValueError):  # unknown charset, broken encoding
        content = body.get_payload(decode=True).decode("utf-8", "replace")  # type: ignore[union-attr]
    return content.replace("\r\n", "\n")  # SMTP line endings, not the author's


class MailSink:
    """Message store (memory plus optional directory) and SMTP handler."""

    def __init__(self, store: Path | None = None) -> None:
        self.store = store
        self.messages: list[Message] = []
        self.fault_mode = "none"
        self.fault_count = 0
        self.spans: list[dict[str, Any]] = []  # the last MAX_SPANS received over OTLP
        if store is not None:
            store.mkdir(parents=True, exist_ok=True)
            for path in sorted(store.glob("*.eml"), key=lambda p: int(p.stem)):
                self.messages.append(self._load(path))
        self.next_id = max((m.id for m in self.messages), default=0) + 1

    @staticmethod
    def _load(path: Path) -> Message:
        data, fields = path.read_bytes(), {}
        while data.startswith(b"X-Mailsink-"):
            line, _, data = data.partition(b"\r\n")
            name, _, value = line.decode().partition(": ")
            fields[name] = value
        received_at, mail_from, rcpt_tos = (fields[name] for name in _ENVELOPE_HEADERS)
        return Message(int(path.stem), received_at, mail_from, json.loads(rcpt_tos), data)

    def add(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> Message:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        message = Message(self.next_id, now, mail_from, list(rcpt_tos), raw)
        self.next_id += 1
        self.messages.append(message)
        if self.store is not None:
            values = (now, mail_from, json.dumps(message.rcpt_tos))
            head = "".join(f"{n}: {v}\r\n" for n, v in zip(_ENVELOPE_HEADERS, values, strict=True))
            (self.store / f"{message.id}.eml").write_bytes(head.encode() + raw)
        return message

    def clear(self) -> None:
        self.messages.clear()
        if self.store is not None:
            for path in self.store.glob("*.eml"):
                path.unlink(missing_ok=True)

    def set_fault(self, mode: str, count: int) -> None:
        if mode not in FAULT_REPLIES and mode != "none":
            raise ValueError(f"unknown fault mode {mode!r}")
        self.fault_mode, self.fault_count = (mode, count) if mode != "none" and count > 0 else ("none", 0)

    def faults(self) -> dict[str, Any]:
        return {"mode": self.fault_mode, "count": self.fault_count}

    # aiosmtpd handler hook: every message is accepted unless a fault is armed.
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.fault_count > 0:
            reply = FAULT_REPLIES[self.fault_mode]
            self.set_fault(self.fault_mode, self.fault_count - 1)
            log.info("injected fault: %s", reply)
            return reply
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        message = self.add(envelope.mail_from or "", envelope.rcpt_tos, raw)
        log.debug("message %d from %s to %s", message.id, message.mail_from, ", ".join(message.rcpt_tos))
        return "250 2.0.0 OK"


# ---------------------------------------------------------------- HTTP views

PAGE = (
    '<!doctype html><html><head><meta charset="utf-8"><title>{title}</title><style>'
    "body{{font-family:sans-serif;margin:2em}}td,th{{padding:.2em .8em;text-align:left}}"
    "pre{{white-space:pre-wrap;background:#f4f4f4;padding:1em}}iframe{{width:100%;height:30em}}"
    "</style></head><body>{body}</body></html>"
)
esc = html.escape


def render_index(sink: MailSink) -> str:
    rows = "".join(
        f"<tr><td>{esc(m.received_at)}</td><td>{esc(m.mail_from)}</td><td>{esc(', '.join(m.rcpt_tos))}</td>"
        f'<td><a href="/messages/{m.id}">{esc(m.subject) or "(no subject)"}</a></td></tr>'
        for m in reversed(sink.messages)
    )
    body = f'<p><a href="/traces">Traces</a></p><h1>Mail sink: {len(sink.messages)} message(s)</h1><table><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th></tr>{rows}</table>'
    return PAGE.format(title="Mail sink", body=body)


def render_traces(sink: MailSink) -> str:
    """The last 50 traces, newest first: each a link to its tree."""
    traces: dict[str, list[dict[str, Any]]] = {}
    for span in sink.spans:
        traces.setdefault(span["trace_id"], []).append(span)
    newest = sorted(traces.items(), key=lambda item: max(s["end_unix_nano"] for s in item[1]), reverse=True)[:50]
    rows = []
    for trace_id, spans in newest:
        ids = {s["span_id"] for s in spans}
        roots = [s for s in spans if s["parent_span_id"] not in ids] or spans
        root = min(roots, key=lambda s: s["start_unix_nano"])
        services = sorted({str(s["service"]) for s in spans})
        rows.append(
            f'<tr><td><a href="/traces/{esc(trace_id)}">{esc(str(root["service"]))}: {esc(root["name"])}</a></td>'
            f"<td>{len(spans)}</td><td>{esc(', '.join(services))}</td><td><code>{esc(trace_id)}</code></td></tr>"
        )
    body = (
        f'<p><a href="/">&larr; messages</a></p><h1>Traces: {len(traces)} ({len(sink.spans)} spans)</h1>'
        f"<table><tr><th>Root span</th><th>Spans</th><th>Services</th><th>Trace id</th></tr>{''.join(rows)}</table>"
    )
    return PAGE.format(title="Traces", body=body)


def render_trace(sink: MailSink, trace_id: str) -> str:
    """One trace as a tree: each span under its parent, with its service, duration and attributes."""
    spans = [s for s in sink.spans if s["trace_id"] == trace_id]
    ids = {s["span_id"] for s in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for span in sorted(spans, key=lambda s: s["start_unix_nano"]):
        children.setdefault(span["parent_span_id"] if span["parent_span_id"] in ids else None, []).append(span)
    start = min((s["start_unix_nano"] for s in spans), default=0)
    rows: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for span in children.get(parent, []):
            took = (span["end_unix_nano"] - span["start_unix_nano"]) / 1e6
            at = (span["start_unix_nano"] - start) / 1e6
            attributes = ", ".join(f"{k}={v}" for k, v in span["attributes"].items())
            rows.append(
                f'<tr><td style="padding-left:{depth * 1.5 + 0.8}em">{esc(span["name"])}</td><td>{esc(str(span["service"]))}</td>'
                f"<td>{esc(span['kind'])}</td><td>+{at:.1f} ms</td><td>{took:.1f} ms</td><td>{esc(span['status'])}</td>"
                f"<td><small>{esc(attributes)}</small></td></tr>"
            )
            walk(span["span_id"], depth + 1)

    walk(None, 0)
    body = (
        f'<p><a href="/traces">&larr; all traces</a></p><h1>Trace <code>{esc(trace_id)}</code>: {len(spans)} spans</h1>'
        "<table><tr><th>Span</th><th>Service</th><th>Kind</th><th>Start</th><th>Took</th><th>Status</th><th>Attributes</th></tr>"
        f"{''.join(rows)}</table>"
    )
    return PAGE.format(title=f"Trace {trace_id}", body=body)


def render_message(m: Message) -> str:
    headers = "".join(f"<tr><th>{esc(n)}</th><td>{esc(v)}</td></tr>" for n, v in m.headers)
    body = (
        f'<p><a href="/">&larr; all messages</a></p><h1>{esc(m.subject) or "(no subject)"}</h1>'
        f"<p>Envelope: {esc(m.mail_from)} &rarr; {esc(', '.join(m.rcpt_tos))}, {len(m.raw)} bytes, "
        f"received {esc(m.received_at)}</p><table>{headers}</table>"
    )
    if m.text is not None:
        body += f"<h2>Text</h2><pre>{esc(m.text)}</pre>"
    if m.html is not None:
        body += f'<h2>HTML</h2><iframe sandbox srcdoc="{esc(m.html)}"></iframe>'
    return PAGE.format(title=esc(m.subject), body=body)


MAX_SPANS = 50_000
_SPAN_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


def _attribute_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind in ("string_value", "bool_value", "int_value", "double_value") else str(getattr(value, kind, ""))


def receive_spans(sink: MailSink, body: bytes, encoding: str) -> int:
    """Keep the spans of one OTLP/HTTP export request; returns how many."""
    import gzip

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    request.ParseFromString(gzip.decompress(body) if encoding == "gzip" else body)
    received = 0
    for resource_spans in request.resource_spans:
        resource = {a.key: _attribute_value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                sink.spans.append(
                    {
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex() or None,
                        "name": span.name,
                        "kind": _SPAN_KINDS.get(span.kind, str(span.kind)),
                        "service": resource.get("service.name"),
                        "start_unix_nano": span.start_time_unix_nano,
                        "end_unix_nano": span.end_time_unix_nano,
                        "status": {0: "unset", 1: "ok", 2: "error"}.get(span.status.code, str(span.status.code)),
                        "status_message": span.status.message,
                        "attributes": {a.key: _attribute_value(a.value) for a in span.attributes},
                        "events": [{"name": e.name, "attributes": {a.key: _attribute_value(a.value) for a in e.attributes}} for e in span.events],
                        "links": [{"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex()} for link in span.links],
                    }
                )
                received += 1
    del sink.spans[:-MAX_SPANS]
    return received


async def route(sink: MailSink, method: str, target: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """Return (status, payload); a str payload is HTML, bytes a raw message, anything else is JSON."""
    url = urlsplit(target)
    path = url.path.rstrip("/") or "/"
    parts = path.strip("/").split("/")
    if (method, path) == ("GET", "/health"):
        return 200, {"status": "ok"}
    if (method, path) == ("GET", "/"):
        return 200, render_index(sink)
    if (method, path) == ("GET", "/traces"):
        return 200, render_traces(sink)
    if method == "GET" and len(parts) == 2 and parts[0] == "traces":
        return 200, render_trace(sink, parts[1])
    if method == "GET" and len(parts) == 2 and parts[0] == "messages" and parts[1].isdigit():
        found = [m for m in sink.messages if m.id == int(parts[1])]
        return (200, render_message(found[0])) if found else (404, {"error": "no such message"})
    if path == "/api/messages":
        if method == "DELETE":
            sink.clear()
            return 200, {"deleted": True}
        if method == "GET":
            query = parse_qs(url.query)
            to = query.get("to", [None])[0]
            after = int(query.get("after", ["0"])[0] or 0)
            msgs = [m for m in sink.messages if m.id > after and (to is None or to.lower() in (r.lower() for r in m.rcpt_tos))]
            if query.get("view", [""])[0] == "envelope":
                return 200, [m.summary() for m in msgs]
            return 200, [m.to_json() for m in msgs]
    if method == "GET" and len(parts) == 3 and parts[:2] == ["api", "messages"] and parts[2].isdigit():
        found = [m for m in sink.messages if m.id == int(parts[2])]
        return (200, found[0].to_json()) if found else (404, {"error": "no such message"})
    if method == "GET" and len(parts) == 4 and parts[:2] == ["api", "messages"] and parts[2].isdigit() and parts[3] == "raw":
        found = [m for m in sink.messages if m.id == int(parts[2])]
        return (200, found[0].raw) if found else (404, {"error": "no such message"})
    if (method, path) == ("POST", "/v1/traces"):
        try:
            return 200, {"received": receive_spans(sink, body, (headers or {}).get("content-encoding", ""))}
        except Exception as exc:  # not OTLP protobuf: the exporter logs the 400
            return 400, {"error": f"not an OTLP trace export: {exc}"}
    if path == "/api/spans":
        if method == "DELETE":
            sink.spans.clear()
            return 200, {"deleted": True}
        if method == "GET":
            trace_id = parse_qs(url.query).get("trace_id", [None])[0]
            return 200, [span for span in sink.spans if trace_id is None or span["trace_id"] == trace_id]
    if path == "/api/faults" and method == "GET":
        return 200, sink.faults()
    if path == "/api/faults" and method == "POST":
        try:
            request = json.loads(body or b"{}")
            sink.set_fault(str(request.get("mode", "none")), int(request.get("count", 1)))
        except (ValueError, TypeError, AttributeError) as exc:
            return 400, {"error": str(exc)}
        return 200, sink.faults()
    return 404, {"error": f"no route for {method} {path}"}


async def handle_http(sink: MailSink, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    status, payload = 400, {"error": "bad request"}
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
        length = int(headers.get("content-length", "0"))
        body = await asyncio.wait_for(reader.readexactly(length), 10) if length else b""
        status, payload = await route(sink, method.upper(), target, body, headers)
    except (ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        pass
    except Exception:  # never let one request kill the sink
        log.exception("HTTP handler failed")
        status, payload = 500, {"error": "internal error"}
    if isinstance(payload, bytes):
        data, ctype = payload, "message/rfc822"
    elif isinstance(payload, str):
        data, ctype = payload.encode(), "text/html; charset=utf-8"
    else:
        data, ctype = json.dumps(payload, ensure_ascii=False).encode(), "application/json"
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}[status]
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(data)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n".encode()
        + data
    )
    try:
        await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


# ---------------------------------------------------------------- process


async def serve(host: str, smtp_port: int, http_port: int, store: str | Path | None = None) -> None:
    """Run the SMTP and HTTP servers on the current loop until cancelled."""
    sink = MailSink(Path(store) if store is not None else None)
    loop = asyncio.get_running_loop()
    smtp_server = await loop.create_server(lambda: SMTP(sink, hostname="mailsink", loop=loop), host, smtp_port)
    http_server = await asyncio.start_server(lambda r, w: handle_http(sink, r, w), host, http_port)
    log.info("mail sink: SMTP on %s:%d, HTTP on http://%s:%d/ (%d stored message(s))", host, smtp_port, host, http_port, len(sink.messages))
    try:
        await asyncio.Future()
    finally:
        for server in (smtp_server, http_server):
            server.close()
        for server in (smtp_server, http_server):
            await server.wait_closed()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.mailsink", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--store", help="directory to keep messages as <id>.eml across restarts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)

    async def run() -> None:
        task = asyncio.current_task()
        assert task is not None
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
        try:
            await serve(args.host, args.smtp_port, args.http_port, args.store)
        except asyncio.CancelledError:
            log.info("mail sink stopped")

    # uvloop where it is installed (it is, with the services): a third more messages a second.
    try:
        import uvloop
    except ImportError:
        asyncio.run(run())
    else:
        uvloop.run(run())


if __name__ == "__main__":
    main()
