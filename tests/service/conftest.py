"""Live desk-service fixtures: a real ``cccd serve --simulated`` process on 127.0.0.1 with a
random free port, simulated readers and the in-process BHXH stand-in."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "desk-1": "desk-one-secret-key",
    "desk-2": "desk-two-secret-key",
    "desk-flood": "desk-flood-secret-key",
}
READER_1 = "Simulated reader 1"
READER_2 = "Simulated reader 2"
READER_3 = "Simulated reader 3"
# desk-1 and desk-2 share readers 1 and 2 (a queue between two desks); desk-flood has its own
DESK_READERS = f"desk-1={READER_1}|{READER_2},desk-2={READER_1}|{READER_2},desk-flood={READER_3}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    data_dir: Path
    env: dict[str, str]
    log_file: Any = None

    def client(self, desk: str | None = "desk-1", key: str | None = None) -> httpx.Client:
        headers = {}
        if desk is not None or key is not None:
            headers["Authorization"] = f"Bearer {key or KEYS[desk or 'desk-1']}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def log_text(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")


def start_server(tmp: Path, **extra_env: str) -> LiveServer:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCCD_")}
    env.update(
        {
            "CCCD_DATA_DIR": str(tmp),
            "CCCD_PORT": str(port),
            "CCCD_API_KEYS": ",".join(f"{d}={k}" for d, k in KEYS.items()),
            "CCCD_DESK_READERS": DESK_READERS,
            "CCCD_CARD_WAIT_SECONDS": "3",
            "CCCD_RESUME_WAIT_SECONDS": "2",
            "CCCD_RATE_LIMIT": "600",
            "CCCD_RATE_LIMIT_BURST": "100",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra_env)
    log_path = tmp / "server.log"
    out = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli.main", "serve", "--simulated"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out.close()
            raise RuntimeError(f"server exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return LiveServer(
                    url=url, process=process, log_path=log_path, data_dir=tmp, env=env, log_file=out
                )
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    process.wait()
    out.close()
    raise RuntimeError("server did not start in 60 s")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(5)
    server.log_file.close()


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("live"))
    yield server
    stop_server(server)


def put_card(client: httpx.Client, reader: str, id_number: str, *faults: str) -> None:
    response = client.put(
        f"/api/v1/demo/readers/{reader}/card", json={"id_number": id_number, "faults": list(faults)}
    )
    assert response.status_code == 200, response.text


def scan(client: httpx.Client, reader: str, id_number: str, **extra: object) -> str:
    response = client.post(
        "/api/v1/scans", json={"reader": reader, "id_number": id_number, **extra}
    )
    assert response.status_code == 202, response.text
    assert response.headers["location"].endswith(response.json()["id"])
    return str(response.json()["id"])


def finished(client: httpx.Client, scan_id: str, timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/scans/{scan_id}", params={"wait": 10}).json()
        if body["state"] in ("done", "failed"):
            return dict(body)
    raise AssertionError("scan did not finish")


def audit_rows(server: LiveServer) -> list[dict[str, str]]:
    """The server's whole audit log, as ``cccd audit export`` writes it."""
    import csv
    import io

    export = server.data_dir / "audit-all.csv"
    subprocess.run(
        [sys.executable, "-m", "service.cli.main", "audit", "export", "--output", str(export)],
        cwd=ROOT,
        env=server.env,
        check=True,
        capture_output=True,
    )
    return list(csv.DictReader(io.StringIO(export.read_text("utf-8"))))
