"""The desk page end to end in headless Chromium: log in
with the desk key, put a fictional card on a simulated reader from the demo panel, type its
ID number, and see the verified identity, photo, badges and insurance; a forged card shows the
takeover; a wrong ID number shows the plain-language error."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import DESK_KEY
from tests.browser.desk import (
    EXPIRED_ID,
    EXPIRED_NAME,
    VALID_ID,
    VALID_NAME,
    open_desk,
    put_card,
    rewrite_scan,
    scan_by_keyboard,
)

READER_1, READER_2 = "Simulated reader 1", "Simulated reader 2"


def test_desk_flow_genuine_card_with_insurance(page: Any) -> None:
    page.add_init_script("window.__states = []")
    open_desk(page)
    assert page.evaluate("sessionStorage.getItem('cccd.desk.key')") == DESK_KEY
    assert page.evaluate("localStorage.length") == 0
    assert page.locator("html").get_attribute("lang") == "vi"
    page.wait_for_selector("#demo:not([hidden])")

    put_card(page, VALID_ID)
    # Record every status the page shows while the read runs (live, no reloads).
    page.evaluate("""() => new MutationObserver(() => window.__states.push(
        document.getElementById('status-text').dataset.state + ':' +
        document.getElementById('status-text').textContent))
        .observe(document.getElementById('status-text'), {childList: true, subtree: true,
                 characterData: true, attributes: true})""")
    page.evaluate("window.__loads = performance.getEntriesByType('navigation').length")
    scan_by_keyboard(page, VALID_ID)

    page.wait_for_selector("#result:not([hidden])")
    assert page.text_content("#r-name") == VALID_NAME  # diacritics intact
    assert page.text_content("#r-id") == VALID_ID
    assert page.text_content("#r-dob").startswith("02/11/1972")
    assert page.text_content("#r-sex") == "Nam"
    assert "Tỉnh Hòa Bình" in page.text_content("#r-address")
    assert page.text_content("#r-expiry") == "02/11/2032"
    assert page.get_attribute("#verdict", "data-acceptance") == "genuine"
    assert page.text_content("#verdict-title") == "THẺ THẬT"
    assert page.locator("[data-badge='not-a-clone']").count() == 1
    assert page.locator("[data-badge='no-trust-store']").count() == 0
    page.wait_for_function("document.getElementById('r-photo').naturalWidth > 0")
    assert page.get_attribute("#r-photo", "src").startswith("blob:")

    page.wait_for_selector("#ins-pill.ok")
    assert page.text_content("#ins-pill") == "Dùng được"
    assert "Thẻ BHYT hợp lệ" in page.text_content("#ins-message")
    fields = page.text_content("#ins-fields")
    assert "GD5171725468514" in fields and "31/12/2030" in fields and "17514" in fields

    states = " | ".join(page.evaluate("window.__states"))
    assert "reading:Đang đọc chip" in states, states
    assert "done:Đã đọc xong" in states, states
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1

    page.locator("#history button").first.wait_for()
    assert VALID_NAME in page.text_content("#history")

    # Copy for HIS: the field format carries the chip's identity and the insurance card.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#copy-his")
    page.wait_for_selector("#copy-status:has-text('Đã chép')")
    his = page.evaluate("navigator.clipboard.readText()")
    assert f"SO_CCCD={VALID_ID}" in his
    assert "HO_TEN=TRẦN VĂN ĐỨC" in his or f"HO_TEN={VALID_NAME}" in his
    assert "MA_THE_BHYT=GD5171725468514" in his and "GT_THE_DEN=20301231" in his
    page.click("#copy-text")
    text = page.evaluate("navigator.clipboard.readText()")
    assert f"Họ và tên: {VALID_NAME}" in text and "Ngày sinh: 02/11/1972" in text

    # "Check again" asks the gateway afresh rather than showing today's saved answer.
    page.click("#ins-again")
    page.wait_for_selector("#ins-pill.ok")
    assert "đã lưu" not in page.text_content("#ins-meta")

    # Keyboard alone reaches every control of the result.
    page.focus("#id-input")
    reached = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.id"))
    assert {"copy-text", "copy-his", "next-patient", "ins-again", "demo-insert"} <= reached

    # English switch: labels and badges change, the data does not.
    page.click("#lang")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.text_content("#verdict-title") == "GENUINE CARD"
    assert page.locator("[data-badge='not-a-clone']").text_content() == "Original chip, not a copy"
    assert page.text_content("#ins-pill") == "Usable"
    assert page.text_content("#r-name") == VALID_NAME

    # Next patient: the personal data leaves the screen.
    page.click("#next-patient")
    assert page.is_hidden("#result") and page.is_hidden("#insurance")
    assert page.text_content("#r-name") == ""
    assert page.errors == []


def test_forged_card_takes_over(page: Any) -> None:
    open_desk(page)
    put_card(page, VALID_ID, fault="forged", reader=READER_2)
    scan_by_keyboard(page, VALID_ID)
    page.wait_for_selector("#takeover:not([hidden])")
    assert "KHÔNG PHẢI THẺ THẬT" in page.text_content("#takeover")
    assert "bị sửa" in page.text_content("#takeover-reason")
    assert "Không dùng dữ liệu này" in page.text_content("#takeover-action")
    assert page.is_hidden("#result") and page.is_hidden("#insurance") and page.is_hidden("#verdict")
    assert page.errors == []


def test_wrong_id_number_shows_what_to_do(page: Any) -> None:
    open_desk(page)
    put_card(page, VALID_ID)
    wrong = VALID_ID[:-1] + str((int(VALID_ID[-1]) + 1) % 10)
    scan_by_keyboard(page, wrong)
    page.wait_for_selector("#error:not([hidden])")
    assert page.text_content("#error-title") == "Sai số CCCD: kiểm tra lại 12 số"
    assert page.is_hidden("#result")
    # The typed number stays, selected, ready to be corrected.
    assert page.input_value("#id-input") == wrong
    assert page.evaluate("document.activeElement.id") == "id-input"

    # Too few digits never reaches the card: the page says how many are missing.
    page.fill("#id-input", "01707276")
    page.keyboard.press("Enter")
    page.wait_for_selector("#error-title:has-text('cần đủ 12 số')")
    assert "8" in page.text_content("#error-title")


def test_expired_card_is_marked(page: Any) -> None:
    open_desk(page)
    put_card(page, EXPIRED_ID)
    scan_by_keyboard(page, EXPIRED_ID)
    page.wait_for_selector("#result:not([hidden])")
    assert page.text_content("#r-name") == EXPIRED_NAME
    assert "ĐÃ HẾT HẠN" in page.text_content("#r-expiry")
    assert page.locator("[data-badge='expired']").count() == 1


def test_repaired_text_is_flagged(page: Any) -> None:
    """A chip whose DG13 holds TCVN3 bytes: the name shows repaired, with a notice."""
    open_desk(page)
    put_card(page, VALID_ID, fault="dg13_tcvn3")
    scan_by_keyboard(page, VALID_ID)
    page.wait_for_selector("#result:not([hidden])")
    assert page.text_content("#r-name").casefold() == VALID_NAME.casefold()
    assert page.locator("[data-badge='repaired']").text_content() == "Đã sửa lỗi chữ"
    notices = page.text_content("#notices")
    assert "bảng mã cũ" in notices and "Họ và tên" in notices
    assert "TCVN3" not in notices  # jargon: only in the technical fold
    assert "tcvn3" in page.text_content("#result-tech").lower()


def test_card_removed_mid_read_says_put_it_back(page: Any) -> None:
    open_desk(page)
    put_card(page, VALID_ID, fault="removed_after=12", reader=READER_2)
    scan_by_keyboard(page, VALID_ID)
    page.wait_for_selector("#error:not([hidden])")
    assert page.text_content("#error-title") == "Thẻ bị rút ra khi đang đọc: đặt lại thẻ"
    assert page.is_visible("#error-retry")
    # Putting the card back reads it at once with the number still typed.
    put_card(page, VALID_ID, reader=READER_2)
    page.wait_for_selector("#result:not([hidden])")
    assert page.text_content("#r-name") == VALID_NAME


def test_qr_payload_from_a_wedge_scanner(page: Any) -> None:
    """A keyboard-wedge scanner types the QR payload; the page sends it as ``qr``."""
    open_desk(page)
    put_card(page, VALID_ID)
    payload = (
        f"{VALID_ID}||{VALID_NAME}|02111972|Nam|Xóm Đầm Củ, Xã Tú Lý, Huyện Đà Bắc, "
        "Tỉnh Hòa Bình|15062021"
    )
    requests: list[str] = []
    page.on(
        "request",
        lambda r: (
            requests.append(r.post_data or "")
            if r.method == "POST" and r.url.endswith("/api/v1/scans")
            else None
        ),
    )
    page.focus("#id-input")
    page.keyboard.type(payload)  # no Enter: the page reads once the keys stop
    page.wait_for_selector("#result:not([hidden])")
    assert page.text_content("#r-name") == VALID_NAME
    assert len(requests) == 1 and '"qr"' in requests[0]


def test_wrong_desk_key_is_refused(page: Any) -> None:
    page.goto(f"{page.base_url}/desk")
    page.wait_for_selector("#login-demo:not([hidden])")  # the demo service says where the key is
    page.fill("#key-input", "not-the-desk-key-at-all")
    page.keyboard.press("Enter")
    page.wait_for_selector("#login-error:not([hidden])")
    assert "Khóa không đúng" in page.text_content("#login-error")
    assert page.is_hidden("#app-view")
    assert page.evaluate("sessionStorage.length") == 0


def test_page_loads_nothing_from_outside(page: Any) -> None:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    open_desk(page)
    assert urls and all(
        re.match(re.escape(page.base_url) + r"/", u) or u.startswith(("data:", "blob:"))
        for u in urls
    ), urls
    csp = page.request.get(f"{page.base_url}/desk").headers["content-security-policy"]
    assert "default-src 'self'" in csp


def test_new_insurance_card_fits_the_screen_and_is_labelled(page: Any) -> None:
    """BHYT 004 (a new card was issued): the new card code and clinic show; the result view fits
    1366x768 without sideways scrolling; every control has an accessible name."""
    open_desk(page)
    put_card(page, "079198409238")
    scan_by_keyboard(page, "079198409238")
    page.wait_for_selector("#result:not([hidden])")
    assert page.text_content("#r-name") == "LÊ HOÀNG NGỌC ÁNH"
    assert page.text_content("#r-ethnicity") == "Kinh"
    page.wait_for_selector("#ins-fields:has-text('Mã thẻ mới')")
    fields = page.text_content("#ins-fields")
    assert "DN1797993040325" in fields and "79002" in fields
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    unnamed = page.evaluate("""() => [...document.querySelectorAll('input, select, button')]
        .filter(e => e.offsetParent !== null)
        .filter(e => !((e.labels && e.labels.length) || e.getAttribute('aria-label') ||
                       e.getAttribute('aria-labelledby') || e.textContent.trim()))
        .map(e => e.id || e.outerHTML.slice(0, 60))""")
    assert unnamed == []
    assert page.errors == []


def test_no_trust_store_is_issuer_not_checked(page: Any) -> None:
    """A service without a CSCA trust store answers ``signer_not_trusted`` with
    ``report.trust_store = "not_configured"`` (tests/service/test_units.py); the page shows the
    amber "issuer not checked" state instead of "genuine". The simulated service always has
    the test trust store, so the scan answer is rewritten in flight to what such a service
    returns."""

    def without_trust(result: Any) -> None:
        result.update(verdict="signer_not_trusted", genuine=False)
        result["report"]["trust_store"] = "not_configured"
        # A service that sends no acceptance field: the page derives it.
        result.pop("acceptance", None)
        result.pop("acceptance_reason", None)

    rewrite_scan(page, without_trust)
    open_desk(page)
    put_card(page, VALID_ID, reader=READER_1)
    scan_by_keyboard(page, VALID_ID)
    page.wait_for_selector("#result:not([hidden])")
    assert page.get_attribute("#verdict", "data-acceptance") == "issuer_not_checked"
    assert "CHƯA KIỂM TRA NƠI CẤP" in page.text_content("#verdict-title")
    assert "CNTT" in page.text_content("#verdict-text")
    assert page.text_content("#r-name") == VALID_NAME
    assert page.text_content("#status-text") == "Đã đọc xong: xem cảnh báo"


def test_2024_card_shows_its_own_labels(page: Any) -> None:
    """The 2024 identity card prints "Nơi cư trú" and "Nơi đăng ký khai sinh" where the CCCD
    prints "Nơi thường trú" and "Quê quán"; the page uses the words of the card in hand."""
    open_desk(page)
    put_card(page, "017160905911", reader=READER_1)
    scan_by_keyboard(page, "017160905911")
    page.wait_for_selector("#result:not([hidden])")
    assert page.text_content("#r-card-kind") == "Thẻ căn cước (mẫu 2024)"
    assert page.text_content("#l-place_of_residence") == "Nơi cư trú"
    assert page.text_content("#l-place_of_origin") == "Nơi đăng ký khai sinh"
    assert page.text_content("#l-id_number") == "Số định danh cá nhân"
    assert page.text_content("#r-expiry") == "Không thời hạn"
    page.keyboard.press("F9")
    put_card(page, VALID_ID, reader=READER_1)
    scan_by_keyboard(page, VALID_ID)
    page.wait_for_selector("#result:not([hidden])")
    assert page.text_content("#l-place_of_residence") == "Nơi thường trú"
    assert page.text_content("#l-place_of_origin") == "Quê quán"
