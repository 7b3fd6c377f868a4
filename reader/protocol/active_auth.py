"""Active Authentication, both sides (ICAO 9303-11 §6.1): the terminal's INTERNAL AUTHENTICATE
(INS 88) with its 8-byte challenge, and the chip's signature of it -- RSA with ISO/IEC 9796-2
signature scheme 1 (§6.1.2.2, the challenge as the non-recoverable part M2) or ECDSA (plain
r||s, or DER). The signature is checked in ``verify.active_auth`` (verify -> reader, never
back). docs/spec/cccd-chip.md says when the CCCD runs it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import ecdsa
from ecdsa.util import sigencode_der, sigencode_string

from reader.apdu import Command, Response
from reader.oids import ISO9796_HASH_IDS
from reader.protocol.sm import max_plain_for_short

RandomFn = Callable[[int], bytes]
SignFn = Callable[[bytes], bytes]

AA_CHALLENGE_LENGTH = 8
INS_INTERNAL_AUTHENTICATE = 0x88


# -- terminal side ------------------------------------------------------------------------
def internal_authenticate(challenge: bytes, *, extended: bool = False) -> Command:
    """INTERNAL AUTHENTICATE with ``challenge``, Le for a short or an extended answer."""
    return Command(
        0x00, INS_INTERNAL_AUTHENTICATE, 0x00, 0x00, challenge, 65536 if extended else 256
    )


def signature_fits_short(key_bits: int, sm_block: int | None) -> bool:
    """Whether a signature of a ``key_bits`` key fits a short answer: under SM one carries at
    most 231 (3DES) / 223 (AES) plain bytes, so RSA-2048 (256 bytes) needs extended length."""
    room = max_plain_for_short(sm_block) if sm_block is not None else 256
    return (key_bits + 7) // 8 <= room


# -- chip side ----------------------------------------------------------------------------
def chip_internal_authenticate(
    command: Command, sign: SignFn | None, *, missing_sw: int = 0x6D00
) -> Response:
    """The chip's answer to INTERNAL AUTHENTICATE: the signature of the 8-byte challenge, 6700
    for another length, ``missing_sw`` (6D00, or 6A88) when the chip has no AA key."""
    if sign is None:
        return Response(b"", missing_sw)
    if len(command.data) != AA_CHALLENGE_LENGTH:
        return Response(b"", 0x6700)
    return Response(sign(command.data), 0x9000)


def iso9796_trailer(hash_name: str) -> bytes:
    """The ISO/IEC 9796-2 trailer: 'BC' for SHA-1 (the hash implicit), else the ISO/IEC
    10118-3 hash identifier then 'CC'."""
    if hash_name == "sha1":
        return b"\xbc"
    return bytes([ISO9796_HASH_IDS[hash_name], 0xCC])


def sign_iso9796_2(
    key: tuple[int, int, int], challenge: bytes, hash_name: str, random: RandomFn
) -> bytes:
    """ISO/IEC 9796-2 scheme 1 signature with M2 = challenge (§6.1.2.2); ``key`` is (n, e, d),
    M1 is drawn from ``random``."""
    n, _, d = key
    length = (n.bit_length() + 7) // 8
    trailer = iso9796_trailer(hash_name)
    size = hashlib.new(hash_name).digest_size
    m1 = random(length - 1 - size - len(trailer))
    digest = hashlib.new(hash_name, m1 + challenge).digest()
    representative = int.from_bytes(b"\x6a" + m1 + digest + trailer, "big")
    return pow(representative, d, n).to_bytes(length, "big")


def sign_ecdsa(
    curve: Any, private: int, challenge: bytes, hash_name: str, *, der: bool = False
) -> bytes:
    """ECDSA over ``challenge`` (deterministic, RFC 6979): plain r||s (BSI TR-03111) or DER."""
    signing = ecdsa.SigningKey.from_secret_exponent(
        private, curve=curve, hashfunc=getattr(hashlib, hash_name)
    )
    encode = sigencode_der if der else sigencode_string
    return bytes(signing.sign_deterministic(challenge, sigencode=encode))


__all__ = [
    "AA_CHALLENGE_LENGTH",
    "chip_internal_authenticate",
    "internal_authenticate",
    "iso9796_trailer",
    "sign_ecdsa",
    "sign_iso9796_2",
    "signature_fits_short",
]
