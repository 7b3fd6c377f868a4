"""What a finished scan leaves behind (docs/architecture.md "The data path", step 6): an
accepted card's identity -- only the fields check-in needs, and the optional ones the
operator chose to keep -- is stored for the retention window and its photo cached; a
rejected one is shown as unverified with the clerk's warning; either way the scan is audited.
``finish_scan`` builds the result the owning desk receives.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from reader.lds import vocabulary
from service import redact
from service.context import Context
from service.desks import minimise
from service.integrations.his.fields import his_object, residence_units
from service.scan.pipeline import ScanOutcome
from service.scan.queue import CLERK_MESSAGES, NOT_GENUINE, Scan

# Names are personal data: once a card has shown them, the log redactor hides them.
SENSITIVE_NAMES = vocabulary.PERSON_NAMES


async def finish_scan(ctx: Context, scan: Scan, outcome: ScanOutcome) -> dict[str, Any]:
    kept = ctx.settings.stored_fields
    identity = minimise(outcome.identity, kept) or {}
    unverified = minimise(outcome.identity, kept)
    redact.SENSITIVE.add(*(identity.get(k) for k in SENSITIVE_NAMES))
    now = datetime.now(UTC)
    id_number = outcome.id_number
    report = dict(outcome.report)
    if scan.access.id_number and id_number and scan.access.id_number != id_number:
        report["typed_id_number_matches"] = False
    result: dict[str, Any] = {
        "verdict": outcome.status,
        "accepted": outcome.accepted,
        "genuine": outcome.genuine,
        # genuine | issuer_not_checked | not_genuine; "verified" is never said of the second
        "acceptance": outcome.acceptance,
        "acceptance_reason": outcome.acceptance_reason,
        "clerk_message": _clerk_message(outcome),
        "reason": outcome.reason,
        "identity": None,
        "his": None,
        "report": report,
        "timings": {
            "read_seconds": round(outcome.read_seconds, 3),
            "verify_seconds": round(outcome.verify_seconds, 3),
            "apdus": outcome.apdus,
        },
        "photo_url": f"/api/v1/scans/{scan.id}/photo" if outcome.photo_jpeg else None,
    }
    if outcome.signer_issuer is not None and ctx.unknown_issuers is not None:
        await asyncio.to_thread(
            ctx.unknown_issuers.record, outcome.signer_issuer, outcome.signer_authority_key_id
        )
    if outcome.accepted and id_number:
        expires = now + timedelta(hours=ctx.settings.retention_hours)
        # The HIS fields with the residence's unit codes (service.integrations.his; no
        # insurance yet).
        units = await asyncio.to_thread(residence_units, identity.get("place_of_residence"))
        his = his_object(outcome.his or {}, units)
        await asyncio.to_thread(
            ctx.store.save_read,
            id_number=id_number,
            search_key=outcome.search_key,
            date_of_birth=outcome.date_of_birth,
            status=outcome.status,
            genuine=outcome.genuine,
            desk=scan.desk,
            scan_id=scan.id,
            identity=identity,
            his=his,
            report=report,
            photo=outcome.photo_jpeg if ctx.settings.store_photos else None,
            read_at=now,
            expires_at=expires,
            acceptance=outcome.acceptance,
            acceptance_reason=outcome.acceptance_reason,
        )
        if outcome.photo_jpeg:
            ctx.photos.put(id_number, outcome.photo_jpeg)
        result.update(
            identity=identity,
            his=his,
            his_units=units.to_json(),
            his_url=f"/api/v1/scans/{scan.id}/his",
            citizen_url=f"/api/v1/citizens/{id_number}",
            insurance_url=f"/api/v1/citizens/{id_number}/insurance",
            expires_at=expires.isoformat(),
        )
        if outcome.photo_jpeg:
            result["photo_url"] = f"/api/v1/citizens/{id_number}/photo"
    else:
        result["unverified_identity"] = unverified
        result["clerk_message"] = NOT_GENUINE
    await ctx.store.audit_async(
        desk=scan.desk,
        role="desk",
        action="scan",
        outcome=outcome.status if outcome.accepted else f"rejected:{outcome.status}",
        id_number=id_number,
        detail=f"reader {scan.reader}",
    )
    if outcome.accepted and id_number and ctx.outbox is not None:
        sent = result | {
            "scan_id": scan.id,
            "reader": scan.reader,
            "desk": scan.desk,
            "read_at": now.isoformat(),
        }
        await ctx.outbox.enqueue(
            scan_id=scan.id, id_number=id_number, result=sent, expires_at=expires
        )
    return result


def _clerk_message(outcome: ScanOutcome) -> str:
    if not outcome.accepted:
        return NOT_GENUINE
    return CLERK_MESSAGES.get(outcome.acceptance, NOT_GENUINE)
