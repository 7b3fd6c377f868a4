"""SecurityInfos of EF.CardAccess and DG14 (ICAO 9303-11 §9.2 and §9.5; BSI TR-03110-3 A.1):
the records (PACEInfo, ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo,
ActiveAuthenticationInfo, ...), their parser and the deterministic choice of the PACE and CA
options (:meth:`SecurityInfos.best_pace`, :meth:`SecurityInfos.best_chip_authentication`).

Parsed with ``reader.tlv`` and the bounded readers of ``reader.lds.der``, so every length is
checked before use. Unknown or malformed SecurityInfos are kept (as
:class:`UnknownSecurityInfo`) and ignored: an odd TA entry must not stop PACE. The keys are
read by ``reader.lds.public_key``.

The tables this module once held live each in one place: the protocol OIDs in
``reader.oids``, the standardized domain parameters in ``reader.domain_parameters``, the
curves in ``reader.curves``. Their names stay importable from here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from reader import tlv
from reader.domain_parameters import (
    CURVE_NAMES,
    STANDARD_DOMAIN_PARAMETERS,
    StandardDomainParameters,
)
from reader.errors import ParseError
from reader.lds.der import decode_oid, encode_oid, expect_sequence, read_int, read_oid
from reader.lds.outer import open_file
from reader.lds.public_key import (
    DHDomain,
    ECDomain,
    PublicKeyInfo,
    match_named_curve,
    parse_public_key_info,
)
from reader.oids import (
    BSI_DE,
    CA_BY_NAME,
    CA_PROTOCOLS,
    ID_AA,
    ID_CA,
    ID_CA_DH,
    ID_CA_ECDH,
    ID_DH_KEY_AGREEMENT,
    ID_DH_PUBLIC_NUMBER,
    ID_EC_PUBLIC_KEY,
    ID_PACE,
    ID_PK_DH,
    ID_PK_ECDH,
    ID_PRIME_FIELD,
    ID_RSA_ENCRYPTION,
    ID_TA,
    PACE_BY_NAME,
    PACE_DOMAIN_PARAMETER_OIDS,
    PACE_PROTOCOLS,
    SIGNATURE_ALGORITHMS,
    SIGNATURE_OIDS,
    CAProtocol,
    CipherName,
    KeyAgreement,
    Mapping,
    PACEProtocol,
)

_MAX_INFOS = 64

# ---------------------------------------------------------------------------------------------
# SecurityInfo records


@dataclass(frozen=True, slots=True, kw_only=True)
class PACEInfo:
    raw: bytes
    oid: str
    version: int
    parameter_id: int | None

    @property
    def protocol(self) -> PACEProtocol | None:
        return PACE_PROTOCOLS.get(self.oid)

    @property
    def standard_parameters(self) -> StandardDomainParameters | None:
        if self.parameter_id is None:
            return None
        return STANDARD_DOMAIN_PARAMETERS.get(self.parameter_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlgorithmIdentifier:
    oid: str
    parameters: bytes | None  # DER of the parameters element


@dataclass(frozen=True, slots=True, kw_only=True)
class PACEDomainParameterInfo:
    raw: bytes
    oid: str
    domain_parameter: AlgorithmIdentifier
    parameter_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChipAuthenticationInfo:
    raw: bytes
    oid: str
    version: int
    key_id: int | None

    @property
    def protocol(self) -> CAProtocol | None:
        return CA_PROTOCOLS.get(self.oid)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChipAuthenticationDomainParameterInfo:
    raw: bytes
    oid: str
    domain_parameter: AlgorithmIdentifier
    key_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChipAuthenticationPublicKeyInfo:
    raw: bytes
    oid: str  # id-PK-DH or id-PK-ECDH
    public_key: PublicKeyInfo
    key_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveAuthenticationInfo:
    raw: bytes
    oid: str
    version: int
    signature_algorithm: str  # OID

    @property
    def signature_algorithm_name(self) -> str | None:
        return SIGNATURE_ALGORITHMS.get(self.signature_algorithm)


@dataclass(frozen=True, slots=True, kw_only=True)
class TerminalAuthenticationInfo:
    raw: bytes
    oid: str
    version: int
    ef_cvca: bytes | None  # the FileID element, when present


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownSecurityInfo:
    """An entry we do not know, or a known one that does not parse (``problem`` says why)."""

    raw: bytes
    oid: str | None
    problem: str | None = None


SecurityInfo = (
    PACEInfo
    | PACEDomainParameterInfo
    | ChipAuthenticationInfo
    | ChipAuthenticationDomainParameterInfo
    | ChipAuthenticationPublicKeyInfo
    | ActiveAuthenticationInfo
    | TerminalAuthenticationInfo
    | UnknownSecurityInfo
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChipAuthenticationOption:
    """A CA protocol with the public key it uses; ``info`` is None when only the key is given
    (CA version 1 with 3DES implied, TR-03110-3 A.1.1.2)."""

    protocol: CAProtocol
    info: ChipAuthenticationInfo | None
    public_key_info: ChipAuthenticationPublicKeyInfo

    @property
    def key_id(self) -> int | None:
        return self.public_key_info.key_id


_MAPPING_RANK = {"GM": 2, "IM": 1, "CAM": 0}


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityInfos:
    raw: bytes
    infos: tuple[SecurityInfo, ...]

    def of_type(self, kind: type) -> list[SecurityInfo]:
        return [info for info in self.infos if isinstance(info, kind)]

    @property
    def pace_infos(self) -> tuple[PACEInfo, ...]:
        return tuple(i for i in self.infos if isinstance(i, PACEInfo))

    @property
    def chip_authentication_infos(self) -> tuple[ChipAuthenticationInfo, ...]:
        return tuple(i for i in self.infos if isinstance(i, ChipAuthenticationInfo))

    @property
    def chip_authentication_public_keys(self) -> tuple[ChipAuthenticationPublicKeyInfo, ...]:
        return tuple(i for i in self.infos if isinstance(i, ChipAuthenticationPublicKeyInfo))

    @property
    def active_authentication_info(self) -> ActiveAuthenticationInfo | None:
        return next((i for i in self.infos if isinstance(i, ActiveAuthenticationInfo)), None)

    @property
    def terminal_authentication_info(self) -> TerminalAuthenticationInfo | None:
        return next((i for i in self.infos if isinstance(i, TerminalAuthenticationInfo)), None)

    @property
    def unknown(self) -> tuple[UnknownSecurityInfo, ...]:
        return tuple(i for i in self.infos if isinstance(i, UnknownSecurityInfo))

    @property
    def pace_entries(self) -> tuple[SecurityInfo, ...]:
        """Every entry under id-PACE (0.4.0.127.0.7.2.2.4.*), understood or not: a card that
        lists one offers PACE, even when this reader cannot run what it offers."""
        return tuple(i for i in self.infos if i.oid is not None and i.oid.startswith(ID_PACE + "."))

    @property
    def pace_offered(self) -> bool:
        return bool(self.pace_entries)

    def describe_pace_entries(self) -> str:
        """The id-PACE entries as a sentence for an error message or a fallback reason."""
        parts = []
        for info in self.pace_entries:
            if isinstance(info, PACEInfo):
                protocol = info.protocol
                name = protocol.name if protocol is not None else "unknown protocol"
                parts.append(
                    f"{info.oid} ({name}, version {info.version}, parameter id {info.parameter_id})"
                )
            elif isinstance(info, PACEDomainParameterInfo):
                parts.append(f"{info.oid} (PACEDomainParameterInfo)")
            else:
                problem = getattr(info, "problem", None) or "not a PACE protocol we know"
                parts.append(f"{info.oid} ({problem})")
        return "; ".join(parts) or "none"

    def best_pace(self, supported: Collection[str] | None = None) -> PACEInfo | None:
        """The PACE option to run, or None.

        Candidates are PACEInfos with a known OID (and in ``supported``, OIDs or names, when
        given) whose parameter id is standardized or described by a PACEDomainParameterInfo.
        Ranked: version 2 first, ECDH over DH, Generic over Integrated over Chip Authentication
        Mapping (GM is what every chip and reader implements), AES over 3DES, longer keys,
        then the order in the file. The same file always gives the same choice.
        """
        described = {i.parameter_id for i in self.infos if isinstance(i, PACEDomainParameterInfo)}
        candidates: list[tuple[tuple[int, ...], PACEInfo]] = []
        for index, info in enumerate(self.pace_infos):
            protocol = info.protocol
            if protocol is None:
                continue
            if supported is not None and not (info.oid in supported or protocol.name in supported):
                continue
            if info.standard_parameters is None and info.parameter_id not in described:
                continue
            rank = (
                int(info.version == 2),
                int(protocol.key_agreement == "ECDH"),
                _MAPPING_RANK[protocol.mapping],
                int(protocol.cipher == "AES"),
                protocol.key_length,
                -index,
            )
            candidates.append((rank, info))
        if not candidates:
            return None
        return max(candidates, key=lambda item: item[0])[1]

    def chip_authentication_options(self) -> list[ChipAuthenticationOption]:
        """Every usable (protocol, public key) pair, best first (ECDH, AES, longer keys)."""
        keys = self.chip_authentication_public_keys
        options: list[tuple[tuple[int, ...], ChipAuthenticationOption]] = []
        for index, info in enumerate(self.chip_authentication_infos):
            protocol = info.protocol
            if protocol is None:
                continue
            wanted = ID_PK_ECDH if protocol.key_agreement == "ECDH" else ID_PK_DH
            for key in keys:
                if key.oid != wanted:
                    continue
                if info.key_id is not None and key.key_id is not None and key.key_id != info.key_id:
                    continue
                if info.key_id is None and len(keys) > 1 and key.key_id is not None:
                    continue  # several keys need key ids to pair (TR-03110-3 A.1.1.2)
                rank = (
                    int(protocol.key_agreement == "ECDH"),
                    int(protocol.cipher == "AES"),
                    protocol.key_length,
                    -index,
                )
                options.append(
                    (
                        rank,
                        ChipAuthenticationOption(protocol=protocol, info=info, public_key_info=key),
                    )
                )
        if not options:
            for index, key in enumerate(keys):
                implied = f"{ID_CA_ECDH if key.oid == ID_PK_ECDH else ID_CA_DH}.1"
                protocol = CA_PROTOCOLS[implied]
                rank = (int(protocol.key_agreement == "ECDH"), 0, 0, -index)
                options.append(
                    (
                        rank,
                        ChipAuthenticationOption(protocol=protocol, info=None, public_key_info=key),
                    )
                )
        options.sort(key=lambda item: item[0], reverse=True)
        return [option for _, option in options]

    def best_chip_authentication(self) -> ChipAuthenticationOption | None:
        options = self.chip_authentication_options()
        return options[0] if options else None


# ---------------------------------------------------------------------------------------------
# parsing


def _optional_int(kids: tuple[tlv.TLV, ...], index: int, file: str | None) -> int | None:
    if len(kids) <= index:
        return None
    return read_int(kids[index], file)


def _algorithm_identifier(element: tlv.TLV, file: str | None) -> AlgorithmIdentifier:
    expect_sequence(element, file, "AlgorithmIdentifier")
    if not element.children:
        raise ParseError("empty AlgorithmIdentifier", offset=element.offset, file=file)
    params = element.children[1].raw if len(element.children) > 1 else None
    return AlgorithmIdentifier(oid=read_oid(element.children[0], file), parameters=params)


def _security_info(element: tlv.TLV, file: str | None) -> SecurityInfo:
    if element.tag != 0x30 or not element.children or element.children[0].tag != 0x06:
        return UnknownSecurityInfo(raw=element.raw, oid=None, problem="not a SecurityInfo")
    oid = read_oid(element.children[0], file)
    kids = element.children
    try:
        if oid in PACE_PROTOCOLS:
            return PACEInfo(
                raw=element.raw,
                oid=oid,
                version=read_int(kids[1], file),
                parameter_id=_optional_int(kids, 2, file),
            )
        if oid in PACE_DOMAIN_PARAMETER_OIDS:
            return PACEDomainParameterInfo(
                raw=element.raw,
                oid=oid,
                domain_parameter=_algorithm_identifier(kids[1], file),
                parameter_id=_optional_int(kids, 2, file),
            )
        if oid in CA_PROTOCOLS:
            return ChipAuthenticationInfo(
                raw=element.raw,
                oid=oid,
                version=read_int(kids[1], file),
                key_id=_optional_int(kids, 2, file),
            )
        if oid in (ID_CA_DH, ID_CA_ECDH):
            return ChipAuthenticationDomainParameterInfo(
                raw=element.raw,
                oid=oid,
                domain_parameter=_algorithm_identifier(kids[1], file),
                key_id=_optional_int(kids, 2, file),
            )
        if oid in (ID_PK_DH, ID_PK_ECDH):
            return ChipAuthenticationPublicKeyInfo(
                raw=element.raw,
                oid=oid,
                public_key=parse_public_key_info(kids[1].raw, file=file, offset=kids[1].offset),
                key_id=_optional_int(kids, 2, file),
            )
        if oid == ID_AA:
            return ActiveAuthenticationInfo(
                raw=element.raw,
                oid=oid,
                version=read_int(kids[1], file),
                signature_algorithm=read_oid(kids[2], file),
            )
        if oid == ID_TA:
            return TerminalAuthenticationInfo(
                raw=element.raw,
                oid=oid,
                version=read_int(kids[1], file),
                ef_cvca=kids[2].raw if len(kids) > 2 else None,
            )
    except IndexError:
        return UnknownSecurityInfo(raw=element.raw, oid=oid, problem="required data missing")
    except ParseError as exc:
        return UnknownSecurityInfo(raw=element.raw, oid=oid, problem=exc.reason)
    return UnknownSecurityInfo(raw=element.raw, oid=oid)


def parse_security_infos(
    data: bytes, *, file: str | None = None, raw: bytes | None = None, base_offset: int = 0
) -> SecurityInfos:
    """Parse a DER ``SET OF SecurityInfo`` (the content of EF.CardAccess, or inside DG14)."""
    data = bytes(data)
    try:
        top = tlv.decode_one(data)
    except ParseError as exc:
        raise ParseError(exc.reason, offset=base_offset + (exc.offset or 0), file=file) from None
    if top.tag != 0x31:
        raise ParseError(
            f"SecurityInfos must be a SET (31), found {top.tag:X}", offset=base_offset, file=file
        )
    if len(top.children) > _MAX_INFOS:
        raise ParseError(f"more than {_MAX_INFOS} SecurityInfos", offset=base_offset, file=file)
    infos = tuple(_security_info(child, file) for child in top.children)
    return SecurityInfos(raw=data if raw is None else raw, infos=infos)


def parse_card_access(raw: bytes) -> SecurityInfos:
    """Parse EF.CardAccess (a bare SET OF SecurityInfo, 9303-11 §9.2.1)."""
    return parse_security_infos(raw, file="CardAccess")


def parse_dg14(raw: bytes) -> SecurityInfos:
    """Parse DG14 (tag 6E wrapping the SET OF SecurityInfo, 9303-10 §4.7.14)."""
    raw = bytes(raw)
    top = open_file(raw, 0x6E, "DG14")
    header = len(top.raw) - len(top.value)
    return parse_security_infos(top.value, file="DG14", raw=raw, base_offset=header)


__all__ = [
    "BSI_DE",
    "CA_BY_NAME",
    "CA_PROTOCOLS",
    "CURVE_NAMES",
    "ID_AA",
    "ID_CA",
    "ID_CA_DH",
    "ID_CA_ECDH",
    "ID_DH_KEY_AGREEMENT",
    "ID_DH_PUBLIC_NUMBER",
    "ID_EC_PUBLIC_KEY",
    "ID_PACE",
    "ID_PK_DH",
    "ID_PK_ECDH",
    "ID_PRIME_FIELD",
    "ID_RSA_ENCRYPTION",
    "ID_TA",
    "PACE_BY_NAME",
    "PACE_DOMAIN_PARAMETER_OIDS",
    "PACE_PROTOCOLS",
    "SIGNATURE_ALGORITHMS",
    "SIGNATURE_OIDS",
    "STANDARD_DOMAIN_PARAMETERS",
    "ActiveAuthenticationInfo",
    "AlgorithmIdentifier",
    "CAProtocol",
    "ChipAuthenticationDomainParameterInfo",
    "ChipAuthenticationInfo",
    "ChipAuthenticationOption",
    "ChipAuthenticationPublicKeyInfo",
    "CipherName",
    "DHDomain",
    "ECDomain",
    "KeyAgreement",
    "Mapping",
    "PACEDomainParameterInfo",
    "PACEInfo",
    "PACEProtocol",
    "PublicKeyInfo",
    "SecurityInfo",
    "SecurityInfos",
    "StandardDomainParameters",
    "TerminalAuthenticationInfo",
    "UnknownSecurityInfo",
    "decode_oid",
    "encode_oid",
    "match_named_curve",
    "parse_card_access",
    "parse_dg14",
    "parse_public_key_info",
    "parse_security_infos",
]
