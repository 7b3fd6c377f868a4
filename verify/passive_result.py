"""The record passive authentication answers (ICAO 9303-11 §5.1): the verdict, and every
check behind it as data a desk or the HIS can read (``to_json``), with the policy it ran
under. Filled in by ``verify.passive``; the Document Signer's summary and chain come from
``verify.dsc_chain``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from verify.cms import SignatureStatus

Status = Literal["verified", "signer_not_trusted", "invalid", "malformed", "unsupported"]
HashStatus = Literal["ok", "mismatch", "not_in_sod", "not_checked"]
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
