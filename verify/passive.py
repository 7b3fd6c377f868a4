"""Passive authentication of the chip's files (ICAO 9303-11 §5.1, 9303-12 §5-§7, RFC 5652).

Steps, each reported separately so a desk can tell "not yet configured" from "forged":

1. every data group read is hashed and compared with EF.SOD (a DG read but absent from the
   SOD fails; a DG in the SOD that was not read is only "not checked");
2. the SignedData is checked: eContentType, the contentType and messageDigest attributes;
3. the SignerInfo signature is verified with the Document Signer certificate (algorithm and
   parameters taken from the SignerInfo: RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA);
4. the Document Signer is chained to a CSCA of the caller's ``TrustStore``, with validity at
   signing time and at ``at``, and revocation from the store's CRLs;
5. the chain belongs to the document's issuing state (§5.1): DG1's issuing state (``VNM``)
   must be the country of the anchoring CSCA and of the Document Signer (``VN``). A chain
   that only reaches another state's CSCA is a mismatch, never "verified".

"verified" means anchored: a valid signature under a Document Signer that no installed CSCA
anchors is "signer_not_trusted", whatever the caller later decides to do with it.

Time and policy are arguments. A DSC expired at ``at`` but valid when the SOD was signed is a
warning (normal for older cards), not a failure. Nothing here raises for "not genuine".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from asn1crypto import x509

from reader.errors import ParseError, UnsupportedError
from reader.lds.dg1 import parse_dg1
from reader.lds.sod import LEGACY_ECONTENT_TYPES, OID_LDS_SECURITY_OBJECT, SOD, parse_sod
from verify import signatures
from verify.issuing_state import country_of_issuing_state, country_of_name
from verify.signatures import ASN1_ERRORS
from verify.trust import TrustedCertificate, TrustStore, describe_name

Status = Literal["verified", "signer_not_trusted", "invalid", "malformed", "unsupported"]
HashStatus = Literal["ok", "mismatch", "not_in_sod", "not_checked"]
SignatureStatus = Literal["valid", "invalid", "unsupported", "not_checked"]
ChainStatus = Literal[
    "anchored",
    "no_trust_anchor",
    "expired",
    "not_yet_valid",
    "revoked",
    "bad_chain_signature",
    "issuing_state_mismatch",
    "unsupported",
    "not_checked",
]
_DG_NAME = re.compile(r"^DG([1-9]|1[0-6])$")
_NOT_HASHED = ("COM", "SOD", "CardAccess", "CardSecurity", "ATR", "ATS")


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """What passive authentication accepts; the defaults are the safe choice."""

    accept_sha1: bool = False  # SHA-1 anywhere makes the result "unsupported"
    accept_expired_signer: bool = True  # DSC expired at ``at`` but valid at signing: a warning
    strict_structure: bool = True  # anomalies in unsigned SOD fields make it "malformed"
    weak_rsa_bits: int = 2048  # RSA keys shorter than this give a warning


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A warning: a machine-readable ``code`` and a sentence for the operator."""

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True, kw_only=True)
class FileHash:
    file: str  # "DG1" ...
    data_group: int
    status: HashStatus
    expected: bytes | None = None  # from the SOD
    actual: bytes | None = None  # over the bytes read

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "status": self.status,
            "expected": self.expected.hex() if self.expected is not None else None,
            "actual": self.actual.hex() if self.actual is not None else None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedDataCheck:
    econtent_type: str | None = None
    econtent_type_ok: bool = False
    content_type_attribute_ok: bool | None = None  # None: no signed attributes
    message_digest_ok: bool | None = None  # None: no signed attributes or not computable
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return (
            self.econtent_type_ok
            and self.content_type_attribute_ok is not False
            and self.message_digest_ok is not False
            and not self.problems
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "econtent_type": self.econtent_type,
            "econtent_type_ok": self.econtent_type_ok,
            "content_type_attribute_ok": self.content_type_attribute_ok,
            "message_digest_ok": self.message_digest_ok,
            "problems": list(self.problems),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureCheck:
    status: SignatureStatus = "not_checked"
    algorithm: str | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "algorithm": self.algorithm, "detail": self.detail}


