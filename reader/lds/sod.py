"""EF.SOD, the Document Security Object (ICAO 9303-10 §4.6.2, 9303-11 §9 / RFC 5652).

EF.SOD is tag '77' wrapping a CMS ``ContentInfo`` whose ``SignedData`` encapsulates an
``LDSSecurityObject`` (9303-10 Appendix D): a hash algorithm and one hash per data group.
Parsing keeps every byte passive authentication needs exactly as the card stored it: the
eContent octets (the messageDigest is computed over them), the signed attributes re-tagged as
``SET OF`` (RFC 5652 §5.4: the signature covers that encoding, not the ``[0]`` one), the
signature algorithm with its parameters, and the embedded certificates as DER.

Tolerated, because real documents do it: BER indefinite lengths, the legacy eContentType OIDs
of early issuers, issuerAndSerialNumber or subjectKeyIdentifier as ``sid``, and bytes after
the structure (flagged in ``SOD.trailing_bytes``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from asn1crypto import algos, cms, core, parser

from reader import oids
from reader.errors import ParseError
from reader.oids import HASH_NAMES as HASH_NAMES  # the hash OIDs live in reader.oids
from reader.oids import HASH_OIDS as HASH_OIDS

FILE = "SOD"
MAX_SOD_BYTES = 1 << 20
MAX_DATA_GROUP_HASHES = 16
MAX_CERTIFICATES = 16
MAX_SIGNER_INFOS = 8
SOD_TAG = 0x77

# The OIDs live in reader.oids; these names are kept for the modules that import them here.
OID_LDS_SECURITY_OBJECT = oids.ID_LDS_SECURITY_OBJECT
LEGACY_ECONTENT_TYPES = oids.LEGACY_ECONTENT_TYPES
OID_CONTENT_TYPE = oids.ID_CONTENT_TYPE
OID_MESSAGE_DIGEST = oids.ID_MESSAGE_DIGEST
OID_SIGNING_TIME = oids.ID_SIGNING_TIME


class LDSVersionInfo(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[Any]] = [
        ("lds_version", core.PrintableString),
        ("unicode_version", core.PrintableString),
    ]


class DataGroupHash(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[Any]] = [
        ("data_group_number", core.Integer),
        ("data_group_hash_value", core.OctetString),
    ]


class DataGroupHashes(core.SequenceOf):  # type: ignore[misc]
    _child_spec = DataGroupHash


class LDSSecurityObject(core.Sequence):  # type: ignore[misc]
    """ICAO 9303-10 Appendix D.1; ``lds_version_info`` only in version 1."""

    _fields: ClassVar[list[Any]] = [
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashes),
        ("lds_version_info", LDSVersionInfo, {"optional": True}),
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignerInfo:
    """One CMS SignerInfo, with the signed attributes as the bytes the signature covers."""

    version: int
    sid_kind: Literal["issuer_and_serial_number", "subject_key_identifier"]
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
class SOD:
    """A parsed EF.SOD; ``raw`` is the file exactly as read."""

    raw: bytes
    signed_data_version: int
    digest_algorithms: tuple[str, ...]
    econtent_type: str  # dotted OID
    econtent: bytes  # the LDSSecurityObject octets the messageDigest covers
    lds_security_object_version: int
    lds_version: str | None  # LDSVersionInfo (version 1 objects), e.g. "0108"
    unicode_version: str | None
    hash_algorithm: str  # dotted OID
    hash_name: str | None  # "sha256" ... or None when unknown
    data_group_hashes: dict[int, bytes]
    certificates: tuple[bytes, ...]  # DER, in the order stored
    signer_infos: tuple[SignerInfo, ...]
    trailing_bytes: int = 0
    warnings: tuple[str, ...] = field(default=())
    # Deviations from RFC 5652 / ICAO 9303 in fields the signature does not cover (versions,
    # digestAlgorithms, algorithm parameters). Tolerable in practice, but a verifier that
    # wants every byte of the SOD accounted for treats them as malformed.
    anomalies: tuple[str, ...] = field(default=())

    @property
    def signer_info(self) -> SignerInfo:
        return self.signer_infos[0]


def parse_sod(raw: bytes) -> SOD:
    """Parse EF.SOD; raises ``ParseError(file="SOD")`` on anything that is not one."""
    raw = bytes(raw)
    try:
        return _parse(raw)
    except ParseError as exc:
        raise exc.in_file(FILE) from None
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError) as exc:
        # asn1crypto parses lazily and reports structural problems as these on access.
        raise ParseError(f"EF.SOD does not parse: {_short(exc)}", file=FILE) from None


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first[:160]


def _parse(raw: bytes) -> SOD:
    if not raw:
        raise ParseError("EF.SOD is empty", offset=0)
    if len(raw) > MAX_SOD_BYTES:
        raise ParseError(f"EF.SOD longer than {MAX_SOD_BYTES} bytes", offset=0)
    warnings: list[str] = []
    cls, method, tag, header, contents, trailer = parser.parse(raw, strict=False)
    if (cls, method, tag) != (1, 1, 23):
        raise ParseError(f"EF.SOD must start with tag 77, found {raw[0]:02X}", offset=0)
    trailing = len(raw) - (len(header) + len(contents) + len(trailer))
    if trailing:
        warnings.append(f"{trailing} trailing bytes after EF.SOD")
    if trailer:
        warnings.append("BER indefinite length encoding")

    ci_parts = parser.parse(contents, strict=False)
    ci_len = len(ci_parts[3]) + len(ci_parts[4]) + len(ci_parts[5])
    if ci_len != len(contents):
        trailing += len(contents) - ci_len
        warnings.append(f"{len(contents) - ci_len} bytes after ContentInfo inside tag 77")
    content_info = cms.ContentInfo.load(contents[:ci_len], strict=False)
    content_type = content_info["content_type"].dotted
    if content_type != oids.ID_SIGNED_DATA:
        raise ParseError(f"ContentInfo is {content_type}, not signedData", offset=len(header))
    signed = content_info["content"]
    if not isinstance(signed, cms.SignedData):
        raise ParseError("ContentInfo content is not SignedData", offset=len(header))

    digest_algorithms = tuple(alg["algorithm"].dotted for alg in signed["digest_algorithms"])
    encap = signed["encap_content_info"]
    econtent_type = encap["content_type"].dotted
    if econtent_type in LEGACY_ECONTENT_TYPES:
        warnings.append(
            f"legacy eContentType {econtent_type} ({LEGACY_ECONTENT_TYPES[econtent_type]})"
        )
    elif econtent_type != OID_LDS_SECURITY_OBJECT:
        warnings.append(f"unexpected eContentType {econtent_type}")
    econtent_value = encap["content"]
    if econtent_value is None or isinstance(econtent_value, core.Void):
        raise ParseError("SignedData has no eContent (detached signature)")
    econtent = _octets(econtent_value)

    lso = LDSSecurityObject.load(econtent, strict=True)
    lso_version = int(lso["version"].native)
    if lso_version not in (0, 1):
        warnings.append(f"LDSSecurityObject version {lso_version}")
    hash_oid = lso["hash_algorithm"]["algorithm"].dotted
    hashes: dict[int, bytes] = {}
    entries = lso["data_group_hash_values"]
    if len(entries) > MAX_DATA_GROUP_HASHES:
        raise ParseError(f"more than {MAX_DATA_GROUP_HASHES} data group hashes")
    for entry in entries:
        number = int(entry["data_group_number"].native)
        if not 1 <= number <= 16:
            raise ParseError(f"data group number {number} out of range 1..16")
        if number in hashes:
            raise ParseError(f"data group {number} hashed twice")
        hashes[number] = bytes(entry["data_group_hash_value"].native)
    lds_version = unicode_version = None
    if isinstance(lso["lds_version_info"], LDSVersionInfo):
        lds_version = str(lso["lds_version_info"]["lds_version"].native)
        unicode_version = str(lso["lds_version_info"]["unicode_version"].native)

    certificates: list[bytes] = []
    cert_set = signed["certificates"]
    if isinstance(cert_set, cms.CertificateSet):
        if len(cert_set) > MAX_CERTIFICATES:
            raise ParseError(f"more than {MAX_CERTIFICATES} certificates")
        for choice in cert_set:
            if choice.name == "certificate":
                certificates.append(choice.chosen.dump())
            else:
                warnings.append(f"ignored certificate choice {choice.name}")

    infos = signed["signer_infos"]
    if len(infos) == 0:
        raise ParseError("SignedData has no SignerInfo")
    if len(infos) > MAX_SIGNER_INFOS:
        raise ParseError(f"more than {MAX_SIGNER_INFOS} SignerInfos")
    signer_infos = tuple(_signer_info(info) for info in infos)
    anomalies = _anomalies(signed, signer_infos)

    return SOD(
        raw=raw,
        signed_data_version=int(signed["version"].native[1:])
        if isinstance(signed["version"].native, str)
        else int(signed["version"].native),
        digest_algorithms=digest_algorithms,
        econtent_type=econtent_type,
        econtent=econtent,
        lds_security_object_version=lso_version,
        lds_version=lds_version,
        unicode_version=unicode_version,
        hash_algorithm=hash_oid,
        hash_name=HASH_NAMES.get(hash_oid),
        data_group_hashes=hashes,
        certificates=tuple(certificates),
        signer_infos=signer_infos,
        trailing_bytes=trailing,
        warnings=tuple(warnings),
        anomalies=anomalies,
    )


def _is_absent_or_null(params: Any) -> bool:
    return params is None or isinstance(params, core.Void | core.Null)


def _anomalies(signed: cms.SignedData, infos: tuple[SignerInfo, ...]) -> tuple[str, ...]:
    found: list[str] = []
    version = signed["version"].native
    if version != "v3":
        found.append(f"SignedData version {version}, RFC 5652 requires v3 here")
    listed: list[str] = []
    for algorithm in signed["digest_algorithms"]:
        listed.append(algorithm["algorithm"].dotted)
        if not _is_absent_or_null(algorithm["parameters"]):
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


def _signer_info(info: cms.SignerInfo) -> SignerInfo:
    sid = info["sid"]
    issuer = serial = ski = None
    sid_kind: Literal["issuer_and_serial_number", "subject_key_identifier"]
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
        # RFC 5652 §5.4: the signature is over the DER of SET OF Attribute, i.e. the [0]
        # IMPLICIT contents under the universal SET tag. The card's bytes are kept verbatim.
        signed_attrs_der = _tag_as_set(attrs.contents)
        seen: set[str] = set()
        for attr in attrs:
            oid = attr["type"].dotted
            if oid in seen and oid in (OID_CONTENT_TYPE, OID_MESSAGE_DIGEST, OID_SIGNING_TIME):
                raise ParseError(f"signed attribute {oid} appears twice")
            seen.add(oid)
            values = attr["values"]
            if len(values) != 1:
                continue
            if oid == OID_CONTENT_TYPE:
                content_type = core.ObjectIdentifier.load(values[0].dump()).dotted
            elif oid == OID_MESSAGE_DIGEST:
                message_digest = bytes(core.OctetString.load(values[0].dump()).native)
            elif oid == OID_SIGNING_TIME:
                signing_time = cms.Time.load(values[0].dump()).native

    sig_alg = info["signature_algorithm"]
    params = sig_alg["parameters"]
    params_der = None
    if params is not None and not isinstance(params, core.Void | core.Null):
        params_der = params.dump()
    version = info["version"].native
    return SignerInfo(
        version=int(version[1:]) if isinstance(version, str) else int(version),
        sid_kind=sid_kind,
        issuer=issuer,
        serial_number=serial,
        subject_key_identifier=ski,
        digest_algorithm=digest_oid,
        digest_name=HASH_NAMES.get(digest_oid),
        digest_parameters=(
            None if _is_absent_or_null(digest_params) else bytes(digest_params.dump())
        ),
        signed_attrs=signed_attrs_der,
        content_type=content_type,
        message_digest=message_digest,
        signing_time=signing_time,
        signature_algorithm=sig_alg["algorithm"].dotted,
        signature_parameters=params_der,
        signature=bytes(info["signature"].native),
    )


def _tag_as_set(contents: bytes) -> bytes:
    length = len(contents)
    if length < 0x80:
        header = bytes([0x31, length])
    else:
        size = (length.bit_length() + 7) // 8
        header = bytes([0x31, 0x80 | size]) + length.to_bytes(size, "big")
    return header + contents
