"""The one cipher object (ICAO 9303-11 §9.7.1 key derivation, §9.8.6 padding, MAC and IV,
§4.4.3.4 token MAC) against pycryptodome and hashlib used straight from the definitions."""

from __future__ import annotations

import hashlib
import os

import pytest
from Crypto.Cipher import AES, DES3
from Crypto.Hash import CMAC

from reader.errors import ProtocolError, SecureMessagingError
from reader.protocol.cipher import AES_128, KDF_ENC, KDF_MAC, TDES, Cipher
from tests.crypto_oracle import pad, retail_mac

TDES_KEY = bytes.fromhex("979EC13B1CBFE9DCD01AB0FED307EAE5")


@pytest.mark.parametrize(
    ("cipher", "hash_name"),
    [(Cipher("AES", 16), "sha1"), (Cipher("AES", 24), "sha256"), (Cipher("AES", 32), "sha256")],
)
def test_aes_kdf_is_the_hash_of_seed_and_counter(cipher: Cipher, hash_name: str) -> None:
    seed = os.urandom(20)
    for counter in (KDF_ENC, KDF_MAC, 3):
        expected = hashlib.new(hash_name, seed + counter.to_bytes(4, "big")).digest()
        assert cipher.kdf(seed, counter) == expected[: cipher.key_length]


def test_tdes_kdf_is_sha1_with_des_parity() -> None:
    seed = os.urandom(16)
    key = TDES.kdf(seed, KDF_ENC)
    raw = hashlib.sha1(seed + KDF_ENC.to_bytes(4, "big")).digest()[:16]
    assert len(key) == 16
    assert all(bin(b).count("1") % 2 == 1 for b in key)
    assert bytes(b & 0xFE for b in key) == bytes(b & 0xFE for b in raw)


def test_sm_iv_is_zero_for_3des_and_the_encrypted_ssc_for_aes() -> None:
    key = os.urandom(16)
    assert TDES.sm_iv(TDES_KEY, 7) == bytes(8)
    assert AES_128.sm_iv(key, 7) == AES.new(key, AES.MODE_ECB).encrypt((7).to_bytes(16, "big"))


@pytest.mark.parametrize("size", [0, 1, 7, 8, 15, 16, 17, 100])
def test_sm_encryption_follows_the_definition(size: int) -> None:
    data = os.urandom(size)
    aes_key = os.urandom(16)
    iv = AES.new(aes_key, AES.MODE_ECB).encrypt((5).to_bytes(16, "big"))
    aes = AES.new(aes_key, AES.MODE_CBC, iv=iv).encrypt(pad(data, 16))
    assert AES_128.sm_encrypt(aes_key, 5, data) == aes
    assert AES_128.sm_decrypt(aes_key, 5, aes) == data
    tdes = DES3.new(TDES_KEY, DES3.MODE_CBC, iv=bytes(8)).encrypt(pad(data, 8))
    assert TDES.sm_encrypt(TDES_KEY, 5, data) == tdes
    assert TDES.sm_decrypt(TDES_KEY, 5, tdes) == data


def test_macs_follow_the_definition() -> None:
    data = os.urandom(37)
    aes_key = os.urandom(16)
    # Secure messaging / BAC: padded here, then MAC algorithm 3 or CMAC.
    assert TDES.mac(TDES_KEY, data) == retail_mac(TDES_KEY, pad(data, 8))
    assert (
        AES_128.mac(aes_key, data)
        == CMAC.new(aes_key, msg=pad(data, 16), ciphermod=AES).digest()[:8]
    )
    # The PACE authentication token: CMAC pads by itself, the retail MAC does not.
    assert TDES.token_mac(TDES_KEY, data) == retail_mac(TDES_KEY, pad(data, 8))
    assert (
        AES_128.token_mac(aes_key, data) == CMAC.new(aes_key, msg=data, ciphermod=AES).digest()[:8]
    )


def test_bad_cryptograms_are_typed_errors() -> None:
    with pytest.raises(SecureMessagingError, match="whole number of blocks"):
        AES_128.sm_decrypt(bytes(16), 0, bytes(15))
    with pytest.raises(SecureMessagingError, match="padding"):
        AES_128.sm_decrypt(bytes(16), 0, AES_128.encrypt(bytes(16), bytes(16), iv=bytes(16)))
    with pytest.raises(ProtocolError, match="whole blocks"):
        TDES.decrypt(TDES_KEY, bytes(12))


@pytest.mark.parametrize(("name", "length"), [("AES", 20), ("3DES", 24), ("DES", 16)])
def test_unsupported_ciphers_are_refused(name: str, length: int) -> None:
    with pytest.raises(ValueError, match="unsupported cipher"):
        Cipher(name, length)  # type: ignore[arg-type]


def test_sizes_and_names() -> None:
    assert (TDES.block_size, TDES.nonce_length, TDES.describe()) == (8, 16, "3DES")
    assert (AES_128.block_size, AES_128.nonce_length, AES_128.describe()) == (16, 16, "AES-128")
    assert Cipher.of("AES", 24).nonce_length == 32 and Cipher.of("AES", 32).describe() == "AES-256"
    assert Cipher.of("AES") == AES_128 and Cipher.of("3DES") == TDES  # 16-byte keys by default


@pytest.mark.parametrize(
    "plain",
    [
        b"abc\x80X",  # a byte other than zero after the 0x80
        b"abc\x80" + bytes(16),  # more zeros than one block of padding can hold
        bytes(8),  # no 0x80 at all
    ],
)
def test_padding_that_method_2_cannot_produce_is_refused(plain: bytes) -> None:
    with pytest.raises(SecureMessagingError, match=r"^decrypted data has no valid ISO 9797-1"):
        Cipher.unpad(plain)


def test_padding_of_up_to_a_whole_block_is_removed() -> None:
    assert Cipher.unpad(b"abc\x80" + bytes(15)) == b"abc"  # 0x80 and 15 zeros: one AES block
    assert Cipher.unpad(AES_128.pad(b"X" * 16)) == b"X" * 16
    assert Cipher.unpad(TDES.pad(b"")) == b""
