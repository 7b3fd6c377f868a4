"""The DG13 field vocabulary (``reader.lds.vocabulary``) against every record that spells the
fields out for the type checker: the DG13 parser's record, the identity and its JSON and HIS
fields, the QR record. A field added to one and not the others fails here, not at a desk.
The field numbers are checked against the DG13 table of ``docs/spec/cccd-chip.md``."""

from __future__ import annotations

import dataclasses
import re
import typing
from datetime import date
from pathlib import Path

import pytest

from reader.lds import DG13, parse_dg13, vocabulary
from reader.lds.dg13 import DG13Date
from reader.tlv import encode
from verify.identity import Identity, build_identity
from verify.qr import QRIdentity, parse_qr

SPEC = Path(__file__).resolve().parents[2] / "docs" / "spec" / "cccd-chip.md"

# what the records hold besides the card's fields
DG13_OWN = {
    "raw",
    "version",
    "encoding_oid",
    "extra",
    "fields",
    "duplicate_fields",
    "invalid_text_fields",
}
IDENTITY_OWN = {
    "source",
    "name_ascii_only",
    "no_expiry",
    "birth_partial",
    "extra",
    "repairs",
    "checks",
}
JSON_DERIVED = [
    "source",
    "full_name_title",
    "name_ascii_only",
    "search_key",
    "age",
    "no_expiry",
    "card_status",
    "days_left",
    "extra",
    "repairs",
    "checks",
    "consistent",
    "his",
]
QR_OWN = {"generation", "extra_fields", "repair", "field_repairs"}
PAYLOAD = "001185483324|115371813|Nguyễn Thị Hương|14031985|Nữ|Số 25, Hà Nội|23082021"


def _names(record: type) -> list[str]:
    return [f.name for f in dataclasses.fields(record)]


def _card_part(names: list[str]) -> list[str]:
    return [n for n in names if n in vocabulary.NAMES]


# -- the table itself ----------------------------------------------------------------------


def test_names_are_unique_and_in_dg13_order() -> None:
    assert len(set(vocabulary.NAMES)) == len(vocabulary.NAMES)
    numbers = [f.number for f in vocabulary.FIELDS]
    assert numbers == sorted(numbers)
    for number in vocabulary.SHARED_NUMBERS:  # each value of a shared field named once
        slots = [f.slot for f in vocabulary.fields_numbered(number)]
        assert sorted(s for s in slots if s is not None) == list(range(len(slots)))


def test_numbers_and_names_match_the_spec_table() -> None:
    """The DG13 table in docs/spec: ``| n | `name`, `name` | ... |`` rows."""
    text = SPEC.read_text(encoding="utf-8")
    table = text[text.index("| n | our name |") :]
    rows = re.findall(r"^\| (\d+) \| ([^|]*) \|", table, flags=re.MULTILINE)
    spec = {name: int(n) for n, cell in rows for name in re.findall(r"`(\w+)`", cell)}
    assert spec == {f.name: f.number for f in vocabulary.FIELDS}


def test_qr_positions_are_the_payload_in_order() -> None:
    positions = sorted(f.qr for f in vocabulary.FIELDS if f.qr is not None)
    assert positions == list(range(len(vocabulary.QR_NAMES)))
    # the public API (and the card's printed payload): seven fields named as DG13's
    assert vocabulary.QR_NAMES == (
        "id_number",
        "old_id_number",
        "full_name",
        "date_of_birth",
        "sex",
        "place_of_residence",
        "date_of_issue",
    )


def test_sensitive_split_and_person_names() -> None:
    assert set(vocabulary.NAMES) == vocabulary.SENSITIVE_NAMES | vocabulary.CHECKIN_NAMES
    assert not vocabulary.SENSITIVE_NAMES & vocabulary.CHECKIN_NAMES
    # a relative's name is never needed for check-in; the patient's own name is
    relatives = {"father_name", "mother_name", "spouse_name"}
    assert relatives <= vocabulary.SENSITIVE_NAMES
    assert set(vocabulary.PERSON_NAMES) == relatives | {"full_name"}
    assert {"id_number", "full_name", "date_of_birth", "sex"} <= vocabulary.CHECKIN_NAMES


def test_lookups() -> None:
    assert vocabulary.by_name("mother_name").number == 13
    assert [f.name for f in vocabulary.fields_numbered(13)] == ["father_name", "mother_name"]
    assert vocabulary.fields_numbered(16) == ()
    with pytest.raises(KeyError):
        vocabulary.by_name("blood_group")


# -- the DG13 record -------------------------------------------------------------------------


def test_dg13_record_has_exactly_the_vocabulary() -> None:
    names = _names(DG13)
    assert _card_part(names) == list(vocabulary.NAMES)
    assert set(names) - set(vocabulary.NAMES) == DG13_OWN


