"""BHXH gateway client: the health-insurance (BHYT) card check at check-in
(spec ``bhyt-gateway.md``; BHXH Phụ lục 03 "Hàm API tra cứu giá trị thẻ BHYT", 2024).

``POST /api/token/take`` (username ``<MaCSKCB>_BV``, MD5 of the password) gives a token,
cached until shortly before it expires (at most 50 minutes) and taken again on expiry or on
an HTTP 401 / ``maKetQua`` 401. ``POST /api/egw/KQNhanLichSuKCB2024`` checks a card with the
verified name and date of birth and the desk officer's name and CCCD. Response fields are read
case-insensitively (deployments differ). Every ``maKetQua`` maps to a meaning, a Vietnamese
message for the clerk and ``usable_for_checkin``; 100/101 are retried a bounded number of
times; transport failures end as status ``unavailable``, never as an exception to the desk.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from verify import vntext

log = logging.getLogger(__name__)

TOKEN_PATH = "/api/token/take"
CHECK_PATH = "/api/egw/KQNhanLichSuKCB2024"
TOKEN_CAP_SECONDS = 50 * 60
TOKEN_MARGIN_SECONDS = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultCode:
    code: str
    meaning: str
    message_vi: str
    usable_for_checkin: bool
    status: str  # usable | usable_with_check | usable_new_card | not_usable | retry |
    #              input_error | auth_error | config_error


def _r(code: str, meaning: str, message: str, usable: bool, status: str) -> ResultCode:
    return ResultCode(
        code=code, meaning=meaning, message_vi=message, usable_for_checkin=usable, status=status
    )


RESULT_CODES: dict[str, ResultCode] = {
    r.code: r
    for r in (
        _r("000", "card data correct", "Thẻ BHYT hợp lệ: tiếp nhận bình thường", True, "usable"),
        _r(
            "001",
            "card managed by BHXH of the Ministry of Defence",
            "Thẻ do BHXH Bộ Quốc phòng quản lý: kiểm tra giấy tờ tùy thân trước khi tiếp nhận",
            True,
            "usable_with_check",
        ),
        _r(
            "002",
            "card managed by BHXH of the Ministry of Public Security",
            "Thẻ do BHXH Bộ Công an quản lý: kiểm tra giấy tờ tùy thân trước khi tiếp nhận",
            True,
            "usable_with_check",
        ),
        _r(
            "003",
            "old card expired, a new card was issued",
            "Thẻ cũ hết giá trị, đã cấp thẻ mới: tiếp nhận theo mã thẻ mới",
            True,
            "usable_new_card",
        ),
        _r(
            "004",
            "old card still valid, a new card was issued",
            "Thẻ cũ còn giá trị, đã có thẻ mới: tiếp nhận được, ghi nhận mã thẻ mới",
            True,
            "usable_new_card",
        ),
        _r(
            "010",
            "card expired",
            "Thẻ BHYT đã hết hạn: không tiếp nhận theo BHYT",
            False,
            "not_usable",
        ),
        _r(
            "050",
            "no card data",
            "Không có thông tin thẻ BHYT: hỏi người bệnh thẻ khác hoặc tiếp nhận dịch vụ",
            False,
            "not_usable",
        ),
        _r(
            "051",
            "wrong card code",
            "Mã thẻ BHYT không đúng: kiểm tra lại mã thẻ",
            False,
            "not_usable",
        ),
        _r(
            "052",
            "wrong province code in the card code (characters 4-5)",
            "Mã tỉnh trên mã thẻ không đúng (ký tự 4-5): kiểm tra lại mã thẻ",
            False,
            "not_usable",
        ),
        _r(
            "053",
            "wrong benefit level in the card code (character 3)",
            "Mã quyền lợi trên mã thẻ không đúng (ký tự 3): kiểm tra lại mã thẻ",
            False,
            "not_usable",
        ),
        _r(
            "054",
            "officer CCCD not registered with the gateway",
            "CCCD cán bộ tra cứu chưa được đăng ký với BHXH: báo quản trị cấu hình",
            False,
            "config_error",
        ),
        _r(
            "055",
            "officer name does not match the registered officer",
            "Họ tên cán bộ tra cứu không khớp đăng ký: báo quản trị cấu hình",
            False,
            "config_error",
        ),
        _r(
            "060",
            "wrong name",
            "Họ tên không khớp với thẻ BHYT: kiểm tra lại họ tên",
            False,
            "not_usable",
        ),
        _r(
            "061",
            "wrong name, first letter right",
            "Họ tên gần đúng (đúng ký tự đầu): kiểm tra lại chính tả họ tên",
            False,
            "not_usable",
        ),
        _r(
            "070",
            "wrong date of birth",
            "Ngày sinh không khớp với thẻ BHYT: kiểm tra lại ngày sinh",
            False,
            "not_usable",
        ),
        _r(
            "100",
            "error fetching card data",
            "Lỗi khi lấy dữ liệu thẻ: thử tra cứu lại sau ít phút",
            False,
            "retry",
        ),
        _r(
            "101",
            "gateway server error",
            "Máy chủ BHXH đang lỗi: thử tra cứu lại sau ít phút",
            False,
            "retry",
        ),
        _r(
            "110",
            "card revoked",
            "Thẻ BHYT đã bị thu hồi: không tiếp nhận theo BHYT",
            False,
            "not_usable",
        ),
        _r(
            "120",
            "card reported reduced",
            "Thẻ đã báo giảm: không tiếp nhận theo BHYT",
            False,
            "not_usable",
        ),
        _r(
            "121",
            "card reported reduced: moved elsewhere",
            "Thẻ đã báo giảm do chuyển nơi khác: không tiếp nhận theo BHYT",
            False,
            "not_usable",
        ),
        _r(
            "122",
            "card reported reduced: moved within the province",
            "Thẻ đã báo giảm do chuyển trong tỉnh: không tiếp nhận theo BHYT",
            False,
            "not_usable",
        ),
        _r(
            "123",
            "card reported reduced: re-added elsewhere",
            "Thẻ đã báo giảm do tăng lại ở nơi khác: không tiếp nhận theo BHYT",
            False,
            "not_usable",
        ),
        _r(
            "124",
            "card reported reduced: coverage stopped",
            "Thẻ đã báo giảm do dừng tham gia: không tiếp nhận theo BHYT",
            False,
            "not_usable",
        ),
        _r(
            "130",
            "child without a card",
            "Trẻ em chưa có thẻ BHYT: hướng dẫn gia đình làm thẻ",
            False,
            "not_usable",
        ),
        _r(
            "205",
            "parameter format error",
            "Sai định dạng tham số tra cứu: kiểm tra mã thẻ, họ tên, ngày sinh",
            False,
            "input_error",
        ),
        _r(
            "401",
            "authentication error",
            "Lỗi xác thực với cổng BHXH: báo quản trị kiểm tra tài khoản",
            False,
            "auth_error",
        ),
    )
}

UNAVAILABLE_MESSAGE = (
    "Không kết nối được cổng BHXH: tiếp nhận bằng giấy tờ, tra cứu lại thẻ BHYT sau"
)
NOT_CONFIGURED_MESSAGE = "Chưa cấu hình cổng BHXH: báo quản trị"


@dataclass(frozen=True, slots=True, kw_only=True)
class InsuranceCheck:
    """What the desk shows. ``status`` is one of ResultCode.status or ``unavailable`` /
    ``not_configured`` / ``unknown_code``."""

    status: str
    code: str | None
    meaning: str
    message_vi: str
    usable_for_checkin: bool
    gateway_note: str | None = None
    card: dict[str, Any] = field(default_factory=dict)
    new_card: dict[str, Any] | None = None
    differences: list[dict[str, Any]] = field(default_factory=list)
    visits: int = 0
    checked_at: str = ""
    attempts: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def unavailable(reason: str, *, attempts: int = 0) -> InsuranceCheck:
    return InsuranceCheck(
        status="unavailable",
        code=None,
        meaning=reason,
        message_vi=UNAVAILABLE_MESSAGE,
        usable_for_checkin=False,
        checked_at=_now_iso(),
        attempts=attempts,
    )


def not_configured() -> InsuranceCheck:
    return InsuranceCheck(
        status="not_configured",
        code=None,
        meaning="no BHXH gateway configured",
        message_vi=NOT_CONFIGURED_MESSAGE,
        usable_for_checkin=False,
        checked_at=_now_iso(),
    )


def md5_hex(password: str) -> str:
    return hashlib.md5(password.encode("utf-8")).hexdigest()  # the gateway's own scheme


def lower_keys(value: Any) -> Any:
    """Field names compared case-insensitively, at every depth."""
    if isinstance(value, Mapping):
        return {str(k).lower(): lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_keys(v) for v in value]
    return value


@dataclass(slots=True)
class _Token:
    access_token: str
    id_token: str
    username: str
    expires_at: float


class GatewayAuthError(Exception):
    """The gateway refused the hospital's account."""


