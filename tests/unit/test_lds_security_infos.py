"""SecurityInfos (EF.CardAccess, DG14), DG15 and EF.COM: real-card and ICAO bytes, the OID
tables, deterministic option choice, named and explicit EC parameters, DH keys."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from fixtures import lds_build as B
from reader.errors import ParseError
from reader.lds import FILES, parse_card_access, parse_com, parse_dg14, parse_dg15, parse_file
from reader.lds.security_infos import (
    CA_PROTOCOLS,
    PACE_PROTOCOLS,
    STANDARD_DOMAIN_PARAMETERS,
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    PACEInfo,
    TerminalAuthenticationInfo,
    UnknownSecurityInfo,
    decode_oid,
    encode_oid,
    parse_public_key_info,
)
from reader.tlv import encode

REAL = bytes.fromhex(
    "3134300d060804007f0007020202020101300f060a04007f000702020302020201013012060a04007f0007"
    "020204020202010202010d"
)
ICAO_G1 = bytes.fromhex("31143012060A04007F0007020204020202010202010D")


def test_real_card_access() -> None:
    infos = parse_card_access(REAL)
    assert infos.raw == REAL
    kinds = [type(i) for i in infos.infos]
    assert kinds == [TerminalAuthenticationInfo, ChipAuthenticationInfo, PACEInfo]
    assert infos.terminal_authentication_info is not None
    assert infos.terminal_authentication_info.version == 1
    ca = infos.chip_authentication_infos[0]
    assert ca.protocol is not None and ca.protocol.name == "id-CA-ECDH-AES-CBC-CMAC-128"
    best = infos.best_pace()
    assert best is not None and best.version == 2 and best.parameter_id == 13
    assert best.protocol is not None
    assert (
        best.protocol.name,
        best.protocol.mapping,
        best.protocol.key_agreement,
        best.protocol.cipher,
        best.protocol.key_length,
    ) == ("id-PACE-ECDH-GM-AES-CBC-CMAC-128", "GM", "ECDH", "AES", 16)
    assert best.standard_parameters is not None
    assert best.standard_parameters.name == "brainpoolP256r1"


def test_icao_g1_card_access() -> None:
    infos = parse_card_access(ICAO_G1)
    assert len(infos.pace_infos) == 1
    assert infos.best_pace() == infos.pace_infos[0]
    assert infos.pace_infos[0].oid == "0.4.0.127.0.7.2.2.4.2.2"


def test_builder_default_is_real_card() -> None:
    assert B.build_card_access() == REAL


def test_tables() -> None:
    assert len(PACE_PROTOCOLS) == 4 * 4 + 3
    assert len(CA_PROTOCOLS) == 8
    assert PACE_PROTOCOLS["0.4.0.127.0.7.2.2.4.6.4"].name == "id-PACE-ECDH-CAM-AES-CBC-CMAC-256"
    assert PACE_PROTOCOLS["0.4.0.127.0.7.2.2.4.1.1"].cipher == "3DES"
    assert PACE_PROTOCOLS["0.4.0.127.0.7.2.2.4.3.3"].key_length == 24
    assert CA_PROTOCOLS["0.4.0.127.0.7.2.2.3.1.1"].name == "id-CA-DH-3DES-CBC-CBC"
    assert sorted(STANDARD_DOMAIN_PARAMETERS) == [0, 1, 2, *range(8, 19)]
    assert STANDARD_DOMAIN_PARAMETERS[12].curve_oid == "1.2.840.10045.3.1.7"
    assert STANDARD_DOMAIN_PARAMETERS[2].kind == "GFP"


def test_oid_round_trip() -> None:
    for oid in ("0.4.0.127.0.7.2.2.4.2.2", "2.23.136.1.1.5", "1.3.36.3.3.2.8.1.1.13"):
        assert decode_oid(encode_oid(oid)) == oid


def test_best_pace_is_deterministic_and_ranked() -> None:
    raw = B.build_card_access(
        pace=[
            ("id-PACE-DH-GM-AES-CBC-CMAC-256", 2),
            ("id-PACE-ECDH-IM-AES-CBC-CMAC-256", 13),
            ("id-PACE-ECDH-GM-3DES-CBC-CBC", 12),
            ("id-PACE-ECDH-GM-AES-CBC-CMAC-128", 13),
            ("id-PACE-ECDH-GM-AES-CBC-CMAC-256", 99),
        ],  # 99: not standardized, no info
    )
    infos = parse_card_access(raw)
    best = infos.best_pace()
    assert best is not None and best.protocol is not None
    assert best.protocol.name == "id-PACE-ECDH-GM-AES-CBC-CMAC-128"
    assert parse_card_access(raw).best_pace() == best
    im = infos.best_pace(supported={"id-PACE-ECDH-IM-AES-CBC-CMAC-256"})
    assert im is not None and im.parameter_id == 13
    assert infos.best_pace(supported={"nothing"}) is None


def test_unknown_oids_kept_and_ignored() -> None:
    unknown = encode(0x30, [encode(0x06, encode_oid("1.2.3.4")), encode(0x02, b"\x01")])
    broken_pace = encode(0x30, [encode(0x06, encode_oid("0.4.0.127.0.7.2.2.4.2.2"))])
    raw = encode(0x31, [unknown, broken_pace, ICAO_G1[2:]])
    infos = parse_card_access(raw)
    assert [type(i) for i in infos.infos] == [UnknownSecurityInfo, UnknownSecurityInfo, PACEInfo]
    assert infos.unknown[0].oid == "1.2.3.4"
    assert infos.unknown[1].problem is not None
    assert infos.best_pace() is not None


def test_dg14_named_curve() -> None:
    key = ec.derive_private_key(12345, ec.BrainpoolP256R1()).public_key()
    raw = B.build_dg14(key, aa_signature_algorithm="ecdsa-with-SHA256")
    infos = parse_dg14(raw)
    assert infos.raw == raw
    option = infos.best_chip_authentication()
    assert option is not None and option.info is not None
    assert option.protocol.name == "id-CA-ECDH-AES-CBC-CMAC-128"
    pk = option.public_key_info.public_key
    assert pk.key_type == "EC" and pk.curve == "brainpoolP256r1" and not pk.explicit_parameters
    assert pk.public_key == key.public_bytes(
        B.serialization.Encoding.X962, B.serialization.PublicFormat.UncompressedPoint
    )
    assert pk.ec_domain is not None and pk.ec_domain.p.bit_length() == 256
    aa = infos.active_authentication_info
    assert isinstance(aa, ActiveAuthenticationInfo)
    assert aa.signature_algorithm_name == "ecdsa-with-SHA256"


def test_dg14_explicit_parameters_map_to_named_curve() -> None:
    key = ec.derive_private_key(777, ec.BrainpoolP256R1()).public_key()
    infos = parse_dg14(B.build_dg14(key, explicit_parameters=True, key_id=3))
    option = infos.best_chip_authentication()
    assert option is not None and option.key_id == 3
    pk = option.public_key_info.public_key
    assert pk.explicit_parameters and pk.curve == "brainpoolP256r1"
    assert pk.ec_domain is not None and pk.ec_domain.cofactor == 1
    assert pk.key_size == 256


def test_ca_implied_without_info() -> None:
    key = ec.derive_private_key(99, ec.SECP256R1()).public_key()
    only_key = encode(0x30, [encode(0x06, encode_oid("0.4.0.127.0.7.2.2.1.2")), B.spki(key)])
    infos = parse_dg14(encode(0x6E, [encode(0x31, [only_key])]))
    option = infos.best_chip_authentication()
    assert option is not None and option.info is None
    assert option.protocol.name == "id-CA-ECDH-3DES-CBC-CBC"


def test_dh_public_key() -> None:
    p, g, q = 0xFFFFFFFFFFFFFFC5, 2, 0x7FFFFFFFFFFFFFE2
    params = encode(
        0x30,
        [
            encode(0x02, p.to_bytes(9, "big")),
            encode(0x02, b"\x02"),
            encode(0x02, q.to_bytes(8, "big")),
        ],
    )
    spki = encode(
        0x30,
        [
            encode(0x30, [encode(0x06, encode_oid("1.2.840.10046.2.1")), params]),
            encode(0x03, b"\x00" + encode(0x02, b"\x05\x06")),
        ],
    )
    key = parse_public_key_info(spki)
    assert key.key_type == "DH" and key.dh_domain is not None
    assert (key.dh_domain.p, key.dh_domain.g, key.dh_domain.q) == (p, g, q)
    assert key.dh_public_value == 0x0506


def test_dg15_rsa_and_ec() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    parsed = parse_dg15(B.build_dg15(rsa_key))
    assert parsed.key_type == "RSA" and parsed.public_key.key_size == 1024
    assert parsed.public_key.rsa_modulus == rsa_key.public_numbers().n
    assert parsed.spki == B.spki(rsa_key)
    ec_key = ec.derive_private_key(5, ec.SECP384R1()).public_key()
    for explicit in (False, True):
        parsed = parse_dg15(B.build_dg15(ec_key, explicit_parameters=explicit))
        assert parsed.key_type == "EC" and parsed.public_key.curve == "secp384r1"
        assert parsed.public_key.explicit_parameters is explicit


def test_com() -> None:
    raw = B.build_com()
    parsed = parse_com(raw)
    assert parsed.raw == raw
    assert parsed.lds_version == "1.7" and parsed.unicode_version == "4.0.0"
    assert parsed.data_groups == ("DG1", "DG2", "DG3", "DG13", "DG14", "DG15")
    assert parsed.tags == (0x61, 0x75, 0x63, 0x6D, 0x6E, 0x6F)


def test_files_table_and_dispatch() -> None:
    assert (FILES["CardAccess"].fid, FILES["CardAccess"].sfi) == (0x011C, 0x1C)
    assert (FILES["COM"].fid, FILES["COM"].tag) == (0x011E, 0x60)
    assert (FILES["SOD"].fid, FILES["SOD"].sfi, FILES["SOD"].tag) == (0x011D, 0x1D, 0x77)
    assert (FILES["DG13"].fid, FILES["DG13"].sfi, FILES["DG13"].tag) == (0x010D, 0x0D, 0x6D)
    assert FILES["DG16"].tag == 0x70 and FILES["DG2"].tag == 0x75
    assert parse_file("CardAccess", REAL).best_pace() is not None
    with pytest.raises(KeyError):
        parse_file("DG3", b"\x63\x00")
    with pytest.raises(ParseError) as info:
        parse_file("DG14", b"\x6f\x00")
    assert info.value.file == "DG14"


@pytest.mark.parametrize("raw", [b"", b"\x30\x00", b"\x31\x02\x30", b"\x31\x80\x00"])
def test_card_access_malformed(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_card_access(raw)
