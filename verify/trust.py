"""The CSCA trust store (ICAO 9303-12 §5-§8; RFC 5280 for certificates and CRLs).

Holds what the operator decided to trust: CSCA certificates (self-signed), CSCA link
certificates (a new CSCA key certified by the previous one, §5.1.1), certificates taken from
ICAO master lists (§8: CMS SignedData, eContentType id-icao-cscaMasterList, read by
``reader.lds.cms`` and its signer checked by ``verify.cms`` as EF.SOD's is; the signer must
chain to a CSCA inside the list or already trusted) and CRLs (§7.1.3, signature checked
against the issuing CSCA). Lookups go by authority key identifier first, issuer name second
(a CSCA rollover keeps the name and changes the key).

There is no global state: a ``TrustStore`` is an object the caller builds and passes in.
Loading a master list or a CRL returns a report; a refused input is a verdict in that report,
not an exception. Note that a master list only proves itself internally consistent: its
value rests on where the operator obtained it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

from asn1crypto import core, crl, pem, x509

from reader import oids
from reader.errors import ParseError, UnsupportedError
from reader.lds.cms import SignedData, parameters_der, parse_signed_data
from verify import cms, signatures
from verify.issuing_state import country_of_name
from verify.signatures import ASN1_ERRORS
from verify.times import aware as _aware
from verify.times import validity

OID_CSCA_MASTER_LIST = oids.ID_CSCA_MASTER_LIST
OID_MASTER_LIST_SIGNER_EKU = oids.ID_MASTER_LIST_SIGNER_EKU
MAX_MASTER_LIST_BYTES = 16 << 20
MAX_MASTER_LIST_CERTIFICATES = 5000
MAX_MASTER_LIST_SIGNER_CERTIFICATES = 16  # SignedData.certificates: the signer and its chain
MAX_CHAIN_DEPTH = 4
CERT_SUFFIXES = (".der", ".pem", ".crt", ".cer", ".cert", ".cacert")
MASTER_LIST_SUFFIXES = (".ml", ".mls")
CRL_SUFFIXES = (".crl",)


class TrustStoreError(ValueError):
    """A certificate the store refuses to hold (not a CA, bad self-signature, unparsable)."""


class _SetOfCertificate(core.SetOf):  # type: ignore[misc]
    _child_spec = x509.Certificate


class CscaMasterList(core.Sequence):  # type: ignore[misc]
    """ICAO 9303-12 §8.2: ``SEQUENCE { version INTEGER, certList SET OF Certificate }``."""

    _fields: ClassVar[list[Any]] = [("version", core.Integer), ("cert_list", _SetOfCertificate)]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustedCertificate:
    """A CA certificate in the store, with what chain building needs pre-extracted."""

    der: bytes = field(repr=False)
    subject: str
    subject_der: bytes = field(repr=False)
    issuer_der: bytes = field(repr=False)
    serial_number: int
    subject_key_identifier: bytes | None
    authority_key_identifier: bytes | None
    not_before: datetime
    not_after: datetime
    self_signed: bool
    fingerprint: str  # SHA-256, hex
    source: str = "added"
    country: str | None = None  # ISO 3166-1 alpha-2 of the subject's C attribute

    @property
    def is_link(self) -> bool:
        return not self.self_signed

    @property
    def certificate(self) -> x509.Certificate:
        return x509.Certificate.load(self.der)

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "serial_number": format(self.serial_number, "x"),
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "kind": "link" if self.is_link else "csca",
            "subject_key_identifier": (
                self.subject_key_identifier.hex() if self.subject_key_identifier else None
            ),
            "fingerprint": self.fingerprint,
            "source": self.source,
            "country": self.country,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RevocationList:
    """A CRL whose signature verified against a CA in the store."""

    der: bytes = field(repr=False)
    issuer_der: bytes = field(repr=False)
    issuer: str
    authority_key_identifier: bytes | None
    this_update: datetime
    next_update: datetime | None
    revoked: dict[int, datetime]
    signer_fingerprint: str
    fingerprint: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MasterListReport:
    """What loading a master list did: ``accepted`` False means nothing was loaded."""

    accepted: bool
    message: str
    signer: str | None = None
    loaded: tuple[TrustedCertificate, ...] = ()
    already_present: int = 0
    rejected: tuple[tuple[str, str], ...] = ()  # (subject or "#index", reason)
    warnings: tuple[str, ...] = ()
    countries: dict[str, int] = field(default_factory=dict)  # C -> CSCAs in the list
    vietnamese: tuple[str, ...] = ()  # subjects of the list's CSCAs with C=VN
    signed: bool = True  # False: an unsigned CscaMasterList imported on the caller's word

    def to_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "message": self.message,
            "signed": self.signed,
            "countries": dict(sorted(self.countries.items())),
            "vietnamese_cscas": list(self.vietnamese),
            "signer": self.signer,
            "loaded": [cert.subject for cert in self.loaded],
            "already_present": self.already_present,
            "rejected": [{"certificate": who, "reason": why} for who, why in self.rejected],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CrlReport:
    accepted: bool
    message: str
    issuer: str | None = None
    revoked_count: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainBuild:
    """The outcome of building a path from a certificate to a trust anchor."""

    status: Literal["anchored", "no_trust_anchor", "bad_chain_signature", "unsupported"]
    path: tuple[TrustedCertificate, ...] = ()  # issuer first, anchor last
    detail: str = ""


def describe_name(name: x509.Name) -> str:
    """A readable one-line rendering of an X.509 name (RFC 4514 order)."""
    try:
        return str(name.human_friendly)
    except ASN1_ERRORS:
        return "<unreadable name>"


def _extension(cert: x509.Certificate, name: str) -> Any:
    for ext in cert["tbs_certificate"]["extensions"]:
        if ext["extn_id"].native == name:
            return ext["extn_value"].parsed
    return None


def certificate_key_identifiers(cert: x509.Certificate) -> tuple[bytes | None, bytes | None]:
    """(subject key identifier, authority key identifier) of a certificate."""
    ski = cert.key_identifier
    aki = cert.authority_key_identifier
    return (bytes(ski) if ski else None, bytes(aki) if aki else None)


def verify_certificate_signature(cert: x509.Certificate, issuer_public_key: bytes | Any) -> bool:
    """True when ``cert`` was signed by the key in ``issuer_public_key`` (SPKI DER or parsed).

    Raises ``UnsupportedAlgorithmError`` for schemes or keys that cannot be checked.
    """
    key = (
        issuer_public_key
        if isinstance(issuer_public_key, signatures.PublicKey)
        else signatures.load_public_key(issuer_public_key)
    )
    algorithm_id = cert["signature_algorithm"]
    if algorithm_id.dump() != cert["tbs_certificate"]["signature"].dump():
        return False  # RFC 5280 §4.1.1.2: the unsigned copy must equal the signed one
    algorithm = signatures.signature_algorithm(
        algorithm_id["algorithm"].dotted, parameters_der(algorithm_id["parameters"])
    )
    tbs = bytes(cert["tbs_certificate"].dump())
    signature = signatures.bit_string_bytes(cert["signature_value"])
    if signature is None:
        return False
    return signatures.verify(key, signature, tbs, algorithm)


def _fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _to_der_list(data: bytes) -> list[bytes]:
    if pem.detect(data):
        return [der for _, _, der in pem.unarmor(data, multiple=True)]
    return [data]


def _is_ca(cert: x509.Certificate) -> bool:
    constraints = cert.basic_constraints_value
    return bool(constraints is not None and constraints["ca"].native)


class TrustStore:
    """CSCA certificates, link certificates and CRLs an operator chose to trust."""

    # Signature checks of a certificate by a stored key, remembered: a document signer
    # signs thousands of cards, and its certificate's signature (a few milliseconds of
    # elliptic-curve work) is the same for every one of them.
    SIGNATURE_MEMORY: ClassVar[int] = 1024

    def __init__(self) -> None:
        self._certs: dict[str, TrustedCertificate] = {}
        self._crls: dict[str, RevocationList] = {}
        self.problems: list[str] = []  # files from_directory could not use, with the reason
        self._signed_by: OrderedDict[tuple[str, str], bool] = OrderedDict()
        self._signed_by_lock = threading.Lock()

    # -- contents -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._certs)

    def count_anchors(self, country: str | None = None) -> int:
        """Self-signed CSCAs in the store (of ``country`` when given)."""
        return sum(1 for c in self.anchors if country is None or c.country == country)

    def __iter__(self) -> Iterator[TrustedCertificate]:
        return iter(self._certs.values())

    @property
    def certificates(self) -> tuple[TrustedCertificate, ...]:
        return tuple(self._certs.values())

    @property
    def anchors(self) -> tuple[TrustedCertificate, ...]:
        return tuple(cert for cert in self._certs.values() if cert.self_signed)

    @property
    def crls(self) -> tuple[RevocationList, ...]:
        return tuple(self._crls.values())

    def copy(self) -> TrustStore:
        other = TrustStore()
        other._certs = dict(self._certs)
        other._crls = dict(self._crls)
        return other

    # -- adding ---------------------------------------------------------------------------

    def add_certificate(
        self, data: bytes, *, source: str = "added"
    ) -> tuple[TrustedCertificate, ...]:
        """Trust the CA certificate(s) in ``data`` (DER, or PEM with one or more blocks).

        Self-signed certificates must verify under their own key; link certificates are
        checked against their issuer when a chain is built. Raises ``TrustStoreError``.
        """
        added = []
        try:
            ders = _to_der_list(bytes(data))
        except (ValueError, TypeError) as exc:
            raise TrustStoreError(f"not a PEM or DER certificate: {exc}") from None
        if not ders:
            raise TrustStoreError("no certificate found")
        for der in ders:
            added.append(self._add_der(der, source=source))
        return tuple(added)

    def _add_der(self, der: bytes, *, source: str) -> TrustedCertificate:
        entry = self._entry(der, source=source)
        existing = self._certs.get(entry.fingerprint)
        if existing is not None:
            return existing
        self._certs[entry.fingerprint] = entry
        return entry

    def _entry(self, der: bytes, *, source: str) -> TrustedCertificate:
        try:
            cert = x509.Certificate.load(der, strict=True)
            _ = cert.native  # parse every field now: asn1crypto is lazy and fails late
            tbs = cert["tbs_certificate"]
            subject = tbs["subject"]
            issuer = tbs["issuer"]
            ski, aki = certificate_key_identifiers(cert)
            not_before, not_after = validity(cert)
            serial = int(tbs["serial_number"].native)
            is_ca = _is_ca(cert)
            subject_der = bytes(subject.dump())
            issuer_der = bytes(issuer.dump())
        except ASN1_ERRORS as exc:
            raise TrustStoreError(f"certificate does not parse: {str(exc)[:120]}") from None
        if not is_ca:
            raise TrustStoreError(f"not a CA certificate: {describe_name(subject)}")
        self_signed = subject_der == issuer_der and (aki is None or ski is None or aki == ski)
        if self_signed:
            try:
                ok = verify_certificate_signature(cert, tbs["subject_public_key_info"])
            except (UnsupportedError, ParseError) as exc:
                raise TrustStoreError(
                    f"cannot check self-signature of {describe_name(subject)}: {exc}"
                ) from None
            if not ok:
                raise TrustStoreError(f"self-signature does not verify: {describe_name(subject)}")
        return TrustedCertificate(
            der=bytes(der),
            subject=describe_name(subject),
            subject_der=subject_der,
            issuer_der=issuer_der,
            serial_number=serial,
            subject_key_identifier=ski,
            authority_key_identifier=aki,
            not_before=not_before,
            not_after=not_after,
            self_signed=self_signed,
            fingerprint=_fingerprint(bytes(der)),
            source=source,
            country=country_of_name(subject),
        )

    # -- lookups --------------------------------------------------------------------------

    def lookup_by_subject(self, name_der: bytes) -> list[TrustedCertificate]:
        return [cert for cert in self._certs.values() if cert.subject_der == name_der]

    def lookup_by_key_identifier(self, key_identifier: bytes) -> list[TrustedCertificate]:
        return [
            cert
            for cert in self._certs.values()
            if cert.subject_key_identifier is not None
            and cert.subject_key_identifier == key_identifier
        ]

    def find_issuers(self, cert: x509.Certificate) -> list[TrustedCertificate]:
        """Candidate issuers of ``cert``: by authority key identifier, then by issuer name."""
        _, aki = certificate_key_identifiers(cert)
        found: list[TrustedCertificate] = []
        if aki is not None:
            found.extend(self.lookup_by_key_identifier(aki))
        for candidate in self.lookup_by_subject(bytes(cert.issuer.dump())):
            if candidate in found:
                continue
            # A name match whose key id contradicts the certificate's AKI is another key of
            # the same authority (a rollover); keep it last, it may still verify.
            found.append(candidate)
        return found

    def _signed(self, cert: x509.Certificate, issuer: TrustedCertificate) -> bool:
        """``verify_certificate_signature`` of ``cert`` by ``issuer``'s key, remembered by
        the two certificates' fingerprints (the answer is a function of their bytes alone;
        validity periods and revocation are checked on every use, not remembered)."""
        key = (_fingerprint(bytes(cert.dump())), issuer.fingerprint)
        with self._signed_by_lock:
            known = self._signed_by.get(key)
            if known is not None:
                self._signed_by.move_to_end(key)
                return known
        ok = verify_certificate_signature(cert, issuer.certificate.public_key)
        with self._signed_by_lock:
            self._signed_by[key] = ok
            while len(self._signed_by) > self.SIGNATURE_MEMORY:
                self._signed_by.popitem(last=False)
        return ok

    def build_chain(self, cert: x509.Certificate, *, country: str | None = None) -> ChainBuild:
        """A verified path from ``cert`` to a self-signed CSCA in the store; with ``country``
        (ISO 3166-1 alpha-2) only CSCAs and link certificates of that country are used, as
        the document's issuing state demands (ICAO 9303-11 §5.1)."""
        return self._build(cert, depth=0, seen=frozenset(), country=country)

    def _build(
        self, cert: x509.Certificate, *, depth: int, seen: frozenset[str], country: str | None
    ) -> ChainBuild:
        candidates = [
            c
            for c in self.find_issuers(cert)
            if c.fingerprint not in seen and (country is None or c.country == country)
        ]
        if depth >= MAX_CHAIN_DEPTH or not candidates:
            where = f" of {country}" if country is not None else ""
            return ChainBuild(
                status="no_trust_anchor",
                detail=f"no trusted CSCA{where} for issuer {describe_name(cert.issuer)}",
            )
        failures: list[str] = []
        unsupported: list[str] = []
        verified_any = False
        for candidate in candidates:
            try:
                ok = self._signed(cert, candidate)
            except (UnsupportedError, ParseError) as exc:
                unsupported.append(str(exc))
                continue
            except ASN1_ERRORS:
                ok = False  # a certificate that does not parse cannot be verified
            if not ok:
                failures.append(candidate.subject)
                continue
            verified_any = True
            if candidate.self_signed:
                return ChainBuild(status="anchored", path=(candidate,))
            upper = self._build(
                candidate.certificate,
                depth=depth + 1,
                seen=seen | {candidate.fingerprint},
                country=country,
            )
            if upper.status == "anchored":
                return ChainBuild(status="anchored", path=(candidate, *upper.path))
        if verified_any:
            return ChainBuild(
                status="no_trust_anchor", detail="link certificate does not reach a trusted CSCA"
            )
        if unsupported and not failures:
            return ChainBuild(status="unsupported", detail="; ".join(unsupported))
        return ChainBuild(
            status="bad_chain_signature",
            detail=f"certificate claims issuer {describe_name(cert.issuer)} "
            "but no trusted key with that name or key identifier verifies its signature",
        )

    def revocation(self, issuer: TrustedCertificate, serial_number: int) -> datetime | None:
        """The revocation date of ``serial_number`` on a CRL of ``issuer``, if revoked."""
        for entry in self.crls_for(issuer):
            when = entry.revoked.get(serial_number)
            if when is not None:
                return when
        return None

    def crls_for(self, issuer: TrustedCertificate) -> list[RevocationList]:
        return [
            entry
            for entry in self._crls.values()
            if entry.signer_fingerprint == issuer.fingerprint
            or (
                entry.issuer_der == issuer.subject_der
                and (
                    entry.authority_key_identifier is None
                    or entry.authority_key_identifier == issuer.subject_key_identifier
                )
            )
        ]

    # -- CRLs -----------------------------------------------------------------------------

    def load_crl(self, data: bytes) -> CrlReport:
        """Load a CRL (DER or PEM) after checking its signature against a CA in the store."""
        try:
            der = _to_der_list(bytes(data))[0]
            cert_list = crl.CertificateList.load(der, strict=True)
            tbs = cert_list["tbs_cert_list"]
            issuer_name = tbs["issuer"]
            issuer_der = bytes(issuer_name.dump())
            aki_value = cert_list.authority_key_identifier
            aki = bytes(aki_value) if aki_value else None
            this_update = _aware(tbs["this_update"].native)
            next_raw = tbs["next_update"].native
            next_update = _aware(next_raw) if next_raw is not None else None
            revoked: dict[int, datetime] = {}
            for item in tbs["revoked_certificates"]:
                revoked[int(item["user_certificate"].native)] = _aware(
                    item["revocation_date"].native
                )
            algorithm_id = cert_list["signature_algorithm"]
            algorithm = signatures.signature_algorithm(
                algorithm_id["algorithm"].dotted, parameters_der(algorithm_id["parameters"])
            )
            tbs_der = bytes(tbs.dump())
            signature = signatures.bit_string_bytes(cert_list["signature"]) or b""
        except ASN1_ERRORS as exc:
            return CrlReport(accepted=False, message=f"CRL does not parse: {str(exc)[:120]}")
        except (UnsupportedError, ParseError) as exc:
            return CrlReport(accepted=False, message=f"CRL signature algorithm: {exc}")
        issuer = describe_name(issuer_name)
        candidates = self.lookup_by_key_identifier(aki) if aki else []
        candidates += [c for c in self.lookup_by_subject(issuer_der) if c not in candidates]
        if not candidates:
            return CrlReport(
                accepted=False,
                issuer=issuer,
                message=f"CRL issuer not in the trust store: {issuer}",
            )
        for candidate in candidates:
            try:
                ok = signatures.verify(
                    candidate.certificate.public_key.dump(), signature, tbs_der, algorithm
                )
            except (UnsupportedError, ParseError):
                continue
            if ok:
                fingerprint = _fingerprint(der)
                self._crls[fingerprint] = RevocationList(
                    der=der,
                    issuer_der=issuer_der,
                    issuer=issuer,
                    authority_key_identifier=aki,
                    this_update=this_update,
                    next_update=next_update,
                    revoked=revoked,
                    signer_fingerprint=candidate.fingerprint,
                    fingerprint=fingerprint,
                )
                return CrlReport(
                    accepted=True,
                    issuer=issuer,
                    revoked_count=len(revoked),
                    message=f"CRL of {issuer} loaded, {len(revoked)} revoked certificate(s)",
                )
        return CrlReport(
            accepted=False,
            issuer=issuer,
            message=f"CRL signature does not verify under any trusted key of {issuer}",
        )

    # -- master lists ---------------------------------------------------------------------

    def load_master_list(
        self, data: bytes, *, at: datetime | None = None, allow_unsigned: bool = False
    ) -> MasterListReport:
        """Verify an ICAO CSCA master list and load its certificates.

        The signer's signature and its chain to a CSCA (inside the list or already trusted)
        must verify, otherwise nothing is loaded. Certificates inside the list that are not
        CAs or whose self-signature fails are rejected one by one, with the reason.

        A bare ``CscaMasterList`` (no CMS signature, as some tools export) proves nothing
        about where it came from: it is refused unless ``allow_unsigned``.
        """
        unsigned = _parse_unsigned_master_list(bytes(data))
        if unsigned is not None:
            if not allow_unsigned:
                return MasterListReport(
                    accepted=False,
                    signed=False,
                    message="master list refused: an unsigned CscaMasterList (no CMS "
                    "signature); import it only explicitly, after checking where it came from",
                )
            return self._load_certificates(
                unsigned,
                signer=None,
                warnings=["unsigned master list: trusted on the operator's word only"],
                signed=False,
            )
        try:
            signed = _parse_master_list(bytes(data))
        except _Refused as exc:
            return MasterListReport(accepted=False, message=f"master list refused: {exc}")
        warnings: list[str] = []
        check, signer_cert, signer_problem = _check_master_list_signer(signed)
        if signer_cert is None:
            return MasterListReport(
                accepted=False, message=f"master list refused: {signer_problem}"
            )
        signer_name = describe_name(signer_cert.subject)
        if signer_problem:
            return MasterListReport(
                accepted=False, signer=signer_name, message=f"master list refused: {signer_problem}"
            )
        try:
            certificates = _master_list_certificates(signed.econtent)
        except _Refused as exc:
            return MasterListReport(
                accepted=False, signer=signer_name, message=f"master list refused: {exc}"
            )

        candidates, _ = self._candidates(certificates)
        scratch = self.copy()
        for entry in candidates:
            scratch._certs.setdefault(entry.fingerprint, entry)
        chain = scratch.build_chain(signer_cert)
        if chain.status != "anchored":
            return MasterListReport(
                accepted=False,
                signer=signer_name,
                message="master list refused: its signer does not chain to a CSCA in the list "
                f"or the store ({chain.status}: {chain.detail})",
            )
        not_before, not_after = validity(signer_cert)
        if at is not None and not not_before <= at <= not_after:
            warnings.append("master-list signer certificate not valid at the check time")
        if check.signed_within_validity is False:
            warnings.append("master-list signer certificate not valid at the signing time")
        eku = signer_cert.extended_key_usage_value
        if eku is None or OID_MASTER_LIST_SIGNER_EKU not in [e.dotted for e in eku]:
            warnings.append("master-list signer lacks the id-icao-cscaMasterListSigningKey usage")

        return self._load_certificates(
            certificates, signer=signer_name, warnings=warnings, signed=True
        )

    def _candidates(
        self, certificates: tuple[bytes, ...]
    ) -> tuple[list[TrustedCertificate], list[tuple[str, str]]]:
        candidates: list[TrustedCertificate] = []
        rejected: list[tuple[str, str]] = []
        for index, der in enumerate(certificates):
            try:
                candidates.append(self._entry(der, source="master list"))
            except TrustStoreError as exc:
                rejected.append((_subject_or_index(der, index), str(exc)))
        return candidates, rejected

    def _load_certificates(
        self,
        certificates: tuple[bytes, ...],
        *,
        signer: str | None,
        warnings: list[str],
        signed: bool,
    ) -> MasterListReport:
        candidates, rejected = self._candidates(certificates)
        loaded: list[TrustedCertificate] = []
        present = 0
        countries: dict[str, int] = {}
        for entry in candidates:
            country = entry.country or "??"
            countries[country] = countries.get(country, 0) + 1
            if entry.fingerprint in self._certs:
                present += 1
                continue
            self._certs[entry.fingerprint] = entry
            loaded.append(entry)
        vietnamese = tuple(entry.subject for entry in candidates if entry.country == "VN")
        return MasterListReport(
            accepted=True,
            signed=signed,
            signer=signer,
            message=f"master list loaded: {len(loaded)} new, {present} already present, "
            f"{len(rejected)} rejected; {len(vietnamese)} Vietnamese CSCA(s)",
            loaded=tuple(loaded),
            already_present=present,
            rejected=tuple(rejected),
            warnings=tuple(warnings),
            countries=countries,
            vietnamese=vietnamese,
        )

    # -- directories ----------------------------------------------------------------------

    @classmethod
    def from_directory(cls, path: str | os.PathLike[str]) -> TrustStore:
        """Load every certificate, master list and CRL file in ``path`` (not recursive).

        Certificates first, then master lists, then CRLs (which need their CSCA). Files that
        cannot be used are listed in ``problems``; nothing is silently trusted.
        """
        store = cls()
        directory = Path(path)
        if not directory.is_dir():
            raise TrustStoreError(f"trust directory does not exist: {directory}")
        files = sorted(p for p in directory.iterdir() if p.is_file())
        certs = [p for p in files if p.suffix.lower() in CERT_SUFFIXES]
        lists = [p for p in files if p.suffix.lower() in MASTER_LIST_SUFFIXES]
        crls = [p for p in files if p.suffix.lower() in CRL_SUFFIXES]
        for file in certs:
            try:
                store.add_certificate(file.read_bytes(), source=file.name)
            except TrustStoreError as exc:
                store.problems.append(f"{file.name}: {exc}")
        for file in lists:
            report = store.load_master_list(file.read_bytes())
            if not report.accepted:
                store.problems.append(f"{file.name}: {report.message}")
        for file in crls:
            crl_report = store.load_crl(file.read_bytes())
            if not crl_report.accepted:
                store.problems.append(f"{file.name}: {crl_report.message}")
        return store

    def save(self, path: str | os.PathLike[str]) -> list[Path]:
        """Write every certificate (``csca-*.der`` / ``link-*.der``) and CRL to ``path``."""
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for cert in self._certs.values():
            prefix = "link" if cert.is_link else "csca"
            target = directory / f"{prefix}-{cert.fingerprint[:16]}.der"
            if not target.exists():
                target.write_bytes(cert.der)
                written.append(target)
        for entry in self._crls.values():
            target = directory / f"crl-{entry.fingerprint[:16]}.crl"
            if not target.exists():
                target.write_bytes(entry.der)
                written.append(target)
        return written


