"""DG13 parsing from hand-built bytes (not from our builder): both parent layouts, long
addresses with long-form lengths, missing, empty, shuffled and unknown fields, bad UTF-8."""

from __future__ import annotations

from datetime import date

import pytest

from reader.errors import ParseError
from reader.lds import parse_dg13
from reader.lds.dg13 import parse_date
from reader.tlv import encode

OID_UTF8 = bytes.fromhex("060628D316010008")


def i(n: int) -> bytes:
    body = n.to_bytes(2, "big") if n > 127 else bytes([n])  # DER INTEGER, positive
    return bytes([0x02, len(body)]) + body


def u(text: str) -> bytes:
    return encode(0x0C, text.encode("utf-8"))


def p(text: str) -> bytes:
    return encode(0x13, text.encode("ascii"))


def f(n: int, *values: bytes) -> bytes:
    return encode(0x30, [i(n), *values])


def dg13(fields: list[bytes]) -> bytes:
    return encode(0x6D, [encode(0x30, [i(1), OID_UTF8, encode(0x31, fields)])])


FIELDS = {
    1: f(1, p("001185483324")),
    2: f(2, u("NGUYỄN THỊ HƯƠNG")),
    3: f(3, p("14/03/1985")),
    4: f(4, u("Nữ")),
    5: f(5, u("Việt Nam")),
    6: f(6, u("Kinh")),
    7: f(7, u("Không")),
    8: f(8, u("Xã Phú Hữu, Huyện Châu Thành, Tỉnh Hậu Giang")),
    9: f(9, u("Số 25, Phố Đội Cấn, Quận Ba Đình, Thành phố Hà Nội")),
    10: f(10, u("Nốt ruồi C:1cm trên mép trái")),
    11: f(11, p("23/08/2021")),
    12: f(12, u("14/03/2025")),
    13: f(13, encode(0x30, [u("NGUYỄN VĂN BÌNH")]), encode(0x30, [u("LÊ THỊ LAN")])),
    14: f(14, encode(0x30, [u("NGUYỄN VĂN HẢI")])),
    15: f(15, p("115371813")),
    16: f(16, p("ABCDEF0123456789")),
}


def test_real_layout_every_field() -> None:
    raw = dg13([FIELDS[n] for n in sorted(FIELDS)])
    parsed = parse_dg13(raw)
    assert parsed.raw == raw
    assert parsed.version == 1 and parsed.encoding_oid == "1.0.10646.1.0.8"
    assert parsed.id_number == "001185483324"
    assert parsed.full_name == "NGUYỄN THỊ HƯƠNG"
    assert parsed.date_of_birth is not None and parsed.date_of_birth.date == date(1985, 3, 14)
    assert parsed.date_of_birth.text == "14/03/1985"
    assert parsed.sex == "Nữ"
    assert parsed.nationality == "Việt Nam"
    assert parsed.ethnicity == "Kinh"
    assert parsed.religion == "Không"
    assert parsed.place_of_origin == "Xã Phú Hữu, Huyện Châu Thành, Tỉnh Hậu Giang"
    assert parsed.place_of_residence == "Số 25, Phố Đội Cấn, Quận Ba Đình, Thành phố Hà Nội"
    assert parsed.identifying_marks == "Nốt ruồi C:1cm trên mép trái"
    assert parsed.date_of_issue is not None and parsed.date_of_issue.date == date(2021, 8, 23)
    assert parsed.date_of_expiry is not None and parsed.date_of_expiry.date == date(2025, 3, 14)
    assert not parsed.no_expiry
    assert parsed.father_name == "NGUYỄN VĂN BÌNH"
    assert parsed.mother_name == "LÊ THỊ LAN"
    assert parsed.spouse_name == "NGUYỄN VĂN HẢI"
    assert parsed.old_id_number == "115371813"
    assert parsed.extra == {16: "ABCDEF0123456789"}
    assert parsed.text_valid
    assert parsed.field_bytes(2) == ("NGUYỄN THỊ HƯƠNG".encode(),)


def test_alternative_parent_layout() -> None:
    fields = dict(FIELDS)
    fields[13] = f(13, encode(0x30, [u("TRẦN VĂN TOÀN"), u("PHẠM THỊ MAI")]))
    parsed = parse_dg13(dg13([fields[n] for n in sorted(fields)]))
    assert parsed.father_name == "TRẦN VĂN TOÀN"
    assert parsed.mother_name == "PHẠM THỊ MAI"


def test_separate_layout_with_unknown_father() -> None:
    fields = dict(FIELDS)
    fields[13] = f(13, encode(0x30, []), encode(0x30, [u("PHẠM THỊ MAI")]))
    parsed = parse_dg13(dg13([fields[n] for n in sorted(fields)]))
    assert parsed.father_name is None
    assert parsed.mother_name == "PHẠM THỊ MAI"


def test_long_address_uses_long_form_lengths() -> None:
    address = (
        "Số 123, Ngõ 45, Ngách 67, Phố Nguyễn Chí Thanh, Phường Láng Thượng, "
        "Quận Đống Đa, Thành phố Hà Nội, Tổ dân phố số 18, Khu tập thể"
    )
    address = (
        address + ", Nhà B, Tòa nhà Hòa Bình, Tầng 12, Căn hộ 1208, Lô A, Khu đô thị mới Cầu Giấy"
    )[:200]
    assert len(address) == 200 and len(address.encode()) > 255
    field9 = f(9, u(address))
    assert field9[1] == 0x82  # SEQUENCE length in long form (two bytes)
    assert u(address)[1] == 0x82
    fields = dict(FIELDS)
    fields[9] = field9
    raw = dg13([fields[n] for n in sorted(fields)])
    assert raw[1] == 0x82  # the whole file is over 255 bytes
    parsed = parse_dg13(raw)
    assert parsed.place_of_residence == address
    assert parsed.identifying_marks == "Nốt ruồi C:1cm trên mép trái"  # the field after it


