"""The email as bytes on the wire: multipart/alternative, a plain-text part and an HTML part, UTF-8.

Written out here instead of with `email.message.EmailMessage`: the standard library's builder
and generator took 1.3-2 ms per email (a quarter of the service's CPU at full load), this takes
a few tens of microseconds, and the shape of our emails never varies.

Headers that are not plain ASCII (a subject or a name with "Çağlayan Łódź", Greek, Cyrillic, CJK,
emoji) are written as RFC 2047 encoded words here too, not with the standard library's folding:
Python 3.11's loses the space between an ASCII word and an encoded one, doubles others, and writes
encoded words longer than the 75 characters RFC 2047 allows (and took ~1.3 ms an email). The rules
kept, so that every RFC 2047 decoder (mail clients, `email.header.decode_header`, the modern parser
of `email.policy.default`) gives back exactly the text written:
- an encoded word is at most 75 characters and never cuts a UTF-8 sequence: each decodes alone;
- whitespace between two encoded words is dropped by decoders (RFC 2047 §6.2), so whitespace
  between two encoded parts of the text travels inside the encoded words; whitespace between an
  encoded word and a plain one is kept by decoders, so it is written as it is (one space, where a
  decoder would otherwise not know how many there were);
- a line is folded only at whitespace the text has (before the last space of a run), so unfolding
  restores it; every header line is at most 76 characters (RFC 2047 §2), apart from a very long
  address;
- in a display name (a phrase), only words of RFC 5322 atoms stand plain; anything else is
  encoded. A phrase's whitespace means one space (RFC 5322 §3.2.2), so a name's runs of whitespace
  are written as one space.
What a header cannot carry stays out: a line break in a value (it would start a new header) is one
space, and leading and trailing whitespace is dropped.

The Message-ID is derived from the notification, so a resent email (after a crash between the
server's answer and our commit) carries the same id, and a mail client can tell it is a copy.
"""

from __future__ import annotations

import binascii
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parseaddr
from functools import lru_cache

MESSAGE_ID_DOMAIN = "wse.vlaanderen.be"


@dataclass(frozen=True, slots=True)
class Email:
    """One notification's email: the envelope and the bytes the server receives."""

    mail_from: str  # the bare address, for MAIL FROM
    recipient: str  # the bare address, for RCPT TO
    data: bytes


# ------------------------------------------------------------------------------- header values

_WIDTH = 76  # a header line holding an encoded word is at most 76 characters (RFC 2047 §2)
_MAX_WORD = 75  # an encoded word (RFC 2047 §2)
_Q_START, _B_START, _END = "=?utf-8?q?", "=?utf-8?b?", "?="
_OVERHEAD = len(_Q_START) + len(_END)
_MAX_PLAIN_WORD = 58  # a longer word is encoded (and split): a header name, ": " and the word fit a line
_MAX_PLAIN_SPACES = 20  # a longer run of spaces is encoded: folding it would leave lines of spaces only
# Q encoding in its strictest form (RFC 2047 §5 (3), the one a display name needs): letters, digits
# and !*+-/ as they are, a space as "_", every other byte (UTF-8 of anything else) as =XX.
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_Q_BYTE = tuple("_" if b == 0x20 else chr(b) if b in _Q_SAFE else f"={b:02X}" for b in range(256))
_LINE_BREAKS = re.compile(r"[ \t]*[\r\n][ \t\r\n]*")
_SPACES = re.compile(r"( +)")
# The characters of an RFC 5322 atom (atext): such a word may stand plain in a display name.
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")


def _clean(value: str) -> str:
    """What a header can carry of `value`: a line break (and the whitespace around it) is one space,
    so that a subject or reference with a newline cannot add headers; no whitespace at the ends."""
    if "\r" in value or "\n" in value:
        value = _LINE_BREAKS.sub(" ", value)
    return value.strip(" \t")


def _plain_word(word: str, phrase: bool) -> bool:
    """Whether a word can stand as it is: printable ASCII that no decoder takes for an encoded word
    (nothing like "=?"), short enough for a line, and in a display name an atom."""
    return word.isascii() and word.isprintable() and len(word) <= _MAX_PLAIN_WORD and "=?" not in word and (not phrase or _ATOM.fullmatch(word) is not None)


