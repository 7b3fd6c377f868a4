"""One verdict for one card read: docs/architecture.md data path step 5.

Passive authentication of every file against EF.SOD and the trust store; chip (DG14) or
active (DG15) authentication counted only when passive authentication holds (a forger who
signs his own SOD can also make DG14 match his chip); DG13/DG1/QR cross-checks and text
repair via ``verify.identity``; the face as a browser-ready JPEG. Pure: time and trust are
arguments, nothing is read from the clock or the disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from reader.drivers.authenticate import AuthOutcome
from reader.drivers.card import CardRead
from reader.errors import ParseError
from reader.lds import vocabulary
from verify.active_auth import verify_active_authentication
from verify.identity import Identity, build_identity
from verify.passive import PassiveAuthResult, Policy, passive_authentication
from verify.qr import parse_qr
from verify.trust import TrustStore
from verify.vntext import cp1252_text

COUNTED = "passed"
Acceptance = Literal["genuine", "issuer_not_checked", "not_genuine"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CloneCheck:
    """Chip or active authentication as the desk should read it."""

    method: str  # "chip_authentication", "active_authentication" or "none"
    outcome: str  # the protocol's own outcome: passed / failed / not_attempted / error
    counted: bool  # True only when it passed AND passive authentication verified the key
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "outcome": self.outcome,
            "counted": self.counted,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CardCheck:
    status: str  # the passive-authentication status (verify.passive.Status)
    genuine: bool  # passive authentication verified against a trusted CSCA
    passive: PassiveAuthResult
    clone_check: CloneCheck
    identity: Identity | None
    today: date
    photo_jpeg: bytes | None = field(default=None, repr=False)
    photo_error: str | None = None
    access_protocol: str = ""
    fallback_reason: str | None = None
    acceptance: Acceptance = "not_genuine"
    acceptance_reason: str = ""
    warnings: tuple[str, ...] = ()  # leniencies taken reading the card's data (real-world DER)

    @property
    def not_a_clone(self) -> bool:
        return self.clone_check.counted

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "genuine": self.genuine,
            "acceptance": self.acceptance,
            "acceptance_reason": self.acceptance_reason,
            "warnings": list(self.warnings),
            "not_a_clone": self.not_a_clone,
            "access_protocol": self.access_protocol,
            "fallback_reason": self.fallback_reason,
            "passive_authentication": self.passive.to_json(),
            "clone_check": self.clone_check.to_json(),
            "identity": self.identity.to_json(self.today) if self.identity else None,
            "photo": {"available": self.photo_jpeg is not None, "error": self.photo_error},
        }


def clone_check(card: CardRead, passive: PassiveAuthResult) -> CloneCheck:
    """CA when it ran, else AA; counted only when PA verified the file holding the key."""
    chosen: tuple[str, AuthOutcome, str]
    ca, aa = card.chip_authentication, card.active_authentication
    if ca.outcome not in ("not_attempted", "error") or (
        ca.outcome == "error" and aa.outcome == "not_attempted"
    ):
        chosen = ("chip_authentication", ca, "DG14")
    elif aa.outcome != "not_attempted":
        chosen = ("active_authentication", aa, "DG15")  # also when CA could not run
    else:
        return CloneCheck(
            method="none",
            outcome="not_attempted",
            counted=False,
            reason=card.chip_authentication.reason or "the card offers neither",
        )
    method, outcome, key_file = chosen
    if outcome.outcome == "signed":
        outcome = _check_active_authentication(card, outcome)
    hashed = passive.file(key_file)
    key_verified = passive.verified and hashed is not None and hashed.status == "ok"
    if outcome.outcome != COUNTED:
        return CloneCheck(
            method=method, outcome=outcome.outcome, counted=False, reason=outcome.reason
        )
    if not key_verified:
        return CloneCheck(
            method=method,
            outcome=outcome.outcome,
            counted=False,
            reason=f"the chip proved it holds the {key_file} key, but passive authentication "
            f"did not verify {key_file} ({passive.status}), so this proves nothing",
        )
    return CloneCheck(method=method, outcome=outcome.outcome, counted=True, reason=outcome.reason)


def _check_active_authentication(card: CardRead, signed: AuthOutcome) -> AuthOutcome:
    """The reader recorded the chip's signature over the challenge: check it against DG15."""
    challenge = bytes.fromhex(signed.transcript.get("challenge", ""))
    response = bytes.fromhex(signed.transcript.get("response", ""))
    dg15 = card.files.get("DG15")
    if dg15 is None:
        return AuthOutcome(outcome="error", reason="DG15 missing", transcript=signed.transcript)
    if verify_active_authentication(dg15, challenge, response, card.files.get("DG14")):
        return AuthOutcome(
            outcome="passed",
            transcript=signed.transcript,
            reason="the chip signed our challenge with the DG15 key",
        )
    return AuthOutcome(
        outcome="failed",
        transcript=signed.transcript,
        reason="the signature does not verify with the DG15 key (a cloned chip?)",
    )


