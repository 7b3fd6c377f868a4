"""Active Authentication signature check (ICAO 9303-11 §6.1.2): RSA with ISO/IEC 9796-2
digital signature scheme 1 (partial message recovery, header 6A, trailer BC for SHA-1 or
xxCC for SHA-224/256/384/512, M = M1 || challenge), and ECDSA over the challenge with the
hash DG14's ActiveAuthenticationInfo names (plain r||s or DER).

A verdict is data: a signature that does not verify, or a key/answer that cannot be used, is
``False``; nothing here raises for "not genuine".
"""

from __future__ import annotations

import hashlib
import hmac

from reader.errors import ParseError, UnsupportedError
from reader.lds.dg15 import parse_dg15
from reader.lds.public_key import PublicKeyInfo
from reader.lds.security_infos import parse_dg14
from reader.oids import ISO9796_HASH_IDS, ecdsa_hash
from verify import signatures

# The hash identifiers of the two-byte trailer xxCC (the registry's), by byte.
_TRAILER_HASHES = {byte: name for name, byte in ISO9796_HASH_IDS.items()}
_MAX_SIGNATURE = 1100


def verify_active_authentication(
    dg15: bytes, challenge: bytes, response: bytes, dg14: bytes | None = None
) -> bool:
    """True when ``response`` is the chip's AA signature over ``challenge`` with the DG15 key."""
    if not response or len(response) > _MAX_SIGNATURE or len(challenge) != 8:
        return False
    try:
        key = parse_dg15(dg15).public_key
    except ParseError:
        return False
    if key.key_type == "RSA":
        if key.rsa_modulus is None or key.rsa_exponent is None:
            return False
        return verify_iso9796_2(key.rsa_modulus, key.rsa_exponent, challenge, response)
    if key.key_type == "EC":
        return _verify_ecdsa(key, challenge, response, _hash_from_dg14(dg14, key.key_size))
    return False


def recover_iso9796_2(modulus: int, exponent: int, signature: bytes) -> bytes | None:
    """The recovered representative F (ISO/IEC 9796-2 scheme 1), or None when it is malformed."""
    sigma = int.from_bytes(signature, "big")
    if not 0 < sigma < modulus:
        return None
    value = pow(sigma, exponent, modulus)
    if value & 0x0F != 0x0C:
        value = modulus - value  # the signer may have sent n - J^d (9796-2 §B)
    if value & 0x0F != 0x0C:
        return None
    length = (modulus.bit_length() + 7) // 8
    return value.to_bytes(length, "big").lstrip(b"\x00")


def verify_iso9796_2(modulus: int, exponent: int, challenge: bytes, signature: bytes) -> bool:
    """ISO/IEC 9796-2 scheme 1 with the non-recoverable part M2 = challenge."""
    recovered = recover_iso9796_2(modulus, exponent, signature)
    if recovered is None or len(recovered) < 4 or recovered[0] != 0x6A:
        return False
    if recovered[-1] == 0xBC:
        hash_name, trailer = "sha1", 1
    elif recovered[-1] == 0xCC and recovered[-2] in _TRAILER_HASHES:
        hash_name, trailer = _TRAILER_HASHES[recovered[-2]], 2
    else:
        return False
    size = hashlib.new(hash_name).digest_size
    if len(recovered) < 1 + size + trailer:
        return False
    m1 = recovered[1 : -(size + trailer)]
    digest = recovered[-(size + trailer) : -trailer]
    return hmac.compare_digest(digest, hashlib.new(hash_name, m1 + challenge).digest())


def _hash_from_dg14(dg14: bytes | None, key_bits: int) -> str:
    if dg14 is not None:
        try:
            info = parse_dg14(dg14).active_authentication_info
        except ParseError:
            info = None
        if info is not None:
            name = ecdsa_hash(info.signature_algorithm)
            if name is not None:
                return name
    # No ActiveAuthenticationInfo: the hash whose length matches the key (§6.1.2.3).
    for bits, name in ((224, "sha224"), (256, "sha256"), (384, "sha384")):
        if key_bits <= bits:
            return name
    return "sha512"


def _verify_ecdsa(spki: PublicKeyInfo, challenge: bytes, signature: bytes, hash_name: str) -> bool:
    try:
        key = signatures.load_public_key(spki)
        return signatures.verify_ecdsa(key, signature, challenge, hash_name)
    except (ParseError, UnsupportedError, ValueError):
        return False


__all__ = ["recover_iso9796_2", "verify_active_authentication", "verify_iso9796_2"]