def test_dg13_record_types_follow_the_kinds() -> None:
    hints = typing.get_type_hints(DG13)
    for spec in vocabulary.FIELDS:
        wanted = DG13Date | None if spec.kind == "date" else str | None
        assert hints[spec.name] == wanted, spec.name


def _field(number: int, *values: bytes) -> bytes:
    return encode(0x30, [bytes([0x02, 0x01, number]), *values])


def test_parser_fills_every_vocabulary_field_from_its_number() -> None:
    """Each field gets a distinct marker text at its number (and slot): the parser must put
    each one under the vocabulary's name, and nothing into ``extra``."""
    fields = []
    expected: dict[str, str] = {}
    for number in sorted(vocabulary.NUMBERS):
        specs = vocabulary.fields_numbered(number)
        texts = [f"01/02/19{number:02d}" if s.kind == "date" else f"value {s.name}" for s in specs]
        expected.update(zip((s.name for s in specs), texts, strict=True))
        if number in vocabulary.SHARED_NUMBERS:
            slots = [encode(0x30, [encode(0x0C, t.encode())]) for t in texts]
            fields.append(_field(number, *slots))
        else:
            fields.append(_field(number, encode(0x0C, texts[0].encode())))
    oid = bytes.fromhex("060628D316010008")
    raw = encode(0x6D, [encode(0x30, [bytes([2, 1, 1]), oid, encode(0x31, fields)])])
    parsed = parse_dg13(raw)
    assert parsed.extra == {}
    for name, text in expected.items():
        value = getattr(parsed, name)
        assert (value.text if isinstance(value, DG13Date) else value) == text, name


# -- the identity ----------------------------------------------------------------------------


def _identity() -> Identity:
    return build_identity(
        dg13={
            "id_number": "001185483324",
            "full_name": "NGUYỄN THỊ HƯƠNG",
            "date_of_birth": "14/03/1985",
            "sex": "Nữ",
            "nationality": "Việt Nam",
            "ethnicity": "Kinh",
            "place_of_residence": "Số 25, Hà Nội",
            "date_of_issue": "23/08/2021",
            "date_of_expiry": "14/03/2025",
        }
    )


def test_identity_record_has_exactly_the_vocabulary() -> None:
    names = _names(Identity)
    assert _card_part(names) == list(vocabulary.NAMES)
    assert set(names) - set(vocabulary.NAMES) == IDENTITY_OWN


def test_identity_types_follow_the_kinds() -> None:
    hints = typing.get_type_hints(Identity)
    for spec in vocabulary.FIELDS:
        if spec.kind == "date":
            assert hints[spec.name] == date | None, spec.name
        elif spec.kind == "sex":
            assert hints[spec.name] == typing.Literal["Nam", "Nữ"] | None
        else:
            assert hints[spec.name] == str | None, spec.name


def test_identity_json_keys_are_the_vocabulary_and_the_derived_ones() -> None:
    keys = list(_identity().to_json(date(2024, 1, 1)))
    assert _card_part(keys) == list(vocabulary.NAMES)
    assert [k for k in keys if k not in vocabulary.NAMES] == JSON_DERIVED


def test_identity_json_dates_are_iso() -> None:
    shown = _identity().to_json(date(2024, 1, 1))
    for name in vocabulary.DATE_NAMES:
        assert shown[name] is None or date.fromisoformat(str(shown[name])), name
    assert shown["date_of_birth"] == "1985-03-14"


def test_his_keys_are_the_vocabulary_his_names() -> None:
    his = _identity().his_fields()
    assert set(his) == set(vocabulary.HIS_NAMES.values())
    assert his["SO_CCCD"] == "001185483324"
    assert his[vocabulary.HIS_NAMES["date_of_birth"]] == "198503140000"


# -- the QR record ---------------------------------------------------------------------------


def test_qr_record_has_the_vocabulary_qr_fields_in_payload_order() -> None:
    names = _names(QRIdentity)
    assert _card_part(names) == list(vocabulary.QR_NAMES)
    assert set(names) - set(vocabulary.QR_NAMES) == QR_OWN


def test_qr_fields_keys_are_the_vocabulary_qr_fields() -> None:
    parsed = parse_qr(PAYLOAD)
    assert list(parsed.fields()) == list(vocabulary.QR_NAMES)
    values = PAYLOAD.split("|")
    shown = parsed.fields()
    for spec in vocabulary.FIELDS:
        if spec.qr is not None and spec.kind != "date":
            assert shown[spec.name] == values[spec.qr], spec.name
    assert shown["date_of_birth"] == "14/03/1985"
