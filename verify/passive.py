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

The SignedData and signature steps are ``verify.cms`` (the signer check shared with master
lists); the chain and issuing-state steps are ``verify.dsc_chain``; the record answered is
``verify.passive_result``. Time and policy are arguments. A DSC expired at ``at`` but valid
when the SOD was signed is a warning (normal for older cards), not a failure. Nothing here
raises for "not genuine".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from reader.errors import ParseError
from reader.lds.sod import LEGACY_ECONTENT_TYPES, OID_LDS_SECURITY_OBJECT, SOD, parse_sod
from verify import cms, signatures
from verify.cms import SignatureStatus
from verify.dsc_chain import (
    check_chain,
    country_of,
    issuing_state_mismatch,
    issuing_state_of,
    key_description,
    summarise_signer,
)
from verify.passive_result import (
    Algorithms,
    ChainCheck,
    ChainStatus,
    FileHash,
    Finding,
    HashStatus,
    PassiveAuthResult,
    Policy,
    SignatureCheck,
    SignedDataCheck,
    SignerSummary,
    Status,
)
from verify.times import aware
from verify.trust import TrustStore

__all__ = [
    "Algorithms",
    "ChainCheck",
    "ChainStatus",
    "FileHash",
    "Finding",
    "HashStatus",
    "PassiveAuthResult",
    "Policy",
    "SignatureCheck",
    "SignatureStatus",
    "SignedDataCheck",
    "SignerSummary",
    "Status",
    "passive_authentication",
]

_DG_NAME = re.compile(r"^DG([1-9]|1[0-6])$")
_NOT_HASHED = ("COM", "SOD", "CardAccess", "CardSecurity", "ATR", "ATS")
_LDS_CONTENT_TYPES = (OID_LDS_SECURITY_OBJECT, *LEGACY_ECONTENT_TYPES)
_DEFAULT_POLICY = Policy()


def passive_authentication(
    files: Mapping[str, bytes],
    trust: TrustStore,
    *,
    at: datetime,
    policy: Policy = _DEFAULT_POLICY,
    issuing_state: str | None = None,
) -> PassiveAuthResult:
    """Passive authentication of ``files`` ("SOD", "DG1".."DG16", ...) at time ``at``.

    ``issuing_state`` (ICAO code, e.g. "VNM") defaults to the one in DG1; the chain must end
    at a CSCA of that state."""
    at = aware(at)
    warnings: list[Finding] = []
    if issuing_state is None:
        issuing_state = issuing_state_of(files.get("DG1"), warnings)
    country = country_of(issuing_state, warnings)
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
    check = cms.check_signer(
        sod.signed_data,
        content_types=_LDS_CONTENT_TYPES,
        type_name="ldsSecurityObject",
        content_name="LDS security object",
    )
    signed_data = _signed_data_check(check)
    unsupported.extend(f.reason for f in check.failures if isinstance(f, cms.CmsUnsupportedError))

    algorithms: dict[str, str | None] = {
        "data_group_hash": sod.hash_name or sod.hash_algorithm,
        "signer_digest": signer_info.digest_name or signer_info.digest_algorithm,
    }
    dsc = check.signer
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
    signer = summarise_signer(dsc)

    signature = _signature_check(check)
    key = check.key
    algorithms["signature"] = signature.algorithm
    algorithms["signer_key"] = key.description if key is not None else None
    if key is not None and key.kind == "rsa" and key.bits < policy.weak_rsa_bits:
        warnings.append(Finding(code="weak_rsa", message=f"Document Signer key is RSA-{key.bits}"))

    chain_build = trust.build_chain(dsc, country=country)
    mismatch = issuing_state_mismatch(dsc, chain_build.status, trust, issuing_state, country)
    chain = check_chain(
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
        anchor_key = key_description(chain_build.path[-1])
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


def _signed_data_check(check: cms.SignerCheck) -> SignedDataCheck:
    """The eContentType and signed-attribute steps of the CMS check, as the result shows them."""
    return SignedDataCheck(
        econtent_type=check.content_type,
        econtent_type_ok=check.econtent_type_ok,
        content_type_attribute_ok=check.content_type_ok,
        message_digest_ok=check.message_digest_ok,
        problems=tuple(
            failure.reason
            for failure in check.failures
            if isinstance(failure, cms.ContentTypeError | cms.MessageDigestError)
        ),
    )


def _signature_check(check: cms.SignerCheck) -> SignatureCheck:
    """The signature step of the CMS check, as the result shows it."""
    algorithm = (
        check.algorithm.description
        if check.algorithm is not None
        else check.signer_info.signature_algorithm
    )
    if check.signature == "unsupported":
        # The signature is the last step: its failure is the last one.
        return SignatureCheck(
            status="unsupported", algorithm=algorithm, detail=check.failures[-1].detail
        )
    if check.signature == "valid" and check.key is not None:
        return SignatureCheck(
            status="valid",
            algorithm=algorithm,
            detail=f"verified with {check.key.description} ({check.key.backend})",
        )
    return SignatureCheck(
        status="invalid",
        algorithm=algorithm,
        detail="the SignerInfo signature does not verify under the DSC key",
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
