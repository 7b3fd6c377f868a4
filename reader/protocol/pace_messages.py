"""PACE messages: the password reference and seed (ICAO 9303-11 §9.7.3, §4.4.4.1 tag 83), the
GENERAL AUTHENTICATE command and its Dynamic Authentication Data 7C (§4.4.4.3), and the public
key data object 7F49 (§9.4) over which the authentication token (§4.4.3.4) is computed.
Shared by the terminal (:mod:`reader.protocol.pace`) and the card side
(:mod:`reader.protocol.pace_chip`).
"""

from __future__ import annotations

import hashlib

from reader import tlv
from reader.apdu import Command
from reader.errors import ParseError, ProtocolError, UnsupportedError
from reader.keys import AccessKey, BACKey, CANKey
from reader.lds.security_infos import encode_oid
from reader.protocol.cipher import Cipher
from reader.protocol.groups import Group

PASSWORD_MRZ = 0x01
PASSWORD_CAN = 0x02


def password_seed(key: AccessKey) -> tuple[int, bytes]:
    """The password reference (MSE:Set AT tag 83) and f(pi) of §9.7.3: SHA-1 of the MRZ
    information, or the CAN as ISO 8859-1 bytes."""
    if isinstance(key, CANKey):
        return PASSWORD_CAN, key.password
    if isinstance(key, BACKey):
        return PASSWORD_MRZ, hashlib.sha1(key.password).digest()
    raise UnsupportedError(f"PACE cannot use a {type(key).__name__}")


def public_key_object(oid: str, group: Group, encoded: bytes) -> bytes:
    """The public key data object of §9.4 over which the authentication token is computed:
    7F49 { 06 OID, 86 point (ECDH) | 84 value (DH) }."""
    tag = 0x86 if group.kind == "ECDH" else 0x84
    return tlv.encode(0x7F49, [tlv.encode(0x06, encode_oid(oid)), tlv.encode(tag, encoded)])


def authentication_token(
    cipher: Cipher, ks_mac: bytes, oid: str, group: Group, other_public_key: bytes
) -> bytes:
    """T = MAC(KS_mac, 7F49 of the other side's ephemeral public key) (§4.4.3.4)."""
    return cipher.token_mac(ks_mac, public_key_object(oid, group, other_public_key))


def dynamic_data(data: bytes, step: str) -> dict[int, bytes]:
    """The data objects inside 7C (Dynamic Authentication Data), by tag."""
    try:
        top = tlv.decode_one(data)
    except ParseError as exc:
        raise ProtocolError(f"PACE {step}: answer is not TLV ({exc.reason})") from None
    if top.tag != 0x7C:
        raise ProtocolError(f"PACE {step}: answer tag {top.tag:X}, expected 7C")
    try:
        children = tlv.decode(top.value, max_elements=8) if top.value else []
    except ParseError as exc:
        raise ProtocolError(f"PACE {step}: bad data objects ({exc.reason})") from None
    return {child.tag: child.value for child in children}


def required(objects: dict[int, bytes], tag: int, step: str) -> bytes:
    """The data object ``tag`` of a 7C, or a ProtocolError naming the step."""
    if tag not in objects:
        raise ProtocolError(f"PACE {step}: data object {tag:02X} missing")
    return objects[tag]


def general_authenticate(objects: list[bytes], *, last: bool) -> Command:
    """GENERAL AUTHENTICATE with 7C; chaining bit on all but the last (§4.4.4.3)."""
    data = tlv.encode(0x7C, objects)
    extended = len(data) > 255
    return Command(0x00 if last else 0x10, 0x86, 0x00, 0x00, data, 65536 if extended else 256)


__all__ = [
    "PASSWORD_CAN",
    "PASSWORD_MRZ",
    "authentication_token",
    "dynamic_data",
    "general_authenticate",
    "password_seed",
    "public_key_object",
    "required",
]
