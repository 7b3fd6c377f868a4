"""Signature verification primitives for passive and active authentication.

ICAO 9303-11 §9.2 and 9303-12 §7 (algorithms allowed for SOD, certificates, master lists):
RSA PKCS#1 v1.5 and RSASSA-PSS (RFC 8017, parameters per RFC 4055) and ECDSA (X9.62 / BSI
TR-03111, signatures DER-encoded or plain r||s). Public keys come as SubjectPublicKeyInfo.

EC keys with explicit domain parameters (X9.62 ``SpecifiedECDomain``, common in CSCAs) are
matched against the named curves they equal. Keys on curves pyca/cryptography supports are
verified there; brainpoolP160/192/224/320r1 and explicit curves that match no named curve are
verified by the pure-Python ``ecdsa`` package -- the check is never skipped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

import ecdsa
from asn1crypto import algos, core, keys
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from ecdsa import curves as ecdsa_curves
from ecdsa import ellipticcurve

from reader import curves, oids
from reader.errors import ParseError, UnsupportedError
from reader.lds.cms import parameters_der
from reader.lds.public_key import ASN1_ERRORS as ASN1_ERRORS  # what asn1crypto raises
from reader.lds.public_key import (
    ECDomain,
    PublicKeyInfo,
    UnsupportedKeyParameters,
    parse_public_key_info,
)

HashName = Literal["sha1", "sha224", "sha256", "sha384", "sha512"]
HASH_NAMES: tuple[str, ...] = tuple(oids.HASH_OIDS)  # the hashes of the registry, by name

# The one table from a hash name to pyca/cryptography's hash (the test PKI signs with it too).
_PYCA_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

OID_RSASSA_PSS = oids.ID_RSASSA_PSS
OID_MGF1 = oids.ID_MGF1
_HASH_BY_OID = oids.HASH_NAMES  # one hash-OID table for the code base (reader.oids)


class UnsupportedAlgorithmError(UnsupportedError):
    """A signature algorithm, hash, curve or key type this verifier does not implement."""


def hash_name_for_oid(oid: str) -> str | None:
    """``"sha256"`` for the SHA-256 OID, and so on; None when unknown."""
    return _HASH_BY_OID.get(oid)


def digest(hash_name: str, data: bytes) -> bytes:
    if hash_name not in HASH_NAMES:
        raise UnsupportedAlgorithmError(f"unsupported hash {hash_name}")
    return hashlib.new(hash_name, data).digest()


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicKey:
    """A verification key loaded from a SubjectPublicKeyInfo.

    ``curve`` is the named curve (lower-case, e.g. ``"brainpoolp512r1"``), or ``"explicit"``
    for explicit parameters matching no named curve; ``explicit`` says how it was encoded;
    ``backend`` which library verifies it.
    """

    kind: Literal["rsa", "ec"]
    bits: int
    curve: str | None
    explicit: bool
    backend: Literal["cryptography", "ecdsa"]
    key: Any  # cryptography public key or ecdsa.VerifyingKey

    @property
    def description(self) -> str:
        if self.kind == "rsa":
            return f"RSA-{self.bits}"
        suffix = " (explicit parameters)" if self.explicit else ""
        return f"EC {self.curve}{suffix}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureAlgorithm:
    """A resolved signature scheme: ``kind``, hash, PSS parameters, ECDSA encoding."""

    kind: Literal["rsa_pkcs1", "rsa_pss", "ecdsa"]
    hash_name: str
    mgf_hash: str | None = None
    salt_length: int | None = None
    plain: bool = False  # ECDSA r||s expected (still accepted in DER, and vice versa)

    @property
    def description(self) -> str:
        if self.kind == "rsa_pss":
            return f"RSASSA-PSS ({self.hash_name}, MGF1-{self.mgf_hash}, salt {self.salt_length})"
        if self.kind == "rsa_pkcs1":
            return f"RSA PKCS#1 v1.5 with {self.hash_name}"
        return f"ECDSA{' plain' if self.plain else ''} with {self.hash_name}"


def load_public_key(spki: bytes | keys.PublicKeyInfo | PublicKeyInfo) -> PublicKey:
    """Load a SubjectPublicKeyInfo for verification: DER, asn1crypto's, or as
    ``reader.lds.public_key`` (the one loader) has already read it."""
    try:
        info = spki if isinstance(spki, PublicKeyInfo) else parse_public_key_info(spki)
    except UnsupportedKeyParameters as exc:
        raise UnsupportedAlgorithmError(exc.reason) from None
    try:
        if info.key_type == "RSA":
            return _load_rsa(info)
        if info.key_type == "EC":
            return _load_ec(info)
    except (ParseError, UnsupportedError):
        raise
    except ASN1_ERRORS as exc:
        raise ParseError(f"public key does not parse: {str(exc)[:120]}") from None
    raise UnsupportedAlgorithmError(f"unsupported public key algorithm {info.algorithm_oid}")


def _load_rsa(info: PublicKeyInfo) -> PublicKey:
    # The loader reads the modulus unsigned even without its leading zero byte (real-world
    # DER, as BouncyCastle), with a warning on the record.
    modulus, exponent = info.rsa_modulus, info.rsa_exponent
    if modulus is None or exponent is None or modulus <= 0 or exponent <= 1:
        raise ParseError("RSA public key with invalid modulus or exponent")
    return PublicKey(
        kind="rsa",
        bits=modulus.bit_length(),
        curve=None,
        explicit=False,
        backend="cryptography",
        key=rsa.RSAPublicNumbers(exponent, modulus).public_key(),
    )


def _load_ec(info: PublicKeyInfo) -> PublicKey:
    point = info.public_key
    explicit = info.explicit_parameters
    if explicit:
        assert info.ec_domain is not None
        name, ecdsa_curve, crypto_curve = _match_explicit(info.ec_domain)
    elif info.curve_oid is not None:
        known = curves.by_oid(info.curve_oid)
        if known is None:
            raise UnsupportedAlgorithmError(f"unsupported named curve {info.curve_oid}")
        name, ecdsa_curve, crypto_curve = known.name.lower(), known.ecdsa, known.pyca
    else:
        raise UnsupportedAlgorithmError("EC key with implicitlyCA parameters")
    bits = ecdsa_curve.order.bit_length()
    if crypto_curve is not None:
        try:
            crypto_key = ec.EllipticCurvePublicKey.from_encoded_point(crypto_curve(), point)
        except UnsupportedAlgorithm:
            pass  # this OpenSSL build lacks the curve: fall back below
        else:
            return PublicKey(
                kind="ec",
                bits=bits,
                curve=name,
                explicit=explicit,
                backend="cryptography",
                key=crypto_key,
            )
    try:
        verifying_key = ecdsa.VerifyingKey.from_string(point, curve=ecdsa_curve)
    except (ecdsa.MalformedPointError, AssertionError) as exc:
        raise ParseError(f"EC public point invalid: {str(exc)[:80]}") from None
    return PublicKey(
        kind="ec", bits=bits, curve=name, explicit=explicit, backend="ecdsa", key=verifying_key
    )


def _match_explicit(
    domain: ECDomain,
) -> tuple[str, ecdsa_curves.Curve, type[ec.EllipticCurve] | None]:
    p, a, b, order, base = domain.p, domain.a, domain.b, domain.order, domain.generator
    cofactor = domain.cofactor if domain.cofactor is not None else 1
    if p < 3 or order < 3 or p.bit_length() > 1024:
        raise ParseError("explicit EC parameters out of range")
    for known in curves.CURVES:
        if not known.has_domain(p, a, b, order):
            continue
        curve = known.ecdsa
        generator = ecdsa.VerifyingKey.from_string(base, curve=curve).pubkey.point
        if (generator.x(), generator.y()) == (curve.generator.x(), curve.generator.y()):
            return known.name.lower(), curve, known.pyca
    # No named curve has these parameters: build one for the pure-Python verifier.
    fp_curve = ellipticcurve.CurveFp(p, a % p, b, cofactor)
    gx, gy = _decode_point(base, p, a % p, b)
    if not fp_curve.contains_point(gx, gy):
        raise ParseError("explicit EC base point is not on the curve")
    generator_point = ellipticcurve.PointJacobi(fp_curve, gx, gy, 1, order, generator=True)
    curve = ecdsa_curves.Curve("explicit", fp_curve, generator_point, None)
    return "explicit", curve, None


def _decode_point(encoded: bytes, p: int, a: int, b: int) -> tuple[int, int]:
    size = (p.bit_length() + 7) // 8
    if len(encoded) == 1 + 2 * size and encoded[0] == 4:
        return int.from_bytes(encoded[1 : 1 + size], "big"), int.from_bytes(
            encoded[1 + size :], "big"
        )
    if len(encoded) == 1 + size and encoded[0] in (2, 3):
        x = int.from_bytes(encoded[1:], "big")
        alpha = (pow(x, 3, p) + a * x + b) % p
        beta = ecdsa.numbertheory.square_root_mod_prime(alpha, p)
        y = beta if (beta & 1) == (encoded[0] & 1) else p - beta
        return x, y
    raise ParseError("explicit EC base point has an invalid encoding")


def signature_algorithm(
    oid: str, parameters: bytes | None = None, *, digest_name: str | None = None
) -> SignatureAlgorithm:
    """Resolve a signature AlgorithmIdentifier (as found in a SignerInfo or certificate).

    ``digest_name`` is the SignerInfo's digestAlgorithm, used when the signature OID does
    not name a hash (rsaEncryption, id-ecPublicKey).
    """
    scheme = oids.SIGNATURE_SCHEMES.get(oid)
    if scheme is None:
        raise UnsupportedAlgorithmError(f"unsupported signature algorithm {oid}")
    if scheme.kind == "rsa_pss":
        return _pss(parameters)
    if scheme.plain:
        return SignatureAlgorithm(
            kind="ecdsa", hash_name=_need_hash(scheme.hash_name, None), plain=True
        )
    return SignatureAlgorithm(kind=scheme.kind, hash_name=_need_hash(scheme.hash_name, digest_name))


def _need_hash(implied: str | None, digest_name: str | None) -> str:
    name = implied or digest_name
    if name is None or name not in HASH_NAMES:
        raise UnsupportedAlgorithmError(f"unsupported or missing hash {name}")
    return name


def _pss(parameters: bytes | None) -> SignatureAlgorithm:
    # RFC 4055 §3.1 defaults when absent: SHA-1, MGF1 with SHA-1, salt 20.
    hash_name, mgf_hash, salt = "sha1", "sha1", 20
    if parameters:
        try:
            params = algos.RSASSAPSSParams.load(parameters)
            hash_oid = params["hash_algorithm"]["algorithm"].dotted
            mgf = params["mask_gen_algorithm"]
            for inner in (params["hash_algorithm"], mgf["parameters"]):
                if parameters_der(inner["parameters"]) is not None:
                    raise ParseError("RSASSA-PSS hash parameters must be NULL or absent")
            if mgf["algorithm"].dotted != OID_MGF1:
                raise UnsupportedAlgorithmError(
                    f"unsupported PSS mask generation {mgf['algorithm'].dotted}"
                )
            mgf_oid = mgf["parameters"]["algorithm"].dotted
            salt = int(params["salt_length"].native)
            trailer = params["trailer_field"].native
        except (UnsupportedError, ParseError):
            raise
        except ASN1_ERRORS as exc:
            raise ParseError(f"RSASSA-PSS parameters do not parse: {str(exc)[:80]}") from None
        if trailer not in (1, "trailer_field_bc"):
            raise UnsupportedAlgorithmError(f"unsupported PSS trailer field {trailer}")
        hash_name = _need_hash(_HASH_BY_OID.get(hash_oid), None)
        mgf_hash = _need_hash(_HASH_BY_OID.get(mgf_oid), None)
        if not 0 <= salt <= 1024:
            raise ParseError(f"RSASSA-PSS salt length {salt} out of range")
    return SignatureAlgorithm(
        kind="rsa_pss", hash_name=hash_name, mgf_hash=mgf_hash, salt_length=salt
    )


def verify(
    public_key: PublicKey | bytes, signature: bytes, message: bytes, algorithm: SignatureAlgorithm
) -> bool:
    """True when ``signature`` over ``message`` verifies; False otherwise.

    Raises ``UnsupportedAlgorithmError`` when the key does not fit the scheme.
    """
    key = public_key if isinstance(public_key, PublicKey) else load_public_key(public_key)
    if algorithm.kind == "ecdsa":
        if key.kind != "ec":
            raise UnsupportedAlgorithmError(f"ECDSA signature with a {key.description} key")
        return verify_ecdsa(key, signature, message, algorithm.hash_name)
    if key.kind != "rsa":
        raise UnsupportedAlgorithmError(f"RSA signature with a {key.description} key")
    if algorithm.kind == "rsa_pss":
        return verify_rsa_pss(
            key,
            signature,
            message,
            algorithm.hash_name,
            mgf_hash=algorithm.mgf_hash,
            salt_length=algorithm.salt_length,
        )
    return verify_rsa_pkcs1(key, signature, message, algorithm.hash_name)


def verify_rsa_pkcs1(key: PublicKey, signature: bytes, message: bytes, hash_name: str) -> bool:
    hash_cls = hash_class(hash_name)
    try:
        key.key.verify(signature, message, padding.PKCS1v15(), hash_cls())
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_rsa_pss(
    key: PublicKey,
    signature: bytes,
    message: bytes,
    hash_name: str,
    *,
    mgf_hash: str | None = None,
    salt_length: int | None = None,
) -> bool:
    hash_cls = hash_class(hash_name)
    mgf_cls = hash_class(mgf_hash or hash_name)
    salt = salt_length if salt_length is not None else hash_cls().digest_size
    pad = padding.PSS(mgf=padding.MGF1(mgf_cls()), salt_length=salt)
    try:
        key.key.verify(signature, message, pad, hash_cls())
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_ecdsa(
    key: PublicKey, signature: bytes, message: bytes, hash_name: str, *, prehashed: bool = False
) -> bool:
    """ECDSA over ``message`` (or its digest when ``prehashed``), DER or plain r||s.

    Digests longer than the group order are truncated to its bit length, as X9.62 requires.
    """
    if key.kind != "ec":
        raise UnsupportedAlgorithmError(f"ECDSA with a {key.description} key")
    order_bits = key.bits  # the group order's bit length
    order_bytes = (order_bits + 7) // 8
    values = ecdsa_signature_values(signature, order_bytes)
    if values is None:
        return False
    r, s = values
    message_digest = message if prehashed else digest(hash_name, message)
    if key.backend == "cryptography":
        hash_cls = hash_class(hash_name)
        if len(message_digest) != hash_cls().digest_size:
            return False
        try:
            key.key.verify(
                encode_dss_signature(r, s), message_digest, ec.ECDSA(Prehashed(hash_cls()))
            )
        except (InvalidSignature, ValueError):
            return False
        return True
    try:
        return bool(
            key.key.verify_digest((r, s), message_digest, sigdecode=_identity, allow_truncate=True)
        )
    except (ecdsa.BadSignatureError, ecdsa.BadDigestError, ValueError, AssertionError):
        return False


def bit_string_bytes(value: Any) -> bytes | None:
    """The bytes of a DER BIT STRING holding a signature; None when bits are unused.

    A signature is a whole number of octets: a non-zero "unused bits" count is malformed
    and must not be silently dropped (it is outside what the signature covers).
    """
    contents = value.contents
    if not contents or contents[0] != 0:
        return None
    return bytes(contents[1:])


def _identity(signature: tuple[int, int], order: int) -> tuple[int, int]:
    return signature


def ecdsa_signature_values(signature: bytes, order_bytes: int) -> tuple[int, int] | None:
    """(r, s) from a DER Ecdsa-Sig-Value or a plain r||s string; None when neither."""
    if signature[:1] == b"\x30":
        try:
            r, s = decode_dss_signature(signature)
            if _strict_der_sequence(signature):
                return r, s
        except ValueError:
            pass
    if len(signature) % 2 == 0 and 0 < len(signature) <= 2 * max(order_bytes, 1) + 2:
        half = len(signature) // 2
        return int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
    return None


def _strict_der_sequence(signature: bytes) -> bool:
    try:
        parsed = core.Sequence.load(signature, strict=True)
    except ValueError:
        return False
    return len(parsed.dump()) == len(signature)


def hash_class(hash_name: str) -> type[hashes.HashAlgorithm]:
    """pyca/cryptography's hash for ``"sha256"`` and the other registry names."""
    try:
        return _PYCA_HASHES[hash_name]
    except KeyError:
        raise UnsupportedAlgorithmError(f"unsupported hash {hash_name}") from None
