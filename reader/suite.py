"""The symmetric suite of a PACE or Chip Authentication protocol: cipher and key length, and
what follows from them -- key derivation (ICAO 9303-11 §9.7.1), CBC encryption of the nonce
(§4.4.3.1), the authentication token MAC (§4.4.3.4) and the new secure messaging (§9.8).
"""

from __future__ import annotations

from dataclasses import dataclass

from reader.crypto import (
    KDF_ENC,
    KDF_MAC,
    Cipher,
    aes_cbc_decrypt,
    aes_cbc_encrypt,
    aes_cmac,
    derive_key,
    pad,
    retail_mac,
    tdes_cbc_decrypt,
    tdes_cbc_encrypt,
)
from reader.errors import ProtocolError
from reader.sm import SecureMessaging


@dataclass(frozen=True, slots=True, kw_only=True)
class Suite:
    """Cipher and key length of a PACE (or CA) protocol."""

    cipher: Cipher
    key_length: int  # bytes

    @classmethod
    def of(cls, cipher_name: str, key_length: int) -> Suite:
        return cls(
            cipher=Cipher.TDES if cipher_name == "3DES" else Cipher.AES, key_length=key_length
        )

    @property
    def key_bits(self) -> int:
        return self.key_length * 8

    def kdf(self, seed: bytes, counter: int) -> bytes:
        return derive_key(seed, counter, self.cipher, self.key_bits)

    def encrypt(self, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
        if self.cipher is Cipher.TDES:
            return tdes_cbc_encrypt(key, data, iv or bytes(8))
        return aes_cbc_encrypt(key, data, iv or bytes(16))

    def decrypt(self, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
        if not data or len(data) % self.cipher.block_size:
            raise ProtocolError(f"encrypted data of {len(data)} bytes is not whole blocks")
        if self.cipher is Cipher.TDES:
            return tdes_cbc_decrypt(key, data, iv or bytes(8))
        return aes_cbc_decrypt(key, data, iv or bytes(16))

    def mac(self, key: bytes, data: bytes) -> bytes:
        """The authentication token MAC (§4.4.3.4): retail MAC with padding method 2, or
        CMAC (which pads internally) truncated to 8 bytes."""
        if self.cipher is Cipher.TDES:
            return retail_mac(key, pad(data, 8))
        return aes_cmac(key, data)

    def session_keys(self, shared_secret: bytes) -> tuple[bytes, bytes]:
        """(KS_enc, KS_mac) from the key agreement's shared secret (§9.7.1)."""
        return self.kdf(shared_secret, KDF_ENC), self.kdf(shared_secret, KDF_MAC)

    def session(self, shared_secret: bytes) -> SecureMessaging:
        """Secure messaging under the keys of ``shared_secret``, SSC 0 (§9.8)."""
        ks_enc, ks_mac = self.session_keys(shared_secret)
        return SecureMessaging(self.cipher, ks_enc, ks_mac, 0)

    @property
    def nonce_length(self) -> int:
        """Bytes of the nonce s: the smallest whole number of blocks not shorter than the key."""
        block = self.cipher.block_size
        return -(-self.key_length // block) * block


__all__ = ["Suite"]
