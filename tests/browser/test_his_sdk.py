"""An HIS page on another origin, in headless Chromium: the example registration page served
by a second local web server (``http://127.0.0.1:<port>``, configured in CCCD_CORS_ORIGINS)
loads ``/sdk/cccd.js`` from cccd, connects with the desk key, and fills its form with the QĐ
130 fields of a card read at its desk, pushed over the WebSocket (no polling). The same page
from ``http://localhost:<port>`` (an origin not configured) is refused. A ticketed
``EventSource`` works and its ticket cannot be used twice. The diagnostics page tells both
origins apart."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.conftest import (
    KEYS,
    READER_1,
    READER_2,
    LiveServer,
    free_port,
    put_card,
    start_server,
    stop_server,
)

SDK_DIR = Path(__file__).resolve().parents[2] / "service" / "sdk"
# Fictional citizens (fixtures/data/citizens.json, insurance_cards.json).
VALID_ID = "017072769692"
OTHER_DESK_ID = "079198409238"
QR = (
    "017072769692|115371813|Trần Văn Đức|02111972|Nam|"
    "Xóm Đầm Củ, Xã Tú Lý, Huyện Đà Bắc, Tỉnh Hòa Bình|15072021"
)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def his_site() -> Iterator[int]:
    """The HIS's own web server: a plain static server holding the example page's files."""
    port = free_port()
    handler = functools.partial(Quiet, directory=str(SDK_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def cccd(
    chromium: Any, his_site: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path_factory.mktemp("his-sdk"), CCCD_CORS_ORIGINS=f"http://127.0.0.1:{his_site}"
    )
    yield server
    stop_server(server)


@pytest.fixture
def his_page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(locale="vi-VN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.requests = []  # type: ignore[attr-defined]
    page.on("request", lambda r: page.requests.append((r.method, r.url)))  # type: ignore[attr-defined]
    yield page
    context.close()


def open_example(page: Any, origin: str, cccd: LiveServer, key: str = KEYS["desk-1"]) -> None:
    page.goto(f"{origin}/example.html?service={cccd.url}")
    page.fill("#key", key)
    page.click("#connect")


def scan(server: LiveServer, desk: str, reader: str, id_number: str) -> dict[str, Any]:
    with server.client(desk) as client:
        put_card(client, reader, id_number)
        started = client.post("/api/v1/scans", json={"reader": reader, "id_number": id_number})
        assert started.status_code == 202, started.text
        done: dict[str, Any] = client.get(f"/api/v1/scans/{started.json()['id']}?wait=30").json()
    assert done["state"] == "done", done
    return done


def test_his_page_on_another_origin_fills_its_form_from_a_pushed_result(
    his_page: Any, his_site: int, cccd: LiveServer
) -> None:
    page = his_page
    open_example(page, f"http://127.0.0.1:{his_site}", cccd)
    page.wait_for_selector("body[data-connected='yes']")
    assert page.text_content("#conn") == "Đã kết nối"
    options = page.eval_on_selector_all("#reader option", "os => os.map(o => o.value)")
    assert options == [READER_1, READER_2]

    # Another desk reads a card first: this desk's page must not see it.
    other = scan(cccd, "desk-2", READER_2, OTHER_DESK_ID)
    # This desk reads one (from its desk page, the API, anything): the page is told.
    mine = scan(cccd, "desk-1", READER_1, VALID_ID)
    page.wait_for_selector(f"body[data-filled='{mine['id']}']")
    his = mine["result"]["his"]
    form = page.eval_on_selector(
        "#patient",
        "f => Object.fromEntries([...f.elements].filter(e => e.name).map(e => [e.name, e.value]))",
    )
    # QĐ 130 fields, as the fictional citizen's card holds them.
    assert form["HO_TEN"] == "Trần Văn Đức"
    assert form["SO_CCCD"] == VALID_ID
    assert form["NGAY_SINH"] == "197211020000"
    assert form["GIOI_TINH"] == "1"
    assert form["DIA_CHI"] == "Xóm Đầm Củ, Xã Tú Lý, Huyện Đà Bắc, Tỉnh Hòa Bình"
    assert form["MA_QUOCTICH"] == "000" and form["MA_DANTOC"] == "01"
    # Unit codes (official 2025 conversion table): Xã Tú Lý went into Xã Đà Bắc (04831),
    # Tỉnh Phú Thọ (25); the old district Đà Bắc is 150.
    assert (form["MATINH_CU_TRU"], form["MAXA_CU_TRU"], form["MAHUYEN_CU_TRU"]) == (
        "25",
        "04831",
        "150",
    )
    # Every HIS field the service sends (unit codes included) lands in its form field as is;
    # the card fields are empty in a scan result (the page fills them from its own insurance
    # check, which may already have answered).
    for name, value in his.items():
        if name in form and value:
            assert form[name] == str(value), name
    page.wait_for_function("document.getElementById('photo').naturalWidth > 0")
    assert page.get_attribute("#photo", "src").startswith("data:image/jpeg;base64,")
    assert page.text_content("#verdict") == "Chip thật"

    page.wait_for_selector("body[data-insurance]")
    form = page.eval_on_selector(
        "#patient",
        "f => Object.fromEntries([...f.elements].filter(e => e.name).map(e => [e.name, e.value]))",
    )
    assert form["MA_THE_BHYT"] == "GD5171725468514"
    assert form["GT_THE_DEN"] == "20301231"
    assert form["MA_DKBD"] == "17514"

    received = page.eval_on_selector_all("#received li", "ls => ls.map(l => l.dataset.scan)")
    assert received == [mine["id"]] and other["id"] not in received
    # Pushed, not polled: the page never asked for a scan.
    assert not [u for m, u in page.requests if "/api/v1/scans" in u]


def test_his_page_reads_a_card_with_scan(his_page: Any, his_site: int, cccd: LiveServer) -> None:
    page = his_page
    open_example(page, f"http://127.0.0.1:{his_site}", cccd)
    page.wait_for_selector("body[data-connected='yes']")
    with cccd.client("desk-1") as client:
        put_card(client, READER_2, VALID_ID)
    page.select_option("#reader", READER_2)
    page.fill("#id-number", "017072769693")  # one digit wrong: the card refuses the key
    page.click("#scan")
    page.wait_for_selector("#message.error")
    assert "Sai số CCCD" in page.text_content("#message")
    page.fill("#id-number", VALID_ID)
    page.click("#scan")
    page.wait_for_function("document.querySelector('[name=SO_CCCD]').value.length === 12")
    assert page.input_value("[name=HO_TEN]") == "Trần Văn Đức"
    # scan() with the QR payload a scanner typed resolves with the result itself.
    his = page.evaluate(
        "([reader, qr]) => window.cccd.scan({reader, qr}).then(r => r.his)", [READER_2, QR]
    )
    assert his["SO_CCCD"] == VALID_ID and his["NGAY_SINH"] == "197211020000"


def test_sdk_resumes_after_a_disconnection_and_reports_errors_as_objects(
    his_page: Any, his_site: int, cccd: LiveServer
) -> None:
    page = his_page
    open_example(page, f"http://127.0.0.1:{his_site}", cccd)
    page.wait_for_selector("body[data-connected='yes']")
    # The connection drops (and, for the test, stays down) while a card is read ...
    page.evaluate("() => { window.cccd._closed = true; window.cccd._ws.close(); }")
    page.wait_for_selector("#conn[data-state='off']")
    done = scan(cccd, "desk-1", READER_1, VALID_ID)
    assert page.get_attribute("body", "data-filled") != done["id"]
    # ... then comes back: the result finished meanwhile is replayed, and fills the form.
    page.evaluate("() => { window.cccd._closed = false; return window.cccd._open(); }")
    page.wait_for_selector(f"body[data-filled='{done['id']}']")
    assert page.input_value("[name=SO_CCCD]") == VALID_ID

    found = page.evaluate("id => window.cccd.lookup(id).then(r => r.identity.id_number)", VALID_ID)
    assert found == VALID_ID
    error = page.evaluate("""() => window.cccd.lookup('000000000000').then(
        () => null,
        (e) => ({name: e.name, status: e.status, type: e.type, clerk: e.clerkMessage}))""")
    assert error["name"] == "CccdError" and error["status"] == 404
    assert error["type"].startswith("https://cccd.invalid/problems/") and error["clerk"]


def test_the_same_page_from_an_origin_not_configured_is_refused(
    his_page: Any, his_site: int, cccd: LiveServer
) -> None:
    page = his_page
    origin = f"http://localhost:{his_site}"
    open_example(page, origin, cccd)
    page.wait_for_selector("body[data-error]")
    assert page.get_attribute("body", "data-error") == "origin-not-allowed"
    assert "CCCD_CORS_ORIGINS" in page.text_content("#message")
    assert page.get_attribute("body", "data-connected") is None
    # Nor can it call the API directly: the preflight is refused, the browser blocks it.
    outcome = page.evaluate(
        """([url, key]) => fetch(url + '/api/v1/readers',
                                 {headers: {Authorization: 'Bearer ' + key}})
             .then(r => 'answered ' + r.status, e => 'blocked ' + e.name)""",
        [cccd.url, KEYS["desk-1"]],
    )
    assert outcome == "blocked TypeError"


def test_ticketed_event_source_and_its_ticket_cannot_be_reused(
    his_page: Any, his_site: int, cccd: LiveServer
) -> None:
    page = his_page
    page.goto(f"http://127.0.0.1:{his_site}/example.html")
    setup = """async ([url, key]) => {
      const r = await fetch(url + '/api/v1/event-tickets', {method: 'POST',
        headers: {Authorization: 'Bearer ' + key, 'Content-Type': 'application/json'},
        body: JSON.stringify({photo: 'data'})});
      const ticket = await r.json();
      window.__events = [];
      window.__ticketUrl = url + ticket.events_url;
      const source = new EventSource(window.__ticketUrl);
      source.addEventListener('hello', (e) => window.__events.push(['hello', JSON.parse(e.data)]));
      source.addEventListener('scan', (e) => window.__events.push(['scan', JSON.parse(e.data)]));
      await new Promise((ok) => source.addEventListener('hello', ok, {once: true}));
      window.__source = source;
      return r.status;
    }"""
    assert page.evaluate(setup, [cccd.url, KEYS["desk-1"]]) == 201
    done = scan(cccd, "desk-1", READER_1, VALID_ID)
    page.wait_for_function(
        "id => window.__events.some(([k, d]) => k === 'scan' && d.id === id && d.result)",
        arg=done["id"],
    )
    pushed = page.evaluate(
        "id => window.__events.find(([k, d]) => k === 'scan' && d.id === id && d.result)[1]",
        done["id"],
    )
    assert pushed["result"]["his"]["SO_CCCD"] == VALID_ID
    assert pushed["result"]["photo"].startswith("data:image/jpeg;base64,")
    page.evaluate("window.__source.close()")
    # The same ticket again: refused, and EventSource gives up (readyState CLOSED).
    reused = page.evaluate("""() => new Promise((ok) => {
      const again = new EventSource(window.__ticketUrl);
      let opened = false;
      again.onopen = () => { opened = true; };
      again.onerror = () => { const state = again.readyState; again.close(); ok({opened, state}); };
    })""")
    assert reused == {"opened": False, "state": 2}
    assert httpx.get(page.evaluate("window.__ticketUrl")).status_code == 401


def test_diagnostics_page_tells_a_configured_origin_from_another(
    his_page: Any, his_site: int, cccd: LiveServer
) -> None:
    page = his_page
    page.goto(f"{cccd.url}/desk/diagnostics?origin=http://127.0.0.1:{his_site}")
    page.wait_for_selector("body[data-done='yes']")
    assert page.get_attribute("#allowed", "data-state") == "ok"
    assert READER_1 in page.text_content("#readers")
    assert page.get_attribute("#summary", "data-state") == "ok"
    page.goto(f"{cccd.url}/desk/diagnostics?origin=http://localhost:{his_site}")
    page.wait_for_selector("body[data-done='yes']")
    assert page.get_attribute("#allowed", "data-state") == "problem"
    fix = page.text_content("li[data-code='origin-not-allowed']")
    assert f"http://localhost:{his_site}" in fix and "CCCD_CORS_ORIGINS" in fix


def test_example_page_served_by_cccd_itself_connects(his_page: Any, cccd: LiveServer) -> None:
    page = his_page
    errors: list[str] = []
    page.on(  # (the favicon's 404 aside)
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.goto(f"{cccd.url}/sdk/example.html")
    assert page.input_value("#service") == cccd.url
    page.fill("#key", KEYS["desk-2"])
    page.click("#connect")
    page.wait_for_selector("body[data-connected='yes']")
    assert not errors  # its Content-Security-Policy lets it reach its own WebSocket
    page.fill("#key", "wrong-desk-key-123")
    page.click("#connect")
    page.wait_for_selector("body[data-error='unauthorized']")
    assert "Khóa bàn tiếp đón không đúng" in page.text_content("#message")


def test_diagnostics_page_embedded_by_the_his_page_knows_its_origin(
    his_page: Any, his_site: int, cccd: LiveServer
) -> None:
    page = his_page
    page.goto(f"http://127.0.0.1:{his_site}/example.html")
    page.evaluate(
        """url => { const f = document.createElement('iframe'); f.id = 'diag';
                    f.src = url + '/desk/diagnostics'; document.body.append(f); }""",
        cccd.url,
    )
    frame = page.frame_locator("#diag")
    frame.locator("body[data-done='yes']").wait_for()
    assert frame.locator("#origin").text_content() == f"http://127.0.0.1:{his_site}"
    assert frame.locator("#allowed").get_attribute("data-state") == "ok"
