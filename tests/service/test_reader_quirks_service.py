"""Quirky readers and restless cards through the service (in process, and a live ``cccd serve
--simulated`` where the event stream is watched): a reader that
fails extended APDUs read twice (the second read with no failed probe, also after a restart,
from the reader memory in the data folder), a card lost for 500 ms in the middle of DG2
(the scan shows ``paused`` / ``card_lost`` and resumes), and another card put back mid-read
(the read starts over)."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.conftest import (
    READER_1,
    READER_2,
    AppServer,
    LiveServer,
    finished,
    put_card,
    scan,
    start_app,
    start_server,
    stop_server,
)
from tests.service.test_live import EventListener

PERSON = "017072769692"


def _read(desk: httpx.Client, reader: str, id_number: str) -> dict[str, Any]:
    body = finished(desk, scan(desk, reader, id_number))
    assert body["state"] == "done", body.get("problem")
    result: dict[str, Any] = body["result"]
    assert result["accepted"]
    return result


def _recoveries(result: dict[str, Any]) -> list[str]:
    recoveries: list[str] = result["report"]["read"]["recoveries"]
    return recoveries


def test_quirky_reader_is_remembered_for_the_service_life_and_across_restarts(
    tmp_path: Path,
) -> None:
    server = start_app(tmp_path)
    try:
        with server.client() as desk:
            put_card(desk, READER_1, PERSON, "extended_apdu_error")
            first = _read(desk, READER_1, PERSON)
            second = _read(desk, READER_1, PERSON)
    finally:
        stop_server(server)
    assert _recoveries(first) == ["extended_length"]
    assert first["report"]["read"]["extended_length"] is False
    # The second read knows the reader: short APDUs from the start, no failed probe.
    assert _recoveries(second) == []
    assert second["timings"]["apdus"] < first["timings"]["apdus"]

    memory = tmp_path / "readers.json"
    if os.name == "posix":
        assert stat.S_IMODE(memory.stat().st_mode) == 0o600
    saved = json.loads(memory.read_text("utf-8"))
    (entry,) = [e for e in saved["readers"] if e["reader"] == READER_1]
    assert entry["profile"]["extended_length"] is False
    assert entry["profile"]["recoveries"] == {"extended_length": 1}
    assert PERSON not in memory.read_text("utf-8")  # no personal data in it

    # After a restart, with a fresh card on the same reader: still no failed probe.
    server = start_app(tmp_path)
    try:
        with server.client() as desk:
            put_card(desk, READER_1, PERSON, "extended_apdu_error")
            third = _read(desk, READER_1, PERSON)
    finally:
        stop_server(server)
    assert _recoveries(third) == []
    assert third["timings"]["apdus"] == second["timings"]["apdus"]


def test_memory_folder_is_created_private(tmp_path: Path) -> None:
    from reader.profile import ReaderProfile
    from service.scan.reader_memory import ReaderMemory

    folder = tmp_path / "new" / "data"
    memory = ReaderMemory.in_folder(folder)
    memory.put("ACS ACR1252 1S CL Reader PICC 0", b"\x3b\x80", ReaderProfile(max_read=223))
    if os.name == "posix":
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / "readers.json").stat().st_mode) == 0o600
    again = ReaderMemory.in_folder(folder)
    assert again.get("ACS ACR1252 1S CL Reader PICC 0", b"\x3b\x80").max_read == 223
    (folder / "readers.json").write_text("{not json", "utf-8")
    assert ReaderMemory.in_folder(folder).entries() == []  # set aside, probed again
    assert (folder / "readers.json.bad").exists()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real process: the event stream."""
    live = start_server(tmp_path_factory.mktemp("quirks"))
    yield live
    stop_server(live)


@pytest.fixture(scope="module")
def server_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    app = start_app(tmp_path_factory.mktemp("quirks-app"))
    yield app
    stop_server(app)


def test_card_lost_in_the_middle_of_dg2_for_500_ms_resumes(server: LiveServer) -> None:
    # Short APDUs (the chip refuses extended length): DG2 takes about 80 READ BINARY, from
    # about the 30th APDU; the card leaves at the 60th for half a second.
    with server.client() as desk:
        put_card(desk, READER_2, PERSON, "no_extended_length", "lost_at=60:500")
        listener = EventListener(server)
        paused: list[dict[str, Any]] = []
        scan_id = scan(desk, READER_2, PERSON)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            body = desk.get(f"/api/v1/scans/{scan_id}").json()
            if body["state"] == "paused":
                paused.append(body)
            if body["state"] in ("done", "failed"):
                break
            time.sleep(0.05)
        time.sleep(0.3)
        listener.stop.set()
    assert body["state"] == "done", body.get("problem")
    assert body["result"]["accepted"]
    assert _recoveries(body["result"]) == ["card_lost"]
    states = listener.states(scan_id)
    assert "paused" in states
    assert states[states.index("paused") + 1] == "reading" and states[-1] == "done"
    events = [d for k, d in listener.events if k == "scan" and d["id"] == scan_id]
    pause = next(d for d in events if d["state"] == "paused")
    assert pause["reason"] == "card_lost" and pause["resume_deadline"]
    assert pause["clerk_message"] == "Giữ yên thẻ trên đầu đọc"
    if paused:  # seen by polling too (the pause is only half a second)
        assert paused[0]["reason"] == "card_lost"
        assert paused[0]["progress"]["file"] == "DG2"


def test_another_card_put_back_mid_read_starts_over(server_app: AppServer) -> None:
    with server_app.client() as desk:
        # A slow card: the read takes a few seconds; lift it in DG2 and put another card of
        # the same citizen back (a re-issued card: another EF.SOD).
        put_card(desk, READER_1, PERSON, "no_extended_length", "slow=0.03")
        scan_id = scan(desk, READER_1, PERSON)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            body = desk.get(f"/api/v1/scans/{scan_id}").json()
            if body["progress"]["file"] == "DG2" or body["state"] in ("done", "failed"):
                break
            time.sleep(0.05)
        assert body["state"] == "reading"
        assert desk.delete(f"/api/v1/demo/readers/{READER_1}/card").status_code == 200
        time.sleep(0.3)
        put_card(desk, READER_1, PERSON, "dg13_alt_layout")
        body = finished(desk, scan_id)
    assert body["state"] == "done", body.get("problem")
    result = body["result"]
    assert _recoveries(result) == ["card_lost", "different_card"]
    assert result["accepted"]  # every file from the second card: passive auth holds
