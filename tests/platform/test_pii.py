"""National register numbers at rest (service_runtime.pii): encrypted with a key id so keys rotate,
a blind index, a pseudonym for events, masking, and keys from the settings. Pure, no stack needed
(`./dev test --fast` runs these)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable

import pytest

from service_runtime import pii
from service_runtime.pii import PiiError, PiiKeys, blind_index, decrypt, encrypt, key_id_of, looks_like_nrn, mask, pseudonym, reencrypt
from service_runtime.settings import ServiceSettings

NRN = "85073003328"
OTHER = "90020300167"


def keys(*key_ids: str, active: str | None = None, index_key: bytes | None = None, pseudonym_key: bytes | None = None) -> PiiKeys:
    material = {key_id: bytes([i + 1]) * 32 for i, key_id in enumerate(key_ids or ("k1",))}
    return PiiKeys(
        encryption_keys=material,
        active_key_id=active or next(iter(material)),
        index_key=index_key or b"i" * 32,
        pseudonym_key=pseudonym_key or b"p" * 32,
    )


def test_a_number_encrypts_and_decrypts_to_its_11_digits() -> None:
    k = keys()
    value = encrypt(k, NRN)
    assert decrypt(k, value) == NRN
    assert NRN.encode() not in value
    assert decrypt(k, encrypt(k, "85.07.30-033.28")) == NRN  # written forms are normalised
    assert decrypt(k, encrypt(k, "850730 033 28")) == NRN


def test_the_value_describes_itself_version_key_id_nonce_ciphertext_and_tag() -> None:
    value = encrypt(keys("k1"), NRN)
    assert value[0] == pii.FORMAT_VERSION
    assert value[1] == 2 and value[2:4] == b"k1"
    assert len(value) == 2 + 2 + pii.NONCE_BYTES + 11 + pii.TAG_BYTES
    assert key_id_of(value) == "k1"


def test_every_encryption_takes_a_fresh_nonce() -> None:
    k = keys()
    values = [encrypt(k, NRN) for _ in range(100)]
    nonces = {value[4 : 4 + pii.NONCE_BYTES] for value in values}
    assert len(nonces) == 100
    assert len(set(values)) == 100  # the same number never gives the same stored value


def test_a_tampered_value_does_not_decrypt() -> None:
    k = keys()
    value = encrypt(k, NRN)
    for position in range(4, len(value)):  # every byte of the nonce, the ciphertext and the tag
        tampered = bytearray(value)
        tampered[position] ^= 0x01
        with pytest.raises(PiiError, match="does not authenticate"):
            decrypt(k, bytes(tampered))
    with pytest.raises(PiiError, match="does not authenticate"):
        decrypt(k, value, context=b"another-column")  # the context is authenticated too
    with pytest.raises(PiiError):
        decrypt(k, value[:-1])
    with pytest.raises(PiiError, match="format version"):
        decrypt(k, b"\x02" + value[1:])
    with pytest.raises(PiiError, match="cut short"):
        decrypt(k, value[:10])


def test_a_value_under_a_key_id_that_is_not_configured_is_refused_by_name() -> None:
    value = encrypt(keys("old"), NRN)
    with pytest.raises(PiiError, match="key id 'old', which is not configured") as refused:
        decrypt(keys("k1", "k2"), value)
    assert "k1, k2" in str(refused.value)


def test_rotation_old_values_still_decrypt_and_reencrypt_moves_them_to_the_active_key() -> None:
    before = keys("k1")
    old_values = [encrypt(before, number) for number in (NRN, OTHER)]

    after = keys("k1", "k2", active="k2")  # k2 added and made active; k1 kept until the walk is done
    assert [decrypt(after, value) for value in old_values] == [NRN, OTHER]
    new_value = encrypt(after, NRN)
    assert key_id_of(new_value) == "k2"
    assert reencrypt(after, new_value) is None  # already under the active key: nothing to write

    moved = [reencrypt(after, value) for value in old_values]
    assert all(value is not None and key_id_of(value) == "k2" for value in moved)
    assert [decrypt(after, value) for value in moved if value is not None] == [NRN, OTHER]

    only_k2 = PiiKeys(encryption_keys={"k2": after.encryption_keys["k2"]}, active_key_id="k2", index_key=b"i" * 32, pseudonym_key=b"p" * 32)
    assert [decrypt(only_k2, value) for value in moved if value is not None] == [NRN, OTHER]  # k1 can go
    with pytest.raises(PiiError, match="not configured"):
        decrypt(only_k2, old_values[0])


def test_rotation_keeps_the_blind_index_and_the_pseudonym() -> None:
    assert blind_index(keys("k1"), NRN) == blind_index(keys("k1", "k2", active="k2"), NRN)
    assert pseudonym(keys("k1"), NRN) == pseudonym(keys("k1", "k2", active="k2"), NRN)


def test_the_blind_index_is_stable_per_number_and_per_index_key() -> None:
    k = keys()
    index = blind_index(k, NRN)
    assert index == hmac.new(b"i" * 32, NRN.encode(), hashlib.sha256).digest()
    assert index == blind_index(k, NRN) == blind_index(keys("k9"), "85.07.30-033.28")
    assert index != blind_index(k, OTHER)
    assert index != blind_index(keys(index_key=b"j" * 32), NRN)  # another key, another index


def test_the_pseudonym_is_short_url_safe_stable_and_not_the_blind_index() -> None:
    k = keys()
    student = pseudonym(k, NRN)
    assert student == pseudonym(k, "85 07 30 033 28")
    assert len(student) == 26 and student.isalnum() and student == student.lower()
    assert student != pseudonym(k, OTHER)
    assert student != pseudonym(keys(pseudonym_key=b"q" * 32), NRN)
    index = blind_index(k, NRN)
    assert base64.b32decode(student.upper() + "======") != index[:16]
    # Even under one key the two could not be joined: another message ("student:" + digits).
    same = keys(index_key=b"s" * 32, pseudonym_key=b"t" * 32)
    assert base64.b32decode(pseudonym(same, NRN).upper() + "======") != blind_index(same, NRN)[:16]
    assert not looks_like_nrn(student)


def test_the_pseudonym_is_the_first_16_bytes_of_the_hmac_in_lowercase_base32() -> None:
    k = keys()
    for number in [NRN, OTHER, *(f"{i * 9_091_909_091 % 10**11:011d}" for i in range(500))]:
        mac = hmac.new(b"p" * 32, b"student:" + number.encode(), hashlib.sha256).digest()
        assert pseudonym(k, number) == base64.b32encode(mac[:16]).decode().rstrip("=").lower()


def test_the_index_key_and_the_pseudonym_key_must_differ() -> None:
    with pytest.raises(PiiError, match="must differ"):
        keys(index_key=b"x" * 32, pseudonym_key=b"x" * 32)


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("85073003328", "85.07.30-***.**"),
        ("85.07.30-033.28", "85.07.30-***.**"),
        ("00010100123", "00.01.01-***.**"),
        ("8507300332", "***"),
        ("850730033288", "***"),
        ("85O73003328", "***"),
        ("", "***"),
    ],
)
def test_masking_shows_the_birth_date_and_hides_serial_and_check_digits(written: str, masked: str) -> None:
    assert mask(written) == masked


def test_looks_like_nrn_finds_numbers_written_plain_or_formatted() -> None:
    assert looks_like_nrn(f'{{"student": "{NRN}"}}')
    assert looks_like_nrn("rijksregisternummer 85.07.30-033.28 onbekend")
    assert looks_like_nrn("850730-033-28")
    assert not looks_like_nrn("85.07.30-***.**")
    assert not looks_like_nrn("123456789012")  # 12 digits
    assert not looks_like_nrn("a3e1c2d4-5b6f-4a7b-8c9d-f69055713518")  # a UUID's last group


@pytest.mark.parametrize("bad", ["8507300332", "850730033289", "85073003328x", "８５０７３００３３２８", "85/07/30 033 28"])
@pytest.mark.parametrize("operation", [encrypt, blind_index, pseudonym])
def test_something_that_is_not_a_number_is_refused_without_echoing_it(bad: str, operation: Callable[[PiiKeys, str], object]) -> None:
    with pytest.raises(PiiError, match="11 digits expected") as refused:
        operation(keys(), bad)
    assert bad not in str(refused.value)


def test_error_messages_never_contain_the_number_or_a_key() -> None:
    k = keys("k1")
    value = encrypt(k, NRN)
    tampered = value[:-1] + bytes([value[-1] ^ 1])
    failures = [
        lambda: decrypt(k, tampered),
        lambda: decrypt(k, value, context=b"other"),
        lambda: decrypt(keys("k2"), value),
        lambda: decrypt(k, value[:20]),
        lambda: reencrypt(keys("k2"), value),
    ]
    for failure in failures:
        with pytest.raises(PiiError) as refused:
            failure()
        message = str(refused.value)
        assert NRN not in message and not looks_like_nrn(message), message
        assert refused.value.__cause__ is None
    # A value forged to carry a number as its key id does not get it echoed either.
    forged = bytes((pii.FORMAT_VERSION, 11)) + NRN.encode() + os.urandom(40)
    with pytest.raises(PiiError) as refused:
        decrypt(k, forged)
    assert NRN not in str(refused.value)
    assert "k1" in repr(k) and "\x01" * 4 not in repr(k) and "iiii" not in repr(k)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def production(**values: str) -> ServiceSettings:
    return ServiceSettings.model_validate({"service_name": "attestation", "platform_environment": "production", **values})


CONFIGURED = {
    "pii_keys": f"k1:{_b64(b'a' * 32)}, k2:{_b64(b'b' * 32)}",
    "pii_active_key": "k2",
    "pii_index_key": _b64(b"i" * 32),
    "pii_pseudonym_key": _b64(b"p" * 32),
}


def test_keys_come_from_the_settings() -> None:
    k = PiiKeys.from_settings(production(**CONFIGURED))
    assert sorted(k.encryption_keys) == ["k1", "k2"] and k.active_key_id == "k2"
    assert k.encryption_keys["k1"] == b"a" * 32 and k.index_key == b"i" * 32 and k.pseudonym_key == b"p" * 32
    assert key_id_of(encrypt(k, NRN)) == "k2"
    assert "aaaa" not in repr(production(**CONFIGURED))  # settings do not show the keys either


def test_keys_are_read_from_the_service_or_the_platform_wide_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from service_runtime.settings import load_settings

    monkeypatch.setenv("PLATFORM_ENVIRONMENT", "production")
    monkeypatch.setenv("PII_PSEUDONYM_KEY", CONFIGURED["pii_pseudonym_key"])  # shared by every service
    monkeypatch.setenv("ATTESTATION_PII_KEYS", CONFIGURED["pii_keys"])
    monkeypatch.setenv("ATTESTATION_PII_ACTIVE_KEY", "k1")
    monkeypatch.setenv("ATTESTATION_PII_INDEX_KEY", CONFIGURED["pii_index_key"])
    k = PiiKeys.from_settings(load_settings("attestation"))
    assert k.active_key_id == "k1" and k.pseudonym_key == b"p" * 32


@pytest.mark.parametrize("unset", ["pii_keys", "pii_active_key", "pii_index_key", "pii_pseudonym_key"])
@pytest.mark.parametrize("environment", ["production", "acceptance"])
def test_outside_development_a_missing_key_stops_the_service_naming_the_setting(unset: str, environment: str) -> None:
    settings = production(**{**CONFIGURED, unset: "", "platform_environment": environment})
    with pytest.raises(PiiError) as refused:
        PiiKeys.from_settings(settings)
    message = str(refused.value)
    assert f"ATTESTATION_{unset.upper()}" in message and f"platform-wide {unset.upper()}" in message
    assert f"PLATFORM_ENVIRONMENT={environment}" in message
    assert _b64(b"a" * 32) not in message


def test_nothing_configured_in_production_names_every_setting() -> None:
    with pytest.raises(PiiError) as refused:
        PiiKeys.from_settings(production())
    for name in ("PII_KEYS", "PII_ACTIVE_KEY", "PII_INDEX_KEY", "PII_PSEUDONYM_KEY"):
        assert name in str(refused.value)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"pii_keys": "k1:not-base64!"}, "PII_KEYS), key id 'k1' is not base64"),
        ({"pii_keys": f"k1:{_b64(b'a' * 16)}", "pii_active_key": "k1"}, "of 32 bytes, not 16"),
        ({"pii_keys": _b64(b"a" * 32)}, "entry 1 is not 'key id:base64 key'"),
        ({"pii_active_key": "k3"}, "PII_ACTIVE_KEY (or the platform-wide PII_ACTIVE_KEY) names key id 'k3'"),
        ({"pii_index_key": _b64(b"i" * 8)}, "PII_INDEX_KEY (or the platform-wide PII_INDEX_KEY) must be base64 of at least 32 bytes"),
        ({"pii_index_key": CONFIGURED["pii_pseudonym_key"]}, "must differ"),
    ],
)
def test_malformed_keys_are_refused_naming_the_setting_not_the_key(change: dict[str, str], named: str) -> None:
    with pytest.raises(PiiError) as refused:
        PiiKeys.from_settings(production(**{**CONFIGURED, **change}))
    assert named in str(refused.value)
    assert _b64(b"a" * 32) not in str(refused.value) and CONFIGURED["pii_pseudonym_key"] not in str(refused.value)


@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_and_test_use_fixed_development_keys_when_unset(environment: str) -> None:
    settings = ServiceSettings.model_validate({"service_name": "attestation", "platform_environment": environment})
    first, second = PiiKeys.from_settings(settings), PiiKeys.from_settings(settings)
    value = encrypt(first, NRN)
    assert key_id_of(value) == pii.DEVELOPMENT_KEY_ID
    assert decrypt(second, value) == NRN  # the same keys after a restart
    assert blind_index(first, NRN) == blind_index(PiiKeys.development(), NRN)
    assert pseudonym(first, NRN) == pseudonym(PiiKeys.development(), NRN)
    # What is configured is used; only what is unset is the development key.
    partial = PiiKeys.from_settings(ServiceSettings.model_validate({"platform_environment": environment, "pii_pseudonym_key": CONFIGURED["pii_pseudonym_key"]}))
    assert partial.pseudonym_key == b"p" * 32 and partial.index_key == PiiKeys.development().index_key


def test_the_development_keys_are_refused_outside_development() -> None:
    development = PiiKeys.development()
    settings = production(**{**CONFIGURED, "pii_index_key": _b64(development.index_key)})
    with pytest.raises(PiiError, match="development PII key is configured in PLATFORM_ENVIRONMENT=production"):
        PiiKeys.from_settings(settings)
