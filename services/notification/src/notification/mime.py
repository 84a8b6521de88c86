"""The email as bytes on the wire: multipart/alternative, a plain-text part and an HTML part, UTF-8.

Written out here instead of with `email.message.EmailMessage`: the standard library's builder
and generator took 1.3-2 ms per email (a quarter of the service's CPU at full load), this takes
a few tens of microseconds, and the shape of our emails never varies. What the standard library
does better, we still use it for: folding and encoding the rare header that is long or not
ASCII (RFC 2047), and quoting names in addresses.

The Message-ID is derived from the notification, so a resent email (after a crash between the
server's answer and our commit) carries the same id, and a mail client can tell it is a copy.
"""

from __future__ import annotations

import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr

MESSAGE_ID_DOMAIN = "wse.vlaanderen.be"


@dataclass(frozen=True, slots=True)
class Email:
    """One notification's email: the envelope and the bytes the server receives."""

    mail_from: str  # the bare address, for MAIL FROM
    recipient: str  # the bare address, for RCPT TO
    data: bytes


def _header_value(name: str, value: str) -> str:
    """A header's value as ASCII, on lines of at most 78: non-ASCII as encoded words (RFC 2047),
    and no line breaks of its own (a subject or reference with a newline must not add headers)."""
    value = " ".join(value.split())
    if value.isascii():
        return _fold_ascii(len(name) + 2, value)
    # The standard library's modern folding and encoding, for values that are not ASCII (it
    # costs ~40 us, twice the rest of the email).
    folded = SMTP_POLICY.header_factory(name, value).fold(policy=SMTP_POLICY)
    return folded.removeprefix(f"{name}: ").removesuffix("\r\n")


def _fold_ascii(used: int, value: str, width: int = 78) -> str:
    """Folded at spaces into lines of at most `width` (a word longer than that keeps its line;
    SMTP allows 998)."""
    if used + len(value) <= width:
        return value
    lines, line = [], ""
    for word in value.split(" "):
        if line and used + len(line) + 1 + len(word) > width:
            lines.append(line)
            line, used = word, 1  # continuation lines start with one space
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\r\n ".join(lines)


class UndeliverableAddress(ValueError):
    """An address this service cannot put in an SMTP envelope."""


def ascii_address(address: str) -> str:
    """The address as SMTP without the SMTPUTF8 extension carries it: an internationalised domain
    as its IDNA (punycode) form. A local part that is not ASCII cannot be carried that way."""
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        raise UndeliverableAddress(f"the address {address!r} has a local part that is not ASCII (SMTPUTF8 is not supported)")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as error:
            raise UndeliverableAddress(f"the domain of {address!r} is not a valid internationalised domain name: {error}") from None
    return f"{local}@{domain}"


def _address(name: str | None, address: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        return address
    if name.isascii() and len(name) + len(address) < 64:
        return formataddr((name, address))  # quoted when it holds a comma or the like
    # A long or non-ASCII name: the standard library quotes, encodes and folds it.
    return _header_value("To", str(Address(display_name=name, addr_spec=address)))


def _quoted_printable(text: str) -> bytes:
    """UTF-8 text as quoted-printable, lines of at most 76 characters, CRLF line ends."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    encoded = binascii.b2a_qp(normalised, quotetabs=False, istext=True, header=False)
    return encoded.replace(b"\n", b"\r\n")


def build_email(
    *,
    notification_id: uuid.UUID,
    sender: str,
    sender_address: str,
    reply_to: str | None,
    recipient_name: str | None,
    recipient_email: str,
    subject: str,
    reference: str,
    text: str,
    html: str,
    date: datetime,
) -> Email:
    """The email, or UndeliverableAddress when the recipient's address cannot be sent to."""
    recipient = ascii_address(recipient_email)
    boundary = f"=_wse_{notification_id.hex}"
    headers = [
        f"From: {_header_value('From', sender)}",
        *([f"Reply-To: {_header_value('Reply-To', reply_to)}"] if reply_to else []),
        f"To: {_address(recipient_name, recipient)}",
        f"Subject: {_header_value('Subject', subject)}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: <{notification_id}@{MESSAGE_ID_DOMAIN}>",
        f"X-WSE-Reference: {_header_value('X-WSE-Reference', reference)}",
        f"X-WSE-Notification-Id: {notification_id}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"',  # folded: lines of at most 78
    ]
    part_head = "\r\n".join(["", f"--{boundary}", "Content-Type: text/{subtype}; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "", ""])
    data = b"".join(
        [
            # Folded header lines (a long encoded name) come with "\n": every line end is CRLF.
            "\n".join(headers).replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii"),
            b"\r\n",
            part_head.format(subtype="plain").encode("ascii"),
            _quoted_printable(text),
            part_head.format(subtype="html").encode("ascii"),
            _quoted_printable(html),
            f"\r\n--{boundary}--\r\n".encode("ascii"),
        ]
    )
    return Email(mail_from=ascii_address(sender_address), recipient=recipient, data=data)
