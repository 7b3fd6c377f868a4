"""The gateway's result codes (``docs/spec/bhyt-gateway.md``, "Result codes"): what each
means, whether the card can be used for the visit, and the clerk's next step in Vietnamese.

``status`` groups the codes the way the desk acts on them:
``usable`` (000), ``usable_with_check`` (001/002: check the papers), ``use_new_card`` (003:
only the new card may be registered), ``usable_new_card`` (004: the held card is still valid,
a new one exists), ``not_usable``, ``retry`` (the gateway failed to fetch the card: the clerk
asks again later), ``input_error`` (205), ``config_error`` (054/055 and a 401 that survives a
token refresh: the operator must fix the account or the officers).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultCode:
    code: str
    meaning: str
    message_vi: str
    usable_for_checkin: bool
    status: str


def _r(code: str, meaning: str, message: str, usable: bool, status: str) -> ResultCode:
    return ResultCode(
        code=code, meaning=meaning, message_vi=message, usable_for_checkin=usable, status=status
    )


_REDUCED = "Thẻ đã báo giảm{}: không tiếp nhận theo BHYT, hướng dẫn người bệnh liên hệ BHXH"

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
            "Thẻ cũ đã hết giá trị, đã cấp thẻ mới: chỉ tiếp nhận theo mã thẻ MỚI, "
            "không dùng mã thẻ cũ",
            True,
            "use_new_card",
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
            "CCCD cán bộ tra cứu chưa được đăng ký với BHXH: "
            "báo quản trị cấu hình danh sách cán bộ",
            False,
            "config_error",
        ),
        _r(
            "055",
            "officer name does not match the registered officer",
            "Họ tên cán bộ tra cứu không khớp đăng ký với BHXH: "
            "báo quản trị cấu hình danh sách cán bộ",
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
            "Cổng BHXH lỗi khi lấy dữ liệu thẻ: bấm Tra cứu lại sau ít phút",
            False,
            "retry",
        ),
        _r(
            "101",
            "gateway server error",
            "Máy chủ BHXH đang lỗi: bấm Tra cứu lại sau ít phút",
            False,
            "retry",
        ),
        _r(
            "500",
            "gateway server error",
            "Máy chủ BHXH đang lỗi: bấm Tra cứu lại sau ít phút",
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
        _r("120", "card reported reduced", _REDUCED.format(""), False, "not_usable"),
        _r(
            "121",
            "card reported reduced: moved elsewhere",
            _REDUCED.format(" do chuyển nơi khác"),
            False,
            "not_usable",
        ),
        _r(
            "122",
            "card reported reduced: moved within the province",
            _REDUCED.format(" do chuyển trong tỉnh"),
            False,
            "not_usable",
        ),
        _r(
            "123",
            "card reported reduced: re-added elsewhere",
            _REDUCED.format(" do tăng lại ở nơi khác"),
            False,
            "not_usable",
        ),
        _r(
            "124",
            "card reported reduced: coverage stopped",
            _REDUCED.format(" do dừng tham gia"),
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
            "authentication error, also after a token refresh",
            "Cổng BHXH từ chối xác thực tài khoản của bệnh viện dù đã lấy token mới: "
            "báo quản trị kiểm tra tài khoản và quyền tra cứu",
            False,
            "config_error",
        ),
    )
}

# Answers that say nothing about the card: never kept as "the last good answer".
NOT_KEPT_STATUSES = frozenset(
    {
        "unavailable",
        "retry",
        "auth_error",
        "config_error",
        "not_configured",
        "unknown_code",
        "input_error",
        "abandoned",
    }
)

UNAVAILABLE_MESSAGE = (
    "Không kết nối được cổng BHXH: tiếp nhận bằng giấy tờ, bấm Tra cứu lại thẻ BHYT sau"
)
RATE_LIMITED_MESSAGE = (
    "Cổng BHXH đang giới hạn số lần tra cứu của bệnh viện: chờ vài phút rồi bấm Tra cứu lại"
)
NOT_CONFIGURED_MESSAGE = "Chưa cấu hình cổng BHXH: báo quản trị"
LOGIN_REFUSED_MESSAGE = (
    "Cổng BHXH từ chối đăng nhập tài khoản của bệnh viện: báo quản trị kiểm tra tên đăng nhập "
    "và mật khẩu"
)
NO_LOOKUP_RIGHT_MESSAGE = (
    "Tài khoản BHXH của bệnh viện đăng nhập được nhưng không có quyền tra cứu thẻ "
    "(HTTP {status}): báo quản trị đăng ký quyền tra cứu với BHXH"
)
WRONG_ADDRESS_MESSAGE = (
    "Địa chỉ cổng BHXH cấu hình không đúng ({detail}): báo quản trị kiểm tra CCCD_BHXH_URL"
)
REQUEST_REFUSED_MESSAGE = (
    "Cổng BHXH không nhận yêu cầu (HTTP {status}): báo quản trị kiểm tra cấu hình "
    "(CCCD_BHXH_ENCODING)"
)
NO_OFFICER_MESSAGE = "Chưa chọn cán bộ tra cứu BHYT: chọn tên cán bộ trước khi tra cứu"
NEW_CARD_MISSING_MESSAGE = (
    "Thẻ cũ đã hết giá trị nhưng cổng BHXH không trả mã thẻ mới: hỏi người bệnh thẻ mới "
    "rồi tra cứu theo mã thẻ mới"
)
UNKNOWN_CODE_MESSAGE = "Cổng BHXH trả mã lạ: kiểm tra thẻ bằng giấy tờ"
ABANDONED_MESSAGE = "Đã hủy tra cứu BHYT: bấm Tra cứu lại khi cần"
