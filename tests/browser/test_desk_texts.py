"""Vietnamese throughout: every problem type the service can send and every BHYT answer
(each gateway code and each status with no code) shows the clerk Vietnamese words only. The
English the page could leak -- the service's problem titles and details, the BHYT meanings,
the page's own English texts -- is collected, and no word of it may be on screen in
Vietnamese mode (the "Chi tiết kỹ thuật" fold stays closed, as for the clerk)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from service.api import problems
from service.integrations import bhyt
from service.scan import queue as scans
from tests.browser.desk import (
    VALID_ID,
    as_older_service,
    open_desk,
    put_card,
    rewrite_insurance,
    scan_by_keyboard,
)

ROOT = Path(__file__).resolve().parents[2]
READER = "Simulated reader 5"
WORD = re.compile(r"[^\W\d_]{3,}")
# Words on screen that are names, not English prose.
NAMES = {"cccd", "bhyt", "bhxh", "his", "enter", "ctrl", "english", "kinh", "qr"}


def service_problems() -> dict[str, str]:
    """Every problem type the service's code raises, with its English title."""
    found: dict[str, str] = {}
    for _, kind in problems.CARD_ERRORS:
        found[kind.slug] = kind.title
    for problem in (scans.NO_CARD, scans.READ_TIMEOUT):
        found[problem.slug] = problem.title
    for slug, title in problems._HTTP_TITLES.values():
        found[slug] = title
    for path in (ROOT / "service").rglob("*.py"):
        text = path.read_text("utf-8")
        for match in re.finditer(r'slug="([a-z0-9-]+)",?\s*title="([^"]+)"', text):
            found.setdefault(match.group(1), match.group(2))
        for match in re.finditer(r'slug="([a-z0-9-]+)"', text):
            found.setdefault(match.group(1), "The request failed")
        # Problems the ASGI edge writes itself: _problem(send, status, slug, title, clerk).
        for match in re.finditer(r'_problem\(\s*send,\s*\d+,\s*"([a-z0-9-]+)",\s*"([^"]+)"', text):
            found.setdefault(match.group(1), match.group(2))
    found.pop("internal", None)
    found["internal"] = "Internal error"
    return found


def english_words(page: Any) -> set[str]:
    texts = page.evaluate("""async () => {
        const m = await import('/desk/static/js/texts.js');
        return {en: [...Object.values(m.T.en), ...Object.values(m.PROBLEMS.en)],
                vi: [...Object.values(m.T.vi), ...Object.values(m.PROBLEMS.vi)]};
    }""")
    english = " ".join(
        [
            *texts["en"],
            *service_problems().values(),
            *(code.meaning for code in bhyt.RESULT_CODES.values()),
            "the service failed inside its log request error detail",
        ]
    )
    vietnamese = " ".join(
        [
            *texts["vi"],
            *(code.message_vi for code in bhyt.RESULT_CODES.values()),
            *(kind.clerk_message for _, kind in problems.CARD_ERRORS),
        ]
    )
    vietnamese = re.sub(r"\{[a-z_]+\}", " ", vietnamese)  # placeholders are not words
    words = {w.casefold() for w in WORD.findall(english)}
    return words - {w.casefold() for w in WORD.findall(vietnamese)} - NAMES


VISIBLE_TEXT = """() => {
  const parts = [];
  for (const id of ['status', 'result-area', 'history-area', 'statusbar']) {
    const node = document.getElementById(id).cloneNode(true);
    node.querySelectorAll('kbd, details.tech > pre').forEach((k) => k.remove());
    document.body.append(node);
    node.style.position = 'absolute';
    parts.push(node.innerText);
    node.remove();
  }
  return parts.join('\\n');
}"""


def english_on_screen(page: Any, words: set[str]) -> list[str]:
    text = page.evaluate(VISIBLE_TEXT)
    return sorted({w for w in WORD.findall(text) if w.casefold() in words})