@dataclass(frozen=True, slots=True, kw_only=True)
class SignerSummary:
    """The Document Signer certificate, as shown to the operator."""

    subject: str
    issuer: str
    serial_number: str  # hex
    not_before: datetime
    not_after: datetime
    public_key: str  # e.g. "EC brainpoolp512r1", "RSA-3072"
    der: bytes = field(repr=False)
    authority_key_identifier: str | None = None  # hex: which CSCA key signed the DSC

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "serial_number": self.serial_number,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "public_key": self.public_key,
            "authority_key_identifier": self.authority_key_identifier,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainCheck:
    status: ChainStatus = "not_checked"
    anchor: str | None = None  # subject of the trusted CSCA
    path: tuple[str, ...] = ()  # issuers above the DSC, anchor last
    revocation_checked: bool = False
    revoked_at: datetime | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "anchor": self.anchor,
            "path": list(self.path),
            "revocation_checked": self.revocation_checked,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Algorithms:
    data_group_hash: str | None = None
    signer_digest: str | None = None
    signature: str | None = None
    signer_key: str | None = None
    csca_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "data_group_hash": self.data_group_hash,
            "signer_digest": self.signer_digest,
            "signature": self.signature,
            "signer_key": self.signer_key,
            "csca_key": self.csca_key,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PassiveAuthResult:
    """The verdict (``status``, ``reason``) and every check behind it."""

    status: Status
    reason: str
    checked_at: datetime
    files: tuple[FileHash, ...] = ()
    signed_data: SignedDataCheck = field(default_factory=SignedDataCheck)
    signature: SignatureCheck = field(default_factory=SignatureCheck)
    signer: SignerSummary | None = None
    chain: ChainCheck = field(default_factory=ChainCheck)
    algorithms: Algorithms = field(default_factory=Algorithms)
    signing_time: datetime | None = None
    warnings: tuple[Finding, ...] = ()
    issuing_state: str | None = None  # from DG1, e.g. "VNM"

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    @property
    def failed_files(self) -> tuple[str, ...]:
        return tuple(f.file for f in self.files if f.status in ("mismatch", "not_in_sod"))

    def file(self, name: str) -> FileHash | None:
        for item in self.files:
            if item.file == name:
                return item
        return None

    def has_warning(self, code: str) -> bool:
        return any(w.code == code for w in self.warnings)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "checked_at": self.checked_at.isoformat(),
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "issuing_state": self.issuing_state,
            "files": [f.to_json() for f in self.files],
            "signed_data": self.signed_data.to_json(),
            "signature": self.signature.to_json(),
            "signer": self.signer.to_json() if self.signer else None,
            "chain": self.chain.to_json(),
            "algorithms": self.algorithms.to_json(),
            "warnings": [w.to_json() for w in self.warnings],
        }


