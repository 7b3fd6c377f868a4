"""For the clerk's eyes and hands: at 150% zoom on 1366x768 the photo, the name and the
insurance pill are on screen; at 125% the BHYT code does not wrap; 1920x1080 is used (larger
text and photo); large-text mode; the font is the service's own; shortcut keys work and are
shown on the buttons; focus goes input -> result -> actions -> day's list; printing gives the
current patient's slip and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM_ARGS  # noqa: F401 - the fixtures' browser
from tests.browser.desk import (
    EXPIRED_NAME,
    VALID_ID,
    VALID_NAME,
    open_desk,
    put_card,
    read_card,
    scan_by_keyboard,
)

READER = "Simulated reader 6"


@pytest.fixture
def zoomed(chromium: Any, desk_server: Any) -> Iterator[Any]:
    """1366x768 at 150% browser zoom: 911x512 CSS pixels at a device scale of 1.5."""
    yield from _page(chromium, desk_server, {"width": 911, "height": 512}, 1.5)


@pytest.fixture
def wide(chromium: Any, desk_server: Any) -> Iterator[Any]:
    yield from _page(chromium, desk_server, {"width": 1920, "height": 1080}, 1)


@pytest.fixture
def zoom125(chromium: Any, desk_server: Any) -> Iterator[Any]:
    yield from _page(chromium, desk_server, {"width": 1093, "height": 614}, 1.25)


def _page(chromium: Any, server: Any, viewport: dict[str, int], scale: float) -> Iterator[Any]:
    context = chromium.new_context(viewport=viewport, device_scale_factor=scale, locale="vi-VN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.base_url = server.url
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


def within_viewport(page: Any, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] + box["width"] <= size["width"]
    )


def test_at_150_percent_photo_name_and_insurance_are_on_screen(zoomed: Any) -> None:
    page = zoomed
    open_desk(page, reader=READER)
    read_card(page, VALID_ID)
    page.wait_for_selector("#ins-pill.ok")
    page.wait_for_function("() => document.getElementById('r-photo').naturalWidth > 0")
    assert page.evaluate("window.scrollY") == 0
    for selector in ("#r-photo", "#r-name", "#ins-pill", "#verdict"):
        assert within_viewport(page, selector), selector
    assert page.evaluate("document.documentElement.scrollWidth") <= 911


def test_at_125_percent_the_bhyt_code_does_not_wrap(zoom125: Any) -> None:
    page = zoom125
    open_desk(page, reader=READER)
    read_card(page, VALID_ID)
    page.wait_for_selector("#ins-pill.ok")
    for selector in ("#ins-line", "#ins-fields dd[data-field='card_code']"):
        lines = page.evaluate(
            "sel => { const e = document.querySelector(sel); const r = document.createRange();"
            " r.selectNodeContents(e); return new Set([...r.getClientRects()]"
            ".map(x => Math.round(x.top))).size; }",
            selector,
        )
        assert lines == 1, selector


def test_1920_uses_the_space(wide: Any, page: Any) -> None:
    open_desk(wide, reader=READER)
    read_card(wide, VALID_ID)
    small = page
    open_desk(small, reader=READER)
    size = "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"
    assert wide.evaluate(size) >= 18 > small.evaluate(size) - 0.5 >= 14.5
    photo = wide.locator("#r-photo").bounding_box()
    assert photo["width"] >= 180 and photo["height"] >= 240
    # Large-text mode makes everything bigger again, and is remembered on this PC.
    wide.click("#large")
    assert wide.evaluate(size) >= 22
    assert wide.text_content("#large") == "Chữ to: bật"


def test_the_font_is_served_by_the_service(page: Any) -> None:
    open_desk(page, reader=READER)
    read_card(page, VALID_ID)
    fonts = page.evaluate("""async () => { await document.fonts.ready;
        return [...document.fonts].filter(f => f.status === 'loaded')
          .map(f => f.family.replaceAll('"', '') + ' ' + f.weight); }""")
    assert "Desk Sans 400" in fonts and "Desk Sans 700" in fonts
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf", "LICENSE.txt"):
        response = page.request.get(f"{page.base_url}/desk/static/fonts/{name}")
        assert response.status == 200, name
    # Every character on the page is in the served font (no box glyphs).
    assert page.evaluate(
        "() => document.fonts.check('16px \"Desk Sans\"', document.body.innerText)"
    )
    assert page.evaluate(
        "() => getComputedStyle(document.getElementById('r-name')).fontFamily"
    ).startswith('"Desk Sans"')


def test_shortcut_keys_are_shown_and_work(page: Any) -> None:
    page.add_init_script("window.print = () => { window.__printed = (window.__printed || 0) + 1; }")
    open_desk(page, reader=READER)
    for button, key in (
        ("#scan-button", "Enter"),
        ("#copy-his", "F8"),
        ("#next-patient", "F9"),
        ("#print", "Ctrl+P"),
        ("#ins-again", "F4"),
    ):
        assert page.locator(f"{button} kbd").text_content() == key
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    put_card(page, VALID_ID)
    page.focus("#history-refresh")  # F2 reads from anywhere
    page.evaluate(f"document.getElementById('id-input').value = '{VALID_ID}'")
    page.keyboard.press("F2")
    page.wait_for_selector("#result:not([hidden])")
    page.wait_for_selector("#ins-pill.ok")
    page.keyboard.press("F8")
    page.wait_for_selector("#copy-status:has-text('Đã chép')")
    assert "MA_THE_BHYT=GD5171725468514" in page.evaluate("navigator.clipboard.readText()")
    with page.expect_response(lambda r: "/insurance" in r.url):
        page.keyboard.press("F4")
    page.wait_for_selector("#ins-pill.ok")
    page.keyboard.press("Control+P")
    assert page.evaluate("window.__printed") == 1
    page.keyboard.press("F9")
    assert page.is_hidden("#result") and page.text_content("#r-name") == ""
    assert page.evaluate("document.activeElement.id") == "id-input"
    page.keyboard.press("Control+P")  # no patient: nothing is printed
    assert page.evaluate("window.__printed") == 1


def test_focus_order_input_result_actions_history(page: Any) -> None:
    open_desk(page, reader=READER)
    read_card(page, VALID_ID)
    page.wait_for_selector("#ins-pill.ok")
    page.focus("#id-input")
    order = []
    for _ in range(16):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    first = {name: order.index(name) for name in ("copy-his", "next-patient", "ins-again")}
    history = order.index("history-refresh")
    assert first["copy-his"] < first["next-patient"] < first["ins-again"] < history, order
    assert order[0] == "scan-button"  # input -> its button -> the result's actions
    assert "reader-select" not in order[:history] and "demo-insert" not in order[:history]


def test_print_stylesheet_prints_the_current_patient_only(page: Any) -> None:
    page.add_init_script("window.print = () => { window.__printed = true; }")
    open_desk(page, reader=READER)
    read_card(page, "001185483324")  # a first patient, now in the day's list
    page.keyboard.press("F9")
    put_card(page, VALID_ID)
    scan_by_keyboard(page, VALID_ID)
    page.wait_for_selector("#ins-pill.ok")
    page.click("#print")
    assert page.evaluate("window.__printed") is True
    page.emulate_media(media="print")
    printed = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getClientRects().length && e.children.length === 0)
        .map(e => e.textContent.trim()).filter(Boolean)""")
    text = " ".join(printed)
    assert "PHIẾU TIẾP ĐÓN" in text and VALID_NAME in text and VALID_ID in text
    assert "GD5171725468514" in text
    assert EXPIRED_NAME not in text  # the day's list is not printed
    assert page.is_hidden("#history-area") and page.is_hidden("#result")
    assert text.count("Họ và tên") == 1
    page.emulate_media(media="screen")
    assert page.is_visible("#result") and page.is_hidden("#slip")