def test_every_problem_type_is_told_in_vietnamese(page: Any) -> None:
    open_desk(page, reader=READER)
    words = english_words(page)
    assert {"card", "reader", "failed", "request"} <= words  # the probe knows English
    catalogue = service_problems()
    assert len(catalogue) >= 30 and "wrong-host" in catalogue, sorted(catalogue)
    current: dict[str, Any] = {}

    def answer(route: Any) -> None:
        slug, title = current["slug"], current["title"]
        body = {
            "type": f"https://cccd.invalid/problems/{slug}",
            "title": title,
            "status": 422,
            "detail": f"{title}: the request failed (detail for the log)",
        }
        if current["with_message"]:
            body["clerk_message"] = current["clerk_message"]
        route.fulfill(status=422, content_type="application/problem+json", body=json.dumps(body))

    page.route(re.compile(r".*/api/v1/scans$"), answer)
    for slug, title in sorted(catalogue.items()):
        for with_message in (False, True):
            current.update(
                slug=slug,
                title=title,
                with_message=with_message,
                clerk_message="Thông báo của dịch vụ cho người tiếp đón",
            )
            page.fill("#id-input", VALID_ID)
            page.keyboard.press("Enter")
            page.wait_for_function(
                "slug => document.getElementById('error-title').dataset.slug === slug"
                " && !document.getElementById('error').hidden",
                arg=slug,
            )
            title_text = page.text_content("#error-title")
            assert page.get_attribute("#error-title", "data-known") == "1", slug
            assert english_on_screen(page, words) == [], (slug, title_text)
            assert title not in page.evaluate(VISIBLE_TEXT)
            page.keyboard.press("F9")  # next patient
    assert page.errors == []


def test_every_bhyt_answer_is_told_in_vietnamese(page: Any) -> None:
    answers = [
        {
            "status": code.status,
            "code": code.code,
            "meaning": code.meaning,
            "message_vi": code.message_vi,
            "usable_for_checkin": code.usable_for_checkin,
        }
        for code in bhyt.RESULT_CODES.values()
    ]
    for check in (bhyt.unavailable("gateway unreachable: ConnectError"), bhyt.not_configured()):
        answers.append(check.to_json())
    answers.append(
        {
            "status": "unknown_code",
            "code": "999",
            "meaning": "result code not in the 2024 gateway table",
            "message_vi": "Cổng BHXH trả mã lạ: kiểm tra thẻ bằng giấy tờ",
            "usable_for_checkin": False,
        }
    )
    current: dict[str, Any] = {}

    def answer(id_number: str) -> dict[str, Any]:
        body = {
            "id_number": id_number,
            "day": "2026-12-01",
            "cached": False,
            "gateway_note": "Thẻ còn giá trị sử dụng!",
            "card": {
                "card_code": "GD4017172546851",
                "full_name": "TRẦN VĂN ĐỨC",
                "date_of_birth": "02/11/1972",
                "registered_clinic": "17514",
                "valid_from": "01/01/2025",
                "valid_to": "31/12/2030",
                "area_code": "K1",
            },
            "differences": [{"field": "full_name", "kind": "diacritics"}],
            "checked_at": "2026-12-01T08:12:09+00:00",
            **current["answer"],
        }
        if body["code"] in ("003", "004"):
            body["new_card"] = {"card_code": "GD4017172546999", "registered_clinic": "17514"}
        return body

    current["answer"] = answers[0]
    as_older_service(page)  # the answer as GET /citizens/{id}/insurance gives it
    rewrite_insurance(page, answer)
    open_desk(page, reader=READER)
    words = english_words(page)
    put_card(page, VALID_ID)
    scan_by_keyboard(page, VALID_ID)
    page.wait_for_selector("#result:not([hidden])")
    for item in answers:
        current["answer"] = item
        page.keyboard.press("F4")  # check again
        page.wait_for_function(
            "status => document.getElementById('ins-pill').dataset.status === status"
            " && !document.getElementById('ins-again').disabled",
            arg=item["status"],
        )
        page.wait_for_function(
            "text => document.getElementById('ins-message').textContent === text",
            arg=item["message_vi"],
        )
        assert english_on_screen(page, words) == [], item
        assert item["meaning"] not in page.evaluate(VISIBLE_TEXT)
    assert page.errors == []
