"""PACE pieces checked against their definitions in ICAO 9303-11, computed here without our
own PACE code: the Integrated Mapping's pseudo-random function R_p (§4.4.3.3.2, Figure 3)
with pyca/cryptography as the block cipher, the public key data object 7F49 (§9.4) for DH
and ECDH, and what the terminal says when a chip's answer lacks a data object (§4.4.4.3)."""

from __future__ import annotations

import math
import os

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from fixtures.chip_pace import build_card_access
from reader import tlv
from reader.apdu import Command, Response
from reader.drivers.access import perform_pace
from reader.errors import AccessDeniedError, ProtocolError
from reader.keys import BACKey, CANKey
from reader.lds.security_infos import encode_oid
from reader.protocol.cipher import Cipher as SymmetricCipher
from reader.protocol.groups import standard_group
from reader.protocol.pace import PaceTerminal
from reader.protocol.pace_chip import PaceChip
from reader.protocol.pace_mapping import decrypt_ca_data, encrypt_ca_data, pseudo_random
from reader.protocol.pace_messages import dynamic_data, general_authenticate, public_key_object

# §4.4.3.3.2: the constants c0, c1 for nonces of l = 128 and l = 256 bits.
C0 = {
    128: "a668892a7c41e3ca739f40b057d85904",
    256: "d463d65234124ef7897054986dca0a174e28df758cbaa03f240616414d5a1676",
}
C1 = {
    128: "a4e136ac725f738b01c1f60217c188ad",
    256: "54bd7255f0aaf831bec3423fcf39d69b6cbf066677d0faae5aadd99df8e53517",
}


