"""The desk's insurance checks (``docs/spec/bhyt-gateway.md`` "The desk's job" and "Who may check
in how"): who is looked up (a verified chip read, or a BHYT number / card code typed with name
and date of birth), which officer asks, and the etiquette around the gateway client: today's
good answer for a chip read is kept (no longer than the read) and answered without a call;
one check per person and desk at a time; every check is audited.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service import redact
from service.api.deps import Audit
from service.api.problems import Problem
from service.context import Context
from service.integrations.bhyt import NOT_KEPT_STATUSES, Officer, birth_date_form, not_configured
from service.integrations.bhyt.checks import Check, Kind
from service.integrations.bhyt.codes import ABANDONED_MESSAGE, NO_OFFICER_MESSAGE
from service.storage.store import ReadRecord

TYPED_CODE = re.compile(r"^(\d{10}|\d{12}|[A-Z]{2}[1-5]\d{12})$")
CHIP_CARD_CODE = re.compile(r"^(\d{10}|[A-Z]{2}[1-5]\d{12})$")


@dataclass(frozen=True, slots=True)
class Subject:
    """Whom the gateway is asked about."""

    kind: Kind
    key: str  # one running check per key and desk
    id_number: str | None
    card_code: str  # the maThe sent
    shown_code: str | None  # the code the desk typed (None: the chip's CCCD number)
    full_name: str
    date_of_birth: str  # as the gateway takes it
    sex: str | None
    keep_until: datetime | None = None  # a chip read's answer is kept no longer than the read


def _invalid(field: str, detail: str, clerk_message: str) -> Problem:
    return Problem(
        status=422,
        slug="invalid-request",
        title="The insurance check cannot be sent as asked",
        detail=detail,
        clerk_message=clerk_message,
        extra={"field": field},
    )


def normal_code(value: str) -> str:
    return re.sub(r"[\s.-]", "", value).upper()


def chip_subject(record: ReadRecord, card_code: str | None = None) -> Subject:
    ident = record.identity
    born = ident.get("date_of_birth")
    shown = normal_code(card_code) if card_code else None
    if shown is not None and not CHIP_CARD_CODE.match(shown):
        raise _invalid(
            "card_code",
            "card_code must be the 10-digit BHYT number or a 15-character card code",
            "Mã thẻ BHYT không đúng dạng: nhập 10 số hoặc mã thẻ 15 ký tự",
        )
    return Subject(
        kind="chip",
        key=f"chip:{record.id_number}",
        id_number=record.id_number,
        card_code=shown or record.id_number,
        shown_code=shown,
        full_name=str(ident.get("full_name") or ""),
        date_of_birth=_chip_birth(born),
        sex=ident.get("sex"),
        keep_until=record.expires_at,
    )


def _chip_birth(born: Any) -> str:
    """The chip's ISO date of birth in the gateway's form (year only when day or month is
    unknown on the card)."""
    if not born:
        return ""
    try:
        return birth_date_form(str(born))
    except ValueError:
        year = str(born)[:4]
        return year if year.isdigit() else ""


def typed_subject(
    *,
    card_code: str | None,
    full_name: str | None,
    date_of_birth: str | None,
    sex: str | None,
    kind: Kind = "typed",
) -> Subject:
    code = normal_code(card_code or "")
    if not TYPED_CODE.match(code):
        raise _invalid(
            "card_code",
            "card_code must be 10 digits (BHYT number), 12 digits (CCCD number) or a "
            "15-character card code",
            "Mã BHYT không đúng dạng: nhập 10 số BHYT, 12 số CCCD hoặc mã thẻ 15 ký tự",
        )
    name = " ".join((full_name or "").split())
    if not name or len(name) > 255:
        raise _invalid(
            "full_name", "full_name is required (1-255 characters)", "Nhập họ tên người bệnh"
        )
    redact.SENSITIVE.add(name)  # never in a log line
    try:
        born = birth_date_form(date_of_birth or "")
    except ValueError:
        raise _invalid(
            "date_of_birth",
            "date_of_birth must be YYYY-MM-DD, YYYY-MM or YYYY",
            "Ngày sinh không đúng: nhập ngày/tháng/năm, tháng/năm hoặc năm sinh",
        ) from None
    return Subject(
        kind=kind,
        key=f"typed:{code}",
        id_number=None,
        card_code=code,
        shown_code=code,
        full_name=name,
        date_of_birth=born,
        sex=sex,
    )


def qr_subject(payload: str) -> Subject:
    """The CCCD card's own QR code (its printed payload): the 12-digit number, name, date of
    birth and sex, looked up with no chip read."""
    from service.scan.pipeline import parse_qr_fields
    from verify.qr import QRError

    try:
        fields = parse_qr_fields(payload)["fields"]
    except QRError:
        raise Problem(
            status=422,
            slug="invalid-qr",
            title="Not a CCCD QR payload",
            clerk_message="Mã QR không đọc được: quét lại hoặc nhập 12 số CCCD",
            extra={"field": "qr"},
        ) from None
    return typed_subject(
        card_code=fields.get("id_number"),
        full_name=fields.get("full_name"),
        date_of_birth=fields.get("date_of_birth"),
        sex=fields.get("sex"),
        kind="qr",
    )


def resolve_officer(
    ctx: Context, desk: str, officer_id: str | None, principal_officer: str | None = None
) -> Officer:
    if officer_id:
        officer = ctx.officers.get(officer_id)
        if officer is None:
            raise Problem(
                status=422,
                slug="unknown-officer",
                title="That officer is not in the hospital's list of BHXH officers",
                detail="officer_id is not one of GET /api/v1/officers",
                clerk_message="Cán bộ tra cứu không có trong danh sách đăng ký với BHXH: "
                "chọn lại tên cán bộ",
                extra={"field": "officer_id"},
            )
        return officer
    officer = ctx.officers.desk_default(desk, principal_officer)
    if officer is None:
        raise Problem(
            status=422,
            slug="officer-required",
            title="No officer for the insurance check",
            detail="give officer_id, or configure a default officer for this desk"
            if len(ctx.officers)
            else "no BHXH officers are configured on the service",
            clerk_message=NO_OFFICER_MESSAGE,
            extra={"field": "officer_id"},
        )
    return officer


async def begin(
    ctx: Context,
    *,
    desk: str,
    principal_officer: str | None,
    subject: Subject,
    officer_id: str | None,
    refresh: bool,
    audit: Audit,
) -> tuple[Check, bool]:
    """Start a check, join the running one (``joined`` True), or answer from what is kept.
    Raises ``Problem`` for officer trouble; never for gateway trouble."""
    registry = ctx.insurance_checks
    fields: dict[str, Any] = {
        "desk": desk,
        "kind": subject.kind,
        "key": subject.key,
        "id_number": subject.id_number,
        "card_code": subject.shown_code,
    }
    if ctx.bhyt is None:
        check = registry.finished_now(
            **fields, officer=None, result=not_configured().to_json(), cached=False
        )
        await audit.in_thread("insurance", "not_configured", id_number=_audited(subject))
        return check, False
    officer = resolve_officer(ctx, desk, officer_id, principal_officer)
    running = registry.running_for(desk, subject.key)
    if running is not None:
        return running, True
    kept = await _kept(ctx, desk, subject)
    if kept is not None and not refresh and subject.kind == "chip" and not subject.shown_code:
        check = registry.finished_now(**fields, officer=officer, result=kept, cached=True)
        await audit.in_thread(
            "insurance",
            f"{kept.get('status')}:{kept.get('code') or '-'}:kept",
            id_number=_audited(subject),
        )
        return check, False

    async def work(check: Check) -> dict[str, Any]:
        assert ctx.bhyt is not None
        result = await ctx.bhyt.check(
            card_code=subject.card_code,
            full_name=subject.full_name,
            date_of_birth=subject.date_of_birth,
            sex=subject.sex,
            officer=officer,
        )
        out = result.to_json()
        if (
            subject.kind == "chip"
            and subject.id_number
            and not subject.shown_code
            and result.status not in NOT_KEPT_STATUSES
        ):
            now = datetime.now(UTC)
            await asyncio.to_thread(
                ctx.store.cache_insurance,
                subject.id_number,
                now.date(),
                out,
                now=now,
                expires_at=subject.keep_until or now,
            )
        await audit.in_thread(
            "insurance", f"{result.status}:{result.code or '-'}", id_number=_audited(subject)
        )
        return out

    check, created = registry.start(**fields, officer=officer, work=work, last_good=kept)
    return check, not created


async def _kept(ctx: Context, desk: str, subject: Subject) -> dict[str, Any] | None:
    if subject.kind == "chip" and subject.id_number:
        now = datetime.now(UTC)
        return await asyncio.to_thread(
            ctx.store.cached_insurance, subject.id_number, now.date(), now=now
        )
    return ctx.insurance_checks.last_good(desk, subject.key)


def _audited(subject: Subject) -> str:
    return subject.id_number or subject.card_code


def answer_of(check: Check) -> dict[str, Any]:
    """The insurance answer of a finished check (or what to show when there is none)."""
    if check.result is not None:
        return check.result
    if check.state == "abandoned":
        meaning, status, message = "abandoned by the clerk", "abandoned", ABANDONED_MESSAGE
    else:
        meaning, status, message = "still running", "running", "Đang tra cứu BHYT"
    return {
        "status": status,
        "code": None,
        "meaning": meaning,
        "message_vi": message,
        "usable_for_checkin": False,
    }
