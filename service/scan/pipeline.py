"""The scan pipeline: the one place where the service calls ``reader`` and ``verify``
(docs/architecture.md data path steps 1-5): access keys from what the desk typed or scanned, the
card read (trying each key in turn), then the verdict, identity and photo as JSON-ready data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import reader
from reader.drivers.card import DEFAULT_RESUME_WAIT, CardRead, EventFn, IncompleteReadError
from reader.drivers.transport import Transport
from reader.errors import AccessDeniedError, CardError
from reader.keys import AccessKey, BACKey, CANKey, InvalidKeyError, keys_for_id_number
from reader.profile import ReaderProfile
from verify import vntext
from verify.trust import TrustStore

ProgressFn = Callable[[str, int, int], None]


class KeyRequestError(ValueError):
    """The desk's input cannot give an access key; the message names the field, not its value."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessRequest:
    keys: tuple[AccessKey, ...]
    qr: str | None
    id_number: str | None  # what the desk expects to find on the card


def access_request(
    *,
    id_number: str | None = None,
    can: str | None = None,
    qr: str | None = None,
    document_number: str | None = None,
    date_of_birth: date | None = None,
    date_of_expiry: date | None = None,
) -> AccessRequest:
    """Keys to try, best first, from exactly one of: ID number (+ optional dates), CAN, QR
    payload, or document number + date of birth + date of expiry (BAC)."""
    given = [
        name
        for name, value in (
            ("id_number", id_number),
            ("can", can),
            ("qr", qr),
            ("document_number", document_number),
        )
        if value
    ]
    if len(given) != 1:
        raise KeyRequestError(
            "give exactly one of id_number, can, qr, document_number", field="id_number"
        )
    try:
        if id_number:
            keys = keys_for_id_number(id_number.strip(), date_of_birth, date_of_expiry)
            return AccessRequest(keys=tuple(keys), qr=None, id_number=id_number.strip())
        if can:
            return AccessRequest(keys=(CANKey(can.strip()),), qr=None, id_number=None)
        if qr:
            from verify.qr import QRError, parse_qr

            try:
                parsed = parse_qr(qr)
            except QRError as exc:
                raise KeyRequestError(f"QR payload: {exc}", field="qr") from None
            return AccessRequest(
                keys=tuple(parsed.access_keys()), qr=qr, id_number=parsed.id_number
            )
        if not (date_of_birth and date_of_expiry and document_number):
            raise KeyRequestError(
                "BAC needs document_number, date_of_birth and date_of_expiry",
                field="date_of_expiry",
            )
        key = BACKey(
            document_number.strip(),
            date_of_birth.strftime("%y%m%d"),
            date_of_expiry.strftime("%y%m%d"),
        )
        return AccessRequest(keys=(key,), qr=None, id_number=None)
    except InvalidKeyError as exc:
        raise KeyRequestError(str(exc), field=given[0]) from None


def read(
    transport: Transport,
    keys: tuple[AccessKey, ...],
    *,
    progress: ProgressFn | None = None,
    profile: ReaderProfile | None = None,
    resume_wait: float = DEFAULT_RESUME_WAIT,
    on_event: EventFn | None = None,
) -> CardRead:
    """Read the card with the first key it accepts (a wrong key is refused, the next tried).
    ``profile``: what the reader is known to do; ``resume_wait``: how long a card that left
    mid-read is waited for."""
    refused: AccessDeniedError | None = None
    for key in keys:
        try:
            return reader.read_card(
                transport,
                key,
                progress=progress,
                profile=profile,
                resume_wait=resume_wait,
                on_event=on_event,
            )
        except AccessDeniedError as exc:
            refused = exc
    assert refused is not None, "at least one key"
    raise refused


def root_cause(exc: CardError) -> CardError:
    """An incomplete read carries the transport error that cut it short."""
    if isinstance(exc, IncompleteReadError) and isinstance(exc.__cause__, CardError):
        return exc.__cause__
    return exc


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanOutcome:
    status: str  # passive-authentication verdict (verify.check_card)
    genuine: bool
    accepted: bool  # served as the citizen's identity
    reason: str  # why accepted or not, in English for the report
    identity: dict[str, Any] | None
    his: dict[str, Any] | None
    report: dict[str, Any]
    photo_jpeg: bytes | None
    id_number: str | None
    full_name: str | None
    search_key: str
    date_of_birth: str | None
    read_seconds: float
    verify_seconds: float
    apdus: int
    acceptance: str = "not_genuine"  # genuine | issuer_not_checked | not_genuine
    acceptance_reason: str = ""
    anchor_required: bool = True
    signer_issuer: str | None = None  # the DSC's issuer when no installed CSCA anchors it
    signer_authority_key_id: str | None = None


