"""DG1 / MRZ parsing (ICAO 9303-3 §4.9, 9303-4/5/6 §4.2) against hand-written MRZs."""

from __future__ import annotations

import pytest

from reader.errors import ParseError
from reader.lds import parse_dg1
from reader.lds.dg1 import parse_mrz
from reader.tlv import encode

SPEC_TD1 = (
    "IDVNM1850012344079185001234<<48503149F2503147VNM<<<<<<<<<<<0TRAN<<THI<MAI<<<<<<<<<<<<<<<<<"
)
# ICAO 9303-4 Appendix A specimen (TD3)
ICAO_TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"
)
# ICAO 9303-6 specimen (TD2)
ICAO_TD2 = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<D231458907UTO7408122F1204159<<<<<<<6"
# ICAO 9303-5 specimen (TD1) with the document number overflowing into the optional data
ICAO_TD1_OVERFLOW = (
    "I<UTOD23145890<7349<<<<<<<<<<<3407127M9507122UTO<<<<<<<<<<<2STEVENSON<<PETER<JOHN<<<<<<<<<"
)


def dg1(mrz: str) -> bytes:
    return encode(0x61, [encode(0x5F1F, mrz.encode("ascii"))])


def test_spec_example_td1() -> None:
    raw = dg1(SPEC_TD1)
    assert raw[:4] == bytes.fromhex("615D5F1F") and raw[4] == 0x5A
    parsed = parse_dg1(raw)
    assert parsed.raw == raw
    assert parsed.format == "TD1"
    assert parsed.document_code == "ID"
    assert parsed.issuing_state == "VNM"
    assert parsed.document_number == "185001234"
    assert parsed.id_number == "079185001234"
    assert parsed.date_of_birth == "850314"
    assert parsed.sex == "F"
    assert parsed.date_of_expiry == "250314"
    assert parsed.nationality == "VNM"
    assert parsed.primary_identifier == "TRAN"
    assert parsed.secondary_identifier == "THI MAI"
    assert parsed.checks_ok
    assert {c.field for c in parsed.checks} == {
        "document_number",
        "date_of_birth",
        "date_of_expiry",
        "composite",
    }


def test_wrong_check_digit_is_flagged_not_raised() -> None:
    broken = SPEC_TD1[:14] + "5" + SPEC_TD1[15:]  # document number check 4 -> 5
    parsed = parse_dg1(dg1(broken))
    assert not parsed.checks_ok
    assert parsed.failed_checks == ("document_number", "composite")
    check = next(c for c in parsed.checks if c.field == "document_number")
    assert (check.found, check.expected) == ("5", "4")
    assert parsed.document_number == "185001234"


def test_date_of_birth_check_flagged() -> None:
    broken = SPEC_TD1[:36] + "0" + SPEC_TD1[37:]
    assert parse_dg1(dg1(broken)).failed_checks == ("date_of_birth", "composite")


def test_foreign_character_fails_only_its_checks() -> None:
    broken = SPEC_TD1[:5] + "18500123a" + SPEC_TD1[14:]
    parsed = parse_dg1(dg1(broken))
    check = next(c for c in parsed.checks if c.field == "document_number")
    assert check.expected is None and not check.ok


def test_td1_overflow() -> None:
    parsed = parse_mrz(ICAO_TD1_OVERFLOW)
    assert parsed.document_number == "D23145890734"
    assert parsed.checks_ok
    assert parsed.primary_identifier == "STEVENSON"
    assert parsed.secondary_identifier == "PETER JOHN"
    assert parsed.id_number is None


def test_td3() -> None:
    parsed = parse_dg1(dg1(ICAO_TD3))
    assert parsed.format == "TD3"
    assert parsed.document_number == "L898902C3"
    assert parsed.optional_data == "ZE184226B"
    assert parsed.nationality == "UTO"
    assert parsed.date_of_birth == "740812" and parsed.date_of_expiry == "120415"
    assert parsed.sex == "F"
    assert (parsed.primary_identifier, parsed.secondary_identifier) == ("ERIKSSON", "ANNA MARIA")
    assert parsed.checks_ok
    assert len(parsed.lines) == 2


def test_td2() -> None:
    parsed = parse_dg1(dg1(ICAO_TD2))
    assert parsed.format == "TD2"
    assert parsed.document_number == "D23145890"
    assert parsed.checks_ok


def test_td2_overflow() -> None:
    line1 = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<"
    parsed = parse_mrz(line1 + "D23145890<UTO7408122F1204159735<<<<0")
    assert parsed.format == "TD2" and parsed.document_number == "D2314589073"
    assert parsed.checks_ok and parsed.optional_data == ""
    wrong = parse_mrz(line1 + "D23145890<UTO7408122F1204159736<<<<0")
    assert wrong.document_number == "D2314589073"
    assert set(wrong.failed_checks) == {"document_number", "composite"}


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        bytes.fromhex("6103"),
        encode(0x61, [encode(0x5F1F, b"IDVNM")]),
        encode(0x62, [encode(0x5F1F, SPEC_TD1.encode())]),
        encode(0x61, [encode(0x5F1F, "IDVNMé".ljust(90, "<").encode())]),
        encode(0x61, [encode(0x5F20, SPEC_TD1.encode())]),
    ],
)
def test_malformed_raise_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError) as info:
        parse_dg1(raw)
    assert info.value.file == "DG1"


def test_repr_has_no_personal_data() -> None:
    assert "TRAN" not in repr(parse_dg1(dg1(SPEC_TD1)))
