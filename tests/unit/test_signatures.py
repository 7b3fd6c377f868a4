"""Signature primitives: RSA PKCS#1 v1.5 / PSS, ECDSA (DER and r||s), explicit parameters and
the pure-Python fallback for curves pyca/cryptography lacks."""

from __future__ import annotations

import hashlib

import ecdsa
import pytest
from asn1crypto import algos, keys

from fixtures import pki
from verify import signatures
from verify.signatures import SignatureAlgorithm, UnsupportedAlgorithmError


def _key(curve: str, label: str = "sig-test") -> pki.TestKey:
    return pki.derive_key(pki.KeySpec(kind="ec", curve=curve), label)


def _explicit_spki(curve: object, point: bytes) -> bytes:
    fp = curve.curve  # type: ignore[attr-defined]
    size = curve.baselen  # type: ignore[attr-defined]
    gen = curve.generator  # type: ignore[attr-defined]
    base = b"\x04" + int(gen.x()).to_bytes(size, "big") + int(gen.y()).to_bytes(size, "big")
    domain = {
        "version": "ecdpVer1",
        "field_id": {"field_type": "prime_field", "parameters": int(fp.p())},
        "curve": {
            "a": (int(fp.a()) % int(fp.p())).to_bytes(size, "big"),
            "b": int(fp.b()).to_bytes(size, "big"),
        },
        "base": base,
        "order": int(curve.order),  # type: ignore[attr-defined]
        "cofactor": 1,
    }
    params = keys.ECDomainParameters(name="specified", value=domain)
    info = keys.PublicKeyInfo(
        {"algorithm": {"algorithm": "ec", "parameters": params}, "public_key": point}
    )
    return bytes(info.dump())


def _plain(der_signature: bytes, size: int) -> bytes:
    r, s = ecdsa.util.sigdecode_der(der_signature, 1 << (8 * size))
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def test_explicit_parameters_map_to_the_named_curve() -> None:
    key = _key("brainpoolp256r1")
    spki = bytes(key.public_key_info(explicit=True).dump())
    loaded = signatures.load_public_key(spki)
    assert loaded.curve == "brainpoolp256r1"
    assert loaded.explicit is True
    assert loaded.backend == "cryptography"
    message = b"explicit parameters"
    signature = key.sign(message, "sha256")
    ecdsa_sha256 = SignatureAlgorithm(kind="ecdsa", hash_name="sha256")
    assert signatures.verify(loaded, signature, message, ecdsa_sha256)
    assert not signatures.verify(loaded, signature, message + b"!", ecdsa_sha256)


def test_brainpool224_uses_the_fallback_in_der_and_plain_form() -> None:
    key = _key("brainpoolp224r1")
    loaded = signatures.load_public_key(bytes(key.public_key_info().dump()))
    assert (loaded.curve, loaded.backend) == ("brainpoolp224r1", "ecdsa")
    message = b"brainpool 224"
    der = key.sign(message, "sha256")
    assert signatures.verify_ecdsa(loaded, der, message, "sha256")
    assert signatures.verify_ecdsa(loaded, _plain(der, 28), message, "sha256")
    # A digest longer than the 224-bit order is truncated, as X9.62 requires.
    long_sig = key.sign(message, "sha512")
    assert signatures.verify_ecdsa(loaded, long_sig, message, "sha512")
    assert not signatures.verify_ecdsa(loaded, long_sig, message, "sha256")
    tampered = bytearray(der)
    tampered[-1] ^= 1
    assert not signatures.verify_ecdsa(loaded, bytes(tampered), message, "sha256")


@pytest.mark.parametrize("curve", ["brainpoolp224r1", "brainpoolp256r1", "secp256r1"])
def test_explicit_parameters_for_a_curve_cryptography_lacks_or_has(curve: str) -> None:
    key = _key(curve, "explicit-" + curve)
    loaded = signatures.load_public_key(bytes(key.public_key_info(explicit=True).dump()))
    assert loaded.curve == curve and loaded.explicit
    message = b"m" * 100
    assert signatures.verify_ecdsa(loaded, key.sign(message, "sha384"), message, "sha384")