def passive_authentication(
    files: Mapping[str, bytes],
    trust: TrustStore,
    *,
    at: datetime,
    policy: Policy = Policy(),
    issuing_state: str | None = None,
) -> PassiveAuthResult:
    """Passive authentication of ``files`` ("SOD", "DG1".."DG16", ...) at time ``at``.

    ``issuing_state`` (ICAO code, e.g. "VNM") defaults to the one in DG1; the chain must end
    at a CSCA of that state."""
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    warnings: list[Finding] = []
    if issuing_state is None:
        issuing_state = _issuing_state(files.get("DG1"), warnings)
    country = _country(issuing_state, warnings)
    raw_sod = files.get("SOD")
    if raw_sod is None:
        return PassiveAuthResult(status="malformed", reason="EF.SOD was not read", checked_at=at)
    try:
        sod = parse_sod(raw_sod)
    except ParseError as exc:
        return PassiveAuthResult(
            status="malformed", reason=f"EF.SOD does not parse: {exc.reason}", checked_at=at
        )
    for note in sod.warnings:
        warnings.append(Finding(code="sod_encoding", message=note))

    read_dgs: dict[int, bytes] = {}
    for name, data in files.items():
        match = _DG_NAME.match(name)
        if match:
            read_dgs[int(match.group(1))] = bytes(data)
        elif name not in _NOT_HASHED:
            warnings.append(Finding(code="unknown_file", message=f"file {name!r} not checked"))

    unsupported: list[str] = []
    hash_results = _hash_files(sod, read_dgs, unsupported)
    if not read_dgs:
        warnings.append(Finding(code="no_data_groups", message="no data group was read"))

    signer_info = sod.signer_info
    if len(sod.signer_infos) > 1:
        warnings.append(
            Finding(code="several_signers", message="EF.SOD has several SignerInfos; first used")
        )
    signed_data = _check_signed_data(sod, unsupported)

    algorithms: dict[str, str | None] = {
        "data_group_hash": sod.hash_name or sod.hash_algorithm,
        "signer_digest": signer_info.digest_name or signer_info.digest_algorithm,
    }
    dsc = _find_signer_certificate(sod)
    if dsc is None:
        return _finish(
            status="malformed",
            reason="the Document Signer certificate is not in EF.SOD",
            at=at,
            sod=sod,
            files=hash_results,
            signed_data=signed_data,
            warnings=warnings,
            algorithms=algorithms,
        )
    signer = _summarise(dsc)

    signature, key = _check_signature(sod, dsc, unsupported)
    algorithms["signature"] = signature.algorithm
    algorithms["signer_key"] = key.description if key is not None else None
    if key is not None and key.kind == "rsa" and key.bits < policy.weak_rsa_bits:
        warnings.append(Finding(code="weak_rsa", message=f"Document Signer key is RSA-{key.bits}"))

    chain_build = trust.build_chain(dsc, country=country)
    mismatch = _issuing_state_mismatch(dsc, chain_build.status, trust, issuing_state, country)
    chain = _check_chain(
        dsc,
        chain_build.status,
        chain_build.path,
        chain_build.detail,
        trust,
        signing_time=signer_info.signing_time,
        at=at,
        policy=policy,
        warnings=warnings,
    )
    if mismatch:
        chain = ChainCheck(status="issuing_state_mismatch", detail=mismatch)
    if chain_build.path:
        anchor_key = _key_description(chain_build.path[-1])
        algorithms["csca_key"] = anchor_key
        if anchor_key.startswith("RSA-") and int(anchor_key[4:]) < policy.weak_rsa_bits:
            warnings.append(Finding(code="weak_rsa", message=f"CSCA key is {anchor_key}"))
    if chain.status == "unsupported":
        unsupported.append(f"CSCA signature: {chain.detail}")

    sha1 = _uses_sha1(sod, signature.algorithm)
    if sha1:
        warnings.append(Finding(code="sha1", message=f"SHA-1 is used ({sha1})"))
        if not policy.accept_sha1:
            unsupported.append("SHA-1 (refused by policy)")

    status, reason = _verdict(hash_results, signed_data, signature, chain, unsupported)
    if sod.anomalies:
        if policy.strict_structure and status in ("verified", "signer_not_trusted"):
            status, reason = "malformed", "EF.SOD structure: " + "; ".join(sod.anomalies)
        else:
            warnings.extend(Finding(code="sod_structure", message=a) for a in sod.anomalies)
    return _finish(
        status=status,
        reason=reason,
        at=at,
        sod=sod,
        files=hash_results,
        signed_data=signed_data,
        signature=signature,
        signer=signer,
        chain=chain,
        warnings=warnings,
        algorithms=algorithms,
        issuing_state=issuing_state,
    )


def _issuing_state(dg1: bytes | None, warnings: list[Finding]) -> str | None:
    if dg1 is None:
        warnings.append(
            Finding(
                code="issuing_state_not_checked",
                message="DG1 was not read: the CSCA could not be tied to the issuing state",
            )
        )
        return None
    try:
        return parse_dg1(dg1).issuing_state
    except ParseError as exc:
        warnings.append(
            Finding(
                code="issuing_state_not_checked",
                message=f"DG1 does not parse ({exc.reason}): the CSCA could not be tied to "
                "the issuing state",
            )
        )
        return None


def _country(issuing_state: str | None, warnings: list[Finding]) -> str | None:
    if issuing_state is None:
        return None
    country = country_of_issuing_state(issuing_state)
    if country is None:
        warnings.append(
            Finding(
                code="issuing_state_not_checked",
                message=f"issuing state {issuing_state!r} is not a country code: the CSCA "
                "could not be tied to it",
            )
        )
    return country


