"""The symmetric cipher of secure messaging, BAC, PACE and Chip Authentication (ICAO 9303-11):
two-key 3DES with the retail MAC, or AES-128/192/256 with CMAC. One object owns everything
that depends on which: key derivation (§9.7.1), padding (ISO/IEC 9797-1 method 2), the MACs
(ISO/IEC 9797-1 MAC algorithm 3 for 3DES, CMAC for AES: §9.8.6.2, the authentication token
of §4.4.3.4), CBC encryption and the IV rule of secure messaging (§9.8.6.1: zero for 3DES,
E(KS_enc, SSC) for AES). Callers never ask which cipher runs; this module alone branches.
The primitives are pycryptodome's. The chip and its protocols are described in
docs/spec/cccd-chip.md "Secure messaging".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from Crypto.Cipher import AES, DES, DES3
from Crypto.Hash import CMAC

from reader.errors import ProtocolError, SecureMessagingError
from reader.oids import CipherName

KDF_ENC = 1
KDF_MAC = 2
KDF_PACE = 3

_AES_KEY_LENGTHS = (16, 24, 32)


@dataclass(frozen=True, slots=True)
class Cipher:
    """A cipher family and its key length in bytes (3DES: two-key, 16)."""

    name: CipherName
    key_length: int = 16

    def __post_init__(self) -> None:
        lengths = (16,) if self.name == "3DES" else _AES_KEY_LENGTHS
        if self.name not in ("3DES", "AES") or self.key_length not in lengths:
            raise ValueError(f"unsupported cipher {self.name} with {self.key_length}-byte keys")

    @classmethod
    def of(cls, name: str, key_length: int = 16) -> Cipher:
        """The cipher a protocol OID names ("3DES" or "AES", key length in bytes)."""
        return cls("3DES" if name == "3DES" else "AES", key_length)

    @property
    def is_tdes(self) -> bool:
        return self.name == "3DES"

    @property
    def block_size(self) -> int:
        return 8 if self.is_tdes else 16

    @property
    def key_bits(self) -> int:
        return self.key_length * 8

    @property
    def nonce_length(self) -> int:
        """Bytes of PACE's nonce s: the smallest whole number of blocks not shorter than the
        key (§4.4.3.1)."""
        return -(-self.key_length // self.block_size) * self.block_size

    def describe(self) -> str:
        """E.g. "3DES" or "AES-128"."""
        return "3DES" if self.is_tdes else f"AES-{self.key_bits}"

    # -- keys -----------------------------------------------------------------------------
    def kdf(self, seed: bytes, counter: int) -> bytes:
        """KDF(K, c) of §9.7.1: SHA-1 for 3DES (parity adjusted) and AES-128, SHA-256 for
        AES-192/256."""
        data = seed + counter.to_bytes(4, "big")
        if self.is_tdes:
            return adjust_parity(hashlib.sha1(data).digest()[:16])
        if self.key_length == 16:
            return hashlib.sha1(data).digest()[:16]
        return hashlib.sha256(data).digest()[: self.key_length]

    def session_keys(self, shared_secret: bytes) -> tuple[bytes, bytes]:
        """(KS_enc, KS_mac) from a key seed or shared secret (§9.7.1)."""
        return self.kdf(shared_secret, KDF_ENC), self.kdf(shared_secret, KDF_MAC)

    # -- padding --------------------------------------------------------------------------
    def pad(self, data: bytes) -> bytes:
        """ISO/IEC 9797-1 padding method 2 to this cipher's block."""
        return pad(data, self.block_size)

    @staticmethod
    def unpad(data: bytes) -> bytes:
        return unpad(data)

    # -- encryption -----------------------------------------------------------------------
    def _cbc(self, key: bytes, iv: bytes | None) -> Any:
        if self.is_tdes:
            return DES3.new(key, DES3.MODE_CBC, iv=iv or bytes(8))
        return AES.new(key, AES.MODE_CBC, iv=iv or bytes(16))

    def encrypt(self, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
        """CBC encryption of whole blocks, zero IV unless given."""
        engine = self._cbc(key, iv)
        return bytes(engine.encrypt(data))

    def decrypt(self, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
        """CBC decryption; ``ProtocolError`` unless ``data`` is a whole number of blocks."""
        if not data or len(data) % self.block_size:
            raise ProtocolError(f"encrypted data of {len(data)} bytes is not whole blocks")
        engine = self._cbc(key, iv)
        return bytes(engine.decrypt(data))

    def encrypt_block(self, key: bytes, block: bytes) -> bytes:
        """One block in ECB mode (the IVs of §9.8.6.1 and §4.4.3.5.4)."""
        if self.is_tdes:
            return bytes(DES3.new(key, DES3.MODE_ECB).encrypt(block))
        return bytes(AES.new(key, AES.MODE_ECB).encrypt(block))

    # -- MACs -----------------------------------------------------------------------------
    def mac(self, key: bytes, data: bytes) -> bytes:
        """The 8-byte MAC of secure messaging and BAC (§9.8.6.2, §4.3.3): over ``data``
        padded here with method 2."""
        padded = self.pad(data)
        if self.is_tdes:
            return retail_mac(key, padded)
        return _cmac(key, padded)

    def token_mac(self, key: bytes, data: bytes) -> bytes:
        """The authentication token MAC of §4.4.3.4: the retail MAC over ``data`` padded
        with method 2, or CMAC (which pads internally) truncated to 8 bytes."""
        if self.is_tdes:
            return retail_mac(key, self.pad(data))
        return _cmac(key, data)

    # -- secure messaging -----------------------------------------------------------------
    def ssc_bytes(self, ssc: int) -> bytes:
        """The send sequence counter as one block (§9.8.2)."""
        return ssc.to_bytes(self.block_size, "big")

    def sm_iv(self, ks_enc: bytes, ssc: int) -> bytes:
        """§9.8.6.1: zero for 3DES, E(KS_enc, SSC) for AES."""
        if self.is_tdes:
            return bytes(8)
        return self.encrypt_block(ks_enc, self.ssc_bytes(ssc))

    def sm_encrypt(self, ks_enc: bytes, ssc: int, data: bytes) -> bytes:
        """The cryptogram of DO'85'/'87': ``data`` padded and encrypted under the SM IV."""
        return self.encrypt(ks_enc, self.pad(data), self.sm_iv(ks_enc, ssc))

    def sm_decrypt(self, ks_enc: bytes, ssc: int, data: bytes) -> bytes:
        """The plain data of a DO'85'/'87' cryptogram; ``SecureMessagingError`` when it is not
        whole blocks or its padding is wrong."""
        if not data or len(data) % self.block_size:
            raise SecureMessagingError(
                f"encrypted data of {len(data)} bytes is not a whole number of blocks"
            )
        return unpad(self.decrypt(ks_enc, data, self.sm_iv(ks_enc, ssc)))


TDES = Cipher("3DES", 16)
AES_128 = Cipher("AES", 16)


def adjust_parity(key: bytes) -> bytes:
    """Set the DES odd-parity bit of every byte (§9.7.1)."""
    out = bytearray()
    for byte in key:
        high7 = byte & 0xFE
        ones = bin(high7).count("1")
        out.append(high7 | (0 if ones % 2 else 1))
    return bytes(out)


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
    """ISO/IEC 9797-1 MAC algorithm 3 with DES over already padded data."""
    if len(data) % 8:
        raise ValueError("retail MAC input must be padded to 8 bytes")
    ka, kb = key[:8], key[8:16]
    chained = DES.new(ka, DES.MODE_CBC, iv=bytes(8)).encrypt(data)[-8:]
    return bytes(DES.new(ka, DES.MODE_ECB).encrypt(DES.new(kb, DES.MODE_ECB).decrypt(chained)))


def _cmac(key: bytes, data: bytes) -> bytes:
    return bytes(CMAC.new(key, msg=data, ciphermod=AES).digest()[:8])


__all__ = ["AES_128", "KDF_ENC", "KDF_MAC", "KDF_PACE", "TDES", "Cipher"]
