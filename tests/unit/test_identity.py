"""verify.identity: DG13/DG1/QR agree for every citizen; mismatches field by field; HIS fields."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from unidecode import unidecode

from reader.lds import parse_dg13
from reader.tlv import encode
from verify import vntext
from verify.check import dg13_fields
from verify.identity import Identity, build_identity, ethnicity_code
from verify.qr import parse_qr

ROOT = Path(__file__).resolve().parents[2]
CITIZENS = json.loads((ROOT / "fixtures/data/citizens.json").read_text(encoding="utf-8"))[
    "citizens"
]
IDS = [c["id_number"][-4:] for c in CITIZENS]
TODAY = date(2025, 1, 15)


def dmy(iso: str | None) -> str | None:
    return date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else None


def dg13_of(c: dict[str, object]) -> dict[str, object]:
    fields = {k: v for k, v in c.items() if k != "card_kind"}
    fields["date_of_birth"] = dmy(str(c["date_of_birth"]))
    fields["date_of_issue"] = dmy(str(c["date_of_issue"]))
    fields["date_of_expiry"] = dmy(c["date_of_expiry"]) if c["date_of_expiry"] else "Không thời hạn"  # type: ignore[arg-type]
    return fields


def dg1_of(c: dict[str, object]) -> dict[str, object]:
    """DG1 as the MRZ holds it: ASCII name cut to 30, YYMMDD dates, M/F."""
    words = re.sub(r"[^A-Z ]", "", unidecode(str(c["full_name"])).upper()).split()
    name = (words[0] + "<<" + "<".join(words[1:]))[:30]
    born = date.fromisoformat(str(c["date_of_birth"]))
    expiry = c["date_of_expiry"]
    return {
        "document_number": str(c["id_number"])[3:],
        "optional_data": str(c["id_number"]),
        "date_of_birth": born.strftime("%y%m%d"),
        "date_of_expiry": date.fromisoformat(str(expiry)).strftime("%y%m%d") if expiry else "",
        "sex": "F" if c["sex"] == "Nữ" else "M",
        "name": name,
    }


def qr_of(c: dict[str, object]) -> str:
    return "|".join([
        str(c["id_number"]), str(c["old_id_number"] or ""), str(c["full_name"]),
        date.fromisoformat(str(c["date_of_birth"])).strftime("%d%m%Y"), str(c["sex"]),
        str(c["place_of_residence"]),
        date.fromisoformat(str(c["date_of_issue"])).strftime("%d%m%Y"),
    ])  # fmt: skip


@pytest.mark.parametrize("c", CITIZENS, ids=IDS)
def test_dg1_dg13_qr_agree_for_every_citizen(c: dict[str, object]) -> None:
    ident = build_identity(dg13=dg13_of(c), dg1=dg1_of(c), qr=parse_qr(qr_of(c)))
    assert ident.consistent, ident.mismatches()
    fields = {ch.field for ch in ident.checks if ch.verdict == "match"}
    assert {"id_number", "document_number", "date_of_birth", "sex", "full_name"} <= fields
    assert {"place_of_residence", "date_of_issue", "old_id_number"} <= fields
    if c["date_of_expiry"]:
        assert "date_of_expiry" in fields
    else:
        assert ident.no_expiry and ident.card_status(TODAY).status == "no_expiry"
    assert ident.source == "DG13" and not ident.name_ascii_only
    assert ident.full_name == c["full_name"] and not ident.repaired
    assert ident.age(TODAY) is not None


def test_mismatched_dg1_is_reported_field_by_field() -> None:
    c = CITIZENS[0]
    dg1 = dg1_of(c) | {
        "optional_data": "001185483325", "document_number": "185483325",
        "date_of_birth": "850315", "sex": "M", "date_of_expiry": "300314",
        "name": "TRAN<<VAN<DUC",
    }  # fmt: skip
    ident = build_identity(dg13=dg13_of(c), dg1=dg1)
    bad = {ch.field for ch in ident.mismatches()}
    assert bad == {"id_number", "document_number", "date_of_birth", "sex", "date_of_expiry",
                   "full_name"}  # fmt: skip
    assert all(ch.sources == ("DG13", "DG1") for ch in ident.mismatches())
    assert not ident.consistent
    # one field wrong: only that field is reported
    one = build_identity(dg13=dg13_of(c), dg1=dg1_of(c) | {"sex": "M"})
    assert [ch.field for ch in one.mismatches()] == ["sex"]


def test_qr_disagreeing_with_dg13() -> None:
    c = CITIZENS[1]
    qr = parse_qr(qr_of(c).replace("Trần Văn Đức", "Trần Văn Đạt"))
    ident = build_identity(dg13=dg13_of(c), qr=qr)
    assert [(ch.field, ch.sources) for ch in ident.mismatches()] == [("full_name", ("DG13", "QR"))]


def test_tone_placement_difference_is_not_a_mismatch() -> None:
    c = next(c for c in CITIZENS if c["full_name"] == "BÙI THỊ HOÀ")
    qr = parse_qr(qr_of(c).replace("BÙI THỊ HOÀ", "BÙI THỊ HÒA"))
    ident = build_identity(dg13=dg13_of(c), qr=qr)
    check = next(ch for ch in ident.checks if ch.field == "full_name")
    assert check.verdict == "match" and "tone_placement" in check.detail


def test_dg1_fallback_marks_ascii_name() -> None:
    c = CITIZENS[0]
    ident = build_identity(dg1=dg1_of(c))
    assert ident.source == "DG1" and ident.name_ascii_only
    assert ident.full_name == "NGUYEN THI HUONG"
    assert ident.date_of_birth == date(1985, 3, 14)
    assert ident.date_of_expiry == date(2025, 3, 14)
    assert ident.id_number == c["id_number"] and ident.sex == "Nữ"


def test_legacy_dg13_text_is_repaired_and_recorded() -> None:
    c = CITIZENS[0]
    dg13 = dg13_of(c)
    dg13["place_of_origin"] = "".join(
        bytes([b]).decode("cp1252") for b in vntext.to_tcvn3(str(c["place_of_origin"]))
    )
    dg13["full_name"] = vntext.unicodedata.normalize("NFD", str(c["full_name"]))
    ident = build_identity(dg13=dg13)
    assert ident.place_of_origin == c["place_of_origin"]
    assert ident.full_name == c["full_name"]
    assert {(r.field, r.source_encoding) for r in ident.repairs} == {
        ("place_of_origin", "tcvn3"),
        ("full_name", "nfd"),
    }
    assert ident.to_json(TODAY)["repairs"]


def test_card_status() -> None:
    c = CITIZENS[0]  # expires 2025-03-14
    ident = build_identity(dg13=dg13_of(c))
    assert ident.card_status(date(2025, 1, 1)).status == "valid"
    assert ident.card_status(date(2025, 2, 20)).status == "expiring"
    assert ident.card_status(date(2025, 3, 14)).days_left == 0
    assert ident.card_status(date(2025, 3, 15)).status == "expired"
    assert ident.age(date(2025, 3, 13)) == 39 and ident.age(date(2025, 3, 14)) == 40


@pytest.mark.parametrize("c", CITIZENS, ids=IDS)
def test_his_fields_formats(c: dict[str, object]) -> None:
    his = build_identity(dg13=dg13_of(c)).his_fields()
    assert his["HO_TEN"] == vntext.unicodedata.normalize("NFC", str(c["full_name"]))
    assert re.fullmatch(r"\d{12}", his["SO_CCCD"])
    assert re.fullmatch(r"\d{8}0000", his["NGAY_SINH"])
    assert his["NGAY_SINH"][:8] == str(c["date_of_birth"]).replace("-", "")
    assert his["GIOI_TINH"] == ("2" if c["sex"] == "Nữ" else "1")
    assert his["DIA_CHI"] == c["place_of_residence"]
    assert re.fullmatch(r"\d{2}", his["MA_DANTOC"])
    assert his["MA_QUOCTICH"] == "000"


def test_ethnicity_codes_qd121() -> None:
    expected = {"Kinh": "01", "Tày": "02", "Thái": "03", "Hoa": "04", "Khơ-me": "05",
                "Mường": "06", "Nùng": "07", "Mông": "08", "Dao": "09", "Ê Đê": "12",
                "H'Mông": "08", "MƯỜNG": "06", "Rơ-măm": "54"}  # fmt: skip
    assert {k: ethnicity_code(k) for k in expected} == expected
    assert ethnicity_code("Không rõ") is None


def test_to_json_shape() -> None:
    c = CITIZENS[0]
    data = build_identity(dg13=dg13_of(c)).to_json(TODAY)
    assert data["full_name_title"] == "Nguyễn Thị Hương"
    assert data["search_key"] == "nguyen thi huong"
    assert data["card_status"] == "valid" and data["date_of_birth"] == "1985-03-14"
    json.dumps(data, ensure_ascii=False)


def test_needs_a_source() -> None:
    with pytest.raises(ValueError):
        build_identity()
    assert isinstance(build_identity(qr=parse_qr(qr_of(CITIZENS[2]))), Identity)


def test_mrz_expiry_is_in_this_century_whatever_the_birth_year() -> None:
    c = CITIZENS[0]
    dg13 = dg13_of(c) | {"date_of_birth": "14/03/1930", "date_of_expiry": "14/03/2035"}
    dg1 = dg1_of(c) | {"date_of_birth": "300314", "date_of_expiry": "350314"}
    ident = build_identity(dg13=dg13, dg1=dg1)
    verdicts = {ch.field: ch.verdict for ch in ident.checks}
    assert verdicts["date_of_birth"] == verdicts["date_of_expiry"] == "match"
    assert build_identity(dg1=dg1).date_of_expiry == date(2035, 3, 14)


def _dg13_field(number: int, value: bytes) -> bytes:
    return encode(0x30, [encode(0x02, bytes([number])), encode(0x0C, value)])


def test_viscii_chip_bytes_reach_repair_intact_and_extra_fields_are_kept() -> None:
    # VISCII has "Ồ" at 0x90 and "Ắ" at 0x81, bytes CP1252 leaves undefined: decoding them
    # with replacement characters would turn the name into unrecoverable "lossy" text
    fields = [_dg13_field(1, b"001185483324"), _dg13_field(2, b"H\x90 B\x81C")]
    fields.append(_dg13_field(16, b"ABCD1234"))
    raw = encode(0x6D, [encode(0x30, [encode(0x02, b"\x01"), encode(0x31, fields)])])
    dg13 = parse_dg13(raw)
    assert dg13.invalid_text_fields == (2,)
    ident = build_identity(dg13=dg13_fields(dg13))
    assert ident.full_name == "HỒ BẮC"
    assert [(r.field, r.source_encoding) for r in ident.repairs] == [("full_name", "viscii")]
    assert ident.extra == {16: "ABCD1234"}
    assert ident.to_json(TODAY)["extra"] == {"16": "ABCD1234"}


def test_dg1_only_birth_century_comes_from_the_id_number() -> None:
    """A DG1-only read of someone born in 1925 must not come out as 2025 (the 4th digit of
    the CCCD number gives the century)."""
    from verify.identity import birth_century

    assert birth_century("001025000001") == 1900
    assert birth_century("001325000001") == 2000
    assert birth_century("0010250000") is None
    old = build_identity(
        dg1={
            "optional_data": "001025000001",
            "date_of_birth": "250101",
            "date_of_expiry": "",
            "sex": "M",
            "name": "NGUYEN<<VAN<A",
        }
    )
    assert old.date_of_birth == date(1925, 1, 1)
    young = build_identity(
        dg1={
            "optional_data": "001325000001",
            "date_of_birth": "250101",
            "date_of_expiry": "",
            "sex": "F",
            "name": "LE<<THI<B",
        }
    )
    assert young.date_of_birth == date(2025, 1, 1)