def test_explicit_curve_matching_no_named_curve_is_verified_not_skipped() -> None:
    # brainpoolP224t1 (the twisted curve) is in no table of ours: it must be built from
    # its explicit parameters and verified by the pure-Python code.
    curve = ecdsa.BRAINPOOLP224t1
    signing = ecdsa.SigningKey.from_secret_exponent(123456789, curve=curve)
    point = bytes(signing.get_verifying_key().to_string("uncompressed"))
    loaded = signatures.load_public_key(_explicit_spki(curve, point))
    assert (loaded.curve, loaded.backend, loaded.explicit) == ("explicit", "ecdsa", True)
    message = b"an odd curve"
    digest = hashlib.sha256(message).digest()
    der = signing.sign_digest_deterministic(
        digest, hashfunc=hashlib.sha256, sigencode=ecdsa.util.sigencode_der, allow_truncate=True
    )
    assert signatures.verify_ecdsa(loaded, der, message, "sha256")
    assert not signatures.verify_ecdsa(loaded, der, b"another message", "sha256")


def test_explicit_base_point_off_the_curve_is_a_parse_error() -> None:
    curve = ecdsa.BRAINPOOLP224t1
    signing = ecdsa.SigningKey.from_secret_exponent(5, curve=curve)
    spki = keys.PublicKeyInfo.load(
        _explicit_spki(curve, bytes(signing.get_verifying_key().to_string("uncompressed")))
    )
    domain = spki["algorithm"]["parameters"].chosen
    base = bytearray(domain["base"].native)
    base[-1] ^= 1
    domain["base"] = bytes(base)
    from reader.errors import ParseError

    with pytest.raises(ParseError):
        signatures.load_public_key(bytes(spki.dump(force=True)))


def test_p256_plain_signature_and_long_digest() -> None:
    key = _key("secp256r1")
    loaded = signatures.load_public_key(bytes(key.public_key_info().dump()))
    message = b"plain"
    der = key.sign(message, "sha512")
    plain_alg = signatures.signature_algorithm("0.4.0.127.0.7.1.1.4.1.5")
    assert plain_alg.plain and plain_alg.hash_name == "sha512"
    assert signatures.verify(loaded, _plain(der, 32), message, plain_alg)
    assert signatures.verify(loaded, der, message, plain_alg)  # DER accepted as well
    assert not signatures.verify(loaded, _plain(der, 32)[:-1] + b"\x00", message, plain_alg)


def test_rsa_pss_parameters_are_honoured() -> None:
    key = pki.derive_key(pki.KeySpec(kind="rsa", bits=2048), "pss-test")
    loaded = signatures.load_public_key(bytes(key.public_key_info().dump()))
    assert loaded.description == "RSA-2048"
    message = b"pss"
    params = key.signature_algorithm("sha384", pss=True)["parameters"]
    algorithm = signatures.signature_algorithm("1.2.840.113549.1.1.10", bytes(params.dump()))
    assert (algorithm.hash_name, algorithm.mgf_hash, algorithm.salt_length) == (
        "sha384",
        "sha384",
        48,
    )
    signature = key.sign(message, "sha384", pss=True)
    assert signatures.verify(loaded, signature, message, algorithm)
    wrong_salt = SignatureAlgorithm(
        kind="rsa_pss", hash_name="sha384", mgf_hash="sha384", salt_length=20
    )
    assert not signatures.verify(loaded, signature, message, wrong_salt)
    pkcs1 = signatures.signature_algorithm("1.2.840.113549.1.1.12")
    assert not signatures.verify(loaded, signature, message, pkcs1)
    assert signatures.verify(loaded, key.sign(message, "sha384"), message, pkcs1)


def test_pss_defaults_are_rfc4055() -> None:
    algorithm = signatures.signature_algorithm("1.2.840.113549.1.1.10", None)
    assert (algorithm.hash_name, algorithm.mgf_hash, algorithm.salt_length) == ("sha1", "sha1", 20)
    params = algos.RSASSAPSSParams({"hash_algorithm": {"algorithm": "sha256"}})
    parsed = signatures.signature_algorithm("1.2.840.113549.1.1.10", bytes(params.dump()))
    assert (parsed.hash_name, parsed.mgf_hash) == ("sha256", "sha1")


def test_rsa_encryption_oid_takes_the_digest_algorithm() -> None:
    algorithm = signatures.signature_algorithm("1.2.840.113549.1.1.1", digest_name="sha256")
    assert (algorithm.kind, algorithm.hash_name) == ("rsa_pkcs1", "sha256")
    with pytest.raises(UnsupportedAlgorithmError):
        signatures.signature_algorithm("1.2.840.113549.1.1.1")


