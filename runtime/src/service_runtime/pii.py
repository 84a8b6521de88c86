"""National register numbers at rest: encrypted, found through a blind index, named in events by a
pseudonym, shown masked.

A national register number (NRN, 11 digits) of someone who never signed up is stored only as:

- `encrypt(keys, nrn)`: AES-256-GCM under the active key, a fresh 12-byte nonce per value, the
  context (`b"nrn"`) as associated data. The value describes itself: a version byte, the key id
  (one length byte, then the id in ASCII), the nonce, the ciphertext with its 16-byte tag. Any
  key still configured decrypts it (`decrypt`), so keys rotate: add a key, make it active, and
  let a command walk the rows with `reencrypt` (None for a value already under the active key).
- `blind_index(keys, nrn)`: HMAC-SHA256 of the 11 digits under the index key, 32 bytes: the same
  number always gives the same bytes, for a UNIQUE index and look-ups, without the number.
- `pseudonym(keys, nrn)`: the student id carried by events, HMAC-SHA256 of "student:" and the
  digits under the pseudonym key (a platform secret shared by the services that must agree on a
  student), 26 lowercase base32 characters. Another key than the blind index's, so neither can be
  joined to the other without the keys.
- `mask(nrn)`: "85.07.30-***.**" for receipts and messages.

Keys come from the settings (`PiiKeys.from_settings`): PII_KEYS ("k1:<base64 32 bytes>,k2:..."),
PII_ACTIVE_KEY, PII_INDEX_KEY, PII_PSEUDONYM_KEY (base64), each also as <SERVICE>_PII_... . In a
development or test environment an unset key is a fixed, labelled development key (the same at
every start, so a restarted dev stack still decrypts its data); anywhere else it is an error.

Every `PiiError` message is written without the number, so it can go into a log or a problem.
Cost: the cipher and the HMAC states are prepared once per `PiiKeys`; a call only copies them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from service_runtime.settings import ServiceSettings

log = structlog.get_logger(__name__)

FORMAT_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
ENCRYPTION_KEY_BYTES = 32  # AES-256
MIN_HMAC_KEY_BYTES = 32
DEVELOPMENT_KEY_ID = "dev"

# Key ids travel in every stored value: short, plain ASCII, no separator of PII_KEYS.
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
# What a national register number (or BIS number) looks like when written: 11 digits, plain or as
# YY.MM.DD-XXX.CC / YYMMDD-XXX-CC, not inside a run of hex characters (a UUID's last group).
_WRITTEN_NRN = re.compile(r"(?<![0-9a-fA-F])\d{2}[.\- ]?\d{2}[.\- ]?\d{2}[.\- ]?\d{3}[.\- ]?\d{2}(?![0-9a-fA-F])")
_SEPARATORS = str.maketrans("", "", " .-")
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648's alphabet, lowercase
_BASE32_PAIRS = tuple(a + b for a in _BASE32 for b in _BASE32)  # 10 bits -> two characters

_development_warning_logged = False


class PiiError(Exception):
    """A number that is not one, a value that does not decrypt, keys that are missing or wrong.
    The message never contains the national register number (nor any key)."""


def normalise(nrn: str) -> str:
    """The 11 digits of a national register number written with or without spaces, dots and
    dashes; anything else raises PiiError (without the input in the message)."""
    if isinstance(nrn, str):
        if len(nrn) == 11 and nrn.isascii() and nrn.isdigit():  # the usual case, without copying
            return nrn
        digits = nrn.translate(_SEPARATORS)
        if len(digits) == 11 and digits.isascii() and digits.isdigit():
            return digits
    raise PiiError("not a national register number: 11 digits expected (spaces, dots and dashes allowed)")


@dataclass(frozen=True, eq=False, repr=False)
class PiiKeys:
    """The keys for national register numbers: AES-256 keys by id (one active, the others still
    decrypting), the blind index's HMAC key and the pseudonym's HMAC key. Build it once (at start)
    and share it: the ciphers and HMAC states are prepared here, not per call."""

    encryption_keys: Mapping[str, bytes]
    active_key_id: str
    index_key: bytes
    pseudonym_key: bytes
    _ciphers: Mapping[str, AESGCM] = field(init=False, compare=False)
    _active_cipher: AESGCM = field(init=False, compare=False)
    _active_header: bytes = field(init=False, compare=False)
    _index_hmac: hmac.HMAC = field(init=False, compare=False)
    _pseudonym_hmac: hmac.HMAC = field(init=False, compare=False)

    def __post_init__(self) -> None:
        keys = dict(self.encryption_keys)
        if not keys:
            raise PiiError("no encryption key: at least one key id with a 32-byte AES key is needed")
        for key_id, key in keys.items():
            if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
                raise PiiError("an encryption key id must be 1 to 32 characters of A-Z, a-z, 0-9, '_' or '-'")
            if not isinstance(key, bytes) or len(key) != ENCRYPTION_KEY_BYTES:
                raise PiiError(f"encryption key {key_id!r} must be {ENCRYPTION_KEY_BYTES} bytes (AES-256)")
        if self.active_key_id not in keys:
            raise PiiError(f"the active key id {self.active_key_id!r} is not one of the encryption keys ({', '.join(sorted(keys))})")
        for name, key in (("index key", self.index_key), ("pseudonym key", self.pseudonym_key)):
            if not isinstance(key, bytes) or len(key) < MIN_HMAC_KEY_BYTES:
                raise PiiError(f"the {name} must be at least {MIN_HMAC_KEY_BYTES} bytes")
        if hmac.compare_digest(self.index_key, self.pseudonym_key):
            raise PiiError("the index key and the pseudonym key must differ (a pseudonym must not lead to the blind index)")
        ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        pseudonym_hmac = hmac.new(self.pseudonym_key, digestmod=hashlib.sha256)
        pseudonym_hmac.update(b"student:")
        set_ = object.__setattr__
        set_(self, "encryption_keys", MappingProxyType(keys))
        set_(self, "_ciphers", MappingProxyType(ciphers))
        set_(self, "_active_cipher", ciphers[self.active_key_id])
        set_(self, "_active_header", _header(self.active_key_id))
        set_(self, "_index_hmac", hmac.new(self.index_key, digestmod=hashlib.sha256))
        set_(self, "_pseudonym_hmac", pseudonym_hmac)

    def __repr__(self) -> str:  # never the keys
        return f"PiiKeys(key_ids={sorted(self.encryption_keys)!r}, active_key_id={self.active_key_id!r})"

    @classmethod
    def development(cls) -> PiiKeys:
        """The fixed development keys (public: in this source), for development, tests and dev stacks."""
        return cls(
            encryption_keys={DEVELOPMENT_KEY_ID: _development_key("encryption")},
            active_key_id=DEVELOPMENT_KEY_ID,
            index_key=_development_key("blind-index"),
            pseudonym_key=_development_key("pseudonym"),
        )

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> PiiKeys:
        """The keys from PII_KEYS, PII_ACTIVE_KEY, PII_INDEX_KEY, PII_PSEUDONYM_KEY (or the service's
        own <SERVICE>_PII_...). In development and test an unset key is the development key (a
        warning is logged once); elsewhere (acceptance, production) it raises PiiError naming the
        setting, as does a malformed key or a development key configured there."""
        development = settings.platform_environment in ("development", "test")

        def env(name: str) -> str:
            return f"{settings.service_name.upper()}_{name} (or the platform-wide {name})"

        defaulted: list[str] = []
        missing: list[str] = []
        if settings.pii_keys.strip():
            encryption_keys = _parse_key_list(settings.pii_keys, env("PII_KEYS"))
            active_key_id = settings.pii_active_key.strip()
            if not active_key_id:
                missing.append(env("PII_ACTIVE_KEY") + f" (one of the key ids in PII_KEYS: {', '.join(encryption_keys)})")
            elif active_key_id not in encryption_keys:
                raise PiiError(f"{env('PII_ACTIVE_KEY')} names key id {active_key_id!r}, which is not in PII_KEYS ({', '.join(encryption_keys)})")
        elif development and not settings.pii_active_key.strip():
            encryption_keys, active_key_id = {DEVELOPMENT_KEY_ID: _development_key("encryption")}, DEVELOPMENT_KEY_ID
            defaulted.append("PII_KEYS")
        else:
            encryption_keys, active_key_id = {}, ""
            missing.append(env("PII_KEYS") + ' ("k1:<base64 of 32 random bytes>", comma-separated key id:key pairs)')
            if not settings.pii_active_key.strip():
                missing.append(env("PII_ACTIVE_KEY"))

        def hmac_key(name: str, value: str, purpose: str) -> bytes:
            if value.strip():
                return _decode_key(value, env(name), minimum=MIN_HMAC_KEY_BYTES)
            if development:
                defaulted.append(name)
                return _development_key(purpose)
            missing.append(env(name) + f" (base64 of at least {MIN_HMAC_KEY_BYTES} random bytes)")
            return b""

        index_key = hmac_key("PII_INDEX_KEY", settings.pii_index_key, "blind-index")
        pseudonym_key = hmac_key("PII_PSEUDONYM_KEY", settings.pii_pseudonym_key, "pseudonym")
        if missing:
            raise PiiError(
                f"national register numbers cannot be protected: PLATFORM_ENVIRONMENT={settings.platform_environment} "
                f"needs {'; '.join(missing)}. Generate a key with `openssl rand -base64 32`."
            )
        if not development:
            configured = [*encryption_keys.values(), index_key, pseudonym_key]
            if any(hmac.compare_digest(key, _development_key(purpose)) for key in configured for purpose in ("encryption", "blind-index", "pseudonym")):
                raise PiiError(f"a development PII key is configured in PLATFORM_ENVIRONMENT={settings.platform_environment}: generate real keys")
        if defaulted:
            _warn_development_keys(defaulted, settings.platform_environment)
        return cls(encryption_keys=encryption_keys, active_key_id=active_key_id, index_key=index_key, pseudonym_key=pseudonym_key)


def encrypt(keys: PiiKeys, nrn: str, *, context: bytes = b"nrn") -> bytes:
    """The number (normalised to its 11 digits) encrypted under the active key: version, key id,
    nonce, ciphertext and tag in one value, for a bytea column."""
    digits = normalise(nrn)
    nonce = os.urandom(NONCE_BYTES)
    return keys._active_header + nonce + keys._active_cipher.encrypt(nonce, digits.encode("ascii"), context)


def decrypt(keys: PiiKeys, value: bytes, *, context: bytes = b"nrn") -> str:
    """The 11 digits in a value made by `encrypt` under any configured key; PiiError for an
    unknown key id, a malformed or tampered value, or another context."""
    key_id, start = _parse(value)
    cipher = keys._ciphers.get(key_id)
    if cipher is None:
        raise PiiError(f"encrypted under key id {_shown(key_id)!r}, which is not configured (known: {', '.join(sorted(keys.encryption_keys))})")
    nonce_end = start + NONCE_BYTES
    try:
        plaintext = cipher.decrypt(bytes(value[start:nonce_end]), bytes(value[nonce_end:]), context)
    except InvalidTag:
        raise PiiError(f"an encrypted value under key id {_shown(key_id)!r} does not authenticate: tampered with, or another context") from None
    return plaintext.decode("ascii")


def key_id_of(value: bytes) -> str:
    """The id of the key a value is encrypted under (without decrypting it)."""
    return _parse(value)[0]


def reencrypt(keys: PiiKeys, value: bytes, *, context: bytes = b"nrn") -> bytes | None:
    """The value under the active key, or None when it already is (nothing to write): for a
    rotation command walking the rows in batches."""
    if _parse(value)[0] == keys.active_key_id:
        return None
    return encrypt(keys, decrypt(keys, value, context=context), context=context)


def blind_index(keys: PiiKeys, nrn: str) -> bytes:
    """HMAC-SHA256 of the 11 digits under the index key (32 bytes): equal for the same number,
    for a UNIQUE index and look-ups."""
    mac = keys._index_hmac.copy()
    mac.update(normalise(nrn).encode("ascii"))
    return mac.digest()


def pseudonym(keys: PiiKeys, nrn: str) -> str:
    """The pseudonymous student id for events: HMAC-SHA256("student:" + digits) under the
    pseudonym key, its first 16 bytes in lowercase base32 without padding (26 characters)."""
    mac = keys._pseudonym_hmac.copy()
    mac.update(normalise(nrn).encode("ascii"))
    # base64.b32encode(...)[:26].lower(), by a table of two characters per 10 bits: Python 3.11's
    # b32encode is a loop in Python (1.9 µs for 16 bytes, this 0.7 µs). 128 bits and 2 zero bits
    # are 26 characters.
    n = int.from_bytes(mac.digest()[:16], "big") << 2
    p = _BASE32_PAIRS
    return (
        p[n >> 120]
        + p[(n >> 110) & 1023]
        + p[(n >> 100) & 1023]
        + p[(n >> 90) & 1023]
        + p[(n >> 80) & 1023]
        + p[(n >> 70) & 1023]
        + p[(n >> 60) & 1023]
        + p[(n >> 50) & 1023]
        + p[(n >> 40) & 1023]
        + p[(n >> 30) & 1023]
        + p[(n >> 20) & 1023]
        + p[(n >> 10) & 1023]
        + p[n & 1023]
    )


def mask(nrn: str) -> str:
    """The number as "85.07.30-***.**": the birth date shown, the serial and check digits hidden;
    "***" for anything that is not 11 digits."""
    try:
        digits = normalise(nrn)
    except PiiError:
        return "***"
    return f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}-***.**"


def looks_like_nrn(text: str) -> bool:
    """Whether the text holds something written like a national register number (11 digits, plain
    or with dots, dashes or spaces, not inside a run of hex characters): for tests that scan logs,
    events and answers for numbers that should not be there."""
    return _WRITTEN_NRN.search(text if isinstance(text, str) else str(text)) is not None


def _header(key_id: str) -> bytes:
    encoded = key_id.encode("ascii")
    return bytes((FORMAT_VERSION, len(encoded))) + encoded


def _parse(value: bytes) -> tuple[str, int]:
    """The key id and where the nonce starts; PiiError for a value of another format."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise PiiError("an encrypted value is bytes")
    if len(value) < 2 or value[0] != FORMAT_VERSION:
        raise PiiError(f"not an encrypted value of format version {FORMAT_VERSION}")
    start = 2 + value[1]
    if len(value) < start + NONCE_BYTES + TAG_BYTES:
        raise PiiError("an encrypted value is cut short")
    try:
        key_id = bytes(value[2:start]).decode("ascii")
    except UnicodeDecodeError:
        raise PiiError("an encrypted value has a malformed key id") from None
    if not _KEY_ID.fullmatch(key_id):
        raise PiiError("an encrypted value has a malformed key id")
    return key_id, start


