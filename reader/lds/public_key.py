"""The one SubjectPublicKeyInfo loader (RFC 5280 §4.1.2.7; RSA RFC 3279 §2.3.1 / RFC 8017 A.1,
EC RFC 5480 and X9.62 explicit ``SpecifiedECDomain``, DH X9.42 / PKCS#3) for the chip
authentication keys of DG14 (9303-11 §9.2.6, BSI TR-03110-3 A.1), the active authentication
key of DG15 (9303-11 §6.1) and the keys of certificates (``verify.signatures``).

The structure is read with asn1crypto's ``keys.PublicKeyInfo``; the BSI key OIDs id-PK-DH and
id-PK-ECDH, which asn1crypto does not know, keep their key as an opaque BIT STRING and their
parameters are read as ``ECDomainParameters`` or X9.42 ``DomainParameters``. Named curves come
from ``reader.curves``, explicit parameters are matched against them.

Bounded: the SubjectPublicKeyInfo, each INTEGER and each OID have a maximum size. Bad input
raises ``ParseError`` naming the problem, the file and the offset of the key in it.
Real-world DER: an RSA modulus or exponent encoded without its leading zero byte (negative in
strict DER; JMRTD's BSI 2008 test passport, cards in the field) is read as unsigned, as
BouncyCastle-based readers do, and the record says so in ``warnings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from asn1crypto import algos, core, keys

from reader import curves
from reader.errors import ParseError
from reader.lds.der import MAX_INT_BYTES, MAX_OID_BYTES
from reader.oids import (
    ID_DH_KEY_AGREEMENT,
    ID_DH_PUBLIC_NUMBER,
    ID_EC_PUBLIC_KEY,
    ID_PK_DH,
    ID_PK_ECDH,
    ID_PRIME_FIELD,
    ID_RSA_ENCRYPTION,
    ID_RSASSA_PSS,
)

MAX_SPKI_BYTES = 8192  # an 8192-bit RSA key or explicit 521-bit curve parameters fit easily

# What asn1crypto raises, lazily and late, for structures that do not parse.
ASN1_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ECDomain:
    """Prime-field curve parameters, from a named curve or explicit ECParameters (RFC 3279)."""

    p: int
    a: int
    b: int
    generator: bytes  # uncompressed (or as encoded) point
    order: int
    cofactor: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DHDomain:
    p: int
    g: int
    q: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicKeyInfo:
    """A SubjectPublicKeyInfo; ``der`` is the exact bytes found in the file."""

    der: bytes
    algorithm_oid: str
    key_type: Literal["RSA", "EC", "DH", "other"]
    public_key: bytes  # the BIT STRING content: EC point, RSAPublicKey DER, DH INTEGER DER
    key_size: int  # bits: RSA modulus, EC field, DH modulus (0 when unknown)
    curve: str | None = None  # curve name, also when explicit parameters match a known curve
    curve_oid: str | None = None
    explicit_parameters: bool = False
    ec_domain: ECDomain | None = None
    dh_domain: DHDomain | None = None
    rsa_modulus: int | None = None
    rsa_exponent: int | None = None
    dh_public_value: int | None = None
    warnings: tuple[str, ...] = ()  # leniencies taken while parsing (real-world DER)


class UnsupportedKeyParameters(ParseError):
    """Parameters that parse but that no code here can use (a characteristic-two field)."""


class _SubjectPublicKeyInfo(keys.PublicKeyInfo):  # type: ignore[misc]
    """asn1crypto's SubjectPublicKeyInfo; the key of an algorithm asn1crypto does not know
    (id-PK-DH, id-PK-ECDH) is an opaque BIT STRING rather than an error."""

    def _public_key_spec(self) -> Any:
        try:
            return keys.PublicKeyInfo._public_key_spec(self)
        except KeyError:
            return core.OctetBitString, None

    _spec_callbacks = {"public_key": _public_key_spec}  # noqa: RUF012 (asn1crypto's protocol)


def parse_public_key_info(
    der: bytes | keys.PublicKeyInfo, *, file: str | None = None, offset: int = 0
) -> PublicKeyInfo:
    """Parse a SubjectPublicKeyInfo (RSA, EC named or explicit, DH), DER or asn1crypto's."""
    data = bytes(der.dump()) if isinstance(der, keys.PublicKeyInfo) else bytes(der)
    if not data or len(data) > MAX_SPKI_BYTES:
        raise ParseError(f"SubjectPublicKeyInfo of {len(data)} bytes", offset=offset, file=file)
    reader = _Reader(file, offset)
    try:
        info = _SubjectPublicKeyInfo.load(data, strict=True)
        return reader.public_key_info(info, data)
    except ParseError:
        raise
    except ASN1_ERRORS as exc:
        raise reader.error(f"SubjectPublicKeyInfo does not parse: {str(exc)[:120]}") from None


