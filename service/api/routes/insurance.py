"""The desk's insurance routes (``docs/spec/bhyt-gateway.md``; the endpoints are described in
``docs/api.md`` "Health insurance (BHYT)"): the hospital's BHXH officers, and insurance checks
as resources -- started for a verified read or for a typed BHYT number / card code, watched
while the gateway takes its time, abandoned by the clerk. Another desk's check is 404.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import AuditDep, CtxDep, DeskDep
from service.api.problems import Problem
from service.api.routes.citizens import record_or_404
from service.api.routes.shapes import ID_NUMBER
from service.integrations import insurance
from service.integrations.bhyt.checks import Check

router = APIRouter()
CHECK_ID = r"^ic_[A-Za-z0-9_-]{8,32}$"


class CheckRequest(BaseModel):
    """A chip read (``id_number``), the CCCD card's QR payload (``qr``), or typed data
    (``card_code`` + ``full_name`` + ``date_of_birth``); see docs/api.md."""

    model_config = ConfigDict(extra="forbid")

    id_number: str | None = Field(None, pattern=ID_NUMBER)
    qr: str | None = Field(None, min_length=1, max_length=2000)
    card_code: str | None = Field(None, min_length=10, max_length=24)
    full_name: str | None = Field(None, min_length=1, max_length=255)
    date_of_birth: str | None = Field(None, max_length=10)
    sex: Literal["Nam", "Nữ"] | None = None
    officer_id: str | None = Field(None, min_length=1, max_length=32)
    refresh: bool = False


@router.get("/officers", summary="The hospital's officers registered with BHXH")
def officers(desk: DeskDep, ctx: CtxDep) -> dict[str, Any]:
    default = ctx.officers.desk_default(desk.name, getattr(desk, "officer_id", None))
    return {"officers": ctx.officers.listing(), "desk_default": default.id if default else None}


@router.post(
    "/insurance/checks",
    summary="Start a BHYT check (chip read or typed code), or join the running one",
    status_code=202,
)
async def start(
    body: CheckRequest, desk: DeskDep, audit: AuditDep, ctx: CtxDep, response: Response
) -> dict[str, Any]:
    typed = body.full_name is not None or body.date_of_birth is not None or body.sex is not None
    ways = [body.id_number is not None, body.qr is not None, typed]
    if sum(ways) > 1 or (body.qr is not None and body.card_code is not None):
        raise Problem(
            status=422,
            slug="invalid-request",
            title="Give one of: id_number (a chip read), qr, or typed data",
            detail="with id_number or qr, the name and date of birth come from the card",
            clerk_message="Tra cứu theo thẻ đã đọc, theo mã QR hoặc theo mã nhập tay: chọn một",
            extra={"field": "id_number" if body.id_number is not None else "qr"},
        )
    if body.id_number is not None:
        record = await record_or_404(ctx, audit, body.id_number, "insurance")
        subject = insurance.chip_subject(record, body.card_code)
    elif body.qr is not None:
        subject = insurance.qr_subject(body.qr)
    else:
        subject = insurance.typed_subject(
            card_code=body.card_code,
            full_name=body.full_name,
            date_of_birth=body.date_of_birth,
            sex=body.sex,
        )
    check, joined = await insurance.begin(
        ctx,
        desk=desk.name,
        principal_officer=getattr(desk, "officer_id", None),
        subject=subject,
        officer_id=body.officer_id,
        refresh=body.refresh,
        audit=audit,
    )
    if joined or check.state != "running":
        response.status_code = 200
    return check.to_json(joined=joined)


@router.get("/insurance/checks", summary="This desk's insurance checks, running first")
def listing(desk: DeskDep, ctx: CtxDep) -> dict[str, Any]:
    return {"checks": [c.to_json() for c in ctx.insurance_checks.for_desk(desk.name)]}


@router.get("/insurance/checks/{check_id}", summary="One insurance check (long-poll with wait)")
async def one(
    check_id: Annotated[str, Path(pattern=CHECK_ID)],
    desk: DeskDep,
    ctx: CtxDep,
    wait: Annotated[
        float, Query(ge=0, le=60, description="seconds to wait while the check is running")
    ] = 0,
) -> dict[str, Any]:
    check = _mine(ctx.insurance_checks.get(desk.name, check_id))
    await ctx.insurance_checks.wait(check, wait)
    return check.to_json()


@router.delete("/insurance/checks/{check_id}", summary="Abandon a running insurance check")
async def abandon(
    check_id: Annotated[str, Path(pattern=CHECK_ID)],
    desk: DeskDep,
    audit: AuditDep,
    ctx: CtxDep,
) -> dict[str, Any]:
    before = _mine(ctx.insurance_checks.get(desk.name, check_id)).state
    check = _mine(ctx.insurance_checks.abandon(desk.name, check_id))
    if before == "running":
        await audit.in_thread(
            "insurance", "abandoned", id_number=check.id_number or check.card_code
        )
    return check.to_json()


def _mine(check: Check | None) -> Check:
    if check is None:
        raise Problem(
            status=404,
            slug="not-found",
            title="No such insurance check for this desk",
            clerk_message="Không tìm thấy lượt tra cứu BHYT: tra cứu lại",
        )
    return check