def _issuing_state_mismatch(
    dsc: x509.Certificate,
    status: str,
    trust: TrustStore,
    issuing_state: str | None,
    country: str | None,
) -> str:
    """Why the signer does not belong to the issuing state ("" when it does, or when the
    issuing state is unknown)."""
    if country is None:
        return ""
    signer_country = country_of_name(dsc.subject)
    if signer_country is not None and signer_country != country:
        return (
            f"the Document Signer is of {signer_country}, but the document's issuing state "
            f"is {issuing_state} ({country})"
        )
    if status == "anchored":
        return ""
    elsewhere = trust.build_chain(dsc)
    if elsewhere.status != "anchored":
        return ""
    anchor = elsewhere.path[-1]
    return (
        f"the Document Signer chains to {anchor.subject} ({anchor.country or 'no country'}), "
        f"not to a CSCA of the issuing state {issuing_state} ({country})"
    )


def _finish(
    *,
    status: Status,
    reason: str,
    at: datetime,
    sod: SOD,
    files: tuple[FileHash, ...],
    signed_data: SignedDataCheck,
    warnings: list[Finding],
    algorithms: dict[str, str | None],
    signature: SignatureCheck | None = None,
    signer: SignerSummary | None = None,
    chain: ChainCheck | None = None,
    issuing_state: str | None = None,
) -> PassiveAuthResult:
    unique: list[Finding] = []
    for finding in warnings:
        if finding not in unique:
            unique.append(finding)
    return PassiveAuthResult(
        status=status,
        reason=reason,
        checked_at=at,
        files=files,
        signed_data=signed_data,
        signature=signature or SignatureCheck(),
        signer=signer,
        chain=chain or ChainCheck(),
        algorithms=Algorithms(**algorithms),
        signing_time=sod.signer_info.signing_time,
        warnings=tuple(unique),
        issuing_state=issuing_state,
    )


def _hash_files(sod: SOD, read: dict[int, bytes], unsupported: list[str]) -> tuple[FileHash, ...]:
    hash_name = sod.hash_name
    if hash_name is None:
        unsupported.append(f"data group hash algorithm {sod.hash_algorithm}")
    results = []
    for number in sorted(set(read) | set(sod.data_group_hashes)):
        name = f"DG{number}"
        expected = sod.data_group_hashes.get(number)
        if number not in read:
            results.append(
                FileHash(file=name, data_group=number, status="not_checked", expected=expected)
            )
            continue
        actual = signatures.digest(hash_name, read[number]) if hash_name else None
        if expected is None:
            results.append(
                FileHash(file=name, data_group=number, status="not_in_sod", actual=actual)
            )
        elif actual is None:
            results.append(
                FileHash(file=name, data_group=number, status="not_checked", expected=expected)
            )
        else:
            status: HashStatus = "ok" if actual == expected else "mismatch"
            results.append(
                FileHash(
                    file=name, data_group=number, status=status, expected=expected, actual=actual
                )
            )
    return tuple(results)


def _check_signed_data(sod: SOD, unsupported: list[str]) -> SignedDataCheck:
    info = sod.signer_info
    problems: list[str] = []
    type_ok = sod.econtent_type == OID_LDS_SECURITY_OBJECT or (
        sod.econtent_type in LEGACY_ECONTENT_TYPES
    )
    if not type_ok:
        problems.append(f"eContentType {sod.econtent_type} is not ldsSecurityObject")
    content_type_ok: bool | None = None
    digest_ok: bool | None = None
    if info.signed_attrs is not None:
        content_type_ok = info.content_type == sod.econtent_type
        if not content_type_ok:
            problems.append("signed contentType attribute differs from the eContentType")
        if info.message_digest is None:
            digest_ok = False
            problems.append("no messageDigest signed attribute")
        elif info.digest_name is None:
            unsupported.append(f"SignerInfo digest algorithm {info.digest_algorithm}")
        else:
            digest_ok = signatures.digest(info.digest_name, sod.econtent) == info.message_digest
            if not digest_ok:
                problems.append("messageDigest does not match the LDS security object")
    return SignedDataCheck(
        econtent_type=sod.econtent_type,
        econtent_type_ok=type_ok,
        content_type_attribute_ok=content_type_ok,
        message_digest_ok=digest_ok,
        problems=tuple(problems),
    )


