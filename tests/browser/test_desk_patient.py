"""One patient at a time: the result belongs to the card on the reader. Removing the card,
putting another card on, or the idle time passing clears it; a new card with the ID number
already typed is read at once; a double Enter is one read; the card-left pause is shown."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from tests.browser.desk import (
    SECOND_ID,
    SECOND_NAME,
    VALID_ID,
    VALID_NAME,
    open_desk,
    put_card,
    remove_card,
    scan_by_keyboard,
)

READER = "Simulated reader 3"

WATCH_NAMES = """() => { window.__names = [];
  new MutationObserver(() => window.__names.push(document.getElementById('r-name').textContent))
    .observe(document.getElementById('r-name'),
             {childList: true, characterData: true, subtree: true}); }"""


def test_removing_the_card_clears_the_patient_within_two_seconds(page: Any) -> None:
    open_desk(page, reader=READER)
    put_card(page, VALID_ID)
    scan_by_keyboard(page, VALID_ID)
    page.wait_for_selector("#result:not([hidden])")
    page.wait_for_function("document.getElementById('r-photo').naturalWidth > 0")
    assert page.text_content("#r-name") == VALID_NAME
    remove_card(page)
    started = time.monotonic()
    page.wait_for_selector("#result", state="hidden", timeout=2000)
    assert time.monotonic() - started < 2
    assert page.text_content("#r-name") == ""
    assert page.get_attribute("#r-photo", "src") is None
    assert page.is_hidden("#insurance")
    assert page.text_content("#status-text") == "Đã xong — đặt thẻ người tiếp theo"
    assert "đặt thẻ người tiếp theo" in page.text_content("#placeholder")
    # Nothing personal is left in the page's DOM either.
    assert VALID_NAME not in page.evaluate("document.getElementById('result-area').innerHTML")
    assert page.errors == []


def test_second_card_with_the_id_typed_shows_only_the_second_patient(page: Any) -> None:
    open_desk(page, reader=READER)
    put_card(page, VALID_ID)
    scan_by_keyboard(page, VALID_ID)
    page.wait_for_selector("#result:not([hidden])")
    assert page.text_content("#r-name") == VALID_NAME
    # The clerk types the next patient's number while the first is still shown, then the
    # next card goes on the reader (the first is swapped off): the read starts by itself.
    page.evaluate(WATCH_NAMES)
    page.fill("#id-input", SECOND_ID)
    posts: list[str] = []
    page.on(
        "request",
        lambda r: (
            posts.append(r.post_data or "")
            if r.method == "POST" and r.url.endswith("/api/v1/scans")
            else None
        ),
    )
    put_card(page, SECOND_ID)
    page.wait_for_function(
        "name => document.getElementById('r-name').textContent === name", arg=SECOND_NAME
    )
    names = [n for n in page.evaluate("window.__names") if n]
    assert names and set(names) == {SECOND_NAME}, names
    assert len(posts) == 1 and SECOND_ID in posts[0]
    assert page.errors == []


def test_enter_with_the_previous_card_still_on_waits_for_the_next_card(page: Any) -> None:
    """The previous patient's card still lies on the reader: the page does not read it with
    the new number (which would say "Sai số CCCD"); it asks for the next card and reads that."""
    open_desk(page, reader=READER)
    put_card(page, VALID_ID)
    scan_by_keyboard(page, VALID_ID)
    page.wait_for_selector("#result:not([hidden])")
    page.evaluate(WATCH_NAMES)
    scan_by_keyboard(page, SECOND_ID)
    page.wait_for_selector("#status-text:has-text('người trước')")
    assert page.is_hidden("#result") and page.is_hidden("#error")
    put_card(page, SECOND_ID)
    page.wait_for_function(
        "name => document.getElementById('r-name').textContent === name", arg=SECOND_NAME
    )
    assert {n for n in page.evaluate("window.__names") if n} == {SECOND_NAME}
    assert page.is_hidden("#error")


def test_idle_time_clears_the_patient(page: Any) -> None:
    """The idle time comes from /desk/config (2 minutes by default); here 3 seconds."""

    def short_idle(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        assert body["idle_seconds"] == 120
        body["idle_seconds"] = 3
        route.fulfill(response=response, body=json.dumps(body))

    page.route(re.compile(r".*/desk/config$"), short_idle)
    open_desk(page, reader=READER)
    put_card(page, VALID_ID)
    scan_by_keyboard(page, VALID_ID)
    page.wait_for_selector("#result:not([hidden])")
    page.wait_for_selector("#result", state="hidden", timeout=8000)
    assert page.text_content("#status-text") == "Đã xong — đặt thẻ người tiếp theo"
    assert page.text_content("#r-name") == ""


def test_double_enter_is_one_read(page: Any) -> None:
    open_desk(page, reader=READER)
    put_card(page, VALID_ID)
    posts: list[str] = []
    page.on(
        "request",
        lambda r: (
            posts.append(r.url) if r.method == "POST" and r.url.endswith("/api/v1/scans") else None
        ),
    )
    page.focus("#id-input")
    page.keyboard.type(VALID_ID)
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.wait_for_selector("#result:not([hidden])")
    page.keyboard.press("Enter")  # the input is empty now: nothing is read either
    page.wait_for_timeout(500)
    assert len(posts) == 1, posts
    assert page.text_content("#r-name") == VALID_NAME or page.is_visible("#error")


def test_waiting_for_the_card_says_put_it_on(page: Any) -> None:
    open_desk(page, reader=READER)
    remove_card(page)
    scan_by_keyboard(page, VALID_ID)
    page.wait_for_selector("#status-text[data-state='waiting']:has-text('Đặt thẻ lên đầu đọc')")
    put_card(page, VALID_ID)
    page.wait_for_selector("#result:not([hidden])")
    assert page.text_content("#r-name") == VALID_NAME


def test_card_lost_mid_read_says_hold_it_still(page: Any) -> None:
    """The card leaves the reader for two seconds mid-read (the demo fault ``lost_at``): the
    service pauses the scan (``paused``, ``reason: card_lost``) and waits for it, the page
    says "Giữ yên thẻ trên đầu đọc", and the read goes on to its end when the card is back."""
    open_desk(page, reader=READER)
    put_card(page, VALID_ID, fault="lost_at=13:2000")
    page.evaluate("""() => { window.__states = [];
      new MutationObserver(() => window.__states.push(
        document.getElementById('status-text').textContent))
        .observe(document.getElementById('status-text'), {childList: true, subtree: true}); }""")
    scan_by_keyboard(page, VALID_ID)
    page.wait_for_function("() => window.__states.some(s => s.includes('Giữ yên thẻ'))")
    page.wait_for_selector("#result:not([hidden])", timeout=30_000)  # the card came back