def named_domain(curve_oid: str) -> ECDomain | None:
    """The parameters of the named curve with this OID, when ``reader.curves`` has it."""
    known = curves.by_oid(curve_oid)
    if known is None:
        return None
    gen = known.ecdsa.generator
    size = known.ecdsa.baselen
    point = b"\x04" + int(gen.x()).to_bytes(size, "big") + int(gen.y()).to_bytes(size, "big")
    fp = known.fp
    p = int(fp.p())
    return ECDomain(
        p=p,
        a=int(fp.a()) % p,
        b=int(fp.b()) % p,
        generator=point,
        order=known.order,
        cofactor=int(fp.cofactor() or 1),
    )


def match_named_curve(domain: ECDomain) -> tuple[str, str] | None:
    """(name, OID) of the known named curve with these explicit parameters, if any."""
    known = curves.matching(domain.p, domain.a, domain.b, domain.order)
    return (known.name, known.oid) if known is not None else None


class _Reader:
    """Reads the parts of one parsed SubjectPublicKeyInfo; errors name ``file`` and ``offset``."""

    def __init__(self, file: str | None, offset: int) -> None:
        self.file = file
        self.offset = offset

    def error(self, message: str) -> ParseError:
        return ParseError(message, offset=self.offset, file=self.file)

    def integer(self, value: Any, what: str, *, signed: bool = True) -> int:
        if not isinstance(value, core.Integer):
            raise self.error(f"{what} must be an INTEGER")
        contents = bytes(value.contents or b"")
        if not contents or len(contents) > MAX_INT_BYTES:
            raise self.error(f"{what}: INTEGER of {len(contents)} bytes")
        return int.from_bytes(contents, "big", signed=signed)

    def oid(self, value: Any, what: str) -> str:
        contents = bytes(value.contents or b"")
        if not contents or len(contents) > MAX_OID_BYTES:
            raise self.error(f"{what}: OID of {len(contents)} bytes")
        return str(value.dotted)

    def public_key_info(self, info: Any, data: bytes) -> PublicKeyInfo:
        algorithm = info["algorithm"]
        if isinstance(algorithm, core.Void) or isinstance(info["public_key"], core.Void):
            raise self.error("SubjectPublicKeyInfo needs an algorithm and a public key")
        oid = self.oid(algorithm["algorithm"], "algorithm")
        bits = bytes(info["public_key"].contents or b"")
        if not bits or bits[0] != 0:
            raise self.error("public key must be a BIT STRING with no unused bits")
        key = bits[1:]
        params = algorithm["parameters"]
        if oid in (ID_RSA_ENCRYPTION, ID_RSASSA_PSS):
            return self.rsa(data, oid, key)
        if oid in (ID_EC_PUBLIC_KEY, ID_PK_ECDH):
            return self.ec(data, oid, key, params)
        if oid in (ID_DH_PUBLIC_NUMBER, ID_DH_KEY_AGREEMENT, ID_PK_DH):
            return self.dh(data, oid, key, params)
        return PublicKeyInfo(
            der=data, algorithm_oid=oid, key_type="other", public_key=key, key_size=0
        )

    def rsa(self, data: bytes, oid: str, key: bytes) -> PublicKeyInfo:
        try:
            parsed = keys.RSAPublicKey.load(key, strict=True)
            modulus_el, exponent_el = parsed["modulus"], parsed["public_exponent"]
        except ASN1_ERRORS as exc:
            raise self.error(f"RSAPublicKey does not parse: {str(exc)[:120]}") from None
        modulus = self.integer(modulus_el, "RSA modulus")
        exponent = self.integer(exponent_el, "RSA exponent")
        warnings: list[str] = []
        if modulus < 0:
            modulus = self.integer(modulus_el, "RSA modulus", signed=False)
            warnings.append("RSA modulus encoded without its leading zero byte (read as unsigned)")
        if exponent < 0:
            exponent = self.integer(exponent_el, "RSA exponent", signed=False)
            warnings.append("RSA exponent encoded without its leading zero byte (read as unsigned)")
        if modulus <= 0 or exponent <= 0:
            raise self.error("RSA modulus and exponent must be positive")
        return PublicKeyInfo(
            warnings=tuple(warnings),
            der=data,
            algorithm_oid=oid,
            key_type="RSA",
            public_key=key,
            key_size=modulus.bit_length(),
            rsa_modulus=modulus,
            rsa_exponent=exponent,
        )

    def ec(self, data: bytes, oid: str, key: bytes, params: Any) -> PublicKeyInfo:
        if not isinstance(params, core.Void) and not isinstance(params, keys.ECDomainParameters):
            params = keys.ECDomainParameters.load(params.dump(), strict=True)  # id-PK-ECDH
        if isinstance(params, core.Void) or params.name == "implicit_ca":
            # implicitlyCA: the parameters come from elsewhere (e.g. the CSCA)
            return PublicKeyInfo(
                der=data, algorithm_oid=oid, key_type="EC", public_key=key, key_size=0
            )
        if params.name == "named":
            curve_oid = self.oid(params.chosen, "named curve")
            domain = named_domain(curve_oid)
            known = curves.by_oid(curve_oid)
            return PublicKeyInfo(
                der=data,
                algorithm_oid=oid,
                key_type="EC",
                public_key=key,
                key_size=domain.p.bit_length() if domain else 0,
                curve=known.name if known else None,
                curve_oid=curve_oid,
                ec_domain=domain,
            )
        domain = self.explicit(params.chosen)
        match = match_named_curve(domain)
        return PublicKeyInfo(
            der=data,
            algorithm_oid=oid,
            key_type="EC",
            public_key=key,
            key_size=domain.p.bit_length(),
            curve=match[0] if match else None,
            curve_oid=match[1] if match else None,
            explicit_parameters=True,
            ec_domain=domain,
        )

    def explicit(self, specified: Any) -> ECDomain:
        field_id = specified["field_id"]
        if self.oid(field_id["field_type"], "fieldID") != ID_PRIME_FIELD:
            raise UnsupportedKeyParameters(
                "EC key over a characteristic-2 field: only prime-field curves are supported",
                offset=self.offset,
                file=self.file,
            )
        curve = specified["curve"]
        cofactor = specified["cofactor"]
        return ECDomain(
            p=self.integer(field_id["parameters"], "prime p"),
            a=int.from_bytes(bytes(curve["a"].contents or b""), "big"),
            b=int.from_bytes(bytes(curve["b"].contents or b""), "big"),
            generator=bytes(specified["base"].contents or b""),
            order=self.integer(specified["order"], "order"),
            cofactor=None
            if isinstance(cofactor, core.Void)
            else self.integer(cofactor, "cofactor"),
        )

    def dh(self, data: bytes, oid: str, key: bytes, params: Any) -> PublicKeyInfo:
        domain = None
        if not isinstance(params, core.Void):
            domain = self.dh_domain(oid, params.dump())
        try:
            value_el = core.Integer.load(key, strict=True)
        except ASN1_ERRORS as exc:
            raise self.error(f"DH public value does not parse: {str(exc)[:120]}") from None
        return PublicKeyInfo(
            der=data,
            algorithm_oid=oid,
            key_type="DH",
            public_key=key,
            key_size=domain.p.bit_length() if domain else 0,
            dh_domain=domain,
            dh_public_value=self.integer(value_el, "DH public value"),
        )

    def dh_domain(self, oid: str, params: bytes) -> DHDomain | None:
        """X9.42 DomainParameters (p, g, q, ...) or PKCS#3 DHParameter (p, g); a SEQUENCE of
        fewer than two INTEGERs is no domain (as before: the key still loads)."""
        if oid != ID_DH_KEY_AGREEMENT:
            try:
                x942 = keys.DomainParameters.load(params, strict=True)
                return DHDomain(
                    p=self.integer(x942["p"], "DH p"),
                    g=self.integer(x942["g"], "DH g"),
                    q=self.integer(x942["q"], "DH q"),
                )
            except ASN1_ERRORS:
                pass  # (p, g) only: read below as PKCS#3
        try:
            pkcs3 = algos.DHParameters.load(params, strict=True)
            p_el, g_el = pkcs3["p"], pkcs3["g"]
        except ASN1_ERRORS:
            return None
        return DHDomain(p=self.integer(p_el, "DH p"), g=self.integer(g_el, "DH g"), q=None)


__all__ = [
    "ASN1_ERRORS",
    "MAX_SPKI_BYTES",
    "DHDomain",
    "ECDomain",
    "PublicKeyInfo",
    "UnsupportedKeyParameters",
    "match_named_curve",
    "named_domain",
    "parse_public_key_info",
]
