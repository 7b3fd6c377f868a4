"""Symmetric primitives of ICAO 9303-11: key derivation (§9.7.1), padding (ISO/IEC 9797-1
method 2), 3DES retail MAC (ISO/IEC 9797-1 MAC algorithm 3) and AES CMAC (§9.8.6.2),
CBC encryption with the IVs §9.8.6 prescribes. All on pycryptodome.
"""

from __future__ import annotations

import hashlib
from enum import Enum

from Crypto.Cipher import AES, DES, DES3
from Crypto.Hash import CMAC

from reader.errors import SecureMessagingError

KDF_ENC = 1
KDF_MAC = 2
KDF_PACE = 3


class Cipher(Enum):
    """The secure-messaging cipher families: 3DES with retail MAC, AES with CMAC."""

    TDES = "3DES"
    AES = "AES"

    @property
    def block_size(self) -> int:
        return 8 if self is Cipher.TDES else 16


def adjust_parity(key: bytes) -> bytes:
    """Set the DES odd-parity bit of every byte (ICAO 9303-11 §9.7.1)."""
    out = bytearray()
    for byte in key:
        high7 = byte & 0xFE
        ones = bin(high7).count("1")
        out.append(high7 | (0 if ones % 2 else 1))
    return bytes(out)


def derive_key(seed: bytes, counter: int, cipher: Cipher, key_bits: int = 128) -> bytes:
    """KDF(K, c) of §9.7.1: SHA-1 for 3DES and AES-128, SHA-256 for AES-192/256."""
    data = seed + counter.to_bytes(4, "big")
    if cipher is Cipher.TDES:
        return adjust_parity(hashlib.sha1(data).digest()[:16])
    if key_bits == 128:
        return hashlib.sha1(data).digest()[:16]
    if key_bits in (192, 256):
        return hashlib.sha256(data).digest()[: key_bits // 8]
    raise ValueError(f"unsupported AES key length {key_bits}")


def pad(data: bytes, block: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 0x80 then zeros to the block boundary."""
    data = data + b"\x80"
    return data + b"\x00" * (-len(data) % block)


def unpad(data: bytes) -> bytes:
    """Remove method-2 padding; a malformed pad is a secure-messaging error."""
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80 or len(data) - len(stripped) >= 16:
        raise SecureMessagingError("decrypted data has no valid ISO 9797-1 method 2 padding")
    return stripped[:-1]


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 with DES (data already padded)."""
    if len(data) % 8:
        raise ValueError("retail MAC input must be padded to 8 bytes")
    ka, kb = key[:8], key[8:16]
    chained = DES.new(ka, DES.MODE_CBC, iv=bytes(8)).encrypt(data)[-8:]
    return DES.new(ka, DES.MODE_ECB).encrypt(DES.new(kb, DES.MODE_ECB).decrypt(chained))


def aes_cmac(key: bytes, data: bytes, length: int = 8) -> bytes:
    return CMAC.new(key, msg=data, ciphermod=AES).digest()[:length]


def mac(cipher: Cipher, key: bytes, data: bytes) -> bytes:
    """The 8-byte MAC of §9.8.6 over already padded data."""
    return retail_mac(key, data) if cipher is Cipher.TDES else aes_cmac(key, data)


def tdes_cbc_encrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    return DES3.new(key, DES3.MODE_CBC, iv=iv).encrypt(data)


def tdes_cbc_decrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    return DES3.new(key, DES3.MODE_CBC, iv=iv).decrypt(data)


def aes_cbc_encrypt(key: bytes, data: bytes, iv: bytes) -> bytes:
    return AES.new(key, AES.MODE_CBC, iv=iv).encrypt(data)


def aes_cbc_decrypt(key: bytes, data: bytes, iv: bytes) -> bytes:
    return AES.new(key, AES.MODE_CBC, iv=iv).decrypt(data)


def aes_ecb_encrypt(key: bytes, block: bytes) -> bytes:
    return AES.new(key, AES.MODE_ECB).encrypt(block)
