"""The email as the service writes it, read back by the standard library's parser: what a mail
client sees. (The delivery tests read the same through the mail sink.)"""

from __future__ import annotations

import email
import re
import uuid
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from typing import Any

import pytest

from notification.mime import Email, UndeliverableAddress, build_email

SENDER = "Departement Werk en Sociale Economie <noreply@wse.vlaanderen.be>"


def _build(**overrides: Any) -> tuple[dict[str, Any], Email]:
    fields: dict[str, Any] = dict(
        notification_id=uuid.uuid4(),
        sender=SENDER,
        sender_address="noreply@wse.vlaanderen.be",
        reply_to="opleidingsdatabank@vlaanderen.be",
        recipient_name="Zoë D'Hondt, coördinator",
        recipient_email="zoe@school.example",
        subject="Uw aanvraag 4711 is ontvangen: Lassen é ë",
        reference="dossier-4711",
        text="Beste Zoë,\n\nUw aanvraag is ontvangen.\n" + "lange regel " * 20 + "\n.\nEinde",
        html="<p>Beste Zoë,</p><p>Uw aanvraag &amp; meer.</p>",
        date=datetime(2026, 11, 22, 10, 0, tzinfo=UTC),
    )
    fields.update(overrides)
    return fields, build_email(**fields)


def test_both_parts_and_the_headers_read_back_as_written():
    fields, built = _build()
    message = email.message_from_bytes(built.data, policy=policy.default)
    assert built.mail_from == "noreply@wse.vlaanderen.be" and built.recipient == "zoe@school.example"
    assert message["Subject"] == fields["subject"]
    assert message["To"].addresses[0].display_name == fields["recipient_name"]
    assert message["To"].addresses[0].addr_spec == "zoe@school.example"
    assert message["From"].addresses[0].addr_spec == "noreply@wse.vlaanderen.be"
    assert message["Reply-To"] == "opleidingsdatabank@vlaanderen.be"
    assert message["Message-ID"] == f"<{fields['notification_id']}@wse.vlaanderen.be>"
    assert message["X-WSE-Reference"] == "dossier-4711"
    assert message.get_content_type() == "multipart/alternative"
    plain_part, html_part = message.get_body(preferencelist=("plain",)), message.get_body(preferencelist=("html",))
    assert plain_part is not None and html_part is not None
    text = plain_part.get_content().replace("\r\n", "\n")
    html = html_part.get_content().replace("\r\n", "\n")
    assert text == fields["text"] and html == fields["html"]
    assert not message.defects


def test_lines_stay_within_the_smtp_limit_and_are_crlf():
    _, built = _build(
        text="x" * 5000, html="<p>" + "é" * 3000 + "</p>", recipient_name="Zoë D'Hondt-Vercammen, coördinator opleidingen", subject="Ontvangen: " + "é" * 200
    )
    lines = built.data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 78
    assert b"\n" not in built.data.replace(b"\r\n", b"") and b"\r" not in built.data.replace(b"\r\n", b"")
    message = email.message_from_bytes(built.data, policy=policy.default)
    assert message["Subject"] == "Ontvangen: " + "é" * 200
    # A long name is split over encoded words of at most 75 characters (RFC 2047), which a
    # decoder joins again. (The modern parser of the standard library leaves a space where a word
    # was split; the RFC's decoding, as in email.header, does not.)
    raw_to = email.message_from_bytes(built.data)["To"]
    assert all(len(word) <= 75 for word in re.findall(r"=\?[^?]+\?[bqBQ]\?[^?]*\?=", raw_to)), raw_to
    assert str(make_header(decode_header(raw_to))) == "Zoë D'Hondt-Vercammen, coördinator opleidingen <zoe@school.example>"


def test_a_long_ascii_subject_is_folded_and_reads_back_whole():
    subject = "Uw aanvraag 4711 voor de opleiding Lastechnieken voor gevorderden (module 3) is ontvangen en wordt behandeld"
    _, built = _build(subject=subject)
    assert max(len(line) for line in built.data.split(b"\r\n")) <= 78
    assert email.message_from_bytes(built.data, policy=policy.default)["Subject"] == subject


def test_a_newline_in_a_subject_or_reference_adds_no_header():
    _, built = _build(subject="Aanvraag\r\nBcc: iemand@elders.example", reference="x\nX-Injected: yes")
    message = email.message_from_bytes(built.data, policy=policy.default)
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert message["Subject"] == "Aanvraag Bcc: iemand@elders.example"


def test_an_internationalised_domain_goes_as_punycode_and_a_non_ascii_local_part_is_refused():
    _, built = _build(recipient_email="zoe@bücher.example")
    assert built.recipient == "zoe@xn--bcher-kva.example"
    assert "zoe@xn--bcher-kva.example" in email.message_from_bytes(built.data, policy=policy.default)["To"]
    with pytest.raises(UndeliverableAddress, match="SMTPUTF8"):
        _build(recipient_email="jörg@bücher.example")


def test_the_same_notification_has_the_same_message_id_on_every_attempt():
    notification_id = uuid.uuid4()
    _, first = _build(notification_id=notification_id)
    _, second = _build(notification_id=notification_id, date=datetime(2026, 11, 23, tzinfo=UTC))
    ids = {email.message_from_bytes(b.data, policy=policy.default)["Message-ID"] for b in (first, second)}
    assert len(ids) == 1