def check_card(
    card: CardRead,
    trust: TrustStore | None,
    *,
    at: datetime,
    today: date | None = None,
    qr: str | bytes | None = None,
    policy: Policy | None = None,
) -> CardCheck:
    """Verify what was read: passive authentication, clone check, identity, photo."""
    passive = passive_authentication(
        card.files, trust if trust is not None else TrustStore(), at=at, policy=policy or Policy()
    )
    photo, photo_error = face_jpeg(card.parsed)
    clone = clone_check(card, passive)
    verdict, why = acceptance(passive, clone, trust)
    return CardCheck(
        status=passive.status,
        genuine=passive.verified,
        acceptance=verdict,
        acceptance_reason=why,
        warnings=_parse_warnings(card),
        passive=passive,
        clone_check=clone,
        identity=card_identity(card.parsed, qr=qr),
        today=today or at.date(),
        photo_jpeg=photo,
        photo_error=photo_error,
        access_protocol=card.access_protocol,
        fallback_reason=card.fallback_reason,
    )


def _parse_warnings(card: CardRead) -> tuple[str, ...]:
    dg15 = card.parsed.get("DG15")
    key = getattr(dg15, "public_key", None)
    return tuple(f"DG15: {note}" for note in getattr(key, "warnings", ()))


def acceptance(
    passive: PassiveAuthResult, clone: CloneCheck, trust: TrustStore | None
) -> tuple[Acceptance, str]:
    """The desk's three outcomes (docs/architecture.md "How hospitals deploy it") and a machine
    reason: ``genuine`` only when anchored at a CSCA of the issuing state and not a clone;
    ``issuer_not_checked`` when hashes and signature hold but no installed CSCA anchors the
    signer; everything else ``not_genuine``. Whether an unchecked issuer is usable is the
    caller's policy, not part of the verdict."""
    if clone.outcome == "failed":
        return "not_genuine", "clone"
    if passive.verified:
        return "genuine", "anchored"
    if passive.status == "signer_not_trusted":
        empty = trust is None or trust.count_anchors() == 0
        return "issuer_not_checked", "no_trust_store" if empty else "signer_not_in_store"
    if passive.chain.status == "issuing_state_mismatch":
        return "not_genuine", "issuing_state_mismatch"
    if passive.status == "invalid":
        return "not_genuine", "forged"
    return "not_genuine", passive.status  # "malformed" or "unsupported"


def face_jpeg(parsed: Mapping[str, Any]) -> tuple[bytes | None, str | None]:
    dg2 = parsed.get("DG2")
    if dg2 is None:
        return None, "DG2 not read"
    try:
        return dg2.to_jpeg(), None
    except ParseError as exc:
        return None, str(exc)


def dg13_fields(dg13: Any) -> dict[str, object]:
    """DG13's fields by our names (``reader.lds.vocabulary``), for ``verify.identity``. Bytes
    that were not UTF-8 (cards personalised with TCVN3/VNI) go in as the CP1252 text a legacy
    system would show, so the identity's repair step recognises the encoding and records the
    repair."""
    values: dict[str, object] = {}
    for name in vocabulary.NAMES:
        value = getattr(dg13, name)
        values[name] = value.text if hasattr(value, "text") else value
    values["no_expiry"] = dg13.no_expiry
    extra = dict(dg13.extra)
    for number in dg13.invalid_text_fields:
        texts = [legacy_text(chunk) for chunk in dg13.field_bytes(number)]
        for spec in vocabulary.fields_numbered(number):
            if spec.slot is not None:  # a field holding several people: each its own value
                values[spec.name] = texts[spec.slot] if spec.slot < len(texts) else None
            elif texts:
                values[spec.name] = texts[0]
        if number in extra and texts:
            extra[number] = texts[0]
    values["extra"] = extra
    return values


def legacy_text(raw: bytes) -> str:
    """Bytes that are not UTF-8, as the Windows-1252 text an old screen would show. The five
    bytes CP1252 leaves undefined are VISCII letters (0x90 is "Ồ"), so they must survive."""
    return cp1252_text(raw)


def dg1_fields(dg1: Any) -> dict[str, object]:
    return {
        "document_number": dg1.document_number,
        "optional_data": dg1.optional_data,
        "id_number": dg1.id_number,
        "date_of_birth": dg1.date_of_birth,
        "date_of_expiry": dg1.date_of_expiry,
        "sex": dg1.sex,
        "primary_identifier": dg1.primary_identifier,
        "secondary_identifier": dg1.secondary_identifier,
    }


def card_identity(parsed: Mapping[str, Any], *, qr: str | bytes | None) -> Identity | None:
    """The card's identity (``verify.identity.build_identity``) from its parsed DG13 (DG1 as
    fallback) and the QR payload when given; None when there is none of the three."""
    dg13, dg1 = parsed.get("DG13"), parsed.get("DG1")
    qr_identity = parse_qr(qr) if qr is not None else None
    if dg13 is None and dg1 is None and qr_identity is None:
        return None
    return build_identity(
        dg13_fields(dg13) if dg13 is not None else None,
        dg1_fields(dg1) if dg1 is not None else None,
        qr_identity,
    )