# -- master lists as CMS -------------------------------------------------------------------


class _Refused(Exception):
    pass


def _parse_unsigned_master_list(data: bytes) -> tuple[bytes, ...] | None:
    """The certificates of a bare ``CscaMasterList`` (no CMS wrapper), or None when ``data``
    is something else (a signed list, or garbage: left to the signed-list parser)."""
    if len(data) > MAX_MASTER_LIST_BYTES:
        return None
    try:
        if pem.detect(data):
            data = pem.unarmor(data)[2]
        master = CscaMasterList.load(data, strict=True)
        cert_list = master["cert_list"]
        if not isinstance(master["version"].native, int) or len(cert_list) == 0:
            return None
        if len(cert_list) > MAX_MASTER_LIST_CERTIFICATES:
            return None
        return tuple(bytes(cert.dump()) for cert in cert_list)
    except ASN1_ERRORS:
        return None


def _parse_master_list(data: bytes) -> SignedData:
    """The SignedData of a master list (its content not yet read: that waits for the signer
    check). Refused when it is too large, not SignedData, or not signed by exactly one."""
    if len(data) > MAX_MASTER_LIST_BYTES:
        raise _Refused(f"larger than {MAX_MASTER_LIST_BYTES} bytes")
    try:
        if pem.detect(data):
            data = pem.unarmor(data)[2]
        signed = parse_signed_data(data, max_certificates=MAX_MASTER_LIST_SIGNER_CERTIFICATES)
    except ParseError as exc:
        raise _Refused(f"does not parse as a CMS master list: {exc}") from None
    except ASN1_ERRORS as exc:  # the PEM armour
        raise _Refused(f"does not parse as a CMS master list: {str(exc)[:120]}") from None
    if len(signed.signer_infos) != 1:
        raise _Refused(f"{len(signed.signer_infos)} SignerInfos, expected one")
    return signed


