"""Insurance at the desk: the registered clinic's name (the operator's clinic list), "đúng
tuyến" when it is this hospital, benefit level and area code, the last visit; copy-for-HIS
waits for the answer or says it is missing. With the insurance-check API (docs/api.md:
officers, POST /insurance/checks, watch, abandon) the page picks the officer, shows a running
check and its "Hủy", checks a typed BHYT code for a child, and checks again with a corrected
name; on an older service without it, those say they are not supported."""

from __future__ import annotations

import json
import re
from typing import Any

from service.integrations import bhyt
from tests.browser.desk import (
    SECOND_ID,
    VALID_ID,
    as_older_service,
    open_desk,
    put_card,
    read_card,
    rewrite_insurance,
    scan_by_keyboard,
)

READER = "Simulated reader 7"
OFFICERS = {
    "officers": [
        {"id": "cb01", "name": "Nguyễn Thị Tiếp Đón"},
        {"id": "cb02", "name": "Trần Văn Trực"},
    ],
    "desk_default": None,
}
CARD = {
    "card_code": "GD4017172546851",
    "full_name": "TRẦN VĂN ĐỨC",
    "date_of_birth": "02/11/1972",
    "registered_clinic": "17514",
    "valid_from": "01/01/2025",
    "valid_to": "31/12/2030",
    "area_code": "K2",
}


def usable(**extra: Any) -> dict[str, Any]:
    return {
        "status": "usable",
        "code": "000",
        "meaning": "card data correct",
        "message_vi": "Thẻ BHYT hợp lệ: tiếp nhận bình thường",
        "usable_for_checkin": True,
        "card": dict(CARD),
        "checkin_card": {k: CARD[k] for k in ("card_code", "valid_from", "valid_to")}
        | {"registered_clinic": "17514"},
        "differences": [],
        "history": [],
        "checked_at": "2026-12-01T08:12:09+00:00",
        **extra,
    }


class ChecksApi:
    """The documented insurance-check API, answered in the browser: each POST starts a check
    that answers ``running`` until ``finish`` is called."""

    def __init__(self, page: Any) -> None:
        self.posts: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.checks: dict[str, dict[str, Any]] = {}
        self.next_result: dict[str, Any] = usable()
        self.instant = True
        page.route(re.compile(r".*/api/v1/officers$"), self.officers)
        page.route(re.compile(r".*/api/v1/insurance/checks(/[^/?]+)?(\?.*)?$"), self.checks_route)

    def officers(self, route: Any) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(OFFICERS))

    def checks_route(self, route: Any) -> None:
        request = route.request
        if request.method == "POST":
            body = json.loads(request.post_data or "{}")
            self.posts.append(body)
            check_id = f"ic_{len(self.posts)}"
            check = {
                "id": check_id,
                "state": "running",
                "kind": "chip" if "id_number" in body else "typed",
                "cached": False,
                "result": None,
                "last_good": None,
            }
            self.checks[check_id] = check
            if self.instant:
                self.finish(check_id)
            self._answer(route, check, 200 if check["state"] == "done" else 202)
            return
        check_id = request.url.split("/insurance/checks/")[1].split("?")[0]
        check = self.checks[check_id]
        if request.method == "DELETE":
            self.deleted.append(check_id)
            if check["state"] == "running":
                check["state"] = "abandoned"
        self._answer(route, check, 200)

    def finish(self, check_id: str) -> None:
        self.checks[check_id].update(state="done", result=self.next_result)

    @staticmethod
    def _answer(route: Any, check: dict[str, Any], status: int) -> None:
        route.fulfill(status=status, content_type="application/json", body=json.dumps(check))


