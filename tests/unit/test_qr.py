"""verify.qr: both QR generations, mangled scans, bad fields named."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from reader.keys import BACKey, CANKey
from verify.qr import QRError, expected_expiry, parse_qr

ROOT = Path(__file__).resolve().parents[2]
CITIZENS = json.loads((ROOT / "fixtures/data/citizens.json").read_text(encoding="utf-8"))[
    "citizens"
]
_CP1252 = [bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256)]


def ddmmyyyy(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d%m%Y")


def payload(c: dict[str, str | None], extra: int | None = None) -> str:
    fields = [
        c["id_number"], c["old_id_number"] or "", c["full_name"], ddmmyyyy(str(c["date_of_birth"])),
        c["sex"], c["place_of_residence"], ddmmyyyy(str(c["date_of_issue"])),
    ]  # fmt: skip
    if extra is None:
        extra = 5 if c["card_kind"] == "can_cuoc_2024" else 0
    fields += ["" for _ in range(extra)]
    return "|".join(str(f) for f in fields)


@pytest.mark.parametrize("c", CITIZENS, ids=[c["id_number"][-4:] for c in CITIZENS])
def test_every_citizen_parses_from_str_and_bytes(c: dict[str, str | None]) -> None:
    text = payload(c)
    for source in (text, text.encode("utf-8")):
        qr = parse_qr(source)
        assert qr.id_number == c["id_number"]
        assert qr.old_id_number == c["old_id_number"]
        assert qr.full_name == c["full_name"]
        assert qr.date_of_birth == date.fromisoformat(str(c["date_of_birth"]))
        assert qr.sex == c["sex"]
        assert qr.place_of_residence == c["place_of_residence"]
        assert qr.date_of_issue == date.fromisoformat(str(c["date_of_issue"]))
        assert qr.generation == c["card_kind"]
        assert not qr.repaired
    # the issue rules predict the expiry the card carries
    expiry = qr.expected_expiry
    assert (expiry.isoformat() if expiry else None) == c["date_of_expiry"]


@pytest.mark.parametrize("c", CITIZENS[:12], ids=[c["id_number"][-4:] for c in CITIZENS[:12]])
def test_mangled_scans_repair(c: dict[str, str | None]) -> None:
    text = payload(c)
    mojibake = "".join(_CP1252[b] for b in text.encode("utf-8"))
    qr = parse_qr(mojibake)
    assert (qr.full_name, qr.place_of_residence) == (c["full_name"], c["place_of_residence"])
    assert qr.repaired and qr.repair is not None
    assert qr.repair.source_encoding == "utf8_as_cp1252"
    # the mojibake handed over as UTF-8 bytes (a scanner app saving what it showed)
    assert parse_qr(mojibake.encode("utf-8")).full_name == c["full_name"]


def test_big5_mojibake_name_field() -> None:
    qr = parse_qr("079198409238||Hu廙軟h Hi廕簑 Thu廕要|24121998|Nam|Hà Nội|01022022")
    assert qr.full_name == "Huỳnh Hiếu Thuận"
    assert ("full_name", "big5_mojibake") in qr.field_repairs


def test_2021_with_empty_old_id_and_2024_with_extra_fields() -> None:
    qr = parse_qr("001185483324||NGUYỄN THỊ HƯƠNG|14031985|Nữ|Hà Nội|23082021")
    assert qr.old_id_number is None and qr.generation == "cccd_2021" and qr.extra_fields == ()
    qr = parse_qr("001185483324|123456789|NGUYỄN THỊ HƯƠNG|14031985|Nữ|Hà Nội|23082021|a|b||c|")
    assert qr.generation == "can_cuoc_2024"
    assert qr.old_id_number == "123456789"
    assert qr.extra_fields == ("a", "b", "", "c", "")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("001185483324||NGUYỄN THỊ HƯƠNG|14031985|Nữ|Hà Nội", "payload"),
        ("", "payload"),
        (
            "|".join(["001185483324", "", "A", "14031985", "Nam", "x", "23082021"] + [""] * 40),
            "payload",
        ),
        ("00118548332||NGUYỄN|14031985|Nữ|Hà Nội|23082021", "id_number"),
        ("00118548332A||NGUYỄN|14031985|Nữ|Hà Nội|23082021", "id_number"),
        ("001185483324|12345|NGUYỄN|14031985|Nữ|Hà Nội|23082021", "old_id_number"),
        ("001185483324|||14031985|Nữ|Hà Nội|23082021", "full_name"),
        ("001185483324||NGUYỄN|1403198|Nữ|Hà Nội|23082021", "date_of_birth"),
        ("001185483324||NGUYỄN|31021985|Nữ|Hà Nội|23082021", "date_of_birth"),
        ("001185483324||NGUYỄN|1985-03-14x|Nữ|Hà Nội|23082021", "date_of_birth"),
        ("001185483324||NGUYỄN|14031985|Nữa|Hà Nội|23082021", "sex"),
        ("001185483324||NGUYỄN|14031985|X|Hà Nội|23082021", "sex"),
        ("001185483324||NGUYỄN|14031985|Nữ|Hà Nội|2308202", "date_of_issue"),
        ("001185483324||NGUYỄN|14031985|Nữ|Hà Nội|01011980", "date_of_issue"),
        # digits other than ASCII pass str.isdigit() but are on no card
        ("٠٠١١٨٥٤٨٣٣٢٤||NGUYỄN|14031985|Nữ|Hà Nội|23082021", "id_number"),
        ("001185483324|١٢٣٤٥٦٧٨٩|NGUYỄN|14031985|Nữ|Hà Nội|23082021", "old_id_number"),
        ("001185483324||NGUYỄN|١٤٠٣١٩٨٥|Nữ|Hà Nội|23082021", "date_of_birth"),
    ],
)
def test_bad_payloads_name_the_field(text: str, field: str) -> None:
    with pytest.raises(QRError) as info:
        parse_qr(text)
    assert info.value.field == field
    assert field in str(info.value) or "field" in str(info.value)
    assert "NGUYỄN" not in str(info.value)  # no personal data in the message
    assert isinstance(info.value, ValueError)


def test_oversized_payload_refused() -> None:
    with pytest.raises(QRError):
        parse_qr(b"1" * 10_000)


def test_access_keys() -> None:
    qr = parse_qr("001185483324||NGUYỄN THỊ HƯƠNG|14031985|Nữ|Hà Nội|23082021")
    keys = qr.access_keys()
    assert keys[0] == CANKey("483324") == qr.can
    assert keys[1] == BACKey("185483324", "850314", "250314")  # expected: the 40th birthday
    assert len(keys) == len(set(keys)) == 5  # CAN + the 4 milestone expiries, no repeats
    assert all(isinstance(k, BACKey) and k.document_number == "185483324" for k in keys[1:])


def test_expected_expiry_rules() -> None:
    born = date(1985, 3, 14)
    assert expected_expiry(born, date(2021, 8, 23)) == date(2025, 3, 14)
    assert expected_expiry(born, date(2023, 6, 1)) == date(2045, 3, 14)  # within 2 years: next
    assert expected_expiry(born, date(2044, 1, 1)) is None  # 60th within 2 years: no expiry
    assert expected_expiry(date(2015, 5, 5), date(2024, 7, 1), law_2023=True) == date(2029, 5, 5)
    assert expected_expiry(born, None) is None


def test_cli_commands(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from service.cli import cmd_qr, cmd_text

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    cmd_qr.register(sub)
    cmd_text.register(sub)
    mangled = "".join(_CP1252[b] for b in payload(CITIZENS[0]).encode("utf-8"))
    args = parser.parse_args(["qr", "--json", mangled])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["full_name"] == CITIZENS[0]["full_name"]
    assert out["access_keys"][0] == {"type": "CAN", "can": "483324"}
    identity = out["identity"]
    assert identity["source"] == "QR" and identity["search_key"] == "nguyen thi huong"
    assert identity["his"]["SO_CCCD"] == "001185483324"
    assert identity["his"]["NGAY_SINH"] == "198503140000"
    assert {"field": "qr_payload", "source_encoding": "utf8_as_cp1252", "case_guessed": False} in (
        identity["repairs"]
    )
    args = parser.parse_args(["qr", "1|2|3"])
    assert args.func(args) == 2
    assert "field: payload" in capsys.readouterr().err
    args = parser.parse_args(["text", "repair", "--json", "§µ B¾c"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["text"], out["source_encoding"]) == ("Đà Bắc", "tcvn3")
