"""The HIS webhook through the service in process (``create_app``, as ``cccd serve
--simulated`` builds it): a receiver that is down while cards are read, the service stopped
and started again on the same data, then every accepted result delivered exactly once
with a valid signature; ``/healthz`` shows the outbox stuck meanwhile. Also the HIS fields
route (``/scans/{id}/his``) with its profiles."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from service.integrations.his.outbox import verify_signature
from tests.service.conftest import (
    READER_1,
    READER_2,
    Server,
    finished,
    free_port,
    healthz,
    put_card,
    scan,
    start_app,
    stop_server,
)

SECRET = "webhook-shared-secret-for-tests"
PROFILES = json.dumps({"benhvien": {"SoCCCD": "SO_CCCD", "HoTen": "HO_TEN", "MaXa": "MAXA_CU_TRU"}})


class Receiver:
    """A real HTTP receiver on loopback that checks each signature as an HIS would."""

    def __init__(self, port: int) -> None:
        self.deliveries: list[dict[str, Any]] = []
        self.bad: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify_signature(
                    SECRET,
                    timestamp=self.headers.get("X-CCCD-Timestamp", ""),
                    body=body,
                    signature=self.headers.get("X-CCCD-Signature", ""),
                )
                if ok:
                    outer.deliveries.append(
                        {"id": self.headers["X-CCCD-Delivery"], "body": json.loads(body)}
                    )
                else:
                    outer.bad.append(self.headers.get("X-CCCD-Signature", ""))
                self.send_response(204 if ok else 401)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _health(server: Server) -> dict[str, Any]:
    return healthz(server)


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def hook_port() -> int:
    return free_port()


@pytest.fixture
def env(hook_port: int) -> dict[str, str]:
    return {
        "CCCD_WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/cccd-hook",
        "CCCD_WEBHOOK_SECRET": SECRET,
        "CCCD_WEBHOOK_STUCK_SECONDS": "1",
        "CCCD_WEBHOOK_TIMEOUT_SECONDS": "2",
        "CCCD_HIS_PROFILES": PROFILES,
    }


@pytest.fixture
def receiver_later(hook_port: int) -> Iterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for r in started:
        r.close()


@pytest.mark.slow
def test_delivers_after_receiver_down_across_restart(
    tmp_path: Path, env: dict[str, str], hook_port: int, receiver_later: list[Receiver]
) -> None:
    cards = {READER_1: "017072769692", READER_2: "066192808101"}
    server = start_app(tmp_path, **env)
    scan_ids = []
    try:
        with server.client() as desk:
            for reader, id_number in cards.items():
                put_card(desk, reader, id_number)
                scan_id = scan(desk, reader, id_number)
                body = finished(desk, scan_id)
                assert body["state"] == "done" and body["result"]["accepted"], body  # type: ignore[index]
                scan_ids.append(scan_id)
        # The receiver is down: the entries wait, and /healthz says the outbox is stuck.
        _wait(
            lambda: _health(server)["his_webhook"]["status"] == "stuck",
            20,
            "the outbox to show stuck",
        )
        hook = _health(server)["his_webhook"]
        assert hook["pending"] == 2 and hook["delivered"] == 0
        assert hook["last_error"], hook
    finally:
        stop_server(server)

    receiver = Receiver(hook_port)
    receiver_later.append(receiver)
    restarted = start_app(tmp_path, **env)
    try:
        _wait(lambda: len(receiver.deliveries) >= 2, 40, "both deliveries after the restart")
        time.sleep(2.5)  # no second delivery of either result follows
        health = _health(restarted)["his_webhook"]
        assert health["status"] == "ok" and health["pending"] == 0 and health["delivered"] == 2
    finally:
        stop_server(restarted)
    assert receiver.bad == []
    assert len(receiver.deliveries) == 2
    assert len({d["id"] for d in receiver.deliveries}) == 2
    bodies = {d["body"]["scan_id"]: d["body"] for d in receiver.deliveries}
    assert set(bodies) == set(scan_ids)
    got = {b["his"]["SO_CCCD"] for b in bodies.values()}
    assert got == set(cards.values())
    for b in bodies.values():
        assert b["event"] == "scan.result" and b["profile"] == "qd130"
        assert b["his"]["MATINH_CU_TRU"] and b["his"]["NGAY_SINH"].endswith("0000")
        assert "photo" not in json.dumps(b)


def test_a_forged_or_stale_signature_is_refused() -> None:
    from service.integrations.his.outbox import sign

    body = b'{"x":1}'
    now = 1_800_000_000
    good = sign(SECRET, now, body)
    assert verify_signature(SECRET, timestamp=str(now), body=body, signature=good, now=now)
    assert not verify_signature(
        SECRET, timestamp=str(now), body=body + b" ", signature=good, now=now
    )
    assert not verify_signature(
        "another-secret-entirely", timestamp=str(now), body=body, signature=good, now=now
    )
    # the same request replayed ten minutes later
    assert not verify_signature(
        SECRET, timestamp=str(now), body=body, signature=good, now=now + 600
    )
    assert not verify_signature(SECRET, timestamp="12a", body=body, signature=good, now=now)


@pytest.mark.slow
def test_his_route_and_profiles(tmp_path: Path) -> None:
    server = start_app(tmp_path, CCCD_HIS_PROFILES=PROFILES)
    try:
        with server.client() as desk:
            id_number = "017072769692"  # Xã Tú Lý, Huyện Đà Bắc, Tỉnh Hòa Bình (old structure)
            put_card(desk, READER_1, id_number)
            scan_id = scan(desk, READER_1, id_number)
            result: Any = finished(desk, scan_id)["result"]
            his = result["his"]
            assert his["SO_CCCD"] == id_number and his["GIOI_TINH"] in ("1", "2")
            # Tú Lý went wholly into Xã Đà Bắc (04831), Tỉnh Phú Thọ (25); district Đà Bắc 150
            assert (his["MATINH_CU_TRU"], his["MAXA_CU_TRU"], his["MAHUYEN_CU_TRU"]) == (
                "25",
                "04831",
                "150",
            )
            assert his["MA_THE_BHYT"] == ""  # no insurance check yet
            assert result["his_units"]["status"] == "resolved"
            assert result["his_url"] == f"/api/v1/scans/{scan_id}/his"

            plain = desk.get(f"/api/v1/scans/{scan_id}/his").json()
            assert plain["profile"] == "qd130" and plain["his"] == his
            assert plain["insurance_checked"] is False
            old = desk.get(f"/api/v1/scans/{scan_id}/his", params={"profile": "qd130-old"})
            assert old.status_code == 200
            assert (old.json()["his"]["MATINH_CU_TRU"], old.json()["his"]["MAXA_CU_TRU"]) == (
                "17",
                "04867",
            )
            theirs = desk.get(f"/api/v1/scans/{scan_id}/his", params={"profile": "benhvien"})
            assert theirs.json()["his"] == {
                "SoCCCD": id_number,
                "HoTen": his["HO_TEN"],
                "MaXa": "04831",
            }
            unknown = desk.get(f"/api/v1/scans/{scan_id}/his", params={"profile": "nope"})
            assert unknown.status_code == 422
            assert unknown.json()["type"].endswith("unknown-profile")

            insurance = desk.get(f"/api/v1/citizens/{id_number}/insurance").json()
            assert insurance["code"] == "000"
            checked = desk.get(f"/api/v1/scans/{scan_id}/his").json()
            assert checked["insurance_checked"] is True
            card = insurance["card"]
            assert checked["his"]["MA_THE_BHYT"] == card["card_code"]
            day, month, year = card["valid_to"].split("/")
            assert checked["his"]["GT_THE_DEN"] == f"{year}{month}{day}"
            assert len(checked["his"]["GT_THE_TU"]) == 8
            assert checked["his"]["MA_DKBD"] == card.get("registered_clinic", "")[:5]

            missing = desk.get("/api/v1/scans/not-a-scan/his")
            assert missing.status_code == 404
        with server.client("desk-2") as other:  # another desk's scan is not there for it
            assert other.get(f"/api/v1/scans/{scan_id}/his").status_code == 404
    finally:
        stop_server(server)
