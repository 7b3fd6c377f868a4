"""EF.SOD, the Document Security Object (ICAO 9303-10 §4.6.2, 9303-11 §9 / RFC 5652).

EF.SOD is tag '77' wrapping a CMS ``ContentInfo`` whose ``SignedData`` encapsulates an
``LDSSecurityObject`` (9303-10 Appendix D): a hash algorithm and one hash per data group.
The SignedData is read by ``reader.lds.cms`` (the one CMS reader, shared with master lists),
which keeps every byte passive authentication needs exactly as the card stored it; this
module adds the tag '77' wrapper and the LDS security object. Checking the signer is
``verify.cms``, called by passive authentication.

Tolerated, because real documents do it: BER indefinite lengths, the legacy eContentType OIDs
of early issuers, issuerAndSerialNumber or subjectKeyIdentifier as ``sid``, and bytes after
the structure (flagged in ``SOD.trailing_bytes``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from asn1crypto import algos, core, parser

from reader import oids
from reader.errors import ParseError
from reader.lds.cms import MAX_CERTIFICATES as MAX_CERTIFICATES
from reader.lds.cms import MAX_SIGNER_INFOS as MAX_SIGNER_INFOS
from reader.lds.cms import SignedData as SignedData
from reader.lds.cms import SignerInfo as SignerInfo  # EF.SOD's SignerInfo is CMS's
from reader.lds.cms import parse_signed_data
from reader.oids import HASH_NAMES as HASH_NAMES  # the hash OIDs live in reader.oids
from reader.oids import HASH_OIDS as HASH_OIDS

FILE = "SOD"
MAX_SOD_BYTES = 1 << 20
MAX_DATA_GROUP_HASHES = 16
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
    signed_data: SignedData = field(repr=False)  # the CMS these fields come from

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
    signed = parse_signed_data(
        contents[:ci_len],
        offset=len(header),
        max_certificates=MAX_CERTIFICATES,
        max_signer_infos=MAX_SIGNER_INFOS,
    )
    econtent_type = signed.econtent_type
    if econtent_type in LEGACY_ECONTENT_TYPES:
        warnings.append(
            f"legacy eContentType {econtent_type} ({LEGACY_ECONTENT_TYPES[econtent_type]})"
        )
    elif econtent_type != OID_LDS_SECURITY_OBJECT:
        warnings.append(f"unexpected eContentType {econtent_type}")
    warnings.extend(signed.warnings)
    econtent = signed.econtent

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

    return SOD(
        raw=raw,
        signed_data_version=signed.version,
        digest_algorithms=signed.digest_algorithms,
        econtent_type=econtent_type,
        econtent=econtent,
        lds_security_object_version=lso_version,
        lds_version=lds_version,
        unicode_version=unicode_version,
        hash_algorithm=hash_oid,
        hash_name=HASH_NAMES.get(hash_oid),
        data_group_hashes=hashes,
        certificates=signed.certificates,
        signer_infos=signed.signer_infos,
        trailing_bytes=trailing,
        warnings=tuple(warnings),
        anomalies=signed.anomalies,
        signed_data=signed,
    )