def _find_signer_certificate(sod: SOD) -> x509.Certificate | None:
    info = sod.signer_info
    for der in sod.certificates:
        try:
            cert = x509.Certificate.load(der)
            _ = cert.native  # parse every field now: asn1crypto is lazy and fails late
            if info.sid_kind == "issuer_and_serial_number":
                if cert.issuer.dump() == info.issuer and cert.serial_number == info.serial_number:
                    return cert
            elif cert.key_identifier == info.subject_key_identifier:
                return cert
        except ASN1_ERRORS:
            continue
    return None


def _summarise(cert: x509.Certificate) -> SignerSummary:
    validity = cert["tbs_certificate"]["validity"]
    try:
        key = signatures.load_public_key(cert.public_key.dump()).description
    except (ParseError, UnsupportedError) as exc:
        key = f"unusable key ({exc})"
    return SignerSummary(
        subject=describe_name(cert.subject),
        issuer=describe_name(cert.issuer),
        serial_number=format(cert.serial_number, "x"),
        not_before=_aware(validity["not_before"].native),
        not_after=_aware(validity["not_after"].native),
        public_key=key,
        der=bytes(cert.dump()),
        authority_key_identifier=_aki_hex(cert),
    )


def _aki_hex(cert: x509.Certificate) -> str | None:
    try:
        aki = cert.authority_key_identifier
    except ASN1_ERRORS:
        return None
    return bytes(aki).hex() if aki else None


def _check_signature(
    sod: SOD, cert: x509.Certificate, unsupported: list[str]
) -> tuple[SignatureCheck, signatures.PublicKey | None]:
    info = sod.signer_info
    try:
        algorithm = signatures.signature_algorithm(
            info.signature_algorithm, info.signature_parameters, digest_name=info.digest_name
        )
    except (UnsupportedError, ParseError) as exc:
        unsupported.append(f"signature algorithm: {exc}")
        return SignatureCheck(
            status="unsupported", algorithm=info.signature_algorithm, detail=str(exc)
        ), None
    try:
        key = signatures.load_public_key(cert.public_key.dump())
    except (UnsupportedError, ParseError) as exc:
        unsupported.append(f"signer key: {exc}")
        return SignatureCheck(
            status="unsupported", algorithm=algorithm.description, detail=str(exc)
        ), None
    signed = info.signed_attrs if info.signed_attrs is not None else sod.econtent
    try:
        ok = signatures.verify(key, info.signature, signed, algorithm)
    except UnsupportedError as exc:
        unsupported.append(f"signature: {exc}")
        return SignatureCheck(
            status="unsupported", algorithm=algorithm.description, detail=str(exc)
        ), key
    if ok:
        return SignatureCheck(
            status="valid",
            algorithm=algorithm.description,
            detail=f"verified with {key.description} ({key.backend})",
        ), key
    return SignatureCheck(
        status="invalid",
        algorithm=algorithm.description,
        detail="the SignerInfo signature does not verify under the DSC key",
    ), key


