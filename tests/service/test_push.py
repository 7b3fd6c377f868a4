"""The push channel and the browser-facing edges of a live ``cccd serve --simulated``: the
WebSocket (auth in the first message or a subprotocol, origin check, results with the photo
inline, other desks' scans invisible, resume from an event id), single-use event tickets for
``EventSource``, ``GET /readers/{name}/card``, and CORS with the Private Network Access
preflight for configured origins only. The WebSocket client is the ``websockets`` library,
a second implementation of RFC 6455 next to the server's."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from service.api.cors import normalize_origin
from service.api.events import EventBus
from service.api.push import PushOptions, TicketBook, TicketError
from tests.service.conftest import (
    KEYS,
    READER_1,
    READER_2,
    READER_3,
    AppServer,
    LiveServer,
    Server,
    put_card,
    start_app,
    start_server,
    stop_server,
)

HIS_ORIGIN = "https://his.benhvien.test"
OTHER_ORIGIN = "https://elsewhere.test"
# Fictional citizens (fixtures/data/citizens.json).
VALID_ID, VALID_NAME = "017072769692", "Trần Văn Đức"
SECOND_ID = "079198409238"


@pytest.fixture(scope="module")
def his(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("his"), CCCD_CORS_ORIGINS=HIS_ORIGIN)
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def his_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The same service in process, for what needs no socket of its own."""
    server = start_app(tmp_path_factory.mktemp("his-app"), CCCD_CORS_ORIGINS=HIS_ORIGIN)
    yield server
    stop_server(server)


def ws_url(server: LiveServer) -> str:
    return server.url.replace("http://", "ws://") + "/api/v1/ws"


@contextlib.contextmanager
def open_ws(server: LiveServer, desk: str = "desk-1", **hello: Any) -> Iterator[ClientConnection]:
    with connect(ws_url(server), subprotocols=["cccd.v1"], open_timeout=10) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "hello", "key": KEYS[desk], **hello}))
        welcome = json.loads(ws.recv(timeout=10))
        assert welcome["type"] == "welcome" and welcome["desk"] == desk, welcome
        yield ws


