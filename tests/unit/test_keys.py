"""Access keys: ICAO 7-3-1 check digits, the BAC MRZ information (with the long-number rule),
and the Vietnamese derivations from the 12-digit ID number (docs/spec "Access control")."""

from __future__ import annotations

from datetime import date

import pytest

from reader.keys import (
    BACKey,
    CANKey,
    InvalidKeyError,
    candidate_expiry_dates,
    check_digit,
    keys_for_id_number,
)


def test_check_digits_of_the_spec_example() -> None:
    key = BACKey("185001234", "850314", "250314")
    assert key.mrz_information == "185001234" + "4" + "850314" + "9" + "250314" + "7"


def test_short_document_number_is_padded_and_long_one_kept_whole() -> None:
    assert BACKey("L898902C", "690806", "940623").mrz_information.startswith("L898902C<3")
    long_number = "D23145890734"
    info = BACKey(long_number, "740812", "120415").mrz_information
    assert info.startswith(long_number + check_digit(long_number))


def test_twelve_digit_id_as_document_number_explains_the_rule_without_echoing_it() -> None:
    with pytest.raises(InvalidKeyError) as caught:
        BACKey("001185483324", "850314", "250314")
    assert "last 9 digits" in str(caught.value)
    assert "185483324" not in str(caught.value)


@pytest.mark.parametrize("bad", ["85-03-14", "8503", "abcdef"])
def test_dates_must_be_yymmdd(bad: str) -> None:
    with pytest.raises(InvalidKeyError, match="YYMMDD"):
        BACKey("185001234", bad, "250314")


def test_keys_for_id_number_can_first_then_bac_candidates() -> None:
    keys = keys_for_id_number("001 185 483 324", date(1985, 3, 14))
    assert keys[0] == CANKey("483324")
    bac = [k for k in keys if isinstance(k, BACKey)]
    assert {k.document_number for k in bac} == {"185483324"}
    assert [k.date_of_expiry for k in bac] == ["990314", "100314", "250314", "450314"]


def test_keys_for_id_number_with_known_expiry() -> None:
    keys = keys_for_id_number("017072769692", date(1972, 11, 2), date(2032, 11, 2))
    assert keys == [CANKey("769692"), BACKey("072769692", "721102", "321102")]


@pytest.mark.parametrize("bad", ["12345", "0011854833240", "00118548332x", "٠٠١١٨٥٤٨٣٣٢٤"])
def test_bad_id_numbers_are_refused(bad: str) -> None:
    with pytest.raises(InvalidKeyError, match="12 digits"):
        keys_for_id_number(bad)


def test_milestones_handle_29_february() -> None:
    assert candidate_expiry_dates(date(1988, 2, 29))[1] == date(2013, 2, 28)


def test_keys_do_not_show_personal_data_in_repr() -> None:
    assert "483324" not in repr(CANKey("483324"))
    assert "185001234" not in repr(BACKey("185001234", "850314", "250314"))


def test_can_is_ascii_digits_only() -> None:
    with pytest.raises(InvalidKeyError):
        CANKey("٤٨٣٣٢٤")
