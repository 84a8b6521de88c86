"""Rule ID-4: a national register number (or BIS number) and an enterprise number are validated
on length, date part and mod-97 check before the identity service accepts them.

Valid examples are built with the check-digit helpers below rather than typed by hand, so a test
that rejects a number fails for the rule it names and not for a mistyped check digit."""

from __future__ import annotations

import pickle
from datetime import date

import pytest

from identity.numbers import (
    EnterpriseNumber,
    InvalidNumber,
    NationalRegisterNumber,
    parse_enterprise_number,
    parse_national_register_number,
)

TODAY = date(2025, 6, 15)


def rrn(first_nine: str, *, born_from_2000: bool = False) -> str:
    """`first_nine` (YYMMDDSSS) followed by its check digits, for a birth in the 1900s or 2000s."""
    assert len(first_nine) == 9 and first_nine.isdigit()
    number = int(("2" if born_from_2000 else "") + first_nine)
    return f"{first_nine}{97 - number % 97:02d}"


def kbo(first_eight: str) -> str:
    """`first_eight` followed by its enterprise-number check digits."""
    assert len(first_eight) == 8 and first_eight.isdigit()
    return f"{first_eight}{97 - int(first_eight) % 97:02d}"


def parse(raw, **kwargs) -> NationalRegisterNumber:
    return parse_national_register_number(raw, today=TODAY, **kwargs)


def rejected_rrn(raw, **kwargs) -> InvalidNumber:
    with pytest.raises(InvalidNumber) as caught:
        parse(raw, **kwargs)
    return caught.value


def rejected_kbo(raw, **kwargs) -> InvalidNumber:
    with pytest.raises(InvalidNumber) as caught:
        parse_enterprise_number(raw, **kwargs)
    return caught.value


def test_id_4_the_helpers_agree_with_the_known_example():
    assert rrn("850730033") == "85073003328"  # 97 - (850730033 % 97) = 28
    assert kbo("04031707") == "0403170701"
    assert kbo("01234567") == "0123456749"


# --------------------------------------------------------------------------------------------
# ID-4: national register numbers that are accepted
# --------------------------------------------------------------------------------------------


def test_id_4_a_valid_number_of_someone_born_before_2000():
    number = parse("85073003328")
    assert number.value == "85073003328"
    assert number.is_bis is False
    assert number.birth_date == date(1985, 7, 30)
    assert number.gender == "male"  # sequence 033 is odd


def test_id_4_a_valid_number_of_someone_born_from_2000_uses_the_2_prefixed_check():
    raw = rrn("010203002", born_from_2000=True)
    number = parse(raw)
    assert number.value == raw
    assert number.birth_date == date(2001, 2, 3)
    assert number.gender == "female"  # sequence 002 is even


def test_id_4_the_matching_check_variant_decides_the_century():
    assert parse(rrn("010203002")).birth_date == date(1901, 2, 3)
    assert parse(rrn("010203002", born_from_2000=True)).birth_date == date(2001, 2, 3)


def test_id_4_a_leap_day_exists_in_2000_and_1996():
    assert parse(rrn("000229001", born_from_2000=True)).birth_date == date(2000, 2, 29)
    assert parse(rrn("960229001")).birth_date == date(1996, 2, 29)


def test_id_4_a_bis_number_with_month_plus_20_has_an_unknown_gender():
    number = parse(rrn("852730033"))
    assert number.is_bis is True
    assert number.birth_date == date(1985, 7, 30)
    assert number.gender is None


def test_id_4_a_bis_number_with_month_plus_40_has_a_known_gender():
    number = parse(rrn("854730034"))
    assert number.is_bis is True
    assert number.birth_date == date(1985, 7, 30)
    assert number.gender == "female"


@pytest.mark.parametrize("first_nine", ["852000001", "854000002", "852015003", "854700004"])
def test_id_4_a_bis_number_with_unknown_date_parts_has_no_birth_date(first_nine):
    number = parse(rrn(first_nine))
    assert number.is_bis is True
    assert number.birth_date is None


@pytest.mark.parametrize("first_nine", ["850000033", "850015033", "850700033"])
def test_id_4_unknown_month_or_day_leaves_the_birth_date_unknown(first_nine):
    number = parse(rrn(first_nine))
    assert number.is_bis is False
    assert number.birth_date is None
    assert number.gender == "male"


@pytest.mark.parametrize("raw", ["85.07.30-033.28", "85 07 30 033 28", "850730-033-28", "850730 033.28", " 85073003328 "])
def test_id_4_separators_are_accepted_and_normalised_away(raw):
    assert parse(raw).value == "85073003328"


def test_id_4_a_birth_date_of_today_is_not_in_the_future():
    raw = rrn(TODAY.strftime("%y%m%d") + "001", born_from_2000=True)
    assert parse(raw).birth_date == TODAY


def test_id_4_without_today_the_current_date_is_used():
    assert parse_national_register_number("85073003328").birth_date == date(1985, 7, 30)


# --------------------------------------------------------------------------------------------
# ID-4: national register numbers that are rejected
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["8507300332", "850730033280", "", "85.07.30-033"])
def test_id_4_a_number_that_is_not_11_digits_is_rejected(raw):
    error = rejected_rrn(raw)
    assert error.field == "national_register_number"
    assert "must be 11 digits" in error.reason


@pytest.mark.parametrize("raw", ["85O73003328", "85/07/30/033/28", "BE85073003328", "８５０７３００３３２８"])
def test_id_4_letters_and_other_characters_are_rejected(raw):
    error = rejected_rrn(raw)
    assert error.field == "national_register_number"
    assert "only digits" in error.reason


