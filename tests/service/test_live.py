"""The desk flow through the service: in process (``app``), and through a live ``cccd serve
--simulated`` process (``live``) where the flow listens to the event stream."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import subprocess
import sys
import threading
import time
import unicodedata
from typing import Any

import httpx
import pytest

from fixtures.citizens import citizen
from tests.service.conftest import (
    READER_1,
    READER_2,
    ROOT,
    AppServer,
    LiveServer,
    Server,
    audit_rows,
    finished,
    free_port,
    healthz,
    put_card,
    scan,
    start_app,
    stop_server,
)
from verify import vntext

FLOW_CITIZENS = ["017072769692", "066192808101", "017087623341"]  # 000 cards on the stand-in
USED_IDS: set[str] = set()


class EventListener:
    """Collects server-sent events in a thread."""

    def __init__(self, server: LiveServer) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(server,), daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _run(self, server: LiveServer) -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server stops at session end
            self._listen(server)

    def _listen(self, server: LiveServer) -> None:
        with (
            server.client() as client,
            client.stream("GET", "/api/v1/events", timeout=httpx.Timeout(60)) as response,
        ):
            assert response.headers["content-type"].startswith("text/event-stream")
            kind = None
            for line in response.iter_lines():
                if not self.ready.is_set():
                    self.ready.set()
                if self.stop.is_set():
                    return
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind:
                    self.events.append((kind, json.loads(line[6:])))

    def states(self, scan_id: str) -> list[str]:
        return [d["state"] for k, d in self.events if k == "scan" and d["id"] == scan_id]


@pytest.mark.parametrize("id_number", FLOW_CITIZENS)
def test_whole_desk_flow(live: LiveServer, id_number: str) -> None:
    person = citizen(id_number)
    USED_IDS.add(id_number)
    listener = EventListener(live)
    with live.client() as desk:
        put_card(desk, READER_1, id_number)
        readers = desk.get("/api/v1/readers").json()["readers"]
        assert {"name": READER_1, "card_present": True}.items() <= readers[0].items()
        scan_id = scan(desk, READER_1, id_number)
        body = finished(desk, scan_id)
        assert body["state"] == "done", body
        result: Any = body["result"]
        assert result["verdict"] == "verified" and result["accepted"] is True
        identity = result["identity"]
        assert identity["id_number"] == id_number
        assert identity["full_name"] == unicodedata.normalize("NFC", person.full_name)
        assert identity["search_key"] == vntext.search_key(person.full_name)
        assert result["his"]["SO_CCCD"] == id_number
        assert result["his"]["NGAY_SINH"] == person.date_of_birth.strftime("%Y%m%d") + "0000"
        assert result["report"]["passive_authentication"]["status"] == "verified"
        assert result["timings"]["apdus"] > 5
        time.sleep(0.3)
        listener.stop.set()
        states = listener.states(scan_id)
        assert states[0] == "queued" and "reading" in states and states[-1] == "done", states
        assert any(k == "reader" for k, _ in listener.events)
        assert all(
            person.full_name not in json.dumps(d, ensure_ascii=False) for _, d in listener.events
        ), "events carry no personal data"

        found = desk.get(f"/api/v1/citizens/{id_number}")
        assert found.status_code == 200
        assert found.json()["identity"]["full_name"] == identity["full_name"]
        assert found.json()["verification"]["genuine"] is True
        photo = desk.get(f"/api/v1/citizens/{id_number}/photo")
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
        assert photo.content[:2] == b"\xff\xd8"
        hits = desk.get(
            "/api/v1/citizens",
            params={"q": person.full_name, "date_of_birth": str(person.date_of_birth)},
        )
        assert id_number in [h["id_number"] for h in hits.json()["results"]]
        insurance = desk.get(f"/api/v1/citizens/{id_number}/insurance").json()
        assert insurance["status"] == "usable" and insurance["code"] == "000"
        assert insurance["usable_for_checkin"] is True and insurance["cached"] is False
        assert insurance["card"]["card_code"]
        again = desk.get(f"/api/v1/citizens/{id_number}/insurance").json()
        assert again["cached"] is True and again["code"] == "000"


def test_concurrent_scans_on_two_readers(app: AppServer) -> None:
    a, b = "001201670839", "017160905911"
    USED_IDS.update({a, b})
    with app.client("desk-1") as desk1, app.client("desk-2") as desk2:
        put_card(desk1, READER_1, a)
        put_card(desk2, READER_2, b)
        first, second = scan(desk1, READER_1, a), scan(desk2, READER_2, b)
        one, two = finished(desk1, first), finished(desk2, second)
    assert one["state"] == two["state"] == "done"
    assert one["result"]["identity"]["id_number"] == a  # type: ignore[index]
    assert two["result"]["identity"]["id_number"] == b  # type: ignore[index]
    # the two reads overlapped in time: neither waited for the other
    assert str(one["started_at"]) < str(two["finished_at"])
    assert str(two["started_at"]) < str(one["finished_at"])


def test_second_scan_on_busy_reader_queues(app: AppServer) -> None:
    person = "001055199142"
    USED_IDS.add(person)
    with app.client("desk-1") as desk1, app.client("desk-2") as desk2:
        put_card(desk1, READER_1, person, "slow=0.03")
        first = scan(desk1, READER_1, person)
        second_response = desk2.post(
            "/api/v1/scans", json={"reader": READER_1, "id_number": person}
        )
        assert second_response.status_code == 202
        second = second_response.json()
        assert second["state"] == "queued" and second["queue_position"] == 1
        one = finished(desk1, first)
        two = finished(desk2, second["id"])
    assert one["state"] == two["state"] == "done"
    assert str(two["started_at"]) >= str(one["finished_at"])


def test_wrong_id_number_is_a_problem_saying_so(app: AppServer) -> None:
    on_card, typed = "017179377752", "017066553268"
    USED_IDS.update({on_card, typed})
    with app.client() as desk:
        put_card(desk, READER_2, on_card)
        body = finished(desk, scan(desk, READER_2, typed))
    assert body["state"] == "failed"
    problem: Any = body["problem"]
    assert problem["type"].endswith("/wrong-access-key")
    assert problem["clerk_message"] == "Sai số CCCD: kiểm tra lại 12 số"
    assert problem["status"] == 422 and "title" in problem


def test_card_removed_mid_scan(live: LiveServer) -> None:
    person = "008086736327"
    USED_IDS.add(person)
    with live.client() as desk:
        put_card(desk, READER_2, person, "removed_after=12")
        # A card with a parameterised fault must not break the event stream for every desk.
        listener = EventListener(live)
        readers = desk.get("/api/v1/readers").json()["readers"]
        assert any(r.get("faults") == ["removed_after=12"] for r in readers)
        body = finished(desk, scan(desk, READER_2, person))
        deadline = time.monotonic() + 10
        while "failed" not in listener.states(body["id"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        listener.stop.set()
        assert listener.states(body["id"])[-1:] == ["failed"]
        assert body["state"] == "failed"
        problem: Any = body["problem"]
        assert problem["type"].endswith("/card-removed")
        assert problem["clerk_message"] == "Thẻ bị rút ra khi đang đọc: đặt lại thẻ"
        assert desk.get(f"/api/v1/citizens/{person}").status_code == 404


def test_forged_card_is_invalid_and_not_served(app: AppServer) -> None:
    person = "017075694372"
    USED_IDS.add(person)
    with app.client() as desk:
        put_card(desk, READER_2, person, "forged")
        body = finished(desk, scan(desk, READER_2, person))
        assert body["state"] == "done"
        result: Any = body["result"]
        assert result["verdict"] == "invalid"
        assert result["accepted"] is False and result["identity"] is None
        assert result["clerk_message"].startswith("Thẻ không xác thực")
        missing = desk.get(f"/api/v1/citizens/{person}")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert desk.get(f"/api/v1/citizens/{person}/insurance").status_code == 404


def test_no_key_is_401(app: AppServer) -> None:
    with app.client(desk=None) as anonymous:
        response = anonymous.get("/api/v1/readers")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 401


def test_wrong_key_is_401_and_audited(app: AppServer) -> None:
    with app.client(key="not-a-desk-key-at-all") as intruder:
        assert intruder.get("/api/v1/citizens/017072769692").status_code == 401
    export = app.data_dir / "audit.csv"
    subprocess.run(
        [sys.executable, "-m", "service.cli.main", "audit", "export", "--output", str(export)],
        cwd=ROOT,
        env=app.env,
        check=True,
        capture_output=True,
    )
    rows = list(csv.DictReader(io.StringIO(export.read_text("utf-8"))))
    refused = [r for r in rows if r["action"] == "auth" and r["outcome"] == "wrong_key"]
    assert refused and "[redacted]" in refused[-1]["detail"]
    assert "017072769692" not in export.read_text("utf-8")
    lookups = [r for r in rows if r["action"] == "lookup" and r["desk"] == "desk-1"]
    assert lookups and all(r["subject"].startswith("h:") for r in lookups)


def test_every_lookup_is_audited(app: AppServer) -> None:
    """Each way personal data leaves the service leaves an audit record with the subject."""
    person, forged = "017072769692", "017075694372"
    USED_IDS.update({person, forged})
    with app.client("desk-2") as desk:
        before = len(audit_rows(app))
        put_card(desk, READER_1, person)
        scan_id = scan(desk, READER_1, person)
        assert finished(desk, scan_id)["state"] == "done"
        assert desk.get(f"/api/v1/scans/{scan_id}/photo").status_code == 200
        assert desk.get("/api/v1/scans").json()["scans"]
        assert desk.get(f"/api/v1/citizens/{person}").status_code == 200
        assert desk.get(f"/api/v1/citizens/{person}/photo").status_code == 200
        assert desk.get(f"/api/v1/citizens/{person}/insurance").status_code == 200
        found = desk.get(
            "/api/v1/citizens", params={"q": "Trần Văn Đức", "date_of_birth": "1972-11-02"}
        )
        assert found.status_code == 200 and found.json()["results"], found.text
        qr = desk.post("/api/v1/qr", json={"payload": f"{person}||A B|02111972|Nam|X|15072021"})
        assert qr.status_code == 200, qr.text
        put_card(desk, READER_1, forged, "forged")
        bad = finished(desk, scan(desk, READER_1, forged))
        assert bad["result"]["accepted"] is False  # type: ignore[index]
        assert desk.get("/api/v1/citizens/000000000000").status_code == 404
    rows = [r for r in audit_rows(app)[before:] if r["desk"] == "desk-2"]
    actions = {(r["action"], r["outcome"]) for r in rows}
    for expected in (
        ("scan", "verified"),
        ("scan_result", "served"),
        ("scan_photo", "served"),
        ("lookup", "found"),
        ("photo", "served"),
        ("qr", "parsed"),
        ("scan_result", "served_unverified"),
        ("lookup", "not_found"),
    ):
        assert expected in actions, (expected, sorted(actions))
    assert any(a == "insurance" and o.startswith("usable") for a, o in actions)
    assert any(a == "search" for a, _ in actions) and any(a == "scan_list" for a, _ in actions)
    subjects = {r["subject"] for r in rows if r["action"] in ("lookup", "photo", "scan_photo")}
    assert len(subjects - {""}) >= 2 and all(s.startswith("h:") for s in subjects - {""})
    assert person not in json.dumps(rows)


def test_rate_limit_gives_429(app: AppServer) -> None:
    codes = []
    with app.client("desk-flood") as flood:
        for _ in range(140):
            response = flood.get("/api/v1/readers")
            codes.append(response.status_code)
            if response.status_code == 429:
                assert int(response.headers["retry-after"]) >= 1
                assert response.json()["type"].endswith("/rate-limited")
                break
    assert 429 in codes and codes[0] == 200
    with app.client("desk-2") as other:  # other desks are not affected
        assert other.get("/api/v1/readers").status_code == 200


def test_health_metrics_and_problems(app: AppServer) -> None:
    health = healthz(app)
    assert health["status"] == "ok" and health["schema_version"] >= 1
    metrics = app.client(desk=None).get("/metrics").text
    assert "cccd_scans_total" in metrics and "cccd_read_seconds_bucket" in metrics
    assert 'cccd_gateway_results_total{code="000"}' in metrics
    with app.client() as desk:
        unknown = desk.get("/api/v1/scans/nope")
        assert unknown.status_code == 404 and unknown.json()["type"].endswith("/unknown-scan")
        bad = desk.post("/api/v1/scans", json={"reader": READER_1, "id_number": "12"})
        assert bad.status_code == 422 and "12" not in bad.json().get("detail", "").split()
        assert desk.get("/api/v1/scans").json()["scans"]


@pytest.mark.parametrize("which", ["live", "app"])
def test_logs_hold_no_id_numbers_or_names(request: pytest.FixtureRequest, which: str) -> None:
    """Runs after the flows above in this module: the whole log of the live server, and of
    the app in process (its access log as the harness writes it, in uvicorn's words)."""
    server: Server = request.getfixturevalue(which)
    log = server.log_text()
    assert "POST /api/v1/scans" in log  # the access log was captured
    for id_number in USED_IDS:
        person = citizen(id_number)
        assert id_number not in log
        assert id_number[3:] not in log  # document number
        for name in (
            person.full_name,
            vntext.title_case(person.full_name),
            vntext.fold(person.full_name),
        ):
            assert name.lower() not in log.lower(), "a name reached the log"


def test_gateway_down_insurance_unavailable_identity_served(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    closed = free_port()
    server = start_app(
        tmp_path_factory.mktemp("down"),
        CCCD_BHXH_URL=f"http://127.0.0.1:{closed}",
        CCCD_BHXH_TIMEOUT_SECONDS="1",
        CCCD_BHXH_USERNAME="01001_BV",
        CCCD_BHXH_PASSWORD="x",
        CCCD_BHXH_OFFICERS="cb01=Nguyễn Thị Tiếp Đón|001190000001",
        CCCD_BHXH_DESK_OFFICERS="desk-1=cb01",
        CCCD_SIMULATED_LINK="0",
    )
    try:
        person = "017090921280"
        with server.client() as desk:
            put_card(desk, READER_1, person)
            assert finished(desk, scan(desk, READER_1, person))["state"] == "done"
            insurance = desk.get(f"/api/v1/citizens/{person}/insurance")
            assert insurance.status_code == 200
            body = insurance.json()
            assert body["status"] == "unavailable" and body["usable_for_checkin"] is False
            assert "BHXH" in body["message_vi"]
            assert desk.get(f"/api/v1/citizens/{person}").status_code == 200
            again = desk.get(f"/api/v1/citizens/{person}/insurance").json()
            assert again["cached"] is False  # an outage is never cached
    finally:
        stop_server(server)
