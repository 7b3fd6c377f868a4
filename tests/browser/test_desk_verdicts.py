"""The three verdicts a clerk cannot misread: genuine (green), signature valid but issuer not
checked (amber, "tell IT"), not genuine (a red takeover of the whole result area with no
green anywhere, a distinct sound and an explicit acknowledgement). The status bar says how
many CSCAs are installed and whether any is Vietnamese."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.browser.desk import VALID_ID, VALID_NAME, open_desk, put_card, rewrite_scan
from tests.browser.desk import scan_by_keyboard as scan

READER = "Simulated reader 4"

GREEN_ON_SCREEN = """() => {
  const found = [];
  const green = (c) => {
    const m = /rgba?\\((\\d+), (\\d+), (\\d+)(?:, ([\\d.]+))?\\)/.exec(c || '');
    if (!m) return false;
    const [r, g, b, a] = [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
    return a > 0.1 && g > r + 30 && g > b + 10;
  };
  for (const e of document.querySelectorAll('body *')) {
    if (!e.getClientRects().length) continue;
    for (const pseudo of [null, '::before', '::after']) {
      const s = getComputedStyle(e, pseudo);
      if (pseudo && (s.content === 'none' || s.content === 'normal')) continue;
      const props = ['color', 'background-color'];
      if (parseFloat(s.borderTopWidth) > 0) props.push('border-top-color');
      const name = `${e.id || e.className || e.tagName}${pseudo || ''}`;
      for (const p of props) if (green(s[p])) found.push(`${name} ${p}`);
    }
  }
  return found;
}"""


@pytest.mark.parametrize(("fault", "reason"), [("forged", "bị sửa"), ("clone", "bản sao")])
def test_not_genuine_card_takes_over_with_no_green(page: Any, fault: str, reason: str) -> None:
    open_desk(page, reader=READER)
    # A genuine read first, so the day's list holds green entries the takeover must mute.
    put_card(page, VALID_ID)
    scan(page, VALID_ID)
    page.wait_for_selector("#verdict.genuine")
    assert page.get_attribute("body", "data-last-cue") == "done"
    assert page.evaluate(GREEN_ON_SCREEN)  # the probe sees the genuine state's green
    put_card(page, VALID_ID, fault=fault)
    page.wait_for_selector("#result", state="hidden")  # the first patient left with the card
    scan(page, VALID_ID)
    page.wait_for_selector("#takeover:not([hidden])")
    assert reason in page.text_content("#takeover-reason")
    assert page.text_content("#takeover-title") == "KHÔNG PHẢI THẺ THẬT"
    assert page.text_content("#status-text") == "THẺ KHÔNG PHẢI THẺ THẬT"
    assert page.is_hidden("#verdict") and page.is_hidden("#result") and page.is_hidden("#insurance")
    assert page.get_attribute("body", "data-last-cue") == "forged"
    # It fills the result area.
    area = page.locator("#result-area").bounding_box()
    box = page.locator("#takeover").bounding_box()
    assert box["width"] >= area["width"] - 2 and box["height"] >= 300
    assert page.evaluate(GREEN_ON_SCREEN) == []
    # Nothing moves on until the clerk acknowledges it: not Enter, not F9, not the card leaving.
    assert page.evaluate("document.activeElement.id") == "takeover-ack"
    page.focus("#id-input")
    page.keyboard.type(VALID_ID)
    page.keyboard.press("Enter")
    page.keyboard.press("F9")
    page.wait_for_timeout(300)
    assert page.is_visible("#takeover")
    assert page.evaluate("document.activeElement.id") == "takeover-ack"
    page.keyboard.press("Enter")  # on the acknowledgement button
    page.wait_for_selector("#takeover", state="hidden")
    assert page.text_content("#status-text") == "Đã xong — đặt thẻ người tiếp theo"
    history = page.text_content("#history")
    assert "KHÔNG PHẢI THẺ THẬT" in history
    assert page.errors == []


def test_signer_not_in_the_trust_store_is_not_called_forged(page: Any) -> None:
    """A trust store that is set but does not cover the card's signer: amber, "tell IT",
    never the red not-genuine state."""
    open_desk(page, reader=READER)
    put_card(page, VALID_ID, fault="unknown_dsc")
    scan(page, VALID_ID)
    page.wait_for_selector("#verdict:not([hidden])")
    assert page.get_attribute("#verdict", "data-acceptance") == "issuer_not_checked"
    text = page.text_content("#verdict-text")
    assert "không phải dấu hiệu thẻ giả" in text and "CNTT" in text
    assert page.is_hidden("#takeover")
    assert "KHÔNG PHẢI" not in page.text_content("#status-text")


def test_the_service_acceptance_field_is_what_counts(page: Any) -> None:
    """With ``acceptance`` in the answer, the page shows it as sent (here a service that
    accepts an issuer-not-checked card and shows its identity)."""

    def issuer_not_checked(result: Any) -> None:
        result.update(acceptance="issuer_not_checked", acceptance_reason="signer_not_in_store")

    rewrite_scan(page, issuer_not_checked)
    open_desk(page, reader=READER)
    put_card(page, VALID_ID)
    scan(page, VALID_ID)
    page.wait_for_selector("#result:not([hidden])")
    assert page.get_attribute("#verdict", "data-acceptance") == "issuer_not_checked"
    assert page.text_content("#r-name") == VALID_NAME
    assert "THẺ THẬT" not in page.text_content("#verdict")
    assert page.evaluate("document.getElementById('verdict').className") == "verdict issuer"


def test_acceptance_not_genuine_takes_over(page: Any) -> None:
    rewrite_scan(page, lambda r: r.update(acceptance="not_genuine", acceptance_reason="forged"))
    open_desk(page, reader=READER)
    put_card(page, VALID_ID)
    scan(page, VALID_ID)
    page.wait_for_selector("#takeover:not([hidden])")
    assert page.evaluate(GREEN_ON_SCREEN) == []


def test_sound_cues_can_be_muted(page: Any) -> None:
    open_desk(page, reader=READER)
    assert page.text_content("#sound") == "Âm thanh: bật"
    page.click("#sound")
    assert page.text_content("#sound") == "Âm thanh: tắt"
    put_card(page, VALID_ID)
    scan(page, VALID_ID)
    page.wait_for_selector("#verdict.genuine")
    assert page.get_attribute("body", "data-last-cue") == "muted:done"
    # The switch is this PC's preference (no personal data): it survives a reload.
    assert json.loads(page.evaluate("localStorage.getItem('cccd.desk.prefs')")) == {
        "large": False,
        "muted": True,
    }


@pytest.mark.parametrize(
    ("trust", "expected"),
    [
        ({"cscas": 3, "vietnamese_cscas": 1}, "3 chứng thư gốc, có của Việt Nam"),
        ({"cscas": 2, "vietnamese_cscas": 0}, "KHÔNG có của Việt Nam"),
        ({"cscas": 0, "vietnamese_cscas": 0}, "Chưa cài dữ liệu kiểm tra nơi cấp thẻ"),
        (None, "Đã cài dữ liệu kiểm tra nơi cấp thẻ"),
    ],
)
def test_status_bar_counts_the_installed_cscas(
    page: Any, trust: dict[str, int] | None, expected: str
) -> None:
    def health(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        assert body["trust_store"] == "configured"
        if trust is None:
            body.pop("trust", None)  # a service that does not count them
        else:
            body["trust"] = trust
        route.fulfill(response=response, body=json.dumps(body))

    page.route(re.compile(r".*/healthz$"), health)
    open_desk(page)
    page.wait_for_selector(f"#sb-trust:has-text('{expected}')")
    assert "Danh mục cơ sở KCB: 10" in page.text_content("#statusbar")


def test_every_not_genuine_reason_has_its_words(page: Any) -> None:
    """The reasons a service gives for "not genuine" each get the clerk's own sentence."""
    reasons = ["forged", "clone", "issuing_state_mismatch", "malformed", "unsupported"]
    current: dict[str, str] = {}
    rewrite_scan(
        page, lambda r: r.update(acceptance="not_genuine", acceptance_reason=current["reason"])
    )
    open_desk(page, reader=READER)
    put_card(page, VALID_ID)
    seen = set()
    for reason in reasons:
        current["reason"] = reason
        scan(page, VALID_ID)
        page.wait_for_selector(f"#takeover[data-reason='{reason}']:not([hidden])")
        text = page.text_content("#takeover-reason")
        assert text and text != "Không xác nhận được thẻ là thẻ thật.", reason
        seen.add(text)
        page.click("#takeover-ack")
        page.wait_for_selector("#takeover", state="hidden")
    assert len(seen) >= 4  # forged, clone, another state's signer, unverifiable


def test_status_bar_says_how_long_card_data_is_kept(page: Any) -> None:
    """The retention period the service enforces (Decree 13 duties: the clerk can tell a
    patient how long their data stays), as the service reports it for this desk."""
    open_desk(page)
    page.wait_for_selector("#sb-retention:has-text('giờ rồi tự xóa')")
    hours = page.evaluate(
        "async () => (await (await fetch('/api/v1/whoami', {headers: {Authorization: "
        "'Bearer ' + sessionStorage.getItem('cccd.desk.key')}})).json()).retention_hours"
    )
    assert f"lưu {hours:g} giờ" in page.text_content("#sb-retention")
