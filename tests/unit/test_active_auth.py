"""verify.verify_active_authentication (ICAO 9303-11 §6.1.2): ISO/IEC 9796-2 scheme 1 with
every trailer, the n - J^d form, and ECDSA plain/DER; tampering and other challenges fail."""

from __future__ import annotations

import os

import ecdsa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.chip_auth import AAKey, build_dg14
from reader.protocol.active_auth import sign_iso9796_2
from verify.active_auth import verify_active_authentication

RSA = AAKey.rsa_generate(1024, "sha1")


@pytest.mark.parametrize("hash_name", ["sha1", "sha224", "sha256", "sha384", "sha512"])
def test_rsa_every_trailer(hash_name: str) -> None:
    assert RSA.rsa is not None
    challenge = os.urandom(8)
    signature = sign_iso9796_2(RSA.rsa, challenge, hash_name, os.urandom)
    assert verify_active_authentication(RSA.dg15(), challenge, signature)
    n = RSA.rsa[0]
    flipped = (n - int.from_bytes(signature, "big")).to_bytes(128, "big")
    # n - sigma recovers n - F, which the verifier maps back (9796-2 allows either form).
    assert verify_active_authentication(RSA.dg15(), challenge, flipped)
    assert not verify_active_authentication(RSA.dg15(), bytes(8), signature)


@settings(max_examples=50, deadline=None)
@given(
    challenge=st.binary(min_size=8, max_size=8), index=st.integers(0, 127), bit=st.integers(0, 7)
)
def test_rsa_tampered_signature_fails(challenge: bytes, index: int, bit: int) -> None:
    assert RSA.rsa is not None
    signature = bytearray(sign_iso9796_2(RSA.rsa, challenge, "sha256", os.urandom))
    assert verify_active_authentication(RSA.dg15(), challenge, bytes(signature))
    signature[index] ^= 1 << bit
    assert not verify_active_authentication(RSA.dg15(), challenge, bytes(signature))


@pytest.mark.parametrize("der", [False, True])
def test_ecdsa_hash_from_dg14(der: bool) -> None:
    key = AAKey.ec_generate(ecdsa.NIST256p, "sha384", der_signature=der)
    challenge = os.urandom(8)
    signature = key.sign(challenge, os.urandom)
    dg14 = build_dg14(aa=key)
    assert verify_active_authentication(key.dg15(), challenge, signature, dg14)
    # without DG14 the SHA-256 default for a 256-bit key is not the chip's SHA-384
    assert not verify_active_authentication(key.dg15(), challenge, signature)
    assert not verify_active_authentication(key.dg15(), os.urandom(8), signature, dg14)


def test_garbage_is_false_not_an_exception() -> None:
    assert not verify_active_authentication(b"\x6f\x00", bytes(8), b"\x01")
    assert not verify_active_authentication(RSA.dg15(), bytes(8), b"")
    assert not verify_active_authentication(RSA.dg15(), bytes(7), b"\x01" * 128)
