"""The object identifiers of the code base, once, with what each means: the PACE, Chip,
Terminal and Active Authentication protocols (ICAO 9303-11 §9.2, BSI TR-03110-3 A.1), the
public-key algorithms of SubjectPublicKeyInfo (RFC 3279, RFC 5480, X9.42, PKCS#3), the hash
algorithms (NIST CSOR, RFC 5754) and the signature algorithms of EF.SOD, certificates, master
lists and active authentication (RFC 4055, RFC 5758, BSI TR-03111 §5.2.1 ecdsa-plain).

Curve OIDs are in ``reader.curves``. See ``docs/architecture.md`` "One place per concern":
a module that needs an OID takes it from here rather than spell it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# ---------------------------------------------------------------------------------------------
# Protocols (9303-11 §9.2, TR-03110-3 A.1)

BSI_DE = "0.4.0.127.0.7"
ID_PK_DH = f"{BSI_DE}.2.2.1.1"
ID_PK_ECDH = f"{BSI_DE}.2.2.1.2"
ID_TA = f"{BSI_DE}.2.2.2"
ID_CA = f"{BSI_DE}.2.2.3"
ID_CA_DH = f"{ID_CA}.1"
ID_CA_ECDH = f"{ID_CA}.2"
ID_PACE = f"{BSI_DE}.2.2.4"
ID_AA = "2.23.136.1.1.5"

Mapping = Literal["GM", "IM", "CAM"]
KeyAgreement = Literal["DH", "ECDH"]
CipherName = Literal["3DES", "AES"]

_CIPHERS: dict[int, tuple[CipherName, int, str]] = {
    1: ("3DES", 16, "3DES-CBC-CBC"),
    2: ("AES", 16, "AES-CBC-CMAC-128"),
    3: ("AES", 24, "AES-CBC-CMAC-192"),
    4: ("AES", 32, "AES-CBC-CMAC-256"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PACEProtocol:
    """One PACE protocol OID and what it means (9303-11 §9.2.1 / §4.4.4)."""

    oid: str
    name: str  # e.g. "id-PACE-ECDH-GM-AES-CBC-CMAC-128"
    mapping: Mapping
    key_agreement: KeyAgreement
    cipher: CipherName
    key_length: int  # bytes of session key (3DES: two-key, 16)


@dataclass(frozen=True, slots=True, kw_only=True)
class CAProtocol:
    """One Chip Authentication protocol OID (9303-11 §9.2.5 / TR-03110-3 A.1.1.2)."""

    oid: str
    name: str
    key_agreement: KeyAgreement
    cipher: CipherName
    key_length: int


def _pace_table() -> dict[str, PACEProtocol]:
    table: dict[str, PACEProtocol] = {}
    kinds: tuple[tuple[int, KeyAgreement, Mapping], ...] = (
        (1, "DH", "GM"),
        (2, "ECDH", "GM"),
        (3, "DH", "IM"),
        (4, "ECDH", "IM"),
        (6, "ECDH", "CAM"),
    )
    for arc, agreement, mapping in kinds:
        for cipher_arc, (cipher, length, suffix) in _CIPHERS.items():
            if mapping == "CAM" and cipher == "3DES":
                continue  # CAM is defined with AES only
            oid = f"{ID_PACE}.{arc}.{cipher_arc}"
            table[oid] = PACEProtocol(
                oid=oid,
                name=f"id-PACE-{agreement}-{mapping}-{suffix}",
                mapping=mapping,
                key_agreement=agreement,
                cipher=cipher,
                key_length=length,
            )
    return table


def _ca_table() -> dict[str, CAProtocol]:
    table: dict[str, CAProtocol] = {}
    kinds: tuple[tuple[str, KeyAgreement], ...] = ((ID_CA_DH, "DH"), (ID_CA_ECDH, "ECDH"))
    for base, agreement in kinds:
        for cipher_arc, (cipher, length, suffix) in _CIPHERS.items():
            oid = f"{base}.{cipher_arc}"
            table[oid] = CAProtocol(
                oid=oid,
                name=f"id-CA-{agreement}-{suffix}",
                key_agreement=agreement,
                cipher=cipher,
                key_length=length,
            )
    return table


PACE_PROTOCOLS: dict[str, PACEProtocol] = _pace_table()
CA_PROTOCOLS: dict[str, CAProtocol] = _ca_table()
PACE_BY_NAME: dict[str, PACEProtocol] = {p.name: p for p in PACE_PROTOCOLS.values()}
CA_BY_NAME: dict[str, CAProtocol] = {p.name: p for p in CA_PROTOCOLS.values()}
# PACEDomainParameterInfo uses the bare mapping OIDs (id-PACE-ECDH-GM = ID_PACE.2, ...)
PACE_DOMAIN_PARAMETER_OIDS = frozenset(f"{ID_PACE}.{arc}" for arc in (1, 2, 3, 4, 6))

# ---------------------------------------------------------------------------------------------
# CMS (RFC 5652) and the ICAO PKI (9303-10 §4.6.2, 9303-12 §9)

ID_DATA = "1.2.840.113549.1.7.1"
ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
ID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
ID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
ID_SIGNING_TIME = "1.2.840.113549.1.9.5"
ID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
ID_CSCA_MASTER_LIST = "2.23.136.1.1.2"
ID_MASTER_LIST_SIGNER_EKU = "2.23.136.1.1.3"
# Pre-standard or generic eContentTypes of EF.SOD seen on early documents; accepted, but flagged.
LEGACY_ECONTENT_TYPES: dict[str, str] = {
    "1.2.528.1.1006.1.20.1": "legacy LDS security object OID (NL)",
    ID_DATA: "id-data",
}

# ---------------------------------------------------------------------------------------------
# Public-key algorithms (SubjectPublicKeyInfo.algorithm)

ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"  # RFC 5480 §2.1.1
ID_PRIME_FIELD = "1.2.840.10045.1.1"  # X9.62 prime-field FieldID
ID_RSA_ENCRYPTION = "1.2.840.113549.1.1.1"  # RFC 8017 A.1
ID_RSASSA_PSS = "1.2.840.113549.1.1.10"  # RFC 4055 §3.1 (also a key algorithm)
ID_MGF1 = "1.2.840.113549.1.1.8"
ID_DH_PUBLIC_NUMBER = "1.2.840.10046.2.1"  # X9.42 DomainParameters (p, g, q)
ID_DH_KEY_AGREEMENT = "1.2.840.113549.1.3.1"  # PKCS#3 DHParameter (p, g)

# ---------------------------------------------------------------------------------------------
# Hash algorithms

HASH_NAMES: dict[str, str] = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
HASH_OIDS: dict[str, str] = {name: oid for oid, name in HASH_NAMES.items()}
# ISO/IEC 10118-3 hash identifiers, as the ISO/IEC 9796-2 trailer 'xxCC' of an active
# authentication signature carries them (9303-11 §6.1.2): hash name -> identifier byte.
ISO9796_HASH_IDS: dict[str, int] = {
    "sha1": 0x33,
    "sha224": 0x38,
    "sha256": 0x34,
    "sha384": 0x36,
    "sha512": 0x35,
}

# ---------------------------------------------------------------------------------------------
# Signature algorithms


_SchemeKind = Literal["rsa_pkcs1", "rsa_pss", "ecdsa"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureScheme:
    """What a signature AlgorithmIdentifier's OID says.

    ``hash_name`` is None when the OID names no hash (rsaEncryption and id-ecPublicKey, used
    as signature OIDs by some issuers: the hash is the SignerInfo's digestAlgorithm; PSS: the
    hash is in the parameters). ``plain`` marks ECDSA with r||s signatures (TR-03111).
    """

    oid: str
    name: str
    kind: _SchemeKind
    hash_name: str | None
    plain: bool = False


# OID, name, kind, hash named by the OID, plain r||s
_SCHEME_TABLE: tuple[tuple[str, str, _SchemeKind, str | None, bool], ...] = (
    (ID_RSA_ENCRYPTION, "rsaEncryption", "rsa_pkcs1", None, False),
    ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption", "rsa_pkcs1", "sha1", False),
    ("1.2.840.113549.1.1.14", "sha224WithRSAEncryption", "rsa_pkcs1", "sha224", False),
    ("1.2.840.113549.1.1.11", "sha256WithRSAEncryption", "rsa_pkcs1", "sha256", False),
    ("1.2.840.113549.1.1.12", "sha384WithRSAEncryption", "rsa_pkcs1", "sha384", False),
    ("1.2.840.113549.1.1.13", "sha512WithRSAEncryption", "rsa_pkcs1", "sha512", False),
    (ID_RSASSA_PSS, "id-RSASSA-PSS", "rsa_pss", None, False),
    (ID_EC_PUBLIC_KEY, "id-ecPublicKey", "ecdsa", None, False),
    ("1.2.840.10045.4.1", "ecdsa-with-SHA1", "ecdsa", "sha1", False),
    ("1.2.840.10045.4.3.1", "ecdsa-with-SHA224", "ecdsa", "sha224", False),
    ("1.2.840.10045.4.3.2", "ecdsa-with-SHA256", "ecdsa", "sha256", False),
    ("1.2.840.10045.4.3.3", "ecdsa-with-SHA384", "ecdsa", "sha384", False),
    ("1.2.840.10045.4.3.4", "ecdsa-with-SHA512", "ecdsa", "sha512", False),
    ("0.4.0.127.0.7.1.1.4.1.1", "ecdsa-plain-SHA1", "ecdsa", "sha1", True),
    ("0.4.0.127.0.7.1.1.4.1.2", "ecdsa-plain-SHA224", "ecdsa", "sha224", True),
    ("0.4.0.127.0.7.1.1.4.1.3", "ecdsa-plain-SHA256", "ecdsa", "sha256", True),
    ("0.4.0.127.0.7.1.1.4.1.4", "ecdsa-plain-SHA384", "ecdsa", "sha384", True),
    ("0.4.0.127.0.7.1.1.4.1.5", "ecdsa-plain-SHA512", "ecdsa", "sha512", True),
)
_SCHEMES: tuple[SignatureScheme, ...] = tuple(
    SignatureScheme(oid=oid, name=name, kind=kind, hash_name=hash_name, plain=plain)
    for oid, name, kind, hash_name, plain in _SCHEME_TABLE
)

SIGNATURE_SCHEMES: dict[str, SignatureScheme] = {scheme.oid: scheme for scheme in _SCHEMES}

# The ECDSA schemes that name their hash, as ActiveAuthenticationInfo carries them (9303-11
# §9.2.11): OID -> name, and name -> OID.
SIGNATURE_ALGORITHMS: dict[str, str] = {
    s.oid: s.name for s in _SCHEMES if s.kind == "ecdsa" and s.hash_name is not None
}
SIGNATURE_OIDS: dict[str, str] = {name: oid for oid, name in SIGNATURE_ALGORITHMS.items()}


def ecdsa_hash(oid: str) -> str | None:
    """The hash an ECDSA signature OID names ("sha256" for ecdsa-with-SHA256), else None."""
    scheme = SIGNATURE_SCHEMES.get(oid)
    if scheme is None or scheme.kind != "ecdsa":
        return None
    return scheme.hash_name