def test_clinic_name_right_line_benefit_and_last_visit(page: Any) -> None:
    """The live stand-in's answer for the first demo card (registered at 17514, this demo
    hospital), with the visit history a newer gateway client adds."""
    history = [
        {"facility": "01001", "admitted": "202401021000"},
        {"facility": "17514", "admitted": "202501051430"},
    ]

    def with_history(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        # The answer at the top level (GET /citizens/{id}/insurance) or as the check's result.
        answer = body.get("result") if "state" in body else body
        if answer and (answer.get("card") or {}).get("card_code") == "GD5171725468514":
            answer["history"] = history
            answer["card"]["area_code"] = "K1"
        route.fulfill(response=response, body=json.dumps(body))

    page.route(re.compile(r".*/api/v1/citizens/\d{12}/insurance(\?.*)?$"), with_history)
    page.route(re.compile(r".*/api/v1/insurance/checks(/[^/?]+)?(\?.*)?$"), with_history)
    open_desk(page, reader=READER)
    read_card(page, VALID_ID)
    page.wait_for_selector("#ins-pill.ok")
    page.wait_for_selector("#ins-fields [data-field='clinic']:has-text('Bệnh viện')")
    assert page.text_content("[data-field='clinic']") == "17514 · Bệnh viện Đa khoa Tỉnh Giả lập"
    assert page.is_visible("#ins-right-line")
    assert "Đúng tuyến" in page.text_content("#ins-right-line")
    assert page.text_content("[data-field='benefit']") == "5 (100%)"
    assert page.text_content("[data-field='area']") == "K1"
    assert page.text_content("[data-field='last_visit']") == (
        "05/01/2025 tại 17514 · Bệnh viện Đa khoa Tỉnh Giả lập"
    )
    assert "Mã bệnh viện: 17514" in page.text_content("#statusbar")

    # Another patient, registered elsewhere: no "đúng tuyến".
    page.keyboard.press("F9")
    put_card(page, SECOND_ID)
    scan_by_keyboard(page, SECOND_ID)
    page.wait_for_selector("#ins-pill.ok")
    assert page.is_hidden("#ins-right-line")
    assert page.errors == []


def test_copy_waits_for_the_insurance_answer(page: Any) -> None:
    as_older_service(page)
    held: list[Any] = []
    page.route(re.compile(r".*/api/v1/citizens/\d{12}/insurance(\?.*)?$"), lambda r: held.append(r))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_desk(page, reader=READER)
    read_card(page, VALID_ID)
    page.wait_for_function("() => document.getElementById('ins-pill').textContent !== ''")
    assert "Đang tra cứu BHYT" in page.text_content("#ins-pill")
    page.keyboard.press("F8")
    page.wait_for_selector("#copy-status:has-text('Đang chờ kết quả BHYT')")
    assert held, "the insurance check was asked"
    held[0].fulfill(
        status=200,
        content_type="application/json",
        body=json.dumps(usable(id_number=VALID_ID, cached=False)),
    )
    page.wait_for_selector("#copy-status:has-text('Đã chép vào bộ nhớ tạm')")
    assert "MA_THE_BHYT=GD4017172546851" in page.evaluate("navigator.clipboard.readText()")


def test_copy_without_an_insurance_answer_says_so(page: Any) -> None:
    unavailable = {
        "status": "unavailable",
        "code": None,
        "meaning": "gateway unreachable",
        "message_vi": bhyt.unavailable("gateway unreachable").message_vi,
        "usable_for_checkin": False,
    }
    as_older_service(page)
    rewrite_insurance(page, lambda id_number: {"id_number": id_number, **unavailable})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_desk(page, reader=READER)
    read_card(page, VALID_ID)
    page.wait_for_selector("#ins-pill.warn")
    page.click("#copy-his")
    page.wait_for_selector("#copy-status[data-insurance='no']")
    assert "KHÔNG có thông tin BHYT" in page.text_content("#copy-status")
    his = page.evaluate("navigator.clipboard.readText()")
    assert f"SO_CCCD={VALID_ID}" in his and "MA_THE_BHYT" not in his
    page.click("#copy-text")
    page.wait_for_function(
        "() => navigator.clipboard.readText().then(t => t.includes('Mã thẻ BHYT: —'))"
    )


def test_older_service_degrades_cleanly(page: Any) -> None:
    """No officers, no typed check on this service: the page says so instead of failing."""
    wrong_name = {
        "status": "not_usable",
        "code": "060",
        "meaning": "wrong name",
        "message_vi": "Họ tên không khớp với thẻ BHYT: kiểm tra lại họ tên",
        "usable_for_checkin": False,
        "card": dict(CARD, full_name="TRẦN VĂN ĐỨA"),
        "differences": [{"field": "full_name", "kind": "different"}],
    }
    as_older_service(page)
    rewrite_insurance(page, lambda id_number: {"id_number": id_number, **wrong_name})
    open_desk(page, reader=READER)
    assert page.is_hidden("#officer-box")
    read_card(page, VALID_ID)
    page.wait_for_selector("#ins-pill.bad")
    assert "TRẦN VĂN ĐỨA" in page.text_content("#ins-holds")
    assert page.is_hidden("#correct-form")
    assert "chưa hỗ trợ" in page.text_content("#correct-error")
    page.click("#typed-box summary")
    page.fill("#typed-code", "GD4010157106125")
    page.fill("#typed-name", "Nguyễn Văn Bé")
    page.fill("#typed-dob", "14/03/2019")
    page.click("#typed-go")
    page.wait_for_selector("#ins-message:has-text('chưa hỗ trợ')")
    assert page.errors == []


def test_officer_running_check_abandon_and_correction(page: Any) -> None:
    checks = ChecksApi(page)
    open_desk(page, reader=READER)
    page.wait_for_selector("#officer-box:not([hidden])")
    assert page.locator("#officer-select option").all_text_contents() == [
        "— chọn cán bộ —",
        "Nguyễn Thị Tiếp Đón",
        "Trần Văn Trực",
    ]
    page.select_option("#officer-select", "cb02")
    assert page.evaluate("sessionStorage.getItem('cccd.desk.officer')") == "cb02"

    # A running check shows the wait and "Hủy"; abandoning it is sent to the service.
    checks.instant = False
    read_card(page, VALID_ID)
    page.wait_for_selector("#ins-abandon:not([hidden])")
    assert checks.posts[-1] == {"id_number": VALID_ID, "officer_id": "cb02"}
    assert "Đang tra cứu BHYT" in page.text_content("#ins-message")
    page.click("#ins-abandon")
    page.wait_for_selector("#ins-pill[data-status='abandoned']")
    assert checks.deleted == ["ic_1"]
    assert page.text_content("#ins-pill") == "Đã hủy"

    # The gateway holds another name: shown, and checked again with the corrected one.
    checks.instant = True
    checks.next_result = usable(
        status="not_usable",
        code="060",
        usable_for_checkin=False,
        message_vi="Họ tên không khớp với thẻ BHYT: kiểm tra lại họ tên",
        card=dict(CARD, full_name="TRẦN VĂN ĐỨA"),
        checkin_card=None,
        differences=[{"field": "full_name", "kind": "different"}],
    )
    page.keyboard.press("F4")
    page.wait_for_selector("#ins-correct:not([hidden])")
    assert "họ và tên TRẦN VĂN ĐỨA" in page.text_content("#ins-holds")
    assert page.input_value("#correct-name") == "TRẦN VĂN ĐỨA"
    checks.next_result = usable()
    page.fill("#correct-name", "TRẦN VĂN ĐỨC")
    page.click("#correct-go")
    page.wait_for_selector("#ins-pill.ok")
    assert checks.posts[-1] == {
        "card_code": "GD4017172546851",
        "full_name": "TRẦN VĂN ĐỨC",
        "date_of_birth": "1972-11-02",
        "officer_id": "cb02",
    }
    assert page.is_hidden("#ins-correct")
    page.unroute_all(behavior="ignoreErrors")


def test_typed_bhyt_code_for_a_child(page: Any) -> None:
    checks = ChecksApi(page)
    open_desk(page, reader=READER)
    page.select_option("#officer-select", "cb01")
    page.click("#typed-box summary")
    page.fill("#typed-code", "gd4 0101 5710 6125")
    page.fill("#typed-name", "Nguyễn Văn Bé")
    page.fill("#typed-dob", "2019")
    page.click("#typed-go")
    page.wait_for_selector("#ins-head-pill.ok")
    assert checks.posts == [
        {
            "card_code": "GD4010157106125",
            "full_name": "Nguyễn Văn Bé",
            "date_of_birth": "2019",
            "officer_id": "cb01",
        }
    ]
    assert page.is_visible("#insurance") and page.is_hidden("#result")
    # A code that cannot be one is refused before anything is sent.
    page.fill("#typed-code", "12345")
    page.click("#typed-go")
    page.wait_for_selector("#typed-error:not([hidden])")
    assert "15 ký tự" in page.text_content("#typed-error")
    assert len(checks.posts) == 1
    page.unroute_all(behavior="ignoreErrors")