def test_id_4_a_number_given_as_an_int_is_rejected_because_it_lost_its_leading_zero():
    error = rejected_rrn(1010112345)
    assert error.field == "national_register_number"
    assert "text of 11 digits" in error.reason


def test_id_4_wrong_check_digits_are_rejected():
    error = rejected_rrn("85073003329")
    assert error.field == "national_register_number"
    assert "check digits do not match" in error.reason


@pytest.mark.parametrize("sequence", ["000", "999"])
def test_id_4_sequence_000_and_999_are_rejected(sequence):
    error = rejected_rrn(rrn("850730" + sequence))
    assert error.field == "national_register_number"
    assert "sequence number" in error.reason and "001 and 998" in error.reason


@pytest.mark.parametrize("month", ["13", "19", "33", "39", "53", "99"])
def test_id_4_a_month_outside_the_national_and_bis_ranges_is_rejected(month):
    error = rejected_rrn(rrn(f"85{month}30033"))
    assert error.field == "national_register_number"
    assert f"the month {month} is not a valid birth month" in error.reason


def test_id_4_day_32_is_rejected():
    error = rejected_rrn(rrn("850732033"))
    assert error.field == "national_register_number"
    assert "the day 32 is not a valid birth day" in error.reason


@pytest.mark.parametrize(
    ("first_nine", "born_from_2000", "shown"),
    [
        ("850230033", False, "30/02/1985"),
        ("010229001", True, "29/02/2001"),
        ("850431033", False, "31/04/1985"),
        ("852230033", False, "30/02/1985"),  # a BIS number's date must exist too
    ],
)
def test_id_4_a_date_that_does_not_exist_is_rejected(first_nine, born_from_2000, shown):
    error = rejected_rrn(rrn(first_nine, born_from_2000=born_from_2000))
    assert error.field == "national_register_number"
    assert f"the birth date {shown} does not exist" in error.reason


@pytest.mark.parametrize(
    "first_nine",
    [
        "250616001",  # tomorrow
        "300101001",  # 2030
        "990000001",  # 2099, month and day unknown: even its earliest day is in the future
        "252700001",  # a BIS number's date is checked too: July 2025
    ],
)
def test_id_4_a_birth_date_in_the_future_is_rejected(first_nine):
    error = rejected_rrn(rrn(first_nine, born_from_2000=True))
    assert error.field == "national_register_number"
    assert "the birth date lies in the future" in error.reason


def test_id_4_a_partly_known_date_that_may_lie_in_the_past_is_accepted():
    assert parse(rrn("250000001", born_from_2000=True)).birth_date is None
    assert parse(rrn("250600001", born_from_2000=True)).birth_date is None


def test_id_4_the_field_name_is_the_callers():
    error = rejected_rrn("123", field="representative.national_register_number")
    assert error.field == "representative.national_register_number"


def test_id_4_the_reason_is_the_message_and_never_repeats_the_number():
    error = rejected_rrn("85073003329")
    assert isinstance(error, ValueError)
    assert str(error) == error.reason
    assert "85073003329" not in str(error) and "0733" not in str(error)


def test_id_4_an_invalid_number_error_survives_pickling():
    error = pickle.loads(pickle.dumps(rejected_rrn("123", field="rrn")))
    assert (error.field, error.reason) == ("rrn", "must be 11 digits")


def test_id_4_the_masked_form_and_the_repr_show_no_digits():
    number = parse("85073003328")
    assert number.masked == "**.**.**-***.**"
    assert not any(c.isdigit() for c in repr(number))


def test_id_4_a_parsed_number_is_immutable():
    number = parse("85073003328")
    with pytest.raises(AttributeError):
        number.value = "00000000000"  # type: ignore[misc]  # the assignment the test proves impossible


# --------------------------------------------------------------------------------------------
# ID-4: enterprise numbers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["0403170701", "0403.170.701", "0403 170 701", "BE0403170701", "BE 0403.170.701", "be0403170701"],
)
def test_id_4_a_valid_enterprise_number_in_any_usual_notation(raw):
    number = parse_enterprise_number(raw)
    assert number == EnterpriseNumber(value="0403170701")
    assert number.formatted == "0403.170.701"


def test_id_4_the_example_enterprise_numbers_are_valid():
    assert parse_enterprise_number("0123456749").formatted == "0123.456.749"
    assert parse_enterprise_number("BE 0123.456.749").value == "0123456749"


def test_id_4_an_enterprise_number_may_start_with_1():
    raw = kbo("10000000")
    assert parse_enterprise_number(raw).value == raw


def test_id_4_an_enterprise_number_starting_with_2_is_rejected():
    error = rejected_kbo(kbo("20000000"))
    assert error.field == "enterprise_number"
    assert "must start with 0 or 1" in error.reason


def test_id_4_an_enterprise_number_with_wrong_check_digits_is_rejected():
    error = rejected_kbo("0403.170.702")
    assert error.field == "enterprise_number"
    assert "check digits do not match" in error.reason


@pytest.mark.parametrize("raw", ["403170701", "04031707010", "BE", ""])
def test_id_4_an_enterprise_number_that_is_not_10_digits_is_rejected(raw):
    error = rejected_kbo(raw)
    assert error.field == "enterprise_number"
    assert "must be 10 digits" in error.reason


@pytest.mark.parametrize("raw", ["NL0403170701", "0403/170/701", "04O3170701"])
def test_id_4_an_enterprise_number_with_other_characters_is_rejected(raw):
    error = rejected_kbo(raw)
    assert error.field == "enterprise_number"
    assert "only digits" in error.reason


def test_id_4_the_enterprise_field_name_is_the_callers():
    error = rejected_kbo("0403170702", field="organisation.enterprise_number")
    assert error.field == "organisation.enterprise_number"