def _segments(value: str, phrase: bool) -> list[tuple[str, str, bool]]:
    """`value` as (separator before, text, encoded?) segments: plain words, and runs of words and
    the whitespace between them to be encoded together."""
    parts = _SPACES.split(value)
    words, seps = parts[0::2], parts[1::2]
    plain = [_plain_word(word, phrase) for word in words]
    # Whitespace stands as it is between two plain words (a few spaces, which unfolding keeps; in a
    # display name one, what a phrase's whitespace means), and as one space between a plain word and
    # an encoded one (decoders keep it; of more, after a fold, `email.header` keeps one). Where the
    # plain word ends beside the encoded one in "(", ")" or "\\", it cannot stand plain either:
    # `email.header` takes those for whitespace where a fold took the space. Anything else travels
    # inside the encoded words beside it, making a plain word beside it encoded too; repeated until
    # nothing changes.
    changed = True
    while changed:
        changed = False
        for j, sep in enumerate(seps):
            if plain[j] and plain[j + 1]:
                if sep == " " or (not phrase and len(sep) <= _MAX_PLAIN_SPACES):
                    continue
            elif sep == " " and (plain[j + 1] or words[j][-1] not in "()\\") and (plain[j] or words[j + 1][0] not in "()\\"):
                continue
            for k in (j, j + 1):
                if plain[k]:
                    plain[k], changed = False, True
    segments: list[tuple[str, str, bool]] = []
    for j, word in enumerate(words):
        sep = seps[j - 1] if j else ""
        if plain[j] or not segments or not segments[-1][2]:
            segments.append((sep, word, not plain[j]))
        else:  # continues the encoded run before it, with the whitespace between
            before, text, _ = segments[-1]
            segments[-1] = (before, text + sep + word, True)
    return segments


