"""The Document Signer's side of passive authentication (ICAO 9303-11 §5.1, 9303-12 §5-§7):
whose it is, and whether it is anchored.

- the issuing state: DG1's (``VNM``), which the CSCA and the Document Signer must belong to
  (a chain that reaches only another state's CSCA is a mismatch, never "verified");
- the chain from the Document Signer certificate to a CSCA of the caller's ``TrustStore``,
  with validity at signing time (the DSC must have been valid when it signed) and at the
  check time (expiry after signing is a warning, by policy), the CSCAs' validity, and
  revocation from the store's CRLs;
- the summary of the Document Signer certificate shown to the operator.

Findings that are not failures are appended to the caller's ``warnings``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from asn1crypto import x509

from reader.errors import ParseError, UnsupportedError
from reader.lds.dg1 import parse_dg1
from verify import signatures
from verify.issuing_state import country_of_issuing_state, country_of_name
from verify.passive_result import ChainCheck, ChainStatus, Finding, Policy, SignerSummary
from verify.signatures import ASN1_ERRORS
from verify.times import aware, validity
from verify.trust import TrustedCertificate, TrustStore, describe_name


def issuing_state_of(dg1: bytes | None, warnings: list[Finding]) -> str | None:
    """DG1's issuing state ("VNM"); None, with a warning, when DG1 is absent or unreadable."""
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


def country_of(issuing_state: str | None, warnings: list[Finding]) -> str | None:
    """The certificate country ("VN") of an issuing state; None, with a warning, if none."""
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


def issuing_state_mismatch(
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


def summarise_signer(cert: x509.Certificate) -> SignerSummary:
    """The Document Signer certificate as the operator sees it."""
    not_before, not_after = validity(cert)
    try:
        key = signatures.load_public_key(cert.public_key.dump()).description
    except (ParseError, UnsupportedError) as exc:
        key = f"unusable key ({exc})"
    return SignerSummary(
        subject=describe_name(cert.subject),
        issuer=describe_name(cert.issuer),
        serial_number=format(cert.serial_number, "x"),
        not_before=not_before,
        not_after=not_after,
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


def check_chain(
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
    """The Document Signer's chain as ``TrustStore.build_chain`` found it (``status``,
    ``path``, ``detail``), checked for validity at signing and at ``at``, and revocation."""
    not_before, not_after = validity(dsc)
    signed = aware(signing_time) if signing_time is not None else None
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


def key_description(cert: TrustedCertificate) -> str:
    """A CSCA's key as the result names it ("EC brainpoolp512r1", "RSA-4096")."""
    try:
        return signatures.load_public_key(cert.certificate.public_key.dump()).description
    except (ParseError, UnsupportedError):
        return "unknown"
