"""Real-world DER in DG15 (ICAO 9303-11 §6.1): an RSA modulus (or exponent) encoded without
its leading zero byte is negative in strict DER, as on JMRTD's BSI 2008 test passport and on
cards in the field. Readers built on BouncyCastle take the unsigned value; so do we, with a
warning, and active authentication still verifies with that key."""

from __future__ import annotations

import os

from fixtures.chip_auth import AAKey
from reader import tlv
from reader.lds import parse_dg15
from verify.active_auth import verify_active_authentication
from verify.signatures import load_public_key

RSA_OID = bytes.fromhex("06092a864886f70d010101")


def _unsigned_int(value: int) -> bytes:
    """INTEGER with the magnitude's bytes only: no leading zero even when the top bit is set."""
    return tlv.encode(0x02, value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _spki(n: int, e: int) -> bytes:
    algorithm = tlv.encode(0x30, [RSA_OID, b"\x05\x00"])
    key = tlv.encode(0x30, [_unsigned_int(n), _unsigned_int(e)])
    return tlv.encode(0x30, [algorithm, tlv.encode(0x03, b"\x00" + key)])


KEY = AAKey.rsa_generate(1024)


def test_negative_modulus_dg15_parses_as_unsigned_with_a_warning() -> None:
    assert KEY.rsa is not None
    n, e, _ = KEY.rsa
    assert n.bit_length() % 8 == 0  # top bit set: the bare magnitude reads negative
    dg15 = tlv.encode(0x6F, _spki(n, e))
    key = parse_dg15(dg15).public_key
    assert key.rsa_modulus == n and key.rsa_exponent == e and key.key_size == 1024
    assert any("leading zero" in w and "modulus" in w for w in key.warnings)
    challenge = os.urandom(8)
    assert verify_active_authentication(dg15, challenge, KEY.sign(challenge, os.urandom))
    assert not verify_active_authentication(dg15, challenge, bytes(128))


def test_negative_exponent_too_and_strict_encoding_has_no_warning() -> None:
    assert KEY.rsa is not None
    n, _, _ = KEY.rsa
    odd = parse_dg15(tlv.encode(0x6F, _spki(n, 0x81))).public_key
    assert odd.rsa_exponent == 0x81 and len(odd.warnings) == 2
    strict = parse_dg15(tlv.encode(0x6F, KEY.spki())).public_key
    assert strict.rsa_modulus == n and strict.warnings == ()


def test_signature_layer_reads_the_unsigned_modulus_too() -> None:
    assert KEY.rsa is not None
    n, e, _ = KEY.rsa
    assert load_public_key(_spki(n, e)).bits == 1024


def test_the_leniency_is_a_warning_on_the_card_verdict() -> None:
    from datetime import UTC, datetime

    from fixtures.cards import chip_for_citizen, trust_store_for_tests
    from reader import CANKey, read_card
    from verify.check import check_card

    assert KEY.rsa is not None
    n, e, _ = KEY.rsa
    person = "017072769692"
    card = read_card(chip_for_citizen(person), CANKey(person[-6:]))
    card.parsed["DG15"] = parse_dg15(tlv.encode(0x6F, _spki(n, e)))
    check = check_card(card, trust_store_for_tests(), at=datetime(2026, 1, 1, tzinfo=UTC))
    assert any("DG15" in w and "leading zero" in w for w in check.warnings)
    assert check.to_json()["warnings"] == list(check.warnings)