def _encoded_word(data: bytes, q: list[str] | None, start: int, budget: int) -> tuple[str, int] | None:
    """The next encoded word of `data` from `start`, at most `budget` characters and ending on a
    character boundary (so that it decodes alone), and where the next one starts; None when not
    even one character fits. `q`: each byte's Q encoding, or None for B (base64)."""
    limit = min(budget, _MAX_WORD) - _OVERHEAD
    size = len(data)
    if q is not None:
        used, i, cut = 0, start, start
        while i < size:
            used += len(q[i])
            if used > limit:
                break
            i += 1
            if i == size or data[i] & 0xC0 != 0x80:  # not a continuation byte: a character ends here
                cut = i
        return (_Q_START + "".join(q[start:cut]) + _END, cut) if cut > start else None
    end = min(size, start + limit // 4 * 3)
    while start < end < size and data[end] & 0xC0 == 0x80:
        end -= 1
    if end <= start:
        return None
    return _B_START + binascii.b2a_base64(data[start:end], newline=False).decode("ascii") + _END, end


def _fold(used: int, segments: list[tuple[str, str, bool]], phrase: bool = False) -> str:
    """The segments on lines of at most _WIDTH (the first already holds `used` characters), folded
    before the last space of a separator, encoded runs as encoded words. In a display name
    (`phrase`) a run is split over fewer words where it can: Python 3.11's address parser reads a
    space between two adjacent encoded words (CPython gh-128110) where RFC 2047 §6.2 and mail
    clients read none; and a display name may start on the line after the header's name (its
    leading whitespace is CFWS), which an unstructured value may not."""
    out: list[str] = []
    for index, (sep, text, encoded) in enumerate(segments):
        # A fold before the next segment leaves all but the last space of its separator at the end
        # of this line (where a reader keeps them): keep room for them.
        reserve = max(len(segments[index + 1][0]) - 1, 0) if index + 1 < len(segments) else 0
        if not encoded:
            if not out or used + len(sep) + len(text) + reserve <= _WIDTH:
                out.append(sep + text)
                used += len(sep) + len(text)
            else:
                out.append(f"{sep[:-1]}\r\n {text}")
                used = 1 + len(text)
            continue
        data = text.encode("utf-8")
        pieces = [_Q_BYTE[b] for b in data]
        # Q where it is no longer than base64 (Latin text stays readable), else B (Greek, CJK, emoji).
        q = pieces if sum(map(len, pieces)) <= (len(data) + 2) // 3 * 4 else None
        position = 0
        while position < len(data):
            # On this line if a useful part of the text fits there (the first word always: a value
            # cannot start with a fold), else on the next.
            room = _WIDTH - used - len(sep) - reserve
            word = None
            if phrase and (whole := _encoded_word(data, q, position, _MAX_WORD)) and whole[1] == len(data) and len(whole[0]) > room:
                pass  # a name's rest fits one word on the next line: not split (see _address), even if it is the first
            elif room >= _OVERHEAD + 12:  # room for any character's encoding (12 characters at most)
                word = _encoded_word(data, q, position, room)
            elif not out:
                word = _encoded_word(data, q, position, _MAX_WORD)
            if word is None:
                word = _encoded_word(data, q, position, _WIDTH - 1 - reserve)
                assert word is not None  # a whole line holds any character
                out.append(f"{sep[:-1]}\r\n {word[0]}")
                used = 1 + len(word[0])
            else:
                out.append(sep + word[0])
                used += len(sep) + len(word[0])
            position, sep = word[1], " "  # between two encoded words: whitespace that decoders drop
    return "".join(out)


def _header_value(name: str, value: str) -> str:
    """A header's value as ASCII, on lines of at most 76 (see the module's docstring)."""
    value = _clean(value)
    # The common case, cheaply: ASCII words with single spaces, on one line or folded at spaces.
    if value.isascii() and value.isprintable() and "=?" not in value and "  " not in value:
        if len(name) + 2 + len(value) <= _WIDTH:
            return value
        words = value.split(" ")
        if max(map(len, words)) <= _MAX_PLAIN_WORD:
            return _fold_words(len(name) + 2, words)
    folded = _fold(len(name) + 2, _segments(value, phrase=False))
    if max(map(len, f"{name}: {folded}".split("\r\n"))) > _WIDTH:
        # A long run of spaces beside a long plain word can leave no place to fold within the
        # width (the spaces must stay at a line's end, where readers keep them): then the whole
        # value as encoded words, which carry every space and always fold within it.
        folded = _fold(len(name) + 2, [("", value, True)])
    return folded


def _fold_words(used: int, words: list[str]) -> str:
    """Plain words with single spaces on lines of at most _WIDTH, a fold taking a space's place."""
    lines, line = [], ""
    for word in words:
        if line and used + len(line) + 1 + len(word) > _WIDTH:
            lines.append(line)
            line, used = word, 1  # continuation lines start with one space
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\r\n ".join(lines)


def _address(header: str, name: str | None, address: str) -> str:
    """A mailbox (name-addr) for `header`: the display name as atoms, a quoted string or encoded
    words, whichever carries it exactly. A name's whitespace separates its words: any run of it is
    one space, as a display name's whitespace means (RFC 5322 §3.2.2) and as readers show it."""
    name = " ".join((name or "").split())
    if not name:
        return address
    if name.isascii() and name.isprintable() and "=?" not in name and len(header) + len(name) + len(address) + 7 <= _WIDTH:
        if "  " not in name and all(_ATOM.fullmatch(word) for word in name.split(" ")):
            return f"{name} <{address}>"
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{address}>'
    return _fold(len(header) + 2, [*_segments(name, phrase=True), (" ", f"<{address}>", False)], phrase=True)


@lru_cache(maxsize=16)
def _mailbox(header: str, value: str) -> str:
    """A configured sender or reply-to ("Name <address>" or an address), written as a mailbox."""
    name, address = parseaddr(value)
    if not address or "@" not in address:
        return _header_value(header, value)
    return _address(header, name, ascii_address(address))


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
        f"From: {_mailbox('From', sender)}",
        *([f"Reply-To: {_mailbox('Reply-To', reply_to)}"] if reply_to else []),
        f"To: {_address('To', recipient_name, recipient)}",
        f"Subject: {_header_value('Subject', subject)}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: <{notification_id}@{MESSAGE_ID_DOMAIN}>",
        f"X-WSE-Reference: {_header_value('X-WSE-Reference', reference)}",
        f"X-WSE-Notification-Id: {notification_id}",
        "Auto-Submitted: auto-generated",  # RFC 3834: no out-of-office or other automatic reply to it
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
