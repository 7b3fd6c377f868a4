"""PACE mappings: from the nonce s to the ephemeral domain parameters (ICAO 9303-11 §4.4.3.3):
the Generic Mapping (§4.4.3.3.1), the Integrated Mapping with its pseudo-random function R_p
(§4.4.3.3.2, point encoding in Appendix B) and the Chip Authentication Mapping's encrypted
chip authentication data and its check against the DG14 key (§4.4.3.5).
Both sides of PACE (:mod:`reader.protocol.pace`, :mod:`reader.protocol.pace_chip`) map through
these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reader.errors import ProtocolError
from reader.protocol.cipher import AES_128, Cipher
from reader.protocol.groups import ECGroup, Group, standard_group

CAM_IV_INPUT = b"\xff" * 16


def generic_mapping(group: Group, nonce: int, private: int, other_public: Any) -> Group:
    """G~ = s*G + H with H the key agreement of the mapping keys (§4.4.3.3.1)."""
    if isinstance(group, ECGroup):
        h: Any = group.shared_point(private, other_public)
    else:
        h = group.multiply(other_public, private)
    return group.map_generic(nonce, h)


def pseudo_random(s: bytes, t: bytes, cipher: Cipher, modulus: int) -> int:
    """R_p(s, t) of §4.4.3.3.2 (pseudo-random number mapping), reduced mod p."""
    wide = cipher.key_length > 16
    c0 = bytes.fromhex(
        "d463d65234124ef7897054986dca0a174e28df758cbaa03f240616414d5a1676"
        if wide
        else "a668892a7c41e3ca739f40b057d85904"
    )
    c1 = bytes.fromhex(
        "54bd7255f0aaf831bec3423fcf39d69b6cbf066677d0faae5aadd99df8e53517"
        if wide
        else "a4e136ac725f738b01c1f60217c188ad"
    )
    block_bits = len(c0) * 8
    rounds = -(-(modulus.bit_length() + 64) // block_bits)
    key = cipher.encrypt(t, s)
    out = b""
    for _ in range(rounds):
        key = key[: cipher.key_length]
        out += cipher.encrypt(key, c1)
        key = cipher.encrypt(key, c0)
    return int.from_bytes(out, "big") % modulus


def integrated_mapping(group: Group, cipher: Cipher, s: bytes, t: bytes) -> Group:
    """G~ = f_G(R_p(s, t)) (§4.4.3.3.2)."""
    return group.map_integrated(pseudo_random(s, t, cipher, group.modulus))


@dataclass(frozen=True, slots=True, kw_only=True)
class ChipAuthenticationData:
    """What PACE-CAM gives for checking against the chip's static key (§4.4.3.5.2) once DG14
    (or EF.CardSecurity) has been read and passive authentication holds."""

    ca_ic: int
    mapping_public_key: bytes  # PK_Map,IC as received
    parameter_id: int


def cam_iv(ks_enc: bytes) -> bytes:
    """IV for the encrypted chip authentication data: E(KS_enc, -1) (§4.4.3.5.4; PACE-CAM
    runs on AES only)."""
    return AES_128.encrypt_block(ks_enc, CAM_IV_INPUT)


def encrypt_ca_data(cipher: Cipher, ks_enc: bytes, ca_ic: int, group: Group) -> bytes:
    """A_IC = E(KS_enc, CA_IC) as the chip sends it in tag 8A (§4.4.3.5.1)."""
    plain = cipher.pad(ca_ic.to_bytes(group.order_length, "big"))
    return cipher.encrypt(ks_enc, plain, cam_iv(ks_enc))


def decrypt_ca_data(cipher: Cipher, ks_enc: bytes, encrypted: bytes, group: Group) -> int:
    """CA_IC from the chip's A_IC, checked to lie in 1..order-1."""
    plain = cipher.unpad(cipher.decrypt(ks_enc, encrypted, cam_iv(ks_enc)))
    ca_ic = int.from_bytes(plain, "big")
    if not 0 < ca_ic < group.order:
        raise ProtocolError("PACE-CAM: chip authentication data out of range")
    return ca_ic


def verify_cam(data: ChipAuthenticationData, chip_public_key: bytes) -> bool:
    """§4.4.3.5.2: PK_Map,IC == KA(CA_IC, PK_IC) for the chip's static key from DG14."""
    group = standard_group(data.parameter_id)
    try:
        static = group.decode(chip_public_key)
        mapping = group.decode(data.mapping_public_key)
    except ProtocolError:
        return False
    return bool(group.equal(group.multiply(static, data.ca_ic), mapping))


__all__ = [
    "ChipAuthenticationData",
    "cam_iv",
    "decrypt_ca_data",
    "encrypt_ca_data",
    "generic_mapping",
    "integrated_mapping",
    "pseudo_random",
    "verify_cam",
]