def until(ws: ClientConnection, test: Any, timeout: float = 30) -> list[dict[str, Any]]:
    """Messages until one passes ``test`` (that one last)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        seen.append(message)
        if test(message):
            return seen


def finished(scan_id: str) -> Any:
    def test(m: dict[str, Any]) -> bool:
        data = m["data"]
        return m["type"] == "scan" and data["id"] == scan_id and data["state"] in ("done", "failed")

    return test


def start_scan(server: Server, desk: str, reader: str, id_number: str) -> str:
    with server.client(desk) as client:
        put_card(client, reader, id_number)
        answer = client.post("/api/v1/scans", json={"reader": reader, "id_number": id_number})
        assert answer.status_code == 202, answer.text
        return str(answer.json()["id"])


def wait_done(server: Server, desk: str, scan_id: str) -> dict[str, Any]:
    with server.client(desk) as client:
        scan: dict[str, Any] = client.get(f"/api/v1/scans/{scan_id}?wait=30").json()
    assert scan["state"] == "done", scan
    return scan


# -- WebSocket ---------------------------------------------------------------------------


def test_ws_pushes_the_result_with_photo_and_hides_other_desks_scans(his: LiveServer) -> None:
    with (
        open_ws(his, "desk-1", photo="data") as one,
        open_ws(his, "desk-2", photo="url") as two,
    ):
        hello = json.loads(one.recv(timeout=10))
        assert hello["type"] == "hello" and hello["id"].count("-") == 1
        scan_id = start_scan(his, "desk-1", READER_1, VALID_ID)
        done = until(one, finished(scan_id))[-1]["data"]
        result = done["result"]
        assert done["state"] == "done" and result["accepted"] is True
        assert result["identity"]["full_name"] == VALID_NAME
        assert result["his"]["SO_CCCD"] == VALID_ID and result["his"]["NGAY_SINH"] == "197211020000"
        assert result["his"]["GIOI_TINH"] == "1"
        assert result["photo"].startswith("data:image/jpeg;base64,")
        with his.client("desk-1") as client:
            jpeg = client.get(f"/api/v1/scans/{scan_id}/photo").content
        assert base64.b64decode(result["photo"].split(",", 1)[1]) == jpeg

        # desk-2 then scans its own card: its stream shows its own scan, never desk-1's.
        own = start_scan(his, "desk-2", READER_2, SECOND_ID)
        seen = until(two, finished(own))
        scans = {m["data"]["id"] for m in seen if m["type"] == "scan"}
        assert scans == {own}
        last = seen[-1]["data"]
        assert last["result"]["photo_url"] and "photo" not in last["result"]
        assert all(VALID_ID not in json.dumps(m, ensure_ascii=False) for m in seen)


def test_a_desk_sees_only_its_own_readers(his: LiveServer) -> None:
    with open_ws(his, "desk-flood") as ws:  # owns reader 3 only
        seen = until(ws, lambda m: m["type"] == "reader")
        ws_readers = [seen[-1]["data"]["name"]]
        scan_id = start_scan(his, "desk-1", READER_1, VALID_ID)  # another desk's reader
        with his.client("desk-flood") as flood:
            put_card(flood, READER_3, SECOND_ID)
            assert flood.get(f"/api/v1/readers/{READER_1}/card").status_code == 404
            assert flood.get(f"/api/v1/readers/{READER_3}/card").json()["state"] == "card_present"
        wait_done(his, "desk-1", scan_id)
        seen = until(ws, lambda m: m["type"] == "reader" and m["data"]["card_present"])
        ws_readers += [m["data"]["name"] for m in seen if m["type"] == "reader"]
        assert set(ws_readers) == {READER_3}
        assert not [m for m in seen if m["type"] == "scan"]


def test_ws_key_in_a_subprotocol(his: LiveServer) -> None:
    with connect(
        ws_url(his),
        subprotocols=["cccd.v1", f"cccd.key.{KEYS['desk-2']}"],  # type: ignore[list-item]
    ) as ws:
        assert ws.subprotocol == "cccd.v1"  # the key is never echoed back
        ws.send(json.dumps({"type": "hello", "results": False}))
        assert json.loads(ws.recv(timeout=10))["desk"] == "desk-2"


@pytest.mark.parametrize(
    ("first", "code", "slug"),
    [
        ({"type": "hello"}, 4401, "unauthorized"),
        ({"type": "hello", "key": "not-a-desk-key-at-all"}, 4401, "unauthorized"),
        ({"type": "hello", "ticket": "never-issued"}, 4401, "unauthorized"),
        ({"type": "subscribe", "key": KEYS["desk-1"]}, 4400, "bad-hello"),
        ({"type": "hello", "key": KEYS["desk-1"], "photo": "tiff"}, 4400, "bad-hello"),
    ],
)
def test_ws_refuses_a_bad_hello(
    his: LiveServer, first: dict[str, Any], code: int, slug: str
) -> None:
    with connect(ws_url(his)) as ws:
        ws.send(json.dumps(first))
        error = json.loads(ws.recv(timeout=10))
        assert error["type"] == "error" and error["problem"]["type"].endswith("/" + slug)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == code


def test_ws_bounds_what_it_reads(his: LiveServer) -> None:
    with connect(ws_url(his)) as ws:
        ws.send(b'{"type": "hello"}')  # a binary frame
        assert json.loads(ws.recv(timeout=10))["problem"]["type"].endswith("/bad-hello")
    with connect(ws_url(his)) as ws:
        ws.send(json.dumps({"type": "hello", "key": "x" * 5000}))  # over the hello's 4 KiB
        assert json.loads(ws.recv(timeout=10))["problem"]["type"].endswith("/bad-hello")
    with connect(ws_url(his), max_size=None) as ws:
        ws.send("x" * 200_000)  # over the server's frame limit: closed at once
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_ws_key_in_the_url_is_not_accepted(his: LiveServer) -> None:
    with connect(f"{ws_url(his)}?key={KEYS['desk-1']}") as ws:
        ws.send(json.dumps({"type": "hello"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "error"


def test_ws_refuses_an_origin_not_configured(his: LiveServer) -> None:
    with (
        connect(ws_url(his), origin=OTHER_ORIGIN) as ws,  # type: ignore[arg-type]
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    assert "CCCD_CORS_ORIGINS" in closed.value.rcvd.reason
    with open_ws_from(his, HIS_ORIGIN) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "welcome"


@contextlib.contextmanager
def open_ws_from(server: LiveServer, origin: str) -> Iterator[ClientConnection]:
    with connect(ws_url(server), origin=origin) as ws:  # type: ignore[arg-type]
        ws.send(json.dumps({"type": "hello", "key": KEYS["desk-1"]}))
        yield ws


def test_ws_resumes_with_the_result_finished_while_away(his: LiveServer) -> None:
    with open_ws(his, "desk-1") as ws:
        resume_from = json.loads(ws.recv(timeout=10))["id"]  # hello: where to resume from
    scan_id = start_scan(his, "desk-1", READER_1, VALID_ID)
    wait_done(his, "desk-1", scan_id)  # finished while no subscriber was connected
    with open_ws(his, "desk-1", last_event_id=resume_from) as ws:
        seen = until(ws, finished(scan_id))
        assert seen[0]["type"] == "hello" and seen[0]["data"]["resumed"] is True
        assert not any(m["type"] == "gap" for m in seen)
        assert seen[-1]["data"]["result"]["his"]["SO_CCCD"] == VALID_ID
        states = [m["data"]["state"] for m in seen if m["type"] == "scan"]
        assert states[0] == "queued" and states[-1] == "done"
    # An id the service never gave (or from before a restart): a gap, and the readers' state.
    with open_ws(his, "desk-1", last_event_id="0000-5") as ws:
        seen = until(ws, lambda m: m["type"] == "reader")
        assert [m["type"] for m in seen[:2]] == ["hello", "gap"]


# -- tickets and server-sent events --------------------------------------------------------


def read_sse(lines: Iterator[str], test: Any, limit: int = 400) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for line in lines:
        if line.startswith("id: "):
            current["id"] = line[4:]
        elif line.startswith("event: "):
            current["event"] = line[7:]
        elif line.startswith("data: "):
            current["data"] = json.loads(line[6:])
        elif not line and "event" in current:
            events.append(current)
            if test(current) or len(events) >= limit:
                return events
            current = {}
    return events


def test_ticketed_event_stream_delivers_results_and_the_ticket_is_single_use(
    his: LiveServer,
) -> None:
    with his.client("desk-1") as desk:
        answer = desk.post("/api/v1/event-tickets", json={"photo": "none"})
    assert answer.status_code == 201, answer.text
    ticket = answer.json()
    assert ticket["expires_in"] <= 60 and ticket["events_url"].endswith(ticket["ticket"])
    url = his.url + ticket["events_url"]
    with httpx.Client(timeout=httpx.Timeout(30)) as anonymous:  # no Authorization header
        with anonymous.stream("GET", url) as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()
            hello = read_sse(lines, lambda e: e["event"] == "hello")[-1]
            assert hello["data"]["desk"] == "desk-1"
            scan_id = start_scan(his, "desk-1", READER_1, VALID_ID)
            done = read_sse(lines, lambda e: e["event"] == "scan" and e["data"]["state"] == "done")[
                -1
            ]
        assert done["data"]["id"] == scan_id and done["id"].startswith(hello["id"].split("-")[0])
        assert done["data"]["result"]["his"]["HO_TEN"] == VALID_NAME
        assert "photo_url" not in done["data"]["result"]  # photo: none
        again = anonymous.get(url)
        assert again.status_code == 401
        assert again.json()["type"].endswith("/invalid-ticket")
        assert anonymous.get(f"{his.url}/api/v1/events").status_code == 401


def test_event_stream_resumes_from_last_event_id(his: LiveServer) -> None:
    with his.client("desk-1") as desk:
        with desk.stream("GET", "/api/v1/events", timeout=httpx.Timeout(30)) as stream:
            hello = read_sse(stream.iter_lines(), lambda e: e["event"] == "hello")[-1]
        scan_id = start_scan(his, "desk-1", READER_1, VALID_ID)
        wait_done(his, "desk-1", scan_id)
        headers = {"Last-Event-ID": hello["id"]}
        with desk.stream(
            "GET", "/api/v1/events?results=true", headers=headers, timeout=httpx.Timeout(30)
        ) as stream:
            seen = read_sse(
                stream.iter_lines(),
                lambda e: e["event"] == "scan" and e["data"]["state"] == "done",
            )
    assert seen[0]["event"] == "hello" and seen[0]["data"]["resumed"] is True
    assert seen[-1]["data"]["id"] == scan_id
    assert seen[-1]["data"]["result"]["his"]["SO_CCCD"] == VALID_ID


def test_ticket_book_expires_and_forgets() -> None:
    now = [100.0]
    book = TicketBook(ttl=30, limit=3, clock=lambda: now[0])
    caller = object()
    first = book.issue(caller, PushOptions(photo="data"))
    assert book.redeem(first) == (caller, PushOptions(photo="data"))
    with pytest.raises(TicketError):
        book.redeem(first)
    late = book.issue(caller, PushOptions())
    now[0] += 31
    with pytest.raises(TicketError):
        book.redeem(late)
    tickets = [book.issue(caller, PushOptions()) for _ in range(5)]
    assert len(book) == 3  # bounded: the oldest went first
    with pytest.raises(TicketError):
        book.redeem(tickets[0])
    assert book.redeem(tickets[-1])[0] is caller
    with pytest.raises(TicketError):
        book.redeem("x" * 500)


# -- what is on a reader -------------------------------------------------------------------


def test_reader_card_states_and_the_last_result_while_the_card_stays(his_app: AppServer) -> None:
    path = f"/api/v1/readers/{READER_2}/card"
    with his_app.client("desk-1") as one, his_app.client("desk-2") as two:
        one.delete(f"/api/v1/demo/readers/{READER_2}/card")
        assert one.get(path).json()["state"] == "no_card"
        put_card(one, READER_2, VALID_ID)
        now = one.get(path).json()
        assert now["state"] == "card_present" and "result" not in now
        scan = one.post("/api/v1/scans", json={"reader": READER_2, "id_number": VALID_ID}).json()
        wait_done(his_app, "desk-1", scan["id"])
        card = one.get(path, params={"photo": "data"}).json()
        assert card["state"] == "card_present" and card["scan"]["id"] == scan["id"]
        assert card["result"]["his"]["SO_CCCD"] == VALID_ID
        assert card["result"]["photo"].startswith("data:image/jpeg;base64,")
        other = two.get(path).json()  # another desk sees the card, not the result
        assert other["state"] == "card_present" and "result" not in other and "scan" not in other
        one.delete(f"/api/v1/demo/readers/{READER_2}/card")
        gone = one.get(path).json()
        assert gone["state"] == "no_card" and "result" not in gone
        put_card(one, READER_2, VALID_ID)  # a new card: the old result is not shown for it
        assert "result" not in one.get(path).json()
        missing = one.get("/api/v1/readers/No%20such%20reader/card")
        assert missing.status_code == 404 and missing.json()["clerk_message"]


# -- CORS and Private Network Access -------------------------------------------------------


def preflight(server: Server, origin: str) -> httpx.Response:
    with server.client(desk=None) as anonymous:
        return anonymous.options(
            "/api/v1/readers",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
                "Access-Control-Request-Private-Network": "true",
            },
        )


def test_private_network_preflight_answered_for_a_configured_origin_only(
    his_app: AppServer,
) -> None:
    ok = preflight(his_app, HIS_ORIGIN)
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == HIS_ORIGIN
    assert ok.headers["access-control-allow-private-network"] == "true"
    assert "authorization" in ok.headers["access-control-allow-headers"].lower()
    refused = preflight(his_app, OTHER_ORIGIN)
    assert refused.status_code == 403
    assert not any(h.startswith("access-control-") for h in refused.headers)
    assert "CCCD_CORS_ORIGINS" in refused.json()["clerk_message"]


def test_cors_headers_only_for_the_configured_origin(his_app: AppServer) -> None:
    auth = {"Authorization": f"Bearer {KEYS['desk-1']}"}
    anonymous = his_app.client(desk=None)
    ok = anonymous.get("/api/v1/readers", headers={**auth, "Origin": HIS_ORIGIN})
    assert ok.headers["access-control-allow-origin"] == HIS_ORIGIN
    assert "Origin" in ok.headers["vary"]
    other = anonymous.get("/api/v1/readers", headers={**auth, "Origin": OTHER_ORIGIN})
    assert "access-control-allow-origin" not in other.headers
    sdk = anonymous.get("/sdk/cccd.js", headers={"Origin": OTHER_ORIGIN})
    assert sdk.status_code == 200 and sdk.headers["access-control-allow-origin"] == "*"
    assert sdk.headers["content-type"].startswith("text/javascript")
    assert anonymous.get("/sdk/secret.txt").status_code == 404


def test_diagnostics_status_names_the_fix(his_app: AppServer) -> None:
    anonymous = his_app.client(desk=None)
    good = anonymous.get("/desk/diagnostics/status", params={"origin": HIS_ORIGIN}).json()
    assert good["page"]["allowed"] is True and good["trust"]["configured"] is True
    assert {r["name"] for r in good["readers"]} == {READER_1, READER_2, READER_3}
    bad = anonymous.get("/desk/diagnostics/status", params={"origin": OTHER_ORIGIN}).json()
    assert bad["page"]["allowed"] is False and bad["ok"] is False
    assert any(f["code"] == "origin-not-allowed" and OTHER_ORIGIN in f["vi"] for f in bad["fixes"])
    page = anonymous.get("/desk/diagnostics")
    assert HIS_ORIGIN in page.headers["content-security-policy"]  # it may embed the page


# -- units -----------------------------------------------------------------------------------


def test_origins_are_compared_normalised() -> None:
    assert normalize_origin("HTTPS://His.BenhVien.vn:443/") == "https://his.benhvien.vn"
    assert normalize_origin("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert normalize_origin("http://[::1]:80") == "http://[::1]"
    for bad in ("null", "file:///c:/his.html", "https://his.vn/path", "https://u@his.vn", ""):
        assert normalize_origin(bad) == ""


def test_replay_buffer_resumes_and_reports_gaps() -> None:
    bus = EventBus(replay_events=4)
    start = bus.last_id
    for n in range(3):
        bus.publish("scan", {"n": n}, to=("d",))
    sub = bus.subscribe("d", start)
    assert [e.data["n"] for e in sub.replay] == [0, 1, 2] and not sub.gap
    middle = bus.event_id(2)
    assert [e.data["n"] for e in bus.subscribe("d", middle).replay] == [2]
    for n in range(3, 8):
        bus.publish("scan", {"n": n}, to=("d",))
    lost = bus.subscribe("d", middle)  # events 3.. were evicted from the 4-event buffer
    assert lost.gap and [e.data["n"] for e in lost.replay] == [4, 5, 6, 7]
    assert bus.subscribe("d", bus.last_id).replay == []
    assert not bus.subscribe("d", bus.last_id).gap
    assert bus.subscribe("d", "other-3").gap and bus.subscribe("d", f"{bus.boot}-99").gap


def test_events_go_only_onto_the_queues_of_their_desks() -> None:
    """Per-desk fan-out: publishing for desk A touches no other desk's queue, and a desk
    resuming is replayed only its own events."""
    bus = EventBus()
    start = bus.last_id
    a, b = bus.subscribe("desk-a"), bus.subscribe("desk-b")
    assert bus.subscribers == 2
    bus.publish("scan", {"n": 1}, to=("desk-a",))
    bus.publish("reader", {"n": 2}, to=("desk-a", "desk-b"))
    assert [a.queue.get_nowait().data["n"] for _ in range(a.queue.qsize())] == [1, 2]
    assert [b.queue.get_nowait().data["n"] for _ in range(b.queue.qsize())] == [2]
    assert [e.data["n"] for e in bus.subscribe("desk-b", start).replay] == [2]
    bus.unsubscribe(a)
    bus.publish("scan", {"n": 3}, to=("desk-a",))
    assert a.queue.empty()
