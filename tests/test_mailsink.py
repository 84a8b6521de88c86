"""The mail sink as a real process: SMTP in, JSON/HTML out, faults, persistence."""

from __future__ import annotations

import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Sink:
    proc: subprocess.Popen[bytes]
    smtp_port: int
    http: httpx.Client

    def send(self, subject: str = "Hello", to: str = "alice@example.org") -> None:
        msg = EmailMessage()
        msg["From"] = "noreply@wse.example"
        msg["To"] = to
        msg["Subject"] = subject
        msg.set_content("Plain body, ünïcode.\n")
        msg.add_alternative("<p>HTML <b>body</b></p>\n", subtype="html")
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as smtp:
            smtp.send_message(msg)

    def messages(self, **params: str) -> list[dict]:
        response = self.http.get("/api/messages", params=params)
        response.raise_for_status()
        return response.json()


def start_sink(store: Path | None = None) -> Sink:
    smtp_port, http_port = free_port(), free_port()
    cmd = [sys.executable, "-m", "devstack.mailsink", "--host", "127.0.0.1", "--smtp-port", str(smtp_port), "--http-port", str(http_port)]
    if store is not None:
        cmd += ["--store", str(store)]
    proc = subprocess.Popen(cmd)
    http = httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=5)
    deadline = time.monotonic() + 15
    while True:
        try:
            if http.get("/health").json() == {"status": "ok"}:
                return Sink(proc, smtp_port, http)
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_sink(Sink(proc, smtp_port, http))
            raise RuntimeError(f"mail sink did not start (exit code {proc.returncode})")
        time.sleep(0.05)


def stop_sink(sink: Sink) -> None:
    sink.http.close()
    if sink.proc.poll() is None:
        sink.proc.terminate()
        try:
            sink.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sink.proc.kill()
            sink.proc.wait()


@pytest.fixture
def sink() -> Iterator[Sink]:
    running = start_sink()
    try:
        yield running
    finally:
        stop_sink(running)


def test_received_message_is_available_as_json(sink: Sink) -> None:
    sink.send(subject="Uw erkenning — bevestiging", to="alice@example.org")
    sink.send(subject="Other", to="bob@example.org")

    messages = sink.messages()
    assert [m["subject"] for m in messages] == ["Uw erkenning — bevestiging", "Other"]
    first = messages[0]
    assert first["mail_from"] == "noreply@wse.example"
    assert first["rcpt_tos"] == ["alice@example.org"]
    assert first["text"] == "Plain body, ünïcode.\n"
    assert first["html"] == "<p>HTML <b>body</b></p>\n"
    assert ["To", "alice@example.org"] in first["headers"]
    assert first["received_at"].endswith("+00:00")
    assert messages[1]["id"] > first["id"]

    assert [m["subject"] for m in sink.messages(to="bob@example.org")] == ["Other"]
    one = sink.http.get(f"/api/messages/{first['id']}")
    assert one.status_code == 200 and one.json()["subject"] == first["subject"]
    assert sink.http.get("/api/messages/9999").status_code == 404

    assert sink.http.delete("/api/messages").status_code == 200
    assert sink.messages() == []


def test_html_views_escape_content(sink: Sink) -> None:
    sink.send(subject="<script>alert(1)</script>")
    index = sink.http.get("/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert "<script>" not in index.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index.text

    msg_id = sink.messages()[0]["id"]
    page = sink.http.get(f"/messages/{msg_id}")
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "<pre>Plain body, ünïcode.\n</pre>" in page.text
    assert '<iframe sandbox srcdoc="&lt;p&gt;HTML &lt;b&gt;body&lt;/b&gt;&lt;/p&gt;\n">' in page.text


def test_fault_injection(sink: Sink) -> None:
    assert sink.http.get("/api/faults").json() == {"mode": "none", "count": 0}

    assert sink.http.post("/api/faults", json={"mode": "temporary", "count": 1}).status_code == 200
    assert sink.http.get("/api/faults").json() == {"mode": "temporary", "count": 1}
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPRecipientsRefused)) as exc_info:
        sink.send(subject="first try")
    assert "451" in str(exc_info.value)
    sink.send(subject="retry")
    assert [m["subject"] for m in sink.messages()] == ["retry"]

    sink.http.post("/api/faults", json={"mode": "permanent", "count": 1})
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPRecipientsRefused)) as exc_info:
        sink.send(subject="rejected")
    assert "550" in str(exc_info.value)

    sink.http.post("/api/faults", json={"mode": "temporary", "count": 5})
    sink.http.post("/api/faults", json={"mode": "none"})
    sink.send(subject="after clear")
    assert [m["subject"] for m in sink.messages()] == ["retry", "after clear"]
    assert sink.http.post("/api/faults", json={"mode": "bogus"}).status_code == 400