def test_two_hundred_byte_address_by_hex() -> None:
    address = "x" * 200
    field = bytes.fromhex("3081CE020109") + bytes.fromhex("0C81C8") + address.encode()
    assert len(field) == 3 + 0xCE
    raw = dg13([FIELDS[1], field])
    assert parse_dg13(raw).place_of_residence == address


def test_missing_fields_are_none() -> None:
    keep = [1, 2, 3, 4, 11]
    parsed = parse_dg13(dg13([FIELDS[n] for n in keep]))
    assert parsed.full_name == "NGUYỄN THỊ HƯƠNG"
    assert parsed.date_of_issue is not None and parsed.date_of_issue.date == date(2021, 8, 23)
    assert parsed.place_of_residence is None
    assert parsed.old_id_number is None
    assert parsed.father_name is None and parsed.mother_name is None
    assert parsed.date_of_expiry is None
    assert sorted(parsed.fields) == keep


def test_empty_fields_are_empty_strings() -> None:
    fields = dict(FIELDS)
    fields[9] = f(9, u(""))
    fields[11] = f(11, p(""))
    parsed = parse_dg13(dg13([fields[n] for n in sorted(fields)]))
    assert parsed.place_of_residence == ""
    assert parsed.date_of_issue is not None
    assert parsed.date_of_issue.text == "" and parsed.date_of_issue.date is None
    assert not parsed.date_of_issue.valid


def test_bare_spouse_field_means_none() -> None:
    fields = dict(FIELDS)
    fields[14] = bytes.fromhex("300302010E")
    parsed = parse_dg13(dg13([fields[n] for n in sorted(fields)]))
    assert parsed.spouse_name is None
    assert 14 in parsed.fields


def test_shuffled_order_keyed_on_number() -> None:
    order = [9, 3, 16, 1, 13, 5, 12, 2, 15, 7, 4, 11, 8, 14, 6, 10]
    in_order = parse_dg13(dg13([FIELDS[n] for n in sorted(FIELDS)]))
    shuffled = parse_dg13(dg13([FIELDS[n] for n in order]))
    for name in (
        "id_number",
        "full_name",
        "sex",
        "place_of_residence",
        "father_name",
        "mother_name",
        "spouse_name",
        "old_id_number",
        "extra",
    ):
        assert getattr(shuffled, name) == getattr(in_order, name)
    assert shuffled.date_of_birth == in_order.date_of_birth


def test_unknown_and_high_fields_go_to_extra() -> None:
    parsed = parse_dg13(dg13([FIELDS[1], f(17, u("mới")), f(200, p("X"))]))
    assert parsed.extra == {17: "mới", 200: "X"}


def test_no_expiry() -> None:
    fields = dict(FIELDS)
    fields[12] = f(12, u("Không thời hạn"))
    parsed = parse_dg13(dg13([fields[n] for n in sorted(fields)]))
    assert parsed.no_expiry
    assert parsed.date_of_expiry is not None and parsed.date_of_expiry.date is None
    assert parsed.date_of_expiry.text == "Không thời hạn"


def test_invalid_utf8_flagged_and_kept() -> None:
    tcvn3_name = bytes.fromhex("4E677579D44E205448DE")  # "NguyÔN ThÞ" as TCVN3 bytes
    fields = dict(FIELDS)
    fields[2] = f(2, encode(0x0C, tcvn3_name))
    parsed = parse_dg13(dg13([fields[n] for n in sorted(fields)]))
    assert parsed.invalid_text_fields == (2,)
    assert not parsed.text_valid
    assert parsed.field_bytes(2) == (tcvn3_name,)
    assert parsed.full_name is not None and "\ufffd" in parsed.full_name
    assert parsed.fields[2].values[0] is not None and not parsed.fields[2].values[0].valid
    assert parsed.place_of_origin == "Xã Phú Hữu, Huyện Châu Thành, Tỉnh Hậu Giang"


def test_duplicate_field_first_wins_and_is_reported() -> None:
    parsed = parse_dg13(dg13([FIELDS[2], f(2, u("KHÁC"))]))
    assert parsed.full_name == "NGUYỄN THỊ HƯƠNG"
    assert parsed.duplicate_fields == (2,)


@pytest.mark.parametrize(
    ("text", "expected", "year"),
    [
        ("14/03/1985", date(1985, 3, 14), 1985),
        ("14031985", date(1985, 3, 14), 1985),
        ("1/3/1985", date(1985, 3, 1), 1985),
        ("1985", None, 1985),
        ("31/02/1985", None, None),
        ("abc", None, None),
    ],
)
def test_parse_date(text: str, expected: date | None, year: int | None) -> None:
    parsed = parse_date(text)
    assert parsed.date == expected
    assert parsed.year == year
    assert parsed.text == text


def test_no_expiry_variants() -> None:
    assert parse_date("KHÔNG THỜI HẠN").no_expiry
    assert parse_date("Khong thoi han").no_expiry
    assert not parse_date("14/03/2025").no_expiry


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        bytes.fromhex("6D00"),
        bytes.fromhex("6E03020101"),
        bytes.fromhex("6D0302010A"),
        bytes.fromhex("6D8201"),
    ],
)
def test_malformed(raw: bytes) -> None:
    with pytest.raises(ParseError) as info:
        parse_dg13(raw)
    assert info.value.file == "DG13"
