"""The symmetric oracle the protocol tests compare against: pycryptodome used straight from
the definitions (ISO/IEC 9797-1 padding method 2 and MAC algorithm 3, AES CMAC, CBC and ECB),
written here and not taken from the cipher object under test."""

from __future__ import annotations

from Crypto.Cipher import AES, DES, DES3
from Crypto.Hash import CMAC


def pad(data: bytes, block: int) -> bytes:
    """Padding method 2: 0x80, then zeros to the block boundary."""
    data += b"\x80"
    return data + bytes(-len(data) % block)


def aes_ecb_encrypt(key: bytes, block: bytes) -> bytes:
    return AES.new(key, AES.MODE_ECB).encrypt(block)


def aes_cbc_encrypt(key: bytes, data: bytes, iv: bytes) -> bytes:
    return AES.new(key, AES.MODE_CBC, iv=iv).encrypt(data)


def tdes_cbc_encrypt(key: bytes, data: bytes) -> bytes:
    return DES3.new(key, DES3.MODE_CBC, iv=bytes(8)).encrypt(data)


def retail_mac(key: bytes, padded: bytes) -> bytes:
    """MAC algorithm 3 with DES over already padded data."""
    chained = DES.new(key[:8], DES.MODE_CBC, iv=bytes(8)).encrypt(padded)[-8:]
    return DES.new(key[:8], DES.MODE_ECB).encrypt(DES.new(key[8:16], DES.MODE_ECB).decrypt(chained))


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """AES CMAC cut to the 8 bytes secure messaging uses."""
    return CMAC.new(key, msg=data, ciphermod=AES).digest()[:8]