def test_store_survives_restart(tmp_path: Path) -> None:
    store = tmp_path / "mail"
    first = start_sink(store)
    try:
        first.send(subject="kept", to="carol@example.org")
        before = first.messages()
    finally:
        stop_sink(first)
    assert first.proc.returncode == 0
    assert sorted(p.name for p in store.iterdir()) == [f"{before[0]['id']}.eml"]

    second = start_sink(store)
    try:
        assert second.messages() == before
        second.send(subject="new")
        after = second.messages()
        assert after[1]["id"] > before[0]["id"]
        second.http.delete("/api/messages")
        assert list(store.iterdir()) == []
    finally:
        stop_sink(second)


def test_newer_messages_and_envelopes_only(sink: Sink) -> None:
    sink.send(subject="first", to="a@example.org")
    sink.send(subject="second", to="b@example.org")
    sink.send(subject="third", to="a@example.org")
    first, *_ = sink.messages()
    newer = sink.messages(after=str(first["id"]))
    assert [m["subject"] for m in newer] == ["second", "third"]
    # Only ids, times and addresses: what a test or benchmark polls without making the sink parse.
    envelopes = sink.messages(view="envelope", to="a@example.org")
    assert [set(m) for m in envelopes] == [{"id", "received_at", "mail_from", "rcpt_tos", "size"}] * 2
    assert [m["rcpt_tos"] for m in envelopes] == [["a@example.org"], ["a@example.org"]]
    assert sink.http.get("/api/messages", params={"after": "x"}).status_code == 400


def test_raw_bytes_of_a_message_as_smtp_carried_them(sink: Sink) -> None:
    """What arrived, byte for byte (encoded words, folding, CRLF), not what a parser made of it."""
    raw = (
        b"From: noreply@wse.example\r\nTo: =?utf-8?b?w4dhxJ9sYXlhbiDFgcOzZMW6?= <alice@example.org>\r\n"
        b"Subject: =?utf-8?q?Zo=C3=AB?=\r\n =?utf-8?q?_=C5=8Ctsuka?=\r\nAuto-Submitted: auto-generated\r\n\r\nBody\r\n"
    )
    with smtplib.SMTP("127.0.0.1", sink.smtp_port, timeout=10) as smtp:
        smtp.sendmail("noreply@wse.example", ["alice@example.org"], raw)
    (message,) = sink.messages()
    response = sink.http.get(f"/api/messages/{message['id']}/raw")
    assert response.status_code == 200
    assert response.headers["content-type"] == "message/rfc822"
    assert response.content == raw
    assert message["subject"] == "Zoë Ōtsuka" and message["size"] == len(raw)
    assert sink.http.get("/api/messages/9999/raw").status_code == 404


def test_otlp_spans_are_received_listed_by_trace_and_shown_as_a_tree(sink: Sink) -> None:
    # Issue 15, traces: the stack's mail sink is its OTLP/HTTP receiver, fed by OpenTelemetry's own exporter.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "probe"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=str(sink.http.base_url.join("/v1/traces")))))
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span("POST /things <b>") as parent,
        tracer.start_as_current_span("send things", attributes={"messaging.destination.name": "things"}),
    ):
        pass
    provider.shutdown()
    trace_id = f"{parent.get_span_context().trace_id:032x}"
    spans = sink.http.get("/api/spans", params={"trace_id": trace_id}).json()
    assert [(s["name"], s["service"]) for s in spans] == [("send things", "probe"), ("POST /things <b>", "probe")]
    child, root = spans
    assert child["parent_span_id"] == root["span_id"] and root["parent_span_id"] is None
    assert child["attributes"] == {"messaging.destination.name": "things"}
    assert child["events"] == [] and child["status_message"] == "" and child["links"] == []
    assert sink.http.get("/api/spans", params={"trace_id": "0" * 32}).json() == []
    assert trace_id in sink.http.get("/traces").text
    tree = sink.http.get(f"/traces/{trace_id}").text
    assert "POST /things &lt;b&gt;" in tree and "POST /things <b>" not in tree  # escaped
    assert tree.index("POST /things") < tree.index("send things")
    assert sink.http.post("/v1/traces", content=b"not protobuf", headers={"content-type": "application/x-protobuf"}).status_code == 400
    assert sink.http.delete("/api/spans").json() == {"deleted": True}
    assert sink.http.get("/api/spans").json() == []
