"""The one SubjectPublicKeyInfo loader (reader.lds.public_key): keys written by pyca/cryptography
and asn1crypto (independent encoders) read back to the same numbers; the BSI id-PK-ECDH key
OID; implicitlyCA; DH in X9.42 and PKCS#3 form; bounds and typed errors; and the verifier and
DG15 taking their keys from it."""

from __future__ import annotations

import contextlib

import pytest
from asn1crypto import core, keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from reader import tlv
from reader.errors import ParseError
from reader.lds import parse_dg15
from reader.lds.public_key import (
    MAX_SPKI_BYTES,
    UnsupportedKeyParameters,
    parse_public_key_info,
)
from reader.oids import ID_PK_ECDH
from verify import signatures

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
EC_KEY = ec.derive_private_key(4242, ec.SECP256R1()).public_key()


def _der(key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def test_rsa_key_written_by_pyca_reads_back() -> None:
    der = _der(RSA_KEY)
    info = parse_public_key_info(der)
    numbers = RSA_KEY.public_numbers()
    assert (info.key_type, info.rsa_modulus, info.rsa_exponent) == ("RSA", numbers.n, numbers.e)
    assert info.key_size == 1024 and info.der == der and info.warnings == ()


def test_ec_key_written_by_pyca_reads_back_with_its_curve() -> None:
    info = parse_public_key_info(_der(EC_KEY))
    assert (info.key_type, info.curve, info.curve_oid) == ("EC", "secp256r1", "1.2.840.10045.3.1.7")
    assert info.public_key == _point(EC_KEY) and info.key_size == 256
    assert info.ec_domain is not None and info.ec_domain.order == ec.SECP256R1().group_order


def test_an_asn1crypto_object_is_accepted_too() -> None:
    parsed = keys.PublicKeyInfo.load(_der(EC_KEY))
    assert parse_public_key_info(parsed).public_key == _point(EC_KEY)


def test_bsi_id_pk_ecdh_as_the_key_algorithm() -> None:
    # TR-03110-3 A.1.1.2 allows id-PK-ECDH as the SubjectPublicKeyInfo algorithm itself.
    algorithm = tlv.encode(
        0x30,
        [
            tlv.encode(0x06, core.ObjectIdentifier(ID_PK_ECDH).contents),
            tlv.encode(0x06, core.ObjectIdentifier("1.3.36.3.3.2.8.1.1.7").contents),
        ],
    )
    key = ec.derive_private_key(7, ec.BrainpoolP256R1()).public_key()
    spki = tlv.encode(0x30, [algorithm, tlv.encode(0x03, b"\x00" + _point(key))])
    info = parse_public_key_info(spki)
    assert (info.algorithm_oid, info.key_type, info.curve) == (ID_PK_ECDH, "EC", "brainpoolP256r1")
    assert info.public_key == _point(key)


def test_implicitly_ca_has_no_curve_and_the_verifier_refuses_it() -> None:
    spki = keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "ec", "parameters": ("implicit_ca", core.Null())},
            "public_key": _point(EC_KEY),
        }
    ).dump()
    info = parse_public_key_info(spki)
    assert info.key_type == "EC" and info.curve is None and info.ec_domain is None
    with pytest.raises(signatures.UnsupportedAlgorithmError, match="implicitlyCA"):
        signatures.load_public_key(spki)


def test_pkcs3_dh_parameters_have_no_q() -> None:
    p, g = 0xFFFFFFFFFFFFFFC5, 2
    params = tlv.encode(0x30, [tlv.encode(0x02, p.to_bytes(9, "big")), tlv.encode(0x02, b"\x02")])
    oid = core.ObjectIdentifier("1.2.840.113549.1.3.1").contents
    spki = tlv.encode(
        0x30,
        [
            tlv.encode(0x30, [tlv.encode(0x06, oid), params]),
            tlv.encode(0x03, b"\x00" + tlv.encode(0x02, b"\x07")),
        ],
    )
    info = parse_public_key_info(spki)
    assert info.dh_domain is not None and (info.dh_domain.p, info.dh_domain.g) == (p, g)
    assert info.dh_domain.q is None and info.dh_public_value == 7