def _cbc(cipher: str, key: bytes, data: bytes) -> bytes:
    """E(key, data): the block cipher in CBC mode with IV 0 (ISO/IEC 10116), pyca's."""
    if cipher == "AES":
        algorithm: algorithms.AES | TripleDES = algorithms.AES(key)
    else:
        algorithm = TripleDES(key + key[:8])  # two-key 3DES as K1 K2 K1
    encryptor = Cipher(algorithm, modes.CBC(bytes(algorithm.block_size // 8))).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def _r_p(s: bytes, t: bytes, cipher: str, key_length: int, p: int) -> int:
    """Figure 3 of §4.4.3.3.2, written from the text: k0 = E(t, s); x_i = E(k_(i-1), c1),
    k_i = E(k_(i-1), c0), every k truncated to the key size; n the smallest number with
    n * l >= log2 p + 64; R_p = int(x_1 || ... || x_n) mod p."""
    l_bits = len(s) * 8
    c0, c1 = bytes.fromhex(C0[l_bits]), bytes.fromhex(C1[l_bits])
    n = 1
    while n * l_bits < math.log2(p) + 64:
        n += 1
    k = _cbc(cipher, t, s)[:key_length]
    x = b""
    for _ in range(n):
        x += _cbc(cipher, k, c1)
        k = _cbc(cipher, k, c0)[:key_length]
    return int.from_bytes(x, "big") % p


@pytest.mark.parametrize(
    ("cipher", "key_length", "parameter_id"),
    [
        ("AES", 16, 8),  # NIST P-192: log2 p + 64 just above 2 blocks of 128 bits
        ("AES", 16, 13),  # brainpoolP256r1 (the group of the worked example)
        ("AES", 16, 17),  # brainpoolP512r1: 5 rounds
        ("AES", 24, 15),  # AES-192: 256-bit nonce, 256-bit constants
        ("AES", 32, 18),  # AES-256 on NIST P-521
        ("3DES", 16, 0),  # 3DES on the 1024-bit MODP group
        ("AES", 16, 2),  # the 2048-bit MODP group
    ],
)
def test_pseudo_random_follows_figure_3(cipher: str, key_length: int, parameter_id: int) -> None:
    suite = SymmetricCipher.of(cipher, key_length)
    group = standard_group(parameter_id)
    for _ in range(3):
        s = os.urandom(suite.nonce_length)
        t = os.urandom(key_length)
        expected = _r_p(s, t, cipher, key_length, group.modulus)
        assert pseudo_random(s, t, suite, group.modulus) == expected


def test_public_key_object_is_the_9_4_template() -> None:
    oid = "0.4.0.127.0.7.2.2.4.2.2"
    ec = standard_group(13)
    point = ec.encoded_public(7)
    der_oid = encode_oid(oid)
    assert public_key_object(oid, ec, point) == (
        b"\x7f\x49" + bytes([2 + len(der_oid) + 2 + len(point)])
        + b"\x06" + bytes([len(der_oid)]) + der_oid + b"\x86\x41" + point
    )  # fmt: skip
    dh = standard_group(0)
    value = dh.encoded_public(7)
    dh_oid = "0.4.0.127.0.7.2.2.4.1.2"
    der_dh_oid = encode_oid(dh_oid)
    # 84: the DH public value y (§9.4.2), 128 bytes for the 1024-bit group
    assert public_key_object(dh_oid, dh, value) == (
        b"\x7f\x49\x81" + bytes([2 + len(der_dh_oid) + 3 + len(value)])
        + b"\x06" + bytes([len(der_dh_oid)]) + der_dh_oid + b"\x84\x81\x80" + value
    )  # fmt: skip


def test_cam_data_out_of_range_names_pace_cam() -> None:
    suite, group, ks_enc = SymmetricCipher.of("AES", 16), standard_group(13), bytes(range(16))
    encrypted = encrypt_ca_data(suite, ks_enc, group.order, group)
    with pytest.raises(ProtocolError) as info:
        decrypt_ca_data(suite, ks_enc, encrypted, group)
    assert str(info.value) == "PACE-CAM: chip authentication data out of range"


GM = "0.4.0.127.0.7.2.2.4.2.2"  # id-PACE-ECDH-GM-AES-CBC-CMAC-128
CAM = "0.4.0.127.0.7.2.2.4.6.2"  # id-PACE-ECDH-CAM-AES-CBC-CMAC-128


def _run_to_last_step(protocol: str) -> tuple[PaceTerminal, bytes]:
    """PACE with the CAN between our terminal and card side, up to the last exchange: the
    terminal and the chip's mutual authentication answer."""
    chip = PaceChip(
        offers=[(protocol, 13)], mrz=None, can="123456", random=os.urandom, ca_private_key=5
    )
    terminal = PaceTerminal(CANKey("123456"), build_card_access([(protocol, 13)]), os.urandom)
    assert chip.set_at(terminal.mse_set_at().data) == 0x9000

    def step(command: Command) -> bytes:
        data, sw = chip.general_authenticate(command.data)
        assert sw == 0x9000
        return data

    nonce = step(terminal.nonce_command())
    mapped = step(terminal.mapping_command(nonce))
    agreement = step(terminal.key_agreement_command(mapped))
    mutual = step(terminal.mutual_authentication_command(agreement))
    return terminal, mutual


def _without(answer: bytes, tag: int) -> bytes:
    children = [o for o in tlv.decode(tlv.decode_one(answer).value) if o.tag != tag]
    return tlv.encode(0x7C, [tlv.encode(o.tag, o.value) for o in children])


def test_answers_lacking_a_data_object_name_the_step() -> None:
    terminal, mutual = _run_to_last_step(GM)
    with pytest.raises(ProtocolError) as info:
        terminal.mapping_command(b"\x7c\x00")
    assert str(info.value) == "PACE encrypted nonce: data object 80 missing"
    with pytest.raises(ProtocolError) as info:
        terminal.mapping_command(b"\x80\x00")
    assert str(info.value) == "PACE encrypted nonce: answer tag 80, expected 7C"
    with pytest.raises(ProtocolError) as info:
        terminal.key_agreement_command(b"\x7c\x00")
    assert str(info.value) == "PACE map nonce: data object 82 missing"
    with pytest.raises(ProtocolError) as info:
        terminal.key_agreement_command(b"\x82\x00")
    assert str(info.value) == "PACE map nonce: answer tag 82, expected 7C"
    with pytest.raises(ProtocolError) as info:
        terminal.mutual_authentication_command(b"\x7c\x00")
    assert str(info.value) == "PACE key agreement: data object 84 missing"
    with pytest.raises(ProtocolError) as info:
        terminal.mutual_authentication_command(b"\x84\x00")
    assert str(info.value) == "PACE key agreement: answer tag 84, expected 7C"
    with pytest.raises(ProtocolError) as info:
        terminal.finish(_without(mutual, 0x86))
    assert str(info.value) == "PACE mutual authentication: data object 86 missing"
    with pytest.raises(ProtocolError) as info:
        terminal.finish(b"\x86\x00")
    assert str(info.value) == "PACE mutual authentication: answer tag 86, expected 7C"
    sm = terminal.finish(mutual)
    assert sm.description == "PACE-ECDH-GM-AES-128 brainpoolP256r1"
    assert sm.chip_authentication_data is None


def test_cam_answer_without_its_ca_data_names_the_step() -> None:
    terminal, mutual = _run_to_last_step(CAM)
    with pytest.raises(ProtocolError) as info:
        terminal.finish(_without(mutual, 0x8A))
    assert str(info.value) == "PACE mutual authentication (CAM): data object 8A missing"
    sm = terminal.finish(mutual)
    assert sm.description == "PACE-ECDH-CAM-AES-128 brainpoolP256r1"
    assert sm.chip_authentication_data is not None


def _refusing_send(command: Command) -> Response:
    """A chip that accepts MSE:Set AT and refuses the first GENERAL AUTHENTICATE (6300)."""
    return Response(b"", 0x9000 if command.ins == 0x22 else 0x6300)


def test_refused_password_messages_in_full() -> None:
    card_access = build_card_access([(GM, 13)])
    with pytest.raises(AccessDeniedError) as can:
        perform_pace(_refusing_send, CANKey("123456"), card_access, os.urandom)
    assert str(can.value) == (
        "PACE refused at encrypted nonce (card answered 6300): the CAN is wrong: on a CCCD "
        "the CAN is the last 6 digits of the 12-digit ID number"
    )
    with pytest.raises(AccessDeniedError) as mrz:
        perform_pace(
            _refusing_send, BACKey("185001234", "850314", "250314"), card_access, os.urandom
        )
    assert str(mrz.value) == (
        "PACE refused at encrypted nonce (card answered 6300): the MRZ password is wrong: "
        "check the document number (last 9 digits of the ID number), date of birth and date "
        "of expiry"
    )


def test_chip_echoing_the_terminals_mapping_key_is_refused() -> None:
    chip = PaceChip(offers=[(GM, 13)], mrz=None, can="123456", random=os.urandom)
    terminal = PaceTerminal(CANKey("123456"), build_card_access([(GM, 13)]), os.urandom)
    assert chip.set_at(terminal.mse_set_at().data) == 0x9000
    nonce, _ = chip.general_authenticate(terminal.nonce_command().data)
    mapping = terminal.mapping_command(nonce)
    mine = tlv.decode_one(tlv.decode_one(mapping.data).value)
    assert mine.tag == 0x81
    with pytest.raises(ProtocolError) as info:
        terminal.key_agreement_command(tlv.encode(0x7C, [tlv.encode(0x82, mine.value)]))
    assert str(info.value) == "PACE map nonce: the chip echoed the terminal's key"


def test_dynamic_data_is_bounded_to_eight_objects() -> None:
    objects = [bytes([0x80 + n, 0x00]) for n in range(9)]
    eight = dynamic_data(tlv.encode(0x7C, objects[:8]), "step")
    assert sorted(eight) == list(range(0x80, 0x88))
    assert dynamic_data(b"\x7c\x00", "step") == {}
    with pytest.raises(ProtocolError, match=r"^PACE step: bad data objects"):
        dynamic_data(tlv.encode(0x7C, objects), "step")


def test_general_authenticate_goes_extended_above_255_bytes() -> None:
    """ISO/IEC 7816-4 §5.1: Lc of one byte up to 255 bytes of data (Le 00 = 256), beyond
    that Lc 00 xx xx and a two-byte Le (0000 = 65536) -- a 2048-bit DH key needs it."""
    short = general_authenticate([tlv.encode(0x83, bytes(249))], last=False)
    data = tlv.encode(0x7C, [tlv.encode(0x83, bytes(249))])
    assert len(data) == 255
    assert short.to_bytes() == b"\x10\x86\x00\x00\xff" + data + b"\x00"
    long = general_authenticate([tlv.encode(0x83, bytes(250))], last=True)
    data = tlv.encode(0x7C, [tlv.encode(0x83, bytes(250))])
    assert len(data) == 256
    assert long.to_bytes() == b"\x00\x86\x00\x00\x00\x01\x00" + data + b"\x00\x00"