class BhytClient:
    """Async client. ``transport`` lets the in-process stand-in or a MockTransport serve it."""

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: str,
        officer_name: str,
        officer_id: str,
        timeout: float = 8.0,
        retries: int = 2,
        retry_delay: float = 0.3,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        observe: Callable[[str, float, str | None], None] | None = None,
    ) -> None:
        self.username = username
        self.password_md5 = md5_hex(password)
        self.officer_name = officer_name
        self.officer_id = officer_id
        self.retries = max(0, retries)
        self.retry_delay = retry_delay
        self.clock = clock
        self.observe = observe
        self._client = httpx.AsyncClient(
            base_url=base_url, timeout=httpx.Timeout(timeout), transport=transport
        )
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()
        self.tokens_taken = 0

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- token ----------------------------------------------------------------------------
    async def _take_token(self) -> _Token:
        started = self.clock()
        response = await self._client.post(
            TOKEN_PATH, json={"username": self.username, "password": self.password_md5}
        )
        self._observe("token", started, None)
        if response.status_code >= 500:
            raise httpx.HTTPStatusError(
                "gateway error", request=response.request, response=response
            )
        body = lower_keys(_json(response))
        if str(body.get("maketqua", "")) != "200" or not isinstance(body.get("apikey"), dict):
            raise GatewayAuthError(f"token refused (maKetQua {body.get('maketqua')!r})")
        key = body["apikey"]
        lifetime = _lifetime_seconds(key.get("expires_in"))
        lifetime = min(lifetime, TOKEN_CAP_SECONDS) - TOKEN_MARGIN_SECONDS
        self.tokens_taken += 1
        return _Token(
            access_token=str(key.get("access_token", "")),
            id_token=str(key.get("id_token", "")),
            username=str(key.get("username") or self.username),
            expires_at=self.clock() + max(lifetime, 0.0),
        )

    async def _current_token(self, *, renew: bool = False) -> _Token:
        async with self._token_lock:
            token = self._token
            if renew or token is None or token.expires_at <= self.clock():
                self._token = token = await self._take_token()
            return token

    # -- card check -----------------------------------------------------------------------
    async def check(
        self, *, card_code: str, full_name: str, date_of_birth: str, sex: str | None = None
    ) -> InsuranceCheck:
        """``date_of_birth`` as ``dd/mm/yyyy`` (or ``yyyy``). Never raises for gateway trouble."""
        payload = {
            "maThe": card_code,
            "hoTen": full_name,
            "ngaySinh": date_of_birth,
            "hoTenCb": self.officer_name,
            "cccdCb": self.officer_id,
        }
        attempts = 0
        renewed = False
        failures = 0
        while True:
            attempts += 1
            try:
                token = await self._current_token()
                started = self.clock()
                response = await self._client.post(
                    CHECK_PATH,
                    json=payload,
                    params={
                        "token": token.access_token,
                        "id_token": token.id_token,
                        "username": token.username,
                        "password": self.password_md5,
                    },
                )
            except GatewayAuthError as exc:
                return _mapped(RESULT_CODES["401"], {}, attempts, note=str(exc))
            except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                failures += 1
                log.warning(
                    "BHXH gateway call failed (%s), attempt %d", type(exc).__name__, attempts
                )
                if failures > self.retries:
                    return unavailable(
                        f"gateway unreachable: {type(exc).__name__}", attempts=attempts
                    )
                await asyncio.sleep(self.retry_delay * failures)
                continue
            if response.status_code == 401:
                self._observe("check", started, "401")
                if renewed:
                    return _mapped(RESULT_CODES["401"], {}, attempts)
                renewed = True
                self._token = None
                continue
            if response.status_code >= 500:
                self._observe("check", started, f"http{response.status_code}")
                failures += 1
                if failures > self.retries:
                    return unavailable(
                        f"gateway answered HTTP {response.status_code}", attempts=attempts
                    )
                await asyncio.sleep(self.retry_delay * failures)
                continue
            try:
                body = lower_keys(_json(response))
            except ValueError:
                return unavailable("gateway answered something that is not JSON", attempts=attempts)
            code = str(body.get("maketqua", "")).strip()
            self._observe("check", started, code or "none")
            if code == "401" and not renewed:
                renewed = True
                self._token = None
                continue
            if code in ("100", "101") and attempts <= self.retries:
                await asyncio.sleep(self.retry_delay * attempts)
                continue
            result = RESULT_CODES.get(code)
            if result is None:
                return InsuranceCheck(
                    status="unknown_code",
                    code=code or None,
                    meaning="result code not in the 2024 gateway table",
                    message_vi="Cổng BHXH trả mã lạ: kiểm tra thẻ bằng giấy tờ",
                    usable_for_checkin=False,
                    gateway_note=_text(body.get("ghichu")),
                    checked_at=_now_iso(),
                    attempts=attempts,
                )
            check = _mapped(result, body, attempts)
            differences = (
                compare(full_name=full_name, date_of_birth=date_of_birth, sex=sex, card=check.card)
                if check.card
                else []
            )
            return InsuranceCheck(**{**_fields(check), "differences": differences})

    def _observe(self, endpoint: str, started: float, code: str | None) -> None:
        if self.observe is not None:
            self.observe(endpoint, self.clock() - started, code)


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


