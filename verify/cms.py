"""The one check of a CMS SignedData signer (RFC 5652 §5.3-§5.6), used by passive
authentication for EF.SOD (ICAO 9303-11 §5.1) and by the trust store for CSCA master lists
(ICAO 9303-12 §8).

Given a ``SignedData`` as ``reader.lds.cms`` reads it, ``check_signer`` answers, each step on
its own so a caller can report all of them:

1. the encapsulated content: its type must be one the caller expects;
2. the signed attributes (when present): contentType equals the eContentType, messageDigest
   equals the digest of the eContent under the SignerInfo's digest algorithm, and the
   signingTime (when present) within the signer certificate's validity;
3. the signer certificate: the embedded certificate the SignerInfo's ``sid`` names
   (issuerAndSerialNumber or subjectKeyIdentifier);
4. the signature, with ``verify.signatures``, over the DER ``SET OF`` signed attributes, or
   over the eContent when there are none, with the algorithm and parameters of the SignerInfo.

Each failed step is a typed ``CmsError`` naming what failed, collected in
``SignerCheck.failures`` in that order: the check itself never raises for "not genuine".
``SignerCheck.require()`` raises the first failure, for callers that refuse on any. Whether
the signer is trusted (its chain to a CSCA) is the caller's next step, not this one's.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from asn1crypto import x509

from reader.errors import ParseError, UnsupportedError
from reader.lds.cms import SignedData, SignerInfo
from verify import signatures
from verify.signatures import ASN1_ERRORS, PublicKey, SignatureAlgorithm
from verify.times import aware, validity

SignatureStatus = Literal["valid", "invalid", "unsupported", "not_checked"]


class CmsError(Exception):
    """A SignedData signer check that failed: the class says which check, ``reason`` what.

    ``detail`` is the underlying cause where there is one (the text of an unsupported
    algorithm's error), else the reason again."""

    def __init__(self, reason: str, *, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail if detail is not None else reason


class ContentTypeError(CmsError):
    """The eContentType is not the expected one, or the contentType attribute differs."""


class MessageDigestError(CmsError):
    """No messageDigest attribute, or it is not the digest of the eContent."""


class SignerNotFoundError(CmsError):
    """No embedded certificate is the one the SignerInfo's ``sid`` names."""


class SignatureError(CmsError):
    """The SignerInfo signature does not verify under the signer certificate's key."""


class CmsUnsupportedError(CmsError, UnsupportedError):
    """A digest, signature algorithm or key this verifier cannot check: neither good nor
    bad. Also an ``UnsupportedError``, like ``verify.signatures``'s own."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SignerCheck:
    """What ``check_signer`` found; ``failures`` is empty when every step held."""

    signed_data: SignedData
    signer_info: SignerInfo
    certificates: tuple[x509.Certificate, ...]  # the embedded certificates that parse
    signer: x509.Certificate | None  # the one the sid names
    econtent_type_ok: bool
    content_type_ok: bool | None  # None: no signed attributes
    message_digest_ok: bool | None  # None: no signed attributes, or the digest is unknown
    signing_time: datetime | None  # the signingTime attribute, naive read as UTC
    signed_within_validity: bool | None  # None: no signing time or no signer
    algorithm: SignatureAlgorithm | None  # None: the algorithm is not supported
    key: PublicKey | None  # the signer's key, when it loads
    signature: SignatureStatus
    failures: tuple[CmsError, ...]

    @property
    def content_type(self) -> str:
        return self.signed_data.econtent_type

    @property
    def content(self) -> bytes:
        return self.signed_data.econtent

    @property
    def ok(self) -> bool:
        return not self.failures and self.signature == "valid"

    def require(self) -> x509.Certificate:
        """The signer certificate when every step held; raises the first failure otherwise."""
        if self.failures:
            raise self.failures[0]
        assert self.signer is not None  # no failure: the signer was found and it signed
        return self.signer


def check_signer(
    signed: SignedData,
    *,
    content_types: Collection[str],
    type_name: str,
    content_name: str,
    signer_index: int = 0,
) -> SignerCheck:
    """Check SignerInfo ``signer_index`` of ``signed`` (see the module docstring).

    ``content_types`` are the eContentTypes the caller accepts, ``type_name`` how the
    messages name them (e.g. "ldsSecurityObject") and ``content_name`` the content (e.g.
    "LDS security object")."""
    info = signed.signer_infos[signer_index]
    failures: list[CmsError] = []
    econtent_type_ok = signed.econtent_type in content_types
    if not econtent_type_ok:
        failures.append(ContentTypeError(f"eContentType {signed.econtent_type} is not {type_name}"))
    content_type_ok, digest_ok = _check_attributes(signed, info, content_name, failures)

    certificates = _certificates(signed)
    signer = _find_signer(certificates, info)
    signing_time = aware(info.signing_time) if info.signing_time is not None else None
    within: bool | None = None
    if signer is None:
        failures.append(SignerNotFoundError("the signer certificate is not in the SignedData"))
        return SignerCheck(
            signed_data=signed,
            signer_info=info,
            certificates=certificates,
            signer=None,
            econtent_type_ok=econtent_type_ok,
            content_type_ok=content_type_ok,
            message_digest_ok=digest_ok,
            signing_time=signing_time,
            signed_within_validity=None,
            algorithm=None,
            key=None,
            signature="not_checked",
            failures=tuple(failures),
        )
    if signing_time is not None:
        not_before, not_after = validity(signer)
        within = not_before <= signing_time <= not_after
    algorithm, key, status = _check_signature(signed, info, signer, failures)
    return SignerCheck(
        signed_data=signed,
        signer_info=info,
        certificates=certificates,
        signer=signer,
        econtent_type_ok=econtent_type_ok,
        content_type_ok=content_type_ok,
        message_digest_ok=digest_ok,
        signing_time=signing_time,
        signed_within_validity=within,
        algorithm=algorithm,
        key=key,
        signature=status,
        failures=tuple(failures),
    )


def _check_attributes(
    signed: SignedData, info: SignerInfo, content_name: str, failures: list[CmsError]
) -> tuple[bool | None, bool | None]:
    """(contentType ok, messageDigest ok), None each when there are no signed attributes."""
    if info.signed_attrs is None:
        return None, None
    content_type_ok = info.content_type == signed.econtent_type
    if not content_type_ok:
        failures.append(
            ContentTypeError("signed contentType attribute differs from the eContentType")
        )
    digest_ok: bool | None = None
    if info.message_digest is None:
        digest_ok = False
        failures.append(MessageDigestError("no messageDigest signed attribute"))
    elif info.digest_name is None:
        failures.append(CmsUnsupportedError(f"SignerInfo digest algorithm {info.digest_algorithm}"))
    else:
        digest_ok = signatures.digest(info.digest_name, signed.econtent) == info.message_digest
        if not digest_ok:
            failures.append(MessageDigestError(f"messageDigest does not match the {content_name}"))
    return content_type_ok, digest_ok


def _certificates(signed: SignedData) -> tuple[x509.Certificate, ...]:
    found = []
    for der in signed.certificates:
        try:
            cert = x509.Certificate.load(der)
            _ = cert.native  # parse every field now: asn1crypto is lazy and fails late
        except ASN1_ERRORS:
            continue
        found.append(cert)
    return tuple(found)


def _find_signer(
    certificates: tuple[x509.Certificate, ...], info: SignerInfo
) -> x509.Certificate | None:
    for cert in certificates:  # parsed in full already: these reads cannot fail late
        if info.sid_kind == "issuer_and_serial_number":
            if cert.issuer.dump() == info.issuer and cert.serial_number == info.serial_number:
                return cert
        elif cert.key_identifier == info.subject_key_identifier:
            return cert
    return None


def _check_signature(
    signed: SignedData, info: SignerInfo, signer: x509.Certificate, failures: list[CmsError]
) -> tuple[SignatureAlgorithm | None, PublicKey | None, SignatureStatus]:
    try:
        algorithm = signatures.signature_algorithm(
            info.signature_algorithm, info.signature_parameters, digest_name=info.digest_name
        )
    except (UnsupportedError, ParseError) as exc:
        failures.append(CmsUnsupportedError(f"signature algorithm: {exc}", detail=str(exc)))
        return None, None, "unsupported"
    try:
        key = signatures.load_public_key(signer.public_key.dump())
    except (UnsupportedError, ParseError) as exc:
        failures.append(CmsUnsupportedError(f"signer key: {exc}", detail=str(exc)))
        return algorithm, None, "unsupported"
    message = info.signed_attrs if info.signed_attrs is not None else signed.econtent
    try:
        ok = signatures.verify(key, info.signature, message, algorithm)
    except UnsupportedError as exc:
        failures.append(CmsUnsupportedError(f"signature: {exc}", detail=str(exc)))
        return algorithm, key, "unsupported"
    if not ok:
        failures.append(SignatureError("the SignerInfo signature does not verify"))
        return algorithm, key, "invalid"
    return algorithm, key, "valid"