def anchor_required(setting: bool | None, trust: TrustStore | None) -> bool:
    """The acceptance policy: as configured, else required as soon as a CSCA is installed."""
    if setting is not None:
        return setting
    return trust is not None and trust.count_anchors() > 0


def verify_read(
    card: CardRead,
    trust: TrustStore | None,
    *,
    now: datetime | None = None,
    qr: str | None = None,
    require_anchor: bool | None = None,
) -> ScanOutcome:
    from verify.check import check_card

    now = now or datetime.now(UTC)
    required = anchor_required(require_anchor, trust)
    started = time.perf_counter()
    check = check_card(card, trust, at=now, today=now.date(), qr=qr)
    verify_seconds = time.perf_counter() - started
    ident = check.identity
    identity = ident.to_json(now.date()) if ident is not None else None
    report = check.to_json()
    report.pop("identity", None)
    report["trust_store"] = "configured" if trust is not None else "not_configured"
    report["read"] = {
        "complete": card.complete,
        "files": sorted(card.files),
        "missing": dict(card.missing),
        "parse_errors": dict(card.parse_errors),
        "apdus": card.stats.apdus,
        "bytes_sent": card.stats.bytes_sent,
        "bytes_received": card.stats.bytes_received,
        "seconds": round(card.stats.seconds, 3),
        "pace_parameters": card.pace_parameters,
        "recoveries": list(card.recoveries),
        "extended_length": card.learned.extended_length,
    }
    if identity is not None:
        report["cross_checks"] = identity.get("checks", [])
        report["repairs"] = identity.get("repairs", [])
    report["anchor_required"] = required
    accepted, reason = _acceptance(check, required, ident)
    name = ident.full_name if ident is not None else None
    signer = check.passive.signer
    unanchored = check.acceptance == "issuer_not_checked" and signer is not None
    return ScanOutcome(
        acceptance=check.acceptance,
        acceptance_reason=check.acceptance_reason,
        anchor_required=required,
        signer_issuer=signer.issuer if unanchored and signer is not None else None,
        signer_authority_key_id=(
            signer.authority_key_identifier if unanchored and signer is not None else None
        ),
        status=check.status,
        genuine=check.genuine,
        accepted=accepted,
        reason=reason,
        identity=identity,
        his=ident.his_fields() if ident is not None else None,
        report=report,
        photo_jpeg=check.photo_jpeg,
        id_number=ident.id_number if ident is not None else None,
        full_name=name,
        search_key=vntext.search_key(name) if name else "",
        date_of_birth=identity.get("date_of_birth") if identity else None,  # type: ignore[arg-type]
        read_seconds=card.stats.seconds,
        verify_seconds=verify_seconds,
        apdus=card.stats.apdus,
    )


def _acceptance(check: Any, required: bool, ident: Any) -> tuple[bool, str]:
    if ident is None or not ident.id_number:
        return False, "no identity could be built from the card"
    if check.acceptance_reason == "clone":
        return False, "the chip failed chip/active authentication: a copied chip"
    if check.acceptance == "genuine":
        return True, "anchored at a CSCA of the issuing state"
    if check.acceptance == "issuer_not_checked":
        if required:
            return False, "signature valid, issuer not checked: anchoring is required"
        # No CSCA is installed (or the operator chose so): usable, never called verified.
        return True, "signature valid, issuer not checked (no installed CSCA anchors the signer)"
    return False, f"passive authentication: {check.status} ({check.acceptance_reason})"


def parse_qr_fields(payload: str) -> dict[str, Any]:
    """``POST /qr``: identity fields (repaired) and the access keys the QR gives."""
    from verify.qr import parse_qr

    parsed = parse_qr(payload)
    keys = []
    for key in parsed.access_keys():
        if isinstance(key, CANKey):
            keys.append({"kind": "CAN", "can": key.can})
        elif isinstance(key, BACKey):
            keys.append(
                {
                    "kind": "BAC",
                    "document_number": key.document_number,
                    "date_of_birth": key.date_of_birth,
                    "date_of_expiry": key.date_of_expiry,
                }
            )
    return {
        "fields": parsed.fields(),
        "generation": parsed.generation,
        "repaired": parsed.repaired,
        "search_key": vntext.search_key(parsed.full_name),
        "full_name_title": vntext.title_case(parsed.full_name),
        "access_keys": keys,
    }
