"""Readers and scans (docs/architecture.md "The data path"): ``/readers``, ``/scans`` (queue,
list, poll, photo); the live routes (``/events``, ``/ws``, a reader's card now) are in
``service.api.routes.push``. A desk sees only its own readers, its own scans and their events;
anyone else gets 404 for them (docs/operations.md "Desks, roles and readers"). Reading itself
is in ``service.scan.queue``/``service.scan.pipeline``; what a finished scan stores is in
``service.scan.results``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from service.api.deps import AuditDep, CtxDep, DeskDep, ReadingDesk
from service.api.problems import Problem, invalid_input
from service.api.routes.shapes import ID_NUMBER, JPEG_RESPONSES, jpeg_response
from service.context import Context
from service.desks import Principal, result_for
from service.scan.pipeline import KeyRequestError, access_request
from service.scan.queue import Scan

router = APIRouter()


class ScanRequest(BaseModel):
    reader: str = Field(min_length=1, max_length=200, description="reader name from GET /readers")
    id_number: str | None = Field(
        default=None, pattern=ID_NUMBER, description="12-digit CCCD number typed by the desk"
    )
    can: str | None = Field(default=None, pattern=r"^\d{6}$", description="card access number")
    qr: str | None = Field(
        default=None,
        min_length=10,
        max_length=2000,
        description="the card's QR payload as a scanner typed it",
    )
    document_number: str | None = Field(default=None, pattern=r"^[0-9A-Z<]{9}$")
    date_of_birth: date | None = None
    date_of_expiry: date | None = None


@router.get("/readers", summary="Readers and whether a card is on them")
def readers(desk: DeskDep, ctx: CtxDep) -> dict[str, Any]:
    ctx.registry.refresh()
    items = []
    for item in ctx.registry.describe():
        if not desk.owns_reader(item["name"]):
            continue
        item["busy"] = ctx.scans.busy(item["name"])
        items.append(item)
    return {
        "readers": items,
        "pcsc": ctx.registry.pcsc_status,
        "simulated": ctx.settings.simulated,
    }


@router.post("/scans", status_code=202, summary="Queue a card read on a reader")
async def create_scan(
    body: ScanRequest, desk: ReadingDesk, audit: AuditDep, ctx: CtxDep, response: Response
) -> dict[str, Any]:
    if not desk.owns_reader(body.reader):
        await audit.in_thread("scan_start", "refused:not_own_reader", id_number=body.id_number)
        raise UNKNOWN_READER
    try:
        access = access_request(
            id_number=body.id_number,
            can=body.can,
            qr=body.qr,
            document_number=body.document_number,
            date_of_birth=body.date_of_birth,
            date_of_expiry=body.date_of_expiry,
        )
    except KeyRequestError as exc:
        await audit.in_thread("scan_start", "refused:no_access_key")
        raise invalid_input(
            exc,
            slug="invalid-access-key",
            title="No access key",
            clerk_message="Nhập đủ 12 số CCCD hoặc quét mã QR",
        ) from None
    try:
        scan = ctx.scans.submit(body.reader, access, desk.name)
    except Problem as exc:
        await audit.in_thread("scan_start", f"refused:{exc.slug}", id_number=access.id_number)
        raise
    await audit.in_thread(
        "scan_start", "queued", id_number=access.id_number, detail=f"scan {scan.id}"
    )
    response.headers["Location"] = f"/api/v1/scans/{scan.id}"
    return scan.to_json(position=ctx.scans.position(scan)) | {"href": f"/api/v1/scans/{scan.id}"}


@router.get("/scans", summary="Today's scans at this desk")
async def list_scans(desk: ReadingDesk, audit: AuditDep, ctx: CtxDep) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    items = [
        _scan_summary(scan)
        for scan in reversed(ctx.scans.scans.values())
        if scan.desk == desk.name and scan.created_at.date() == today
    ]
    # The list shows names and ID numbers: a lookup like any other, naming who was shown.
    shown = tuple(str(i["id_number"]) for i in items if i.get("id_number"))
    await audit.in_thread("scan_list", f"{len(items)} listed", id_numbers=shown)
    return {"scans": items}


@router.get("/scans/{scan_id}", summary="A scan's state, progress and result")
async def get_scan(
    scan_id: Annotated[str, Path(max_length=64)],
    desk: DeskDep,
    audit: AuditDep,
    ctx: CtxDep,
    wait: Annotated[
        float,
        Query(ge=0, le=30, description="long-poll: seconds to wait for the scan to finish"),
    ] = 0,
) -> dict[str, Any]:
    scan = _scan_or_404(ctx, scan_id, desk)
    await ctx.scans.wait(scan, wait)
    if scan.result is not None:
        # A card that is not genuine still shows its (unverified) data: audited too.
        shown = _shown_identity(scan)
        if shown:
            await audit.in_thread(
                "scan_result",
                "served" if scan.result.get("identity") else "served_unverified",
                id_number=shown.get("id_number"),
            )
    return _scan_view(scan.to_json(position=ctx.scans.position(scan)), desk)


@router.get("/scans/{scan_id}/his", summary="The HIS fields of a scan (QĐ 130 names or a profile)")
async def scan_his(
    scan_id: Annotated[str, Path(max_length=64)],
    desk: DeskDep,
    audit: AuditDep,
    ctx: CtxDep,
    profile: Annotated[
        str,
        Query(
            max_length=40,
            description="qd130 (default), qd130-old (old unit codes) or an operator profile",
        ),
    ] = "qd130",
) -> dict[str, Any]:
    from service.integrations.his.fields import ProfileError, apply_profile, insurance_fields
    from service.integrations.his.fields import residence_units as resolve

    scan = _scan_or_404(ctx, scan_id, desk)
    result = scan.result or {}
    his = result.get("his")
    identity = result.get("identity") or {}
    if not his or not identity.get("id_number"):
        raise Problem(
            status=404,
            slug="no-his-fields",
            title="This scan has no verified identity to hand to the HIS",
            clerk_message="Chưa có dữ liệu thẻ đã xác thực: đọc thẻ CCCD",
        )
    id_number = str(identity["id_number"])
    now = datetime.now(UTC)
    insurance = await asyncio.to_thread(ctx.store.cached_insurance, id_number, now.date(), now=now)
    merged = dict(his) | {k: v for k, v in insurance_fields(insurance).items() if v or k not in his}
    units = None
    if profile != "qd130":
        units = await asyncio.to_thread(resolve, identity.get("place_of_residence"))
    try:
        fields = apply_profile(merged, units, profile, ctx.settings.his_profiles)
    except ProfileError as exc:
        raise Problem(
            status=422,
            slug="unknown-profile",
            title="No such HIS profile",
            detail=str(exc),
            extra={"field": "profile"},
        ) from None
    await audit.in_thread("scan_his", f"served:{profile}"[:64], id_number=id_number)
    return {
        "scan_id": scan.id,
        "profile": profile,
        "his": fields,
        "units": result.get("his_units"),
        "insurance_checked": insurance is not None,
    }


@router.get(
    "/scans/{scan_id}/photo",
    summary="The face image read in this scan (JPEG)",
    response_class=Response,
    responses=JPEG_RESPONSES,
)
async def scan_photo(
    scan_id: Annotated[str, Path(max_length=64)], desk: DeskDep, audit: AuditDep, ctx: CtxDep
) -> Response:
    scan = _scan_or_404(ctx, scan_id, desk)
    if scan.photo_jpeg is None:
        raise Problem(status=404, slug="no-photo", title="This scan has no face image")
    shown = (_shown_identity(scan) or {}).get("id_number")
    await audit.in_thread("scan_photo", "served", id_number=shown)
    return jpeg_response(scan.photo_jpeg)


UNKNOWN_READER = Problem(
    status=404,
    slug="unknown-reader",
    title="No reader by that name",
    clerk_message="Không thấy đầu đọc này: chọn lại đầu đọc",
)


def _scan_or_404(ctx: Context, scan_id: str, desk: Principal) -> Scan:
    """The caller's own scan; another desk's answers exactly as an unknown id does."""
    scan = ctx.scans.get(scan_id)
    if scan is None or scan.desk != desk.name:
        raise Problem(status=404, slug="unknown-scan", title="No scan with that id")
    return scan


def _scan_view(body: dict[str, Any], desk: Principal) -> dict[str, Any]:
    """The optional card fields only where this principal's configuration asks for them."""
    if isinstance(body.get("result"), dict):
        body["result"] = result_for(body["result"], desk.fields)
    return body


def _shown_identity(scan: Scan) -> dict[str, Any] | None:
    """The identity a scan shows the desk: verified, else the unverified one (still audited)."""
    result = scan.result or {}
    shown: dict[str, Any] | None = result.get("identity") or result.get("unverified_identity")
    return shown


def _scan_summary(scan: Scan) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "id": scan.id,
        "reader": scan.reader,
        "state": scan.state,
        "created_at": scan.created_at.isoformat(),
    }
    if scan.result is not None:
        ident = scan.result.get("identity") or {}
        summary.update(
            verdict=scan.result["verdict"],
            accepted=scan.result["accepted"],
            full_name=ident.get("full_name"),
            id_number=ident.get("id_number"),
        )
        if "acceptance" in scan.result:
            summary["acceptance"] = scan.result["acceptance"]
    if scan.problem is not None:
        # The title is English; the desk's list shows the clerk's text, by type.
        summary["problem"] = scan.problem.get("title")
        summary["problem_type"] = scan.problem.get("type")
        summary["clerk_message"] = scan.problem.get("clerk_message")
    return summary