def _mapped(
    result: ResultCode, body: Mapping[str, Any], attempts: int, note: str | None = None
) -> InsuranceCheck:
    card = {
        out: _text(body[key])
        for key, out in _CARD_FIELDS.items()
        if body.get(key) not in (None, "")
    }
    new_card = {
        out: _text(body[key])
        for key, out in _NEW_CARD_FIELDS.items()
        if body.get(key) not in (None, "")
    }
    visits = body.get("dslichsukcb2018")
    return InsuranceCheck(
        status=result.status,
        code=result.code,
        meaning=result.meaning,
        message_vi=result.message_vi,
        usable_for_checkin=result.usable_for_checkin,
        gateway_note=note or _text(body.get("ghichu")),
        card=card,
        new_card=new_card or None,
        visits=len(visits) if isinstance(visits, list) else 0,
        checked_at=_now_iso(),
        attempts=attempts,
    )


def _fields(check: InsuranceCheck) -> dict[str, Any]:
    return {name: getattr(check, name) for name in check.__dataclass_fields__}


def compare(
    *, full_name: str, date_of_birth: str, sex: str | None, card: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Differences between the chip's identity and the gateway's record."""
    out: list[dict[str, Any]] = []
    theirs = card.get("full_name")
    if theirs:
        level = vntext.match_level(full_name, theirs)
        if level is None:
            out.append({"field": "full_name", "kind": "different"})
        elif level == "folded":
            out.append({"field": "full_name", "kind": "diacritics"})
    their_dob = card.get("date_of_birth")
    if their_dob:
        ours = date_of_birth.strip()
        if len(their_dob) == 4 or len(ours) == 4:
            if their_dob[-4:] != ours[-4:]:
                out.append({"field": "date_of_birth", "kind": "different"})
        elif their_dob != ours:
            out.append({"field": "date_of_birth", "kind": "different"})
    their_sex = card.get("sex")
    if sex and their_sex and vntext.fold(sex) != vntext.fold(their_sex):
        out.append({"field": "sex", "kind": "different"})
    return out


def _json(response: httpx.Response) -> dict[str, Any]:
    value = response.json()
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return vntext.normalize(str(value))[:1024]


def _lifetime_seconds(value: Any) -> float:
    """``expires_in`` as seconds, or as an absolute time (deployments differ)."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return float(TOKEN_CAP_SECONDS)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (moment - datetime.now(UTC)).total_seconds()
    return float(TOKEN_CAP_SECONDS)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
