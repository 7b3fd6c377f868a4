"""CMS SignedData as the ICAO PKI uses it (RFC 5652 §5; ICAO 9303-10 §4.6.2 for EF.SOD,
9303-12 §8 for CSCA master lists), read once for every file that carries one.

The record keeps every byte a signer check needs exactly as stored: the eContent octets (the
messageDigest is computed over them, BER constructed chunks joined), each SignerInfo's signed
attributes as the DER ``SET OF Attribute`` (RFC 5652 §5.4: the signature covers that
encoding, not the ``[0] IMPLICIT`` one; the stored contents are kept verbatim), the
signature algorithm with its parameters, and the embedded certificates as DER. Checking the
signer (the attributes, the signature, the certificate) is ``verify.cms``; what the eContent
means is the caller's (``reader.lds.sod`` for EF.SOD, ``verify.trust`` for master lists).

Tolerated, because real files do it: BER indefinite lengths, issuerAndSerialNumber or
subjectKeyIdentifier as ``sid``, certificate choices other than X.509 (skipped, with a
warning). Deviations in fields the signature does not cover are listed as ``anomalies``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from asn1crypto import cms, core

from reader import oids
from reader.errors import ParseError

MAX_CERTIFICATES = 16
MAX_SIGNER_INFOS = 8
# What asn1crypto raises, lazily, when a structure does not parse.
_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)

SidKind = Literal["issuer_and_serial_number", "subject_key_identifier"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignerInfo:
    """One CMS SignerInfo, with the signed attributes as the bytes the signature covers."""

    version: int
    sid_kind: SidKind
    issuer: bytes | None  # DER of the issuer Name (issuerAndSerialNumber)
    serial_number: int | None
    subject_key_identifier: bytes | None
    digest_algorithm: str  # dotted OID
    digest_name: str | None  # "sha256" ... or None when unknown
    signed_attrs: bytes | None  # DER, tagged SET (0x31): the bytes that were signed
    content_type: str | None  # the contentType signed attribute (dotted OID)
    message_digest: bytes | None
    signing_time: datetime | None
    signature_algorithm: str  # dotted OID
    signature_parameters: bytes | None  # DER of the AlgorithmIdentifier parameters
    digest_parameters: bytes | None = None  # digestAlgorithm parameters other than NULL
    signature: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedData:
    """A parsed CMS SignedData (RFC 5652 §5.1) with its encapsulated content."""

    version: int
    digest_algorithms: tuple[str, ...]  # dotted OIDs, as listed
    econtent_type: str  # dotted OID
    econtent: bytes  # the octets the messageDigest covers
    certificates: tuple[bytes, ...]  # DER, in the order stored
    signer_infos: tuple[SignerInfo, ...]  # at least one
    warnings: tuple[str, ...] = field(default=())
    anomalies: tuple[str, ...] = field(default=())


def parse_signed_data(
    content_info: bytes,
    *,
    offset: int = 0,
    max_certificates: int = MAX_CERTIFICATES,
    max_signer_infos: int = MAX_SIGNER_INFOS,
) -> SignedData:
    """Parse a DER (or BER) ``ContentInfo`` holding SignedData with attached content.

    ``offset`` is where the ContentInfo starts in its file (for the error). Raises
    ``ParseError`` on anything else, including a detached signature (no eContent) and more
    certificates or SignerInfos than the bounds allow.
    """
    try:
        return _parse(bytes(content_info), offset, max_certificates, max_signer_infos)
    except ParseError:
        raise
    except _ASN1_ERRORS as exc:
        text = str(exc).strip().splitlines()
        first = text[0] if text else type(exc).__name__
        raise ParseError(f"SignedData does not parse: {first[:160]}") from None


def _parse(raw: bytes, offset: int, max_certificates: int, max_signer_infos: int) -> SignedData:
    content_info = cms.ContentInfo.load(raw, strict=False)
    content_type = content_info["content_type"].dotted
    if content_type != oids.ID_SIGNED_DATA:
        raise ParseError(f"ContentInfo is {content_type}, not signedData", offset=offset)
    signed = content_info["content"]
    if not isinstance(signed, cms.SignedData):
        raise ParseError("ContentInfo content is not SignedData", offset=offset)

    warnings: list[str] = []
    encap = signed["encap_content_info"]
    econtent_value = encap["content"]
    if econtent_value is None or isinstance(econtent_value, core.Void):
        raise ParseError("SignedData has no eContent (detached signature)")
    econtent = _octets(econtent_value)

    certificates: list[bytes] = []
    cert_set = signed["certificates"]
    if isinstance(cert_set, cms.CertificateSet):
        if len(cert_set) > max_certificates:
            raise ParseError(f"more than {max_certificates} certificates")
        for choice in cert_set:
            if choice.name == "certificate":
                certificates.append(choice.chosen.dump())
            else:
                warnings.append(f"ignored certificate choice {choice.name}")

    infos = signed["signer_infos"]
    if len(infos) == 0:
        raise ParseError("SignedData has no SignerInfo")
    if len(infos) > max_signer_infos:
        raise ParseError(f"more than {max_signer_infos} SignerInfos")
    signer_infos = tuple(_signer_info(info) for info in infos)
    version = signed["version"].native
    return SignedData(
        version=_version_number(version),
        digest_algorithms=tuple(alg["algorithm"].dotted for alg in signed["digest_algorithms"]),
        econtent_type=encap["content_type"].dotted,
        econtent=econtent,
        certificates=tuple(certificates),
        signer_infos=signer_infos,
        warnings=tuple(warnings),
        anomalies=_anomalies(signed, signer_infos),
    )


def _version_number(version: Any) -> int:
    return int(version[1:]) if isinstance(version, str) else int(version)


def parameters_der(params: Any) -> bytes | None:
    """An AlgorithmIdentifier's parameters as DER, None when absent or NULL (RFC 5754 §2 and
    RFC 5758 §3.2 allow both for hashes and ECDSA)."""
    if params is None or isinstance(params, core.Void | core.Null):
        return None
    return bytes(params.dump())


def _anomalies(signed: cms.SignedData, infos: tuple[SignerInfo, ...]) -> tuple[str, ...]:
    found: list[str] = []
    version = signed["version"].native
    if version != "v3":
        found.append(f"SignedData version {version}, RFC 5652 requires v3 here")
    listed: list[str] = []
    for algorithm in signed["digest_algorithms"]:
        listed.append(algorithm["algorithm"].dotted)
        if parameters_der(algorithm["parameters"]) is not None:
            found.append("digestAlgorithms entry with parameters")
    for info in infos:
        if info.digest_algorithm not in listed:
            found.append("the SignerInfo digest algorithm is not in digestAlgorithms")
        expected = 1 if info.sid_kind == "issuer_and_serial_number" else 3
        if info.version != expected:
            found.append(f"SignerInfo version {info.version} does not fit its sid")
        if info.digest_parameters is not None:
            found.append("SignerInfo digestAlgorithm with parameters")
        if info.signature_algorithm.startswith("1.2.840.10045.") and (
            info.signature_parameters is not None
        ):
            found.append("ECDSA signature algorithm with parameters")
    return tuple(found)


def _octets(value: Any) -> bytes:
    """The bytes of an OCTET STRING, constructed (BER) chunks joined."""
    if isinstance(value, core.OctetString | core.ParsableOctetString):
        return bytes(value)
    if isinstance(value, core.Any):
        inner = core.OctetString.load(value.dump(), strict=False)
        return bytes(inner)
    raise ParseError("eContent is not an OCTET STRING")


_SINGLE = (oids.ID_CONTENT_TYPE, oids.ID_MESSAGE_DIGEST, oids.ID_SIGNING_TIME)


def _signer_info(info: cms.SignerInfo) -> SignerInfo:
    sid = info["sid"]
    issuer = serial = ski = None
    sid_kind: SidKind
    if sid.name == "issuer_and_serial_number":
        sid_kind = "issuer_and_serial_number"
        issuer = sid.chosen["issuer"].dump()
        serial = int(sid.chosen["serial_number"].native)
    else:
        sid_kind = "subject_key_identifier"
        ski = bytes(sid.chosen.native)

    digest_oid = info["digest_algorithm"]["algorithm"].dotted
    digest_params = info["digest_algorithm"]["parameters"]
    signed_attrs_der = content_type = message_digest = signing_time = None
    attrs = info["signed_attrs"]
    if isinstance(attrs, cms.CMSAttributes) and attrs.contents is not None:
        # RFC 5652 §5.4: the signature is over the DER of SET OF Attribute: the [0]
        # IMPLICIT contents, kept verbatim, under the universal SET tag.
        signed_attrs_der = bytes(attrs.untag().dump())
        seen: set[str] = set()
        for attr in attrs:
            oid = attr["type"].dotted
            if oid in seen and oid in _SINGLE:
                raise ParseError(f"signed attribute {oid} appears twice")
            seen.add(oid)
            values = attr["values"]
            if len(values) != 1:
                continue
            if oid == oids.ID_CONTENT_TYPE:
                content_type = core.ObjectIdentifier.load(values[0].dump()).dotted
            elif oid == oids.ID_MESSAGE_DIGEST:
                message_digest = bytes(core.OctetString.load(values[0].dump()).native)
            elif oid == oids.ID_SIGNING_TIME:
                signing_time = cms.Time.load(values[0].dump()).native

    sig_alg = info["signature_algorithm"]
    params = sig_alg["parameters"]
    return SignerInfo(
        version=_version_number(info["version"].native),
        sid_kind=sid_kind,
        issuer=issuer,
        serial_number=serial,
        subject_key_identifier=ski,
        digest_algorithm=digest_oid,
        digest_name=oids.HASH_NAMES.get(digest_oid),
        digest_parameters=parameters_der(digest_params),
        signed_attrs=signed_attrs_der,
        content_type=content_type,
        message_digest=message_digest,
        signing_time=signing_time,
        signature_algorithm=sig_alg["algorithm"].dotted,
        signature_parameters=parameters_der(params),
        signature=bytes(info["signature"].native),
    )
