"""What the desk-page tests do as a clerk would: log in by keyboard, put a fictional card on
a simulated reader from the demo panel, type the ID number, take the card off."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.browser.conftest import DESK_KEY

# Fictional citizens (fixtures/data/citizens.json).
VALID_ID, VALID_NAME = "017072769692", "Trần Văn Đức"  # insurance usable, clinic 17514
EXPIRED_ID, EXPIRED_NAME = "001185483324", "NGUYỄN THỊ HƯƠNG"
SECOND_ID, SECOND_NAME = "079198409238", "LÊ HOÀNG NGỌC ÁNH"  # a new BHYT card was issued
CARD_2024_ID = "017160905911"  # the 2024 identity card


def open_desk(page: Any, key: str = DESK_KEY, reader: str | None = None) -> None:
    """Log in by keyboard alone: the key field has the focus when the page opens."""
    page.goto(f"{page.base_url}/desk")
    page.wait_for_selector("#key-input:focus")
    page.keyboard.type(key)
    page.keyboard.press("Enter")
    page.wait_for_selector("#app-view:not([hidden])")
    page.wait_for_selector("#conn.on")  # the event stream is open
    if reader:
        page.wait_for_selector(f"#reader-select option[value='{reader}']", state="attached")
        page.select_option("#reader-select", reader)
        page.focus("#id-input")


def chosen_reader(page: Any) -> str:
    return str(page.input_value("#reader-select"))


def put_card(page: Any, id_number: str, fault: str = "", reader: str | None = None) -> None:
    if reader:
        page.select_option("#reader-select", reader)
    reader = chosen_reader(page)
    page.wait_for_selector(f"#demo-card option[value='{id_number}']", state="attached")
    page.select_option("#demo-card", id_number)
    page.select_option("#demo-fault", fault)
    with page.expect_response(
        lambda r: "/demo/readers/" in r.url and r.request.method == "PUT"
    ) as answer:
        page.click("#demo-insert")
    assert answer.value.status == 200, answer.value.text()
    page.wait_for_function(
        "name => [...document.querySelectorAll('#reader-select option')]"
        ".some(o => o.value === name && o.textContent.includes('có thẻ'))",
        arg=reader,
    )


def remove_card(page: Any) -> None:
    with page.expect_response(lambda r: "/demo/readers/" in r.url and r.request.method == "DELETE"):
        page.click("#demo-remove")


def scan_by_keyboard(page: Any, id_number: str) -> None:
    page.focus("#id-input")
    page.keyboard.type(id_number)
    page.keyboard.press("Enter")


def read_card(page: Any, id_number: str, fault: str = "") -> None:
    put_card(page, id_number, fault)
    scan_by_keyboard(page, id_number)
    page.wait_for_selector("#result:not([hidden]), #takeover:not([hidden]), #error:not([hidden])")


def rewrite_scan(page: Any, change: Any) -> None:
    """Rewrite finished scans in flight to what another service would answer."""

    def handle(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        if body.get("result"):
            change(body["result"])
        route.fulfill(response=response, body=json.dumps(body))

    page.route(re.compile(r".*/api/v1/scans/[^/?]+(\?.*)?$"), handle)


def rewrite_insurance(page: Any, answer: Any) -> None:
    """Answer the insurance check with ``answer(id_number)`` instead of the stand-in."""

    def handle(route: Any) -> None:
        id_number = route.request.url.split("/citizens/")[1].split("/")[0]
        route.fulfill(
            status=200, content_type="application/json", body=json.dumps(answer(id_number))
        )

    page.route(re.compile(r".*/api/v1/citizens/\d{12}/insurance(\?.*)?$"), handle)


def as_older_service(page: Any) -> None:
    """A service without the insurance-check API: its router answers 404 to /officers."""
    not_found = {"type": "https://cccd.invalid/problems/not-found", "title": "Not found"}
    page.route(
        re.compile(r".*/api/v1/officers$"),
        lambda route: route.fulfill(
            status=404, content_type="application/problem+json", body=json.dumps(not_found)
        ),
    )
