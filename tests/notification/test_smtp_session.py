"""The SMTP session as a department relay wants it: STARTTLS with a verified certificate and
authentication, on several reused connections. Against a real SMTP server (aiosmtpd, the same
server the mail sink is built on) that refuses mail without both, with a certificate from a CA
made for the test.

A refused login or a missing STARTTLS is our configuration, not the email's fault: it must end
in a retry (temporary), never in a permanent failure of the contact person's email."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import uuid
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notification.mime import build_email
from notification.smtp import ServerUnreachable, SmtpSender

USER, PASSWORD = "wse-notification", "s3cret-relay"


def _certificate(directory: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for localhost/127.0.0.1 that it signed."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "WSE test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


class Relay:
    """Keeps what it accepted, with how the session was secured."""

    def __init__(self) -> None:
        self.accepted: list[dict] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.accepted.append(
            {"rcpt_tos": envelope.rcpt_tos, "tls": session.ssl is not None, "authenticated": session.authenticated, "data": envelope.original_content}
        )
        return "250 2.0.0 queued"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def relay(tmp_path):
    ca, certificate, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Relay()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        server_hostname="relay.test",
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=_authenticate,
    )
    controller.start()
    try:
        yield handler, port, str(ca)
    finally:
        controller.stop()


def _emails(count: int):
    return [
        build_email(
            notification_id=uuid.uuid4(),
            sender="Departement WSE <noreply@wse.vlaanderen.be>",
            sender_address="noreply@wse.vlaanderen.be",
            reply_to=None,
            recipient_name="Contact",
            recipient_email=f"contact{i}@school.example",
            subject=f"Bericht {i}",
            reference=f"dossier-{i}",
            text="Beste,\n\nTot ziens.",
            html="<p>Beste,</p>",
            date=dt.datetime.now(dt.UTC),
        )
        for i in range(count)
    ]


async def test_starttls_and_login_on_every_reused_connection(relay):
    handler, port, ca = relay
    sender = SmtpSender(host="localhost", port=port, username=USER, password=PASSWORD, starttls=True, ca_file=ca, connections=3)
    try:
        first = await sender.send_all(_emails(9))
        second = await sender.send_all(_emails(3))  # the same sessions, still open
    finally:
        await sender.close()
    assert all(isinstance(answer, str) and answer.startswith("250") for answer in first + second), first + second
    assert len(handler.accepted) == 12
    assert all(mail["tls"] and mail["authenticated"] for mail in handler.accepted)


async def test_a_wrong_password_is_retried_later_not_a_permanent_failure(relay):
    handler, port, ca = relay
    sender = SmtpSender(host="localhost", port=port, username=USER, password="wrong", starttls=True, ca_file=ca, connections=2)
    try:
        outcomes = await sender.send_all(_emails(5))
    finally:
        await sender.close()
    assert all(isinstance(outcome, ServerUnreachable) for outcome in outcomes), outcomes
    assert isinstance(outcomes[0], ServerUnreachable) and outcomes[0].answer.startswith("535")
    assert handler.accepted == []


async def test_without_starttls_the_relay_refuses_and_it_is_retried_later(relay):
    handler, port, ca = relay
    sender = SmtpSender(host="localhost", port=port, starttls=False, connections=1)
    try:
        [outcome] = await sender.send_all(_emails(1))
    finally:
        await sender.close()
    assert isinstance(outcome, ServerUnreachable) and outcome.answer.startswith("530"), outcome
    assert handler.accepted == []


async def test_a_certificate_from_an_unknown_ca_is_not_trusted(relay):
    handler, port, _ = relay
    sender = SmtpSender(host="localhost", port=port, username=USER, password=PASSWORD, starttls=True, connections=1)  # system CAs only
    try:
        [outcome] = await sender.send_all(_emails(1))
    finally:
        await sender.close()
    assert isinstance(outcome, ServerUnreachable) and "certificate" in outcome.answer.lower(), outcome
    assert handler.accepted == []
