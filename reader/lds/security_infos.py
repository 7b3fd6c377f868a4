"""SecurityInfos of EF.CardAccess and DG14 (ICAO 9303-11 §9.2 and §9.5; BSI TR-03110-3 A.1),
the OID tables of PACE and Chip Authentication, the standardized domain parameters
(9303-11 §9.5.1) and SubjectPublicKeyInfo (RFC 5280 §4.1.2.7, RFC 3279, RFC 5480) for the
chip authentication key (DG14) and the active authentication key (DG15, 9303-11 §6.1).

Parsed with ``reader.tlv`` so every length is checked before use. Unknown or malformed
SecurityInfos are kept (as :class:`UnknownSecurityInfo`) and ignored: an odd TA entry must not
stop PACE. The choice of the PACE and CA options is deterministic
(:meth:`SecurityInfos.best_pace`, :meth:`SecurityInfos.best_chip_authentication`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from reader import curves, tlv
from reader.errors import ParseError
from reader.lds.outer import open_file
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
    Cipher,
    KeyAgreement,
    Mapping,
    PACEProtocol,
)

# ---------------------------------------------------------------------------------------------
# OID tables: in reader.oids, re-exported here for the modules and tests that import them here


@dataclass(frozen=True, slots=True, kw_only=True)
class StandardDomainParameters:
    """A standardized domain parameter id (9303-11 §9.5.1, table of §9.5.1)."""

    parameter_id: int
    name: str
    kind: Literal["GFP", "ECP"]
    bits: int  # modulus / field size
    curve_oid: str | None = None  # for ECP
    subgroup_bits: int | None = None  # for GFP (RFC 5114)


def _standard_params() -> dict[int, StandardDomainParameters]:
    gfp = (
        (0, "1024-bit MODP Group with 160-bit Prime Order Subgroup", 1024, 160),
        (1, "2048-bit MODP Group with 224-bit Prime Order Subgroup", 2048, 224),
        (2, "2048-bit MODP Group with 256-bit Prime Order Subgroup", 2048, 256),
    )
    table = {
        pid: StandardDomainParameters(
            parameter_id=pid, name=name, kind="GFP", bits=bits, subgroup_bits=sub
        )
        for pid, name, bits, sub in gfp
    }
    for pid, curve in curves.BY_PARAMETER_ID.items():
        table[pid] = StandardDomainParameters(
            parameter_id=pid,
            name=curve.name,
            kind="ECP",
            bits=curve.field_bits,
            curve_oid=curve.oid,
        )
    return dict(sorted(table.items()))


STANDARD_DOMAIN_PARAMETERS: dict[int, StandardDomainParameters] = _standard_params()
CURVE_NAMES: dict[str, str] = {curve.oid: curve.name for curve in curves.CURVES}

# ---------------------------------------------------------------------------------------------
# small DER helpers (bounded)

_MAX_INT_BYTES = 1100  # an 8192-bit modulus plus slack
_MAX_OID_BYTES = 64
_MAX_INFOS = 64


def decode_oid(data: bytes, offset: int = 0, file: str | None = None) -> str:
    """The dotted form of an OBJECT IDENTIFIER value (X.690 §8.19)."""
    if not data or len(data) > _MAX_OID_BYTES:
        raise ParseError(f"OID of {len(data)} bytes", offset=offset, file=file)
    if data[-1] & 0x80:
        raise ParseError("OID cut short", offset=offset, file=file)
    arcs: list[int] = []
    value = 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in head + arcs[1:])


def encode_oid(dotted: str) -> bytes:
    """The value bytes of an OBJECT IDENTIFIER (no tag and length)."""
    arcs = [int(part) for part in dotted.split(".")]
    numbers = [arcs[0] * 40 + arcs[1], *arcs[2:]]
    out = bytearray()
    for number in numbers:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def _int(element: tlv.TLV, file: str | None) -> int:
    if element.tag != 0x02:
        raise ParseError(
            f"INTEGER expected, found tag {element.tag:X}", offset=element.offset, file=file
        )
    if not element.value or len(element.value) > _MAX_INT_BYTES:
        raise ParseError(f"INTEGER of {len(element.value)} bytes", offset=element.offset, file=file)
    return int.from_bytes(element.value, "big", signed=True)


def _oid(element: tlv.TLV, file: str | None) -> str:
    if element.tag != 0x06:
        raise ParseError(
            f"OID expected, found tag {element.tag:X}", offset=element.offset, file=file
        )
    return decode_oid(element.value, element.offset, file)


def _seq(element: tlv.TLV, file: str | None, what: str) -> tlv.TLV:
    if element.tag != 0x30:
        raise ParseError(
            f"{what}: SEQUENCE expected, found tag {element.tag:X}",
            offset=element.offset,
            file=file,
        )
    return element


# ---------------------------------------------------------------------------------------------
# SubjectPublicKeyInfo


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


def _named_domain(curve_oid: str) -> ECDomain | None:
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


def _ec_explicit(params: tlv.TLV, file: str | None) -> ECDomain:
    kids = params.children
    if len(kids) < 5:
        raise ParseError("ECParameters too short", offset=params.offset, file=file)
    field_id = _seq(kids[1], file, "fieldID")
    if len(field_id.children) < 2 or _oid(field_id.children[0], file) != ID_PRIME_FIELD:
        raise ParseError("only prime-field curves are supported", offset=field_id.offset, file=file)
    p = _int(field_id.children[1], file)
    curve = _seq(kids[2], file, "curve")
    if len(curve.children) < 2 or any(c.tag != 0x04 for c in curve.children[:2]):
        raise ParseError("curve coefficients must be OCTET STRINGs", offset=curve.offset, file=file)
    if kids[3].tag != 0x04:
        raise ParseError("base point must be an OCTET STRING", offset=kids[3].offset, file=file)
    return ECDomain(
        p=p,
        a=int.from_bytes(curve.children[0].value, "big"),
        b=int.from_bytes(curve.children[1].value, "big"),
        generator=kids[3].value,
        order=_int(kids[4], file),
        cofactor=_int(kids[5], file) if len(kids) > 5 else None,
    )


def parse_public_key_info(der: bytes, *, file: str | None = None, offset: int = 0) -> PublicKeyInfo:
    """Parse a SubjectPublicKeyInfo (RSA, EC named/explicit, DH)."""
    try:
        top = tlv.decode_one(der)
    except ParseError as exc:
        raise ParseError(exc.reason, offset=offset + (exc.offset or 0), file=file) from None
    return _public_key_info(top, file)


def _public_key_info(top: tlv.TLV, file: str | None) -> PublicKeyInfo:
    _seq(top, file, "SubjectPublicKeyInfo")
    if len(top.children) != 2:
        raise ParseError("SubjectPublicKeyInfo needs 2 elements", offset=top.offset, file=file)
    algorithm, bits = top.children
    _seq(algorithm, file, "AlgorithmIdentifier")
    if not algorithm.children:
        raise ParseError("empty AlgorithmIdentifier", offset=algorithm.offset, file=file)
    oid = _oid(algorithm.children[0], file)
    params = algorithm.children[1] if len(algorithm.children) > 1 else None
    if bits.tag != 0x03 or not bits.value or bits.value[0] != 0:
        raise ParseError(
            "public key must be a BIT STRING with no unused bits", offset=bits.offset, file=file
        )
    key = bits.value[1:]
    if oid == ID_RSA_ENCRYPTION:
        return _rsa(top, oid, key, bits.offset, file)
    if oid in (ID_EC_PUBLIC_KEY, ID_PK_ECDH):
        return _ec(top, oid, key, params, file)
    if oid in (ID_DH_PUBLIC_NUMBER, ID_DH_KEY_AGREEMENT, ID_PK_DH):
        return _dh(top, oid, key, params, bits.offset, file)
    return PublicKeyInfo(
        der=top.raw, algorithm_oid=oid, key_type="other", public_key=key, key_size=0
    )


def _rsa(top: tlv.TLV, oid: str, key: bytes, offset: int, file: str | None) -> PublicKeyInfo:
    try:
        seq = tlv.decode_one(key)
    except ParseError as exc:
        raise ParseError(f"RSAPublicKey: {exc.reason}", offset=offset, file=file) from None
    _seq(seq, file, "RSAPublicKey")
    if len(seq.children) != 2:
        raise ParseError("RSAPublicKey needs modulus and exponent", offset=offset, file=file)
    modulus, exponent = _int(seq.children[0], file), _int(seq.children[1], file)
    warnings: list[str] = []
    # Strict DER makes an INTEGER with its top bit set negative; some chips (JMRTD's BSI 2008
    # test passport, cards in the field) omit the leading zero of the modulus or exponent.
    # BouncyCastle-based readers take the unsigned value, and so do we, with a warning.
    if modulus < 0:
        modulus = int.from_bytes(seq.children[0].value, "big")
        warnings.append("RSA modulus encoded without its leading zero byte (read as unsigned)")
    if exponent < 0:
        exponent = int.from_bytes(seq.children[1].value, "big")
        warnings.append("RSA exponent encoded without its leading zero byte (read as unsigned)")
    if modulus <= 0 or exponent <= 0:
        raise ParseError("RSA modulus and exponent must be positive", offset=offset, file=file)
    return PublicKeyInfo(
        warnings=tuple(warnings),
        der=top.raw,
        algorithm_oid=oid,
        key_type="RSA",
        public_key=key,
        key_size=modulus.bit_length(),
        rsa_modulus=modulus,
        rsa_exponent=exponent,
    )


def _ec(
    top: tlv.TLV, oid: str, key: bytes, params: tlv.TLV | None, file: str | None
) -> PublicKeyInfo:
    if params is None or params.tag == 0x05:
        # implicitlyCA: the parameters come from elsewhere (e.g. the CSCA)
        return PublicKeyInfo(
            der=top.raw, algorithm_oid=oid, key_type="EC", public_key=key, key_size=0
        )
    if params.tag == 0x06:
        curve_oid = _oid(params, file)
        domain = _named_domain(curve_oid)
        return PublicKeyInfo(
            der=top.raw,
            algorithm_oid=oid,
            key_type="EC",
            public_key=key,
            key_size=domain.p.bit_length() if domain else 0,
            curve=CURVE_NAMES.get(curve_oid),
            curve_oid=curve_oid,
            ec_domain=domain,
        )
    domain = _ec_explicit(_seq(params, file, "ECParameters"), file)
    match = match_named_curve(domain)
    return PublicKeyInfo(
        der=top.raw,
        algorithm_oid=oid,
        key_type="EC",
        public_key=key,
        key_size=domain.p.bit_length(),
        curve=match[0] if match else None,
        curve_oid=match[1] if match else None,
        explicit_parameters=True,
        ec_domain=domain,
    )


def _dh(
    top: tlv.TLV, oid: str, key: bytes, params: tlv.TLV | None, offset: int, file: str | None
) -> PublicKeyInfo:
    domain = None
    if params is not None and params.tag == 0x30 and len(params.children) >= 2:
        kids = params.children
        q = _int(kids[2], file) if oid != ID_DH_KEY_AGREEMENT and len(kids) > 2 else None
        domain = DHDomain(p=_int(kids[0], file), g=_int(kids[1], file), q=q)
    try:
        value = _int(tlv.decode_one(key), file)
    except ParseError as exc:
        raise ParseError(f"DH public value: {exc.reason}", offset=offset, file=file) from None
    return PublicKeyInfo(
        der=top.raw,
        algorithm_oid=oid,
        key_type="DH",
        public_key=key,
        key_size=domain.p.bit_length() if domain else 0,
        dh_domain=domain,
        dh_public_value=value,
    )


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
    return _int(kids[index], file)


def _algorithm_identifier(element: tlv.TLV, file: str | None) -> AlgorithmIdentifier:
    _seq(element, file, "AlgorithmIdentifier")
    if not element.children:
        raise ParseError("empty AlgorithmIdentifier", offset=element.offset, file=file)
    params = element.children[1].raw if len(element.children) > 1 else None
    return AlgorithmIdentifier(oid=_oid(element.children[0], file), parameters=params)


def _security_info(element: tlv.TLV, file: str | None) -> SecurityInfo:
    if element.tag != 0x30 or not element.children or element.children[0].tag != 0x06:
        return UnknownSecurityInfo(raw=element.raw, oid=None, problem="not a SecurityInfo")
    oid = _oid(element.children[0], file)
    kids = element.children
    try:
        if oid in PACE_PROTOCOLS:
            return PACEInfo(
                raw=element.raw,
                oid=oid,
                version=_int(kids[1], file),
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
                version=_int(kids[1], file),
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
                public_key=_public_key_info(kids[1], file),
                key_id=_optional_int(kids, 2, file),
            )
        if oid == ID_AA:
            return ActiveAuthenticationInfo(
                raw=element.raw,
                oid=oid,
                version=_int(kids[1], file),
                signature_algorithm=_oid(kids[2], file),
            )
        if oid == ID_TA:
            return TerminalAuthenticationInfo(
                raw=element.raw,
                oid=oid,
                version=_int(kids[1], file),
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
    "Cipher",
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
