"""Every file the builders make, for every fictional citizen (both card generations), parses
back to the values it was built from."""

from __future__ import annotations

import io
from functools import cache

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from PIL import Image
from unidecode import unidecode

from fixtures import lds_build as B
from fixtures.citizens import Citizen, citizen, load_citizens
from reader.keys import BACKey
from reader.lds import (
    parse_card_access,
    parse_com,
    parse_dg1,
    parse_dg2,
    parse_dg13,
    parse_dg14,
    parse_dg15,
    parse_file,
)

CITIZENS = load_citizens()
IDS = [c.id_number for c in CITIZENS]


def test_both_card_kinds_present() -> None:
    assert {c.card_kind for c in CITIZENS} == {"cccd_2021", "can_cuoc_2024"}
    assert citizen(IDS[1]).id_number == IDS[1]
    with pytest.raises(KeyError):
        citizen("000000000000")


@cache
def _rsa_key() -> rsa.RSAPublicKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()


@pytest.mark.parametrize("person", CITIZENS, ids=IDS)
def test_dg1(person: Citizen) -> None:
    raw = B.build_dg1(person)
    parsed = parse_dg1(raw)
    assert parsed.raw == raw and parsed.format == "TD1" and parsed.checks_ok
    assert parsed.document_number == person.id_number[3:]
    assert parsed.id_number == person.id_number
    assert parsed.date_of_birth == person.date_of_birth.strftime("%y%m%d")
    expected_doe = (
        person.date_of_expiry.strftime("%y%m%d") if person.date_of_expiry else B.NO_EXPIRY_MRZ
    )
    assert parsed.date_of_expiry == expected_doe
    assert parsed.sex == ("M" if person.sex == "Nam" else "F")
    assert parsed.issuing_state == "VNM" and parsed.nationality == "VNM"
    assert parsed.document_code == "ID"
    assert len(parsed.lines[2]) == 30
    folded = unidecode(person.full_name).upper().replace("'", "").split()
    assert parsed.primary_identifier == folded[0]
    assert " ".join(folded[1:]).startswith(parsed.secondary_identifier)
    key = BACKey(parsed.document_number, parsed.date_of_birth, parsed.date_of_expiry)
    assert key.mrz_information == parsed.mrz[5:15] + parsed.mrz[30:37] + parsed.mrz[38:45]


def _check_dg13(person: Citizen, raw: bytes) -> None:
    parsed = parse_dg13(raw)
    assert parsed.raw == raw and parsed.text_valid
    for name in (
        "id_number",
        "full_name",
        "sex",
        "nationality",
        "ethnicity",
        "religion",
        "place_of_origin",
        "place_of_residence",
        "identifying_marks",
        "father_name",
        "mother_name",
        "spouse_name",
        "old_id_number",
    ):
        assert getattr(parsed, name) == getattr(person, name), name
    assert parsed.date_of_birth is not None and parsed.date_of_birth.date == person.date_of_birth
    assert parsed.date_of_issue is not None and parsed.date_of_issue.date == person.date_of_issue
    assert parsed.date_of_expiry is not None
    assert parsed.date_of_expiry.date == person.date_of_expiry
    assert parsed.no_expiry is (person.date_of_expiry is None)


@pytest.mark.parametrize("person", CITIZENS, ids=IDS)
def test_dg13_both_layouts_and_field16(person: Citizen) -> None:
    _check_dg13(person, B.build_dg13(person))
    _check_dg13(person, B.build_dg13(person, parents_layout="combined"))
    with_16 = parse_dg13(B.build_dg13(person, field16=True))
    assert with_16.extra == {16: B.field16_value(person)} and len(with_16.extra[16]) == 16


@pytest.mark.parametrize("legacy", ["tcvn3", "vni"])
def test_dg13_legacy_fault_is_flagged(legacy: str) -> None:
    person = CITIZENS[0]
    parsed = parse_dg13(B.build_dg13(person, legacy=legacy))  # type: ignore[arg-type]
    assert parsed.invalid_text_fields == (2, 8, 9)
    assert parsed.field_bytes(2)[0] != person.full_name.encode()
    assert parsed.id_number == person.id_number


def test_dg13_long_residence_uses_long_form() -> None:
    person = max(CITIZENS, key=lambda c: len(c.place_of_residence.encode()))
    raw = B.build_dg13(person)
    assert len(person.place_of_residence.encode()) > 127
    assert b"\x0c\x81" in raw
    assert parse_dg13(raw).place_of_residence == person.place_of_residence


@pytest.mark.parametrize("person", CITIZENS[::4], ids=IDS[::4])
def test_dg2(person: Citizen) -> None:
    raw = B.build_dg2(person)
    face = parse_dg2(raw).face
    assert face is not None and face.format == "jpeg"
    assert face.gender == (1 if person.sex == "Nam" else 2)
    with Image.open(io.BytesIO(face.to_jpeg())) as img:
        img.load()
        assert img.size == (face.width, face.height)


@pytest.mark.parametrize("person", CITIZENS, ids=IDS)
def test_security_files_and_com(person: Citizen) -> None:
    index = IDS.index(person.id_number)
    ca_key = ec.derive_private_key(1000 + index, ec.BrainpoolP256R1()).public_key()
    aa_ec = index % 2 == 0
    aa_key = (
        ec.derive_private_key(2000 + index, ec.BrainpoolP256R1()).public_key()
        if aa_ec
        else _rsa_key()
    )
    dg14 = parse_dg14(
        B.build_dg14(ca_key, aa_signature_algorithm="ecdsa-with-SHA256" if aa_ec else None)
    )
    option = dg14.best_chip_authentication()
    assert option is not None and option.public_key_info.public_key.curve == "brainpoolP256r1"
    assert (dg14.active_authentication_info is not None) is aa_ec
    dg15 = parse_dg15(B.build_dg15(aa_key))
    assert dg15.key_type == ("EC" if aa_ec else "RSA")
    assert dg15.spki == B.spki(aa_key)
    assert parse_com(B.build_com()).data_groups[-1] == "DG15"
    access = parse_card_access(B.build_card_access())
    assert access.best_pace() is not None


def test_parse_file_dispatch() -> None:
    person = CITIZENS[0]
    assert parse_file("DG1", B.build_dg1(person)).id_number == person.id_number
    assert parse_file("DG13", B.build_dg13(person)).full_name == person.full_name
    assert parse_file("COM", B.build_com()).lds_version == "1.7"
