"""Belgian identification numbers the identity service accepts: national register numbers
(rijksregisternummer, including BIS numbers) for persons and enterprise numbers (KBO
ondernemingsnummer) for organisations (rule ID-4).

Both carry a mod-97 check, so a typo is caught before the number is stored or looked up
anywhere. Everything here is pure: no I/O, no framework, so the same rules hold in an HTTP
handler, an event consumer and a migration script.

A rejection is an `InvalidNumber` naming the field and saying in one English sentence what the
client can fix. The reason never repeats the whole number: it ends up in responses and logs, and
a national register number is personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from service_runtime.errors import Invalid

Gender = Literal["male", "female"]

# Separators people type or copy from an eID card or KBO extract: "85.07.30-033.28",
# "0123.456.749", "85 07 30 033 28". Only ASCII digits count as digits: str.isdigit() would also
# let through Arabic-Indic or superscript digits that no register ever issued.
_SEPARATORS = re.compile(r"[ .\-]")
_ASCII_DIGITS = re.compile(r"[0-9]*")
_BE_PREFIX = re.compile(r"^\s*BE", re.IGNORECASE)

_NATIONAL_REGISTER_NUMBER_LENGTH = 11
_ENTERPRISE_NUMBER_LENGTH = 10

# A BIS number (for people not in the national register) encodes its kind in the month:
# +20 when the gender was unknown when it was issued, +40 when it was known.
_BIS_UNKNOWN_GENDER_OFFSET = 20
_BIS_KNOWN_GENDER_OFFSET = 40


class InvalidNumber(Invalid, ValueError):
    """A number a client sent does not pass the rules of ID-4.

    `field` names the input so an API can point at it; `reason` is a sentence the client can act
    on, and is all that `str(error)` shows. It is the runtime's `Invalid`, so a use case that
    parses a number needs no mapping of its own; and a `ValueError`, for callers outside the
    services (scripts, the benchmark's data generator).
    """

    def __init__(self, reason: str, *, field: str) -> None:
        super().__init__(reason, field=field)
        self.field = field

    def __str__(self) -> str:
        return self.reason

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:  # keyword-only `field` would otherwise be lost when pickled
        return (_rebuild_invalid_number, (self.reason, self.field))


def _rebuild_invalid_number(reason: str, field: str) -> InvalidNumber:
    return InvalidNumber(reason, field=field)


# --------------------------------------------------------------------------------------------
# National register numbers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class NationalRegisterNumber:
    """A national register number or BIS number that passed every check of ID-4.

    Build one with `parse_national_register_number`; the constructor does not validate.
    `birth_date` is None when the number does not say it completely (month or day 00, or the
    unknown month of a BIS number); `gender` is None for a BIS number issued without it.
    The repr shows no personal data, so an instance in a traceback or log leaks nothing.
    """

    value: str
    is_bis: bool
    birth_date: date | None
    gender: Gender | None

    @property
    def masked(self) -> str:
        """The number's written shape with every digit hidden, for screens and messages that
        must show that a number is on file without showing the number."""
        return "**.**.**-***.**"

    def __repr__(self) -> str:
        return f"NationalRegisterNumber(masked={self.masked!r}, is_bis={self.is_bis!r})"


def parse_national_register_number(
    raw: str,
    *,
    field: str = "national_register_number",
    today: date | None = None,
) -> NationalRegisterNumber:
    """Validate a national register number or BIS number as typed by a person (rule ID-4).

    Accepts 11 digits with optional spaces, dots and dashes ("85.07.30-033.28", "85073003328")
    and checks, in this order: the characters, the length, the mod-97 check digits (which also
    tell the century of birth), the sequence number, the month, the day and, when the date is
    known, that it exists and is not in the future. `today` is the reference for "the future";
    it defaults to the current date and is a parameter so tests do not depend on the clock.
    """
    digits = _digits_only(raw, field=field, length=_NATIONAL_REGISTER_NUMBER_LENGTH)
    year = _birth_year_from_check_digits(digits, field=field)

    sequence = int(digits[6:9])
    if not 1 <= sequence <= 998:
        raise InvalidNumber("the sequence number (digits 7 to 9) must be between 001 and 998", field=field)

    encoded_month, day = int(digits[2:4]), int(digits[4:6])
    month, is_bis, gender_known = _decode_month(encoded_month, field=field)
    if not 0 <= day <= 31:
        raise InvalidNumber(f"the day {day:02d} is not a valid birth day", field=field)

    if today is None:
        today = date.today()
    birth_date = _birth_date(year, month, day, field=field, today=today)
    gender: Gender | None = None
    if gender_known:
        gender = "male" if sequence % 2 == 1 else "female"
    return NationalRegisterNumber(value=digits, is_bis=is_bis, birth_date=birth_date, gender=gender)


def _birth_year_from_check_digits(digits: str, *, field: str) -> int:
    """The four-digit birth year. The check digits are computed over the first 9 digits for
    people born before 2000 and over "2" followed by them for people born from 2000 on, so the
    variant that matches is what tells 1905 from 2005."""
    first_nine, check = digits[:9], int(digits[9:])
    two_digit_year = int(digits[:2])
    if check == mod97_check(int(first_nine)):
        return 1900 + two_digit_year
    if check == mod97_check(int("2" + first_nine)):
        return 2000 + two_digit_year
    raise InvalidNumber("the check digits do not match; please check the number for typos", field=field)


def _decode_month(encoded_month: int, *, field: str) -> tuple[int, bool, bool]:
    """(month, is_bis, gender_known) from the month digits; month 0 means unknown."""
    if 0 <= encoded_month <= 12:
        return encoded_month, False, True
    for offset, gender_known in (
        (_BIS_UNKNOWN_GENDER_OFFSET, False),
        (_BIS_KNOWN_GENDER_OFFSET, True),
    ):
        if offset <= encoded_month <= offset + 12:
            return encoded_month - offset, True, gender_known
    raise InvalidNumber(
        f"the month {encoded_month:02d} is not a valid birth month (expected 01 to 12, or 20 to 32 or 40 to 52 for a BIS number)",
        field=field,
    )


def _birth_date(year: int, month: int, day: int, *, field: str, today: date) -> date | None:
    """The birth date when month and day are both known, else None; rejects a date that does
    not exist or lies in the future. A partly known date is still checked against the future
    by its earliest possible day, so a year that has not begun yet is refused too."""
    try:
        earliest = date(year, month or 1, day or 1)
    except ValueError:
        raise InvalidNumber(f"the birth date {day:02d}/{month:02d}/{year} does not exist", field=field) from None
    if earliest > today:
        raise InvalidNumber("the birth date lies in the future", field=field)
    return earliest if month and day else None


# --------------------------------------------------------------------------------------------
# Enterprise numbers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnterpriseNumber:
    """A KBO enterprise number that passed every check of ID-4; `value` is its 10 digits.
    Build one with `parse_enterprise_number`; the constructor does not validate."""

    value: str

    @property
    def formatted(self) -> str:
        """The way the KBO writes it, "0123.456.749", for screens and documents."""
        return f"{self.value[:4]}.{self.value[4:7]}.{self.value[7:]}"


def parse_enterprise_number(raw: str, *, field: str = "enterprise_number") -> EnterpriseNumber:
    """Validate an enterprise number as typed by a person (rule ID-4).

    Accepts 10 digits with optional spaces, dots and dashes, optionally after the VAT prefix
    "BE" ("0123456749", "0123.456.749", "BE 0123.456.749"), because people copy it from either
    a KBO extract or a VAT number. The first digit must be 0 or 1 and the last two must be the
    mod-97 check of the first eight.
    """
    without_prefix = _BE_PREFIX.sub("", raw, count=1) if isinstance(raw, str) else raw
    digits = _digits_only(without_prefix, field=field, length=_ENTERPRISE_NUMBER_LENGTH)
    if digits[0] not in "01":
        raise InvalidNumber("must start with 0 or 1", field=field)
    if int(digits[8:]) != mod97_check(int(digits[:8])):
        raise InvalidNumber("the check digits do not match; please check the number for typos", field=field)
    return EnterpriseNumber(value=digits)


# --------------------------------------------------------------------------------------------
# Shared
# --------------------------------------------------------------------------------------------


def mod97_check(number: int) -> int:
    """The two check digits both registers use: 97 minus the remainder modulo 97 (1 to 97)."""
    return 97 - number % 97


def _digits_only(raw: str, *, field: str, length: int) -> str:
    """The digits of `raw` once separators are dropped, or a rejection saying what is wrong.
    An int is refused rather than converted: it has already lost any leading zero."""
    if not isinstance(raw, str):
        raise InvalidNumber(f"must be written as text of {length} digits", field=field)
    digits = _SEPARATORS.sub("", raw)
    if not _ASCII_DIGITS.fullmatch(digits):
        raise InvalidNumber("may contain only digits, spaces, dots and dashes", field=field)
    if len(digits) != length:
        raise InvalidNumber(f"must be {length} digits", field=field)
    return digits