def test_unknown_algorithm_and_key_mismatch_are_unsupported() -> None:
    with pytest.raises(UnsupportedAlgorithmError):
        signatures.signature_algorithm("1.2.3.4")
    ec_key = signatures.load_public_key(bytes(_key("secp256r1").public_key_info().dump()))
    with pytest.raises(UnsupportedAlgorithmError):
        signatures.verify(
            ec_key, b"x", b"y", SignatureAlgorithm(kind="rsa_pkcs1", hash_name="sha256")
        )


def test_garbage_signature_is_false_not_an_exception() -> None:
    loaded = signatures.load_public_key(bytes(_key("brainpoolp224r1").public_key_info().dump()))
    for junk in (b"", b"\x30", b"\x30\x03\x02\x01", b"\x00" * 56, b"\xff" * 57):
        assert not signatures.verify_ecdsa(loaded, junk, b"m", "sha256")


# Every curve the chip spec lists: the first seven verified by pyca/cryptography, the last three
# (which it
# lacks) by the ecdsa package. Signatures come from the ecdsa package, so the cryptography
# backend is checked against an independent signer.
CURVES = [
    ("secp224r1", ecdsa.NIST224p, "cryptography"),
    ("secp256r1", ecdsa.NIST256p, "cryptography"),
    ("secp384r1", ecdsa.NIST384p, "cryptography"),
    ("secp521r1", ecdsa.NIST521p, "cryptography"),
    ("brainpoolp256r1", ecdsa.BRAINPOOLP256r1, "cryptography"),
    ("brainpoolp384r1", ecdsa.BRAINPOOLP384r1, "cryptography"),
    ("brainpoolp512r1", ecdsa.BRAINPOOLP512r1, "cryptography"),
    ("brainpoolp192r1", ecdsa.BRAINPOOLP192r1, "ecdsa"),
    ("brainpoolp224r1", ecdsa.BRAINPOOLP224r1, "ecdsa"),
    ("brainpoolp320r1", ecdsa.BRAINPOOLP320r1, "ecdsa"),
]


@pytest.mark.parametrize(("name", "curve", "backend"), CURVES, ids=[c[0] for c in CURVES])
@pytest.mark.parametrize("hash_name", ["sha1", "sha256", "sha512"])
def test_every_curve_der_and_plain_any_digest_length(
    name: str, curve: object, backend: str, hash_name: str
) -> None:
    signing = ecdsa.SigningKey.from_secret_exponent(0xC0FFEE + len(name), curve=curve)  # type: ignore[arg-type]
    point = bytes(signing.get_verifying_key().to_string("uncompressed"))
    oid = ".".join(str(arc) for arc in curve.oid)  # type: ignore[attr-defined]
    spki = keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "ec", "parameters": ("named", oid)},
            "public_key": point,
        }
    )
    loaded = signatures.load_public_key(bytes(spki.dump()))
    assert (loaded.curve, loaded.backend, loaded.explicit) == (name, backend, False)
    message = f"signed on {name}".encode()
    digest = hashlib.new(hash_name, message).digest()  # shorter or longer than the order
    der = signing.sign_digest_deterministic(
        digest,
        hashfunc=getattr(hashlib, hash_name),
        sigencode=ecdsa.util.sigencode_der,
        allow_truncate=True,
    )
    size = curve.baselen  # type: ignore[attr-defined]
    plain = _plain(der, size)
    for signature in (der, plain):
        assert signatures.verify_ecdsa(loaded, signature, message, hash_name)
        assert not signatures.verify_ecdsa(loaded, signature, message + b".", hash_name)
    other = "sha384" if hash_name != "sha384" else "sha256"
    assert not signatures.verify_ecdsa(loaded, der, message, other)
    r, s = ecdsa.util.sigdecode_der(der, curve.order)  # type: ignore[attr-defined]
    order = int(curve.order)  # type: ignore[attr-defined]
    # s and n - s: both verify (ECDSA is malleable), but r or s out of range never does.
    assert signatures.verify_ecdsa(
        loaded, ecdsa.util.sigencode_der(r, order - s, order), message, hash_name
    )
    for bad in ((0, s), (r, 0), (r + order, s)):
        assert not signatures.verify_ecdsa(
            loaded, ecdsa.util.sigencode_der(*bad, order), message, hash_name
        )