def _shown(key_id: str) -> str:
    # A key id comes from the stored value: one forged to hold a number is not echoed.
    return "***" if looks_like_nrn(key_id) else key_id


def _parse_key_list(text: str, setting: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for position, item in enumerate((part.strip() for part in text.split(",")), start=1):
        if not item:
            continue
        key_id, colon, encoded = item.partition(":")
        key_id = key_id.strip()
        if not colon or not _KEY_ID.fullmatch(key_id):
            raise PiiError(f"{setting}: entry {position} is not 'key id:base64 key' with a key id of 1 to 32 characters A-Z, a-z, 0-9, '_', '-'")
        if key_id in keys:
            raise PiiError(f"{setting}: key id {key_id!r} appears twice")
        keys[key_id] = _decode_key(encoded, f"{setting}, key id {key_id!r}", exactly=ENCRYPTION_KEY_BYTES)
    if not keys:
        raise PiiError(f"{setting} holds no key")
    return keys


def _decode_key(encoded: str, setting: str, *, exactly: int | None = None, minimum: int = 0) -> bytes:
    """Standard or URL-safe base64, padding optional; the message names the setting, never the key."""
    text = encoded.strip().replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise PiiError(f"{setting} is not base64") from None
    if exactly is not None and len(key) != exactly:
        raise PiiError(f"{setting} must be base64 of {exactly} bytes, not {len(key)}")
    if len(key) < minimum:
        raise PiiError(f"{setting} must be base64 of at least {minimum} bytes, not {len(key)}")
    return key


def _development_key(purpose: str) -> bytes:
    # Deterministic on purpose (a restarted dev stack still decrypts its rows), and public: refused
    # outside development and test.
    return hashlib.sha256(f"wse-platform DEVELOPMENT ONLY pii {purpose} key: never for real data".encode()).digest()


def _warn_development_keys(settings_names: list[str], environment: str) -> None:
    global _development_warning_logged
    if _development_warning_logged:
        return
    _development_warning_logged = True
    log.warning(
        "pii: unset keys replaced by the fixed development keys (public, never for real data)",
        settings=settings_names,
        platform_environment=environment,
    )


_KEYS_OF: dict[int, tuple[ServiceSettings, PiiKeys]] = {}


def keys_for(settings: ServiceSettings) -> PiiKeys:
    """The service's keys, read from its settings once (kept beside them, so a recycled id is not
    mistaken for theirs). Call it at start too, so that missing keys stop the start, not a request."""
    found = _KEYS_OF.get(id(settings))
    if found is None or found[0] is not settings:
        found = _KEYS_OF[id(settings)] = (settings, PiiKeys.from_settings(settings))
    return found[1]
