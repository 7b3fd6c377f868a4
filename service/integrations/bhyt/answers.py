"""What the desk is told about an insurance check (``docs/spec/bhyt-gateway.md``, response fields
and the ``maKetQua`` table): the gateway's answer read case-insensitively into an
``InsuranceCheck``, the card to register the visit with (the NEW card for 003), the visit
history of ``Lskcb2025`` without diagnoses, and where the identity and the gateway differ.
Also the request formats the gateway takes: ``maThe`` (10, 12, 15 or 17 characters) and
``ngaySinh`` (``dd/MM/yyyy``, ``MM/yyyy`` or ``yyyy``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from service.integrations.bhyt import codes
from service.integrations.bhyt.codes import RESULT_CODES, ResultCode
from verify import vntext

CARD_CODE = re.compile(r"^[A-Z]{2}[1-5]\d{12}$")
_MA_THE = re.compile(r"^(\d{10}|\d{12}|[A-Z]{2}[1-5]\d{12}|[A-Z0-9]{17})$")
_BIRTH_FORMS = (
    (re.compile(r"^(\d{2})/(\d{2})/(\d{4})$"), "dmy"),
    (re.compile(r"^(\d{2})(\d{2})(\d{4})$"), "dmy"),  # the QR code's ddMMyyyy
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "ymd"),
    (re.compile(r"^(\d{2})/(\d{4})$"), "my"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "ym"),
    (re.compile(r"^(\d{4})$"), "y"),
)


def card_code_form(value: str) -> str:
    """``maThe`` as the gateway takes it (spaces dropped, upper case); ValueError if it is
    none of the 10, 12, 15 or 17 character forms."""
    code = re.sub(r"[\s.-]", "", value).upper()
    if not _MA_THE.match(code):
        raise ValueError("card code must be 10 or 12 digits, or 15 or 17 characters")
    return code


def birth_date_form(value: str) -> str:
    """``ngaySinh`` as the gateway takes it: ``dd/MM/yyyy``, ``MM/yyyy`` or ``yyyy`` (from
    those, ISO ``yyyy-MM-dd`` / ``yyyy-MM`` or the QR code's ``ddMMyyyy``)."""
    text = value.strip()
    for pattern, kind in _BIRTH_FORMS:
        match = pattern.match(text)
        if not match:
            continue
        parts = match.groups()
        if kind == "dmy":
            day, month, year = parts
        elif kind == "ymd":
            year, month, day = parts
        elif kind in ("my", "ym"):
            month, year = parts if kind == "my" else parts[::-1]
            day = None
        else:
            (year,), month, day = parts, None, None
        if not 1900 <= int(year) <= 2100:
            break
        if month is not None and not 1 <= int(month) <= 12:
            break
        if day is not None:
            try:
                datetime(int(year), int(month or 1), int(day))
            except ValueError:
                break
            return f"{day}/{month}/{year}"
        return f"{month}/{year}" if month else year
    raise ValueError("date of birth must be dd/MM/yyyy, MM/yyyy or yyyy")


@dataclass(frozen=True, slots=True, kw_only=True)
class InsuranceCheck:
    """What the desk shows. ``status`` is a ResultCode.status or ``unavailable`` /
    ``auth_error`` / ``not_configured`` / ``unknown_code`` / ``abandoned``."""

    status: str
    code: str | None
    meaning: str
    message_vi: str
    usable_for_checkin: bool
    gateway_note: str | None = None
    card: dict[str, Any] = field(default_factory=dict)
    new_card: dict[str, Any] | None = None
    checkin_card: dict[str, Any] | None = None
    differences: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    history_status: str = "skipped"
    visits: int = 0
    checked_at: str = ""
    attempts: int = 0
    retry_after: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def but(self, **changes: Any) -> InsuranceCheck:
        return replace(self, **changes)


def failed(
    status: str,
    reason: str,
    message_vi: str,
    *,
    attempts: int = 0,
    code: str | None = None,
    retry_after: float | None = None,
) -> InsuranceCheck:
    return InsuranceCheck(
        status=status,
        code=code,
        meaning=reason,
        message_vi=message_vi,
        usable_for_checkin=False,
        checked_at=now_iso(),
        attempts=attempts,
        retry_after=retry_after,
    )


def unavailable(reason: str, *, attempts: int = 0) -> InsuranceCheck:
    return failed("unavailable", reason, codes.UNAVAILABLE_MESSAGE, attempts=attempts)


def not_configured() -> InsuranceCheck:
    return failed("not_configured", "no BHXH gateway configured", codes.NOT_CONFIGURED_MESSAGE)


def lower_keys(value: Any, depth: int = 0) -> Any:
    """Field names compared case-insensitively, at every depth (bounded)."""
    if depth > 8:
        return None
    if isinstance(value, Mapping):
        return {str(k).lower(): lower_keys(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v, depth + 1) for v in value[:500]]
    return value


_CARD_FIELDS = {
    "mathe": "card_code",
    "hoten": "full_name",
    "ngaysinh": "date_of_birth",
    "gioitinh": "sex",
    "diachi": "address",
    "madkbd": "registered_clinic",
    "cqbhxh": "bhxh_office",
    "gtthetu": "valid_from",
    "gttheden": "valid_to",
    "makv": "area_code",
    "ngaydu5nam": "five_years_from",
    "masobhxh": "social_insurance_number",
    "mathecu": "old_card_code",
}
_NEW_CARD_FIELDS = {
    "mathemoi": "card_code",
    "gtthetumoi": "valid_from",
    "gtthedenmoi": "valid_to",
    "madkbdmoi": "registered_clinic",
    "tendkbdmoi": "registered_clinic_name",
}
_CHECKIN_FIELDS = ("card_code", "valid_from", "valid_to", "registered_clinic")


def from_answer(body: Mapping[str, Any], *, attempts: int) -> InsuranceCheck:
    """A card-check answer (keys already lower-cased) as the desk sees it."""
    code = _text(body.get("maketqua")) or ""
    result = RESULT_CODES.get(code.strip())
    note = _text(body.get("ghichu"))
    if result is None:
        return failed(
            "unknown_code",
            "result code not in the gateway's table",
            codes.UNKNOWN_CODE_MESSAGE,
            attempts=attempts,
            code=code[:8] or None,
        ).but(gateway_note=note)
    card = _pick(body, _CARD_FIELDS)
    new_card = _pick(body, _NEW_CARD_FIELDS) or None
    check = _coded(result, note=note, attempts=attempts).but(card=card, new_card=new_card)
    if result.code == "003":
        if not new_card or not new_card.get("card_code"):
            return check.but(
                status="not_usable",
                usable_for_checkin=False,
                meaning="old card expired and the gateway gave no new card",
                message_vi=codes.NEW_CARD_MISSING_MESSAGE,
            )
        return check.but(checkin_card={k: new_card.get(k) for k in _CHECKIN_FIELDS})
    if result.usable_for_checkin and card:
        return check.but(checkin_card={k: card.get(k) for k in _CHECKIN_FIELDS})
    return check


def _coded(result: ResultCode, *, note: str | None, attempts: int) -> InsuranceCheck:
    return InsuranceCheck(
        status=result.status,
        code=result.code,
        meaning=result.meaning,
        message_vi=result.message_vi,
        usable_for_checkin=result.usable_for_checkin,
        gateway_note=note,
        checked_at=now_iso(),
        attempts=attempts,
    )


def coded(code: str, *, attempts: int, note: str | None = None) -> InsuranceCheck:
    return _coded(RESULT_CODES[code], note=note, attempts=attempts)


def _pick(body: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    return {out: _text(body[key]) for key, out in names.items() if body.get(key) not in (None, "")}


# -- visit history (Lskcb2025) -------------------------------------------------------------

_STATUS = {"1": "ra viện", "2": "chuyển viện", "3": "trốn viện", "4": "xin ra viện"}
_OUTCOME = {"1": "khỏi", "2": "đỡ", "3": "không thay đổi", "4": "nặng hơn", "5": "tử vong"}
_REASON = {"1": "đúng tuyến", "2": "cấp cứu", "3": "trái tuyến", "4": "thông tuyến"}
MAX_VISITS = 100


def history_from_answer(body: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The visits of a ``Lskcb2025`` answer (keys lower-cased); None when it is not a
    ``000`` answer. Diagnoses (``tenBenh``) are health data the desk does not need: dropped."""
    if (_text(body.get("maketqua")) or "").strip() != "000":
        return None
    visits = body.get("dslichsukcb2025")
    if visits is None:
        return []
    if not isinstance(visits, list):
        return None
    out = []
    for visit in visits[:MAX_VISITS]:
        if not isinstance(visit, Mapping):
            continue
        status, outcome, reason = (
            _text(visit.get(k)) or "" for k in ("tinhtrang", "kqdieutri", "lydovv")
        )
        out.append(
            {
                "record": _text(visit.get("mahoso")),
                "facility": _text(visit.get("macskcb")),
                "admitted": _text(visit.get("ngayvao")),
                "discharged": _text(visit.get("ngayra")),
                "status": status or None,
                "status_text": _STATUS.get(status),
                "result": outcome or None,
                "result_text": _OUTCOME.get(outcome),
                "reason": reason or None,
                "reason_text": _REASON.get(reason),
            }
        )
    return out


# -- the identity against the gateway's record ---------------------------------------------


def compare(
    *, full_name: str, date_of_birth: str, sex: str | None, card: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Differences between the identity the desk holds and the gateway's record."""
    out: list[dict[str, Any]] = []
    theirs = card.get("full_name")
    if theirs:
        level = vntext.match_level(full_name, theirs)
        if level is None:
            out.append({"field": "full_name", "kind": "different"})
        elif level == "folded":
            out.append({"field": "full_name", "kind": "diacritics"})
    their_dob = card.get("date_of_birth")
    if their_dob and date_of_birth:
        ours = date_of_birth.strip()
        shorter = min(len(ours), len(their_dob))
        if ours[-shorter:] != their_dob[-shorter:]:
            out.append({"field": "date_of_birth", "kind": "different"})
    their_sex = card.get("sex")
    if sex and their_sex and vntext.fold(sex) != vntext.fold(their_sex):
        out.append({"field": "sex", "kind": "different"})
    return out


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return vntext.normalize(str(value))[:1024]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