def _master_list_certificates(econtent: bytes) -> tuple[bytes, ...]:
    """The certificates of the (signed) ``CscaMasterList`` content, as DER."""
    try:
        master = CscaMasterList.load(econtent, strict=True)
        cert_list = master["cert_list"]
        if len(cert_list) > MAX_MASTER_LIST_CERTIFICATES:
            raise _Refused(f"more than {MAX_MASTER_LIST_CERTIFICATES} certificates")
        return tuple(bytes(cert.dump()) for cert in cert_list)
    except ASN1_ERRORS as exc:
        raise _Refused(f"does not parse as a CMS master list: {str(exc)[:120]}") from None


def _check_master_list_signer(
    signed: SignedData,
) -> tuple[cms.SignerCheck, x509.Certificate | None, str]:
    """(the check, the signer certificate, the problem: "" when the signature holds)."""
    check = cms.check_signer(
        signed,
        content_types=(OID_CSCA_MASTER_LIST,),
        type_name="id-icao-cscaMasterList",
        content_name="master list content (the list was altered)",
    )
    try:
        return check, check.require(), ""
    except cms.SignatureError:
        problem = "the signature of the master-list signer does not verify"
    except cms.CmsUnsupportedError as exc:
        problem = f"cannot check the signature: {exc.reason}"
    except cms.CmsError as exc:
        problem = exc.reason
    return check, check.signer, problem


def _subject_or_index(der: bytes, index: int) -> str:
    try:
        return describe_name(x509.Certificate.load(der).subject)
    except ASN1_ERRORS:
        return f"#{index}"
