"""Accepted identities and what the desk asks about them (docs/architecture.md "The data
path", step 6; docs/spec/bhyt-gateway.md "The desk's job"): the latest identity by the full
ID number (any authenticated role: the hospital-wide purpose), a search by whole name and
birth date (never a fragment), the face image, the BHYT check (kept no longer than the read)
and parsing a QR payload. Every access is audited with the people it showed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from service import redact
from service.api.deps import Admin, Audit, AuditDep, CtxDep, DeskDep
from service.api.problems import Problem, invalid_input
from service.api.routes.shapes import ID_NUMBER, JPEG_RESPONSES, jpeg_response
from service.context import Context
from service.desks import Principal, minimise
from service.integrations import insurance
from service.scan.pipeline import parse_qr_fields
from service.storage.store import ReadRecord

router = APIRouter()


class QRRequest(BaseModel):
    payload: str = Field(min_length=1, max_length=2000)


@router.get("/citizens", summary="Find an identity by whole name and date of birth")
def search(
    audit: AuditDep,
    ctx: CtxDep,
    q: Annotated[str | None, Query(max_length=100, description="the whole full name")] = None,
    date_of_birth: date | None = None,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> dict[str, Any]:
    from verify import vntext

    key = vntext.search_key(q) if q else ""
    if len(key.split()) < 2 or date_of_birth is None:
        audit("search", "refused:incomplete")
        raise Problem(
            status=422,
            slug="search-needs-name-and-birth-date",
            title="A search needs the whole full name and the date of birth",
            detail="give q (the full name, at least two words) and date_of_birth; "
            "fragments are not searched",
            clerk_message="Nhập đủ họ tên và ngày sinh để tìm",
        )
    records = ctx.store.find_by_name(
        key=key, date_of_birth=date_of_birth.isoformat(), now=datetime.now(UTC), limit=limit
    )
    audit(
        "search",
        f"{len(records)} found",
        id_numbers=tuple(r.id_number for r in records),
    )
    return {"results": [_summary(r) for r in records]}


@router.get("/citizens/{id_number}", summary="The latest accepted identity")
async def citizen(
    id_number: Annotated[str, Path(pattern=ID_NUMBER)],
    desk: DeskDep,
    audit: AuditDep,
    ctx: CtxDep,
) -> dict[str, Any]:
    record = await record_or_404(ctx, audit, id_number, "lookup")
    await audit.in_thread("lookup", "found", id_number=id_number)
    return _citizen_json(record, desk)


@router.get(
    "/citizens/{id_number}/photo",
    summary="Face image (JPEG)",
    response_class=Response,
    responses=JPEG_RESPONSES,
)
async def photo(
    id_number: Annotated[str, Path(pattern=ID_NUMBER)], audit: AuditDep, ctx: CtxDep
) -> Response:
    record = await record_or_404(ctx, audit, id_number, "photo")
    jpeg = record.photo or ctx.photos.get(id_number)
    if jpeg is None:
        await audit.in_thread("photo", "expired", id_number=id_number)
        raise Problem(
            status=404,
            slug="photo-expired",
            title="The face image is no longer kept",
            clerk_message="Ảnh đã hết thời gian lưu: đọc lại thẻ",
        )
    await audit.in_thread("photo", "served", id_number=id_number)
    return jpeg_response(jpeg)


@router.get(
    "/citizens/{id_number}/insurance",
    summary="BHYT check for a verified read: today's kept answer, else ask and wait",
)
async def insurance_for_read(
    id_number: Annotated[str, Path(pattern=ID_NUMBER)],
    desk: DeskDep,
    audit: AuditDep,
    ctx: CtxDep,
    refresh: bool = False,
    card_code: Annotated[str | None, Query(min_length=10, max_length=24)] = None,
    officer_id: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
) -> dict[str, Any]:
    record = await record_or_404(ctx, audit, id_number, "insurance")
    check, _ = await insurance.begin(
        ctx,
        desk=desk.name,
        principal_officer=getattr(desk, "officer_id", None),
        subject=insurance.chip_subject(record, card_code),
        officer_id=officer_id,
        refresh=refresh,
        audit=audit,
    )
    await ctx.insurance_checks.wait(check, ctx.settings.bhxh_timeout_seconds + 5)
    return {
        "id_number": id_number,
        "day": datetime.now(UTC).date().isoformat(),
        "cached": check.cached,
        "check_id": check.id,
        "last_good": check.last_good,
        **insurance.answer_of(check),
    }


@router.post("/qr", summary="Parse a QR payload into identity fields and access keys")
def qr(body: QRRequest, audit: AuditDep) -> dict[str, Any]:
    from verify.qr import QRError

    try:
        parsed = parse_qr_fields(body.payload)
    except QRError as exc:
        raise invalid_input(
            exc,
            slug="invalid-qr",
            title="Not a CCCD QR payload",
            clerk_message="Mã QR không đọc được: quét lại hoặc nhập 12 số CCCD",
        ) from None
    redact.SENSITIVE.add(parsed["fields"].get("full_name"))
    audit("qr", "parsed", id_number=parsed["fields"].get("id_number"))
    return parsed


async def record_or_404(ctx: Context, audit: Audit, id_number: str, action: str) -> ReadRecord:
    """From an async route: the verified read, or 404 (audited), off the event loop."""
    return await asyncio.to_thread(_record_or_404, ctx, audit, id_number, action)


def _record_or_404(ctx: Context, audit: Audit, id_number: str, action: str) -> ReadRecord:
    record = ctx.store.latest_read(id_number, now=datetime.now(UTC))
    if record is None:
        audit(action, "not_found", id_number=id_number)
        raise Problem(
            status=404,
            slug="not-found",
            title="No accepted identity for that ID number within the retention window",
            clerk_message="Chưa có dữ liệu thẻ đã xác thực: đọc thẻ CCCD",
        )
    return record


@router.delete("/citizens/{id_number}", summary="Admin: erase one person's stored reads")
def erase(
    id_number: Annotated[str, Path(pattern=ID_NUMBER)],
    admin: Admin,
    audit: AuditDep,
    ctx: CtxDep,
) -> dict[str, Any]:
    counts = erase_person(ctx, id_number)
    audit("erase", f"{counts['reads']} reads, {counts['scans']} scans", id_number=id_number)
    return {"id_number": id_number, "erased": counts}


def erase_person(ctx: Context, id_number: str) -> dict[str, int]:
    """Every trace the service keeps of one person: stored reads, insurance answers, the
    scans in memory and the cached face image."""
    counts = ctx.store.erase(id_number)
    counts["scans"] = ctx.scans.forget_person(id_number)
    counts["photos"] = int(ctx.photos.drop(id_number))
    return counts


def _citizen_json(record: ReadRecord, desk: Principal) -> dict[str, Any]:
    report = record.report
    return {
        "identity": minimise(record.identity, desk.fields),
        "his": record.his,
        "verification": {
            "verdict": record.status,
            "genuine": record.genuine,
            "acceptance": record.acceptance or report.get("acceptance"),
            "acceptance_reason": record.acceptance_reason or report.get("acceptance_reason"),
            "not_a_clone": report.get("not_a_clone"),
            "trust_store": report.get("trust_store"),
        },
        "report": report,
        "read_at": record.read_at.isoformat(),
        "expires_at": record.expires_at.isoformat(),
        "desk": record.desk,
        "photo_url": f"/api/v1/citizens/{record.id_number}/photo",
        "insurance_url": f"/api/v1/citizens/{record.id_number}/insurance",
    }


def _summary(record: ReadRecord) -> dict[str, Any]:
    ident = record.identity
    return {
        "id_number": record.id_number,
        "full_name": ident.get("full_name"),
        "date_of_birth": ident.get("date_of_birth"),
        "sex": ident.get("sex"),
        "read_at": record.read_at.isoformat(),
        "citizen_url": f"/api/v1/citizens/{record.id_number}",
    }