def _characteristic_two_spki() -> bytes:
    domain = {
        "version": "ecdpVer1",
        "field_id": {
            "field_type": "characteristic_two_field",
            "parameters": {
                "m": 163,
                "basis": "pp_basis",
                "parameters": {"k1": 3, "k2": 6, "k3": 7},
            },
        },
        "curve": {"a": b"\x01", "b": b"\x01"},
        "base": b"\x04" + b"\x01" * 42,
        "order": 5846006549323611672814741753598448348329118574063,
        "cofactor": 2,
    }
    return keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "ec", "parameters": ("specified", domain)},
            "public_key": b"\x04" + b"\x02" * 42,
        }
    ).dump()


def test_a_characteristic_two_curve_is_a_typed_error_in_both_layers() -> None:
    spki = _characteristic_two_spki()
    with pytest.raises(UnsupportedKeyParameters, match="characteristic-2"):
        parse_public_key_info(spki, file="DG15", offset=2)
    with pytest.raises(signatures.UnsupportedAlgorithmError, match="characteristic-2"):
        signatures.load_public_key(spki)


@pytest.mark.parametrize(
    ("spki", "problem"),
    [
        (b"", "of 0 bytes"),
        (b"\x30" + b"\x82\x20\x01" + bytes(MAX_SPKI_BYTES), "bytes"),
        (_der(EC_KEY) + b"\x00", "does not parse"),  # trailing bytes
        (b"\x31\x00", "does not parse"),  # a SET, not a SEQUENCE
        # one unused bit in the key's BIT STRING
        (_der(EC_KEY)[:-66] + b"\x01" + _point(EC_KEY), "unused bits"),
    ],
)
def test_bad_input_is_a_parse_error_naming_the_problem(spki: bytes, problem: str) -> None:
    with pytest.raises(ParseError, match=problem) as info:
        parse_public_key_info(spki, file="DG15", offset=2)
    assert (info.value.file, info.value.offset) == ("DG15", 2)


def test_an_oversized_modulus_is_refused() -> None:
    huge = tlv.encode(0x02, b"\x00" + b"\xff" * 1100)
    key = tlv.encode(0x30, [huge, tlv.encode(0x02, b"\x01\x00\x01")])
    algorithm = tlv.encode(0x30, [bytes.fromhex("06092a864886f70d010101"), b"\x05\x00"])
    spki = tlv.encode(0x30, [algorithm, tlv.encode(0x03, b"\x00" + key)])
    with pytest.raises(ParseError, match="RSA modulus: INTEGER of 1101 bytes"):
        parse_public_key_info(spki)


def test_dg15_refuses_an_rsassa_pss_key() -> None:
    spki = keys.PublicKeyInfo.load(_der(RSA_KEY))
    pss = keys.PublicKeyInfo(
        {"algorithm": {"algorithm": "rsassa_pss"}, "public_key": spki["public_key"].parsed}
    ).dump()
    assert parse_public_key_info(pss).key_type == "RSA"
    assert signatures.load_public_key(pss).description == "RSA-1024"
    with pytest.raises(ParseError, match="neither RSA nor EC"):
        parse_dg15(tlv.encode(0x6F, pss))


def test_the_verifier_reuses_a_record_the_loader_made() -> None:
    info = parse_public_key_info(_der(EC_KEY))
    assert signatures.load_public_key(info).curve == "secp256r1"
    assert signatures.load_public_key(_der(EC_KEY)).curve == "secp256r1"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_a_record_or_a_parse_error(data: bytes) -> None:
    try:
        info = parse_public_key_info(data)
    except ParseError:
        return
    assert info.der == data


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(_der(EC_KEY)) - 1), st.integers(0, 255))
def test_one_changed_byte_gives_a_record_or_a_parse_error(index: int, value: int) -> None:
    data = bytearray(_der(EC_KEY))
    data[index] = value
    with contextlib.suppress(ParseError):
        parse_public_key_info(bytes(data))