def _check_chain(
    dsc: x509.Certificate,
    status: str,
    path: tuple[TrustedCertificate, ...],
    detail: str,
    trust: TrustStore,
    *,
    signing_time: datetime | None,
    at: datetime,
    policy: Policy,
    warnings: list[Finding],
) -> ChainCheck:
    validity = dsc["tbs_certificate"]["validity"]
    not_before = _aware(validity["not_before"].native)
    not_after = _aware(validity["not_after"].native)
    signed = _aware(signing_time) if signing_time is not None else None
    if signed is not None and signed > at:
        warnings.append(
            Finding(
                code="signing_time_in_future",
                message=f"SOD signing time {signed.date()} is after {at.date()}",
            )
        )
    if status != "anchored":
        if signed is not None and not not_before <= signed <= not_after:
            warnings.append(
                Finding(
                    code="dsc_not_valid_at_signing",
                    message="the DSC was not valid when the SOD was signed",
                )
            )
        chain_status: ChainStatus = (
            "unsupported"
            if status == "unsupported"
            else ("bad_chain_signature" if status == "bad_chain_signature" else "no_trust_anchor")
        )
        return ChainCheck(status=chain_status, detail=detail)

    names = tuple(cert.subject for cert in path)
    anchor = path[-1].subject

    def result(state: ChainStatus, text: str = "", **extra: Any) -> ChainCheck:
        return ChainCheck(status=state, anchor=anchor, path=names, detail=text, **extra)

    # The DSC must have been valid when it signed; after that it may expire (ICAO 9303-12
    # §5: a document outlives its signer's certificate).
    if signed is not None:
        if signed < not_before:
            return result("not_yet_valid", "the SOD was signed before the DSC became valid")
        if signed > not_after:
            return result("expired", "the SOD was signed after the DSC expired")
    if at < not_before:
        return result("not_yet_valid", f"the DSC is valid only from {not_before.date()}")
    if at > not_after:
        if not policy.accept_expired_signer:
            return result("expired", f"the DSC expired on {not_after.date()}")
        when = f", the SOD was signed on {signed.date()}" if signed else ""
        warnings.append(
            Finding(
                code="dsc_expired",
                message=f"the Document Signer certificate expired on {not_after.date()}{when}; "
                "normal for older cards, not a forgery",
            )
        )
    reference = signed or at
    for cert in path:
        if reference < cert.not_before:
            return result("not_yet_valid", f"CSCA {cert.subject} not yet valid at signing")
        if reference > cert.not_after:
            return result("expired", f"CSCA {cert.subject} had expired at signing")
        if at > cert.not_after:
            warnings.append(
                Finding(
                    code="csca_expired",
                    message=f"CSCA {cert.subject} expired on {cert.not_after.date()}",
                )
            )

    issuer = path[0]
    crls = trust.crls_for(issuer)
    revoked_at = trust.revocation(issuer, dsc.serial_number)
    if revoked_at is not None:
        return result(
            "revoked",
            f"the DSC is on the CRL of {issuer.subject}",
            revocation_checked=True,
            revoked_at=revoked_at,
        )
    for entry in crls:
        if entry.next_update is not None and entry.next_update < at:
            warnings.append(
                Finding(
                    code="crl_outdated",
                    message=f"the CRL of {entry.issuer} is past its next update",
                )
            )
    return result("anchored", revocation_checked=bool(crls))


def _verdict(
    files: tuple[FileHash, ...],
    signed_data: SignedDataCheck,
    signature: SignatureCheck,
    chain: ChainCheck,
    unsupported: list[str],
) -> tuple[Status, str]:
    bad = [f.file for f in files if f.status == "mismatch"]
    missing = [f.file for f in files if f.status == "not_in_sod"]
    if bad:
        return "invalid", f"hash mismatch: {', '.join(bad)}"
    if missing:
        return "invalid", f"read but not in EF.SOD: {', '.join(missing)}"
    if not signed_data.ok:  # every failed SignedData check names its problem
        return "invalid", "; ".join(signed_data.problems)
    if signature.status == "invalid":
        return "invalid", "the SOD signature does not verify"
    if chain.status == "issuing_state_mismatch":
        return "invalid", f"issuing state mismatch: {chain.detail}"
    if chain.status in ("bad_chain_signature", "revoked", "expired", "not_yet_valid"):
        return "invalid", f"Document Signer chain: {chain.status} ({chain.detail})"
    if unsupported:
        return "unsupported", "; ".join(unsupported)
    if chain.status == "no_trust_anchor":
        return (
            "signer_not_trusted",
            "hashes and signature are valid, but no installed CSCA anchors the Document "
            f"Signer ({chain.detail})",
        )
    if signature.status != "valid" or chain.status != "anchored":
        return "malformed", "the signature could not be checked"
    return "verified", f"hashes, signature and chain valid (anchored at {chain.anchor})"


def _uses_sha1(sod: SOD, signature_algorithm: str | None) -> str:
    uses = []
    if sod.hash_name == "sha1":
        uses.append("data group hashes")
    if sod.signer_info.digest_name == "sha1":
        uses.append("signer digest")
    if signature_algorithm and "sha1" in signature_algorithm:
        uses.append("signature")
    return ", ".join(uses)


def _key_description(cert: TrustedCertificate) -> str:
    try:
        return signatures.load_public_key(cert.certificate.public_key.dump()).description
    except (ParseError, UnsupportedError):
        return "unknown"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
