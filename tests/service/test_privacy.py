"""Hospital-grade privacy through a live ``cccd serve --simulated`` (docs/operations.md "Desks,
roles and readers", "Retention", "Audit log", "Network edges"): desks isolated from each
other, retention enforced in memory and on disk (the raw SQLite file and its WAL are searched
for the person's data), request bodies refused before they are read, every access audited in
a chain that shows tampering, private file modes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import sqlite3
import ssl
import stat
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.citizens import citizen
from tests.service.conftest import (
    ROOT,
    AppServer,
    LiveServer,
    Server,
    audit_rows,
    finished,
    put_card,
    scan,
    start_app,
    start_server,
    stop_server,
)

KEY_A = "desk-a-secret-key-0123"
KEY_B = "desk-b-secret-key-4567"
KEY_HIS = "his-lookup-secret-key-89"
READER_A = "Simulated reader A"
READER_B = "Simulated reader B"
RETENTION_HOURS = 0.003  # 10.8 s
PERSON = "017072769692"  # Trần Văn Đức, a 000 card on the BHXH stand-in
WRONG_ID_ON_CARD = "066192808101"


def _env(**extra: str) -> dict[str, str]:
    return {
        "CCCD_API_KEYS": f"desk-a={KEY_A},desk-b={KEY_B},his={KEY_HIS}",
        "CCCD_KEY_ROLES": "his=lookup",
        "CCCD_DESK_READERS": f"desk-a={READER_A},desk-b={READER_B}",
        "CCCD_SIMULATED_LINK": "0",
        **extra,
    }


def client(server: Server, key: str | None) -> httpx.Client:
    return server.client(desk=None, key=key or None)


TWO_DESKS = _env(
    CCCD_RETENTION_HOURS=str(RETENTION_HOURS),
    CCCD_PURGE_INTERVAL_SECONDS="0.5",
    CCCD_STORE_PHOTOS="true",
)


@pytest.fixture(scope="module")
def two_desks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real process: event streams, raw sockets, its memory, its file modes and its
    database file's bytes (see ``_raw_database``)."""
    server = start_server(tmp_path_factory.mktemp("privacy"), **TWO_DESKS)
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def two_desks_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The same service in process, for the rest."""
    server = start_app(tmp_path_factory.mktemp("privacy-app"), **TWO_DESKS)
    yield server
    stop_server(server)


def _without_instance(response: httpx.Response) -> tuple[int, dict[str, Any]]:
    body = dict(response.json())
    body.pop("instance", None)
    return response.status_code, body


class Events:
    """One desk's event stream, collected in a thread."""

    def __init__(self, server: LiveServer, key: str) -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(server, key), daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _run(self, server: LiveServer, key: str) -> None:
        with (
            contextlib.suppress(httpx.HTTPError),
            client(server, key) as c,
            c.stream("GET", "/api/v1/events", timeout=httpx.Timeout(60)) as response,
        ):
            for line in response.iter_lines():
                self.ready.set()
                self.lines.append(line)

    def text(self) -> str:
        return "\n".join(self.lines)


def test_desks_see_only_their_own_scans_photos_readers_and_events(two_desks: LiveServer) -> None:
    b_events = Events(two_desks, KEY_B)
    with client(two_desks, KEY_A) as a, client(two_desks, KEY_B) as b:
        assert [r["name"] for r in a.get("/api/v1/readers").json()["readers"]] == [READER_A]
        assert [r["name"] for r in b.get("/api/v1/readers").json()["readers"]] == [READER_B]
        put_card(a, READER_A, "001201670839")
        a_scan = scan(a, READER_A, "001201670839")
        assert finished(a, a_scan)["state"] == "done"
        assert a.get(f"/api/v1/scans/{a_scan}/photo").status_code == 200
        # desk B: A's scan, its photo and A's reader do not exist
        for path in (f"/api/v1/scans/{a_scan}", f"/api/v1/scans/{a_scan}/photo"):
            refused = b.get(path)
            assert refused.status_code == 404, path
            assert refused.json()["type"].endswith("/unknown-scan")
        # ... answered exactly as an id that never existed (its existence is not confirmed)
        assert _without_instance(b.get(f"/api/v1/scans/{a_scan}")) == _without_instance(
            b.get("/api/v1/scans/no-such-scan-id")
        )
        start = b.post("/api/v1/scans", json={"reader": READER_A, "id_number": "001201670839"})
        assert start.status_code == 404 and start.json()["type"].endswith("/unknown-reader")
        assert READER_A not in start.text
        demo = b.put(f"/api/v1/demo/readers/{READER_A}/card", json={"id_number": "001201670839"})
        assert demo.status_code == 404
        assert a_scan not in json.dumps(b.get("/api/v1/scans").json())
        # B's own scan shows on B's stream; A's never does
        put_card(b, READER_B, "017160905911")
        b_scan = scan(b, READER_B, "017160905911")
        assert finished(b, b_scan)["state"] == "done"
        deadline = time.monotonic() + 5
        while b_scan not in b_events.text() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert b_scan in b_events.text()
    assert a_scan not in b_events.text() and READER_A not in b_events.text()


def test_lookup_role_looks_up_but_reads_nothing(two_desks_app: AppServer) -> None:
    with client(two_desks_app, KEY_A) as a, client(two_desks_app, KEY_HIS) as his:
        put_card(a, READER_A, "001055199142")
        assert finished(a, scan(a, READER_A, "001055199142"))["state"] == "done"
        assert his.get("/api/v1/citizens/001055199142").status_code == 200
        assert his.get("/api/v1/readers").json()["readers"] == []
        start = his.post("/api/v1/scans", json={"reader": READER_A, "id_number": "001055199142"})
        assert start.status_code == 404
        assert his.get("/api/v1/scans").status_code == 404
        assert his.get("/api/v1/audit").status_code == 404  # admin only


@pytest.mark.parametrize(
    "params",
    [
        {"q": "a"},
        {"q": "t", "date_of_birth": "1972-11-02"},
        {"q": "Trần Văn Đức"},
        {"date_of_birth": "1972-11-02"},
        {"q": "Đức", "date_of_birth": "1972-11-02"},
    ],
)
def test_fragment_and_name_only_searches_are_refused(
    two_desks_app: AppServer, params: dict[str, str]
) -> None:
    with client(two_desks_app, KEY_A) as a:
        response = a.get("/api/v1/citizens", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["type"].endswith("/search-needs-name-and-birth-date")
    assert body["clerk_message"] == "Nhập đủ họ tên và ngày sinh để tìm"


def _raw_database(server: Server) -> bytes:
    """The SQLite file's bytes. Only from a server in another process: in the service's own
    process, closing a file read this way would drop SQLite's POSIX locks on it (SQLite's
    "How To Corrupt An SQLite Database File", section 2.2)."""
    assert isinstance(server, LiveServer)
    data = b""
    for suffix in ("", "-wal", "-journal"):
        path = server.data_dir / f"cccd.sqlite3{suffix}"
        if path.exists():
            data += path.read_bytes()
    return data


def test_retention_holds_in_memory_and_on_disk(two_desks: LiveServer) -> None:
    person = citizen(PERSON)
    with client(two_desks, KEY_A) as a:
        put_card(a, READER_A, PERSON)
        scan_id = scan(a, READER_A, PERSON)
        body = finished(a, scan_id)
        result: Any = body["result"]
        assert result["accepted"] is True
        assert "religion" not in result["identity"] and "father_name" not in result["identity"]
        photo = a.get(f"/api/v1/scans/{scan_id}/photo").content
        assert photo[:2] == b"\xff\xd8"
        assert a.get(f"/api/v1/citizens/{PERSON}").status_code == 200
        assert a.get(f"/api/v1/citizens/{PERSON}/insurance").json()["code"] == "000"
        raw = _raw_database(two_desks)
        assert PERSON.encode() in raw  # the read is there while it may be used ...
        assert b'"religion"' not in raw and b'"father_name"' not in raw  # ... minimised
        expires = dt.datetime.fromisoformat(result["expires_at"])
        wait = (expires - dt.datetime.now(dt.UTC)).total_seconds() + 2.0
        time.sleep(max(wait, 0))
        for path in (
            f"/api/v1/scans/{scan_id}",
            f"/api/v1/scans/{scan_id}/photo",
            f"/api/v1/citizens/{PERSON}",
            f"/api/v1/citizens/{PERSON}/photo",
            f"/api/v1/citizens/{PERSON}/insurance",
        ):
            assert a.get(path).status_code == 404, path
    raw = _raw_database(two_desks)
    name = person.full_name
    for needle in (
        PERSON.encode(),
        name.encode("utf-8"),
        unicodedata.normalize("NFD", name).encode("utf-8"),
        json.dumps(name).encode(),  # as JSON stores it (\\u escapes)
        photo[len(photo) // 2 : len(photo) // 2 + 48],
    ):
        assert needle not in raw, needle[:40]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _raw_request(server: LiveServer, head: str, body_chunks: Iterator[bytes]) -> bytes:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head.encode())
        with contextlib.suppress(OSError):
            for chunk in body_chunks:
                sock.sendall(chunk)
        sock.settimeout(5)
        answer = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in answer:
                part = sock.recv(65536)
                if not part:
                    break
                answer += part
    return answer


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_huge_bodies_get_413_at_once_without_memory(two_desks: LiveServer) -> None:
    pid = two_desks.process.pid
    before = _rss_kb(pid)
    size = 50 * 1024 * 1024
    started = time.monotonic()
    declared = _raw_request(
        two_desks,
        "POST /api/v1/scans HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n",
        iter([b"{" * 65536]),
    )
    assert declared.startswith(b"HTTP/1.1 413"), declared[:80]
    assert time.monotonic() - started < 1.0

    def chunks() -> Iterator[bytes]:
        piece = b"x" * 65536
        for _ in range(size // len(piece)):
            yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"

    started = time.monotonic()
    chunked = _raw_request(
        two_desks,
        "POST /api/v1/scans HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n",
        chunks(),
    )
    assert chunked.startswith(b"HTTP/1.1 413"), chunked[:80]
    plain = httpx.post(
        f"{two_desks.url}/api/v1/scans", content=b"reader=x", headers={"Content-Type": "text/plain"}
    )
    assert plain.status_code == 415
    assert _rss_kb(pid) - before < 20 * 1024  # KiB: the body was never held


def test_host_header_must_name_the_service(two_desks_app: AppServer) -> None:
    with client(two_desks_app, None) as anonymous:
        rebound = anonymous.get("/healthz", headers={"Host": "evil.example:8080"})
        assert rebound.status_code == 421
        assert anonymous.get("/healthz").status_code == 200


def _audit_verify(server: Server) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", "audit", "verify"],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
    )


def test_failures_refusals_and_views_are_audited_in_a_chain(two_desks: LiveServer) -> None:
    with client(two_desks, KEY_A) as a:
        put_card(a, READER_A, WRONG_ID_ON_CARD)
        failed = finished(a, scan(a, READER_A, PERSON))
        assert failed["state"] == "failed"
        put_card(a, READER_A, "017087623341")
        good = scan(a, READER_A, "017087623341")
        assert finished(a, good)["state"] == "done"
        assert a.get(f"/api/v1/scans/{good}/photo").status_code == 200
    long_path = "/api/v1/scans/" + "A%01" * 200
    with client(two_desks, "wrong-key-" + "x" * 20) as intruder:
        assert intruder.get(long_path, headers={"X-Forwarded-For": "6.6.6.6"}).status_code == 401
        assert (
            intruder.get("/api/v1/readers", headers={"X-Forwarded-For": "6.6.6.6"}).status_code
            == 401
        )
    rows = audit_rows(two_desks)
    declaration = {r["outcome"]: r["detail"] for r in rows if r["action"] == "declaration"}
    assert declaration["purpose"] and "retention_hours" in declaration
    records = [r for r in rows if r["action"] != "declaration"]
    assert all(r["mac"] for r in records)
    outcomes = {(r["desk"], r["action"], r["outcome"]) for r in records}
    assert ("desk-a", "scan", "failed:wrong-access-key") in outcomes
    assert ("desk-a", "scan_start", "queued") in outcomes
    assert ("desk-a", "scan_photo", "served") in outcomes
    refused = [r for r in records if r["action"] == "auth" and r["outcome"] == "wrong_key"]
    assert refused and all(r["client"] == "127.0.0.1" for r in refused)  # no XFF trusted
    assert all(len(r["detail"]) <= 120 and "\x01" not in r["detail"] for r in refused)
    assert all(r["role"] for r in records if r["desk"] == "desk-a")
    assert PERSON not in json.dumps(rows)

    verified = _audit_verify(two_desks)
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout
    # tamper with one row, as the database's owner could
    db = sqlite3.connect(two_desks.data_dir / "cccd.sqlite3")
    target = db.execute(
        "SELECT id FROM audit_log WHERE action = 'scan_photo' ORDER BY id LIMIT 1"
    ).fetchone()[0]
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET outcome = 'not_found' WHERE id = ?", (target,))
    db.commit()
    db.close()
    broken = _audit_verify(two_desks)
    assert broken.returncode == 1 and f"record {target}" in broken.stdout, broken.stdout


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_files_and_folders_are_private(two_desks: LiveServer, tmp_path: Path) -> None:
    data = two_desks.data_dir
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("cccd.sqlite3", "cccd.sqlite3-wal", "audit.key"):
        path = data / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert (data / "cccd.sqlite3").exists() and (data / "audit.key").exists()
    dump = tmp_path / "dump"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "service.cli.main",
            "read",
            "--simulated",
            PERSON,
            "--dump",
            str(dump),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert stat.S_IMODE(dump.stat().st_mode) == 0o700
    files = list(dump.iterdir())
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)


def test_erase_on_request_is_complete_and_audited(two_desks: LiveServer) -> None:
    person = "001185483324"
    with client(two_desks, KEY_A) as a:
        put_card(a, READER_A, person)
        assert finished(a, scan(a, READER_A, person))["state"] == "done"
        assert a.get(f"/api/v1/citizens/{person}").status_code == 200
    erased = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "erase", "--id-number", person],
        cwd=ROOT,
        env=two_desks.env,
        capture_output=True,
        text=True,
    )
    assert erased.returncode == 0 and "erased 1 reads" in erased.stdout, erased.stderr
    with client(two_desks, KEY_A) as a:
        assert a.get(f"/api/v1/citizens/{person}").status_code == 404
    assert person.encode() not in _raw_database(two_desks)
    assert any(
        r["action"] == "erase" and r["subject"].startswith("h:") for r in audit_rows(two_desks)
    )


def test_optional_fields_only_where_configured(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("fields")
    config = folder / "cccd.toml"
    config.write_text(
        'stored_fields = ["religion", "father_name"]\n'
        f'[desks.desk-a]\nkeys = ["{KEY_A}"]\nreaders = ["{READER_A}"]\n'
        'fields = ["religion", "father_name"]\n'
        f'[desks.desk-b]\nkeys = ["{KEY_B}"]\nreaders = ["{READER_B}"]\n',
        "utf-8",
    )
    server = start_app(folder, CCCD_CONFIG=str(config), CCCD_API_KEYS="", CCCD_SIMULATED_LINK="0")
    try:
        with client(server, KEY_A) as a, client(server, KEY_B) as b:
            put_card(a, READER_A, PERSON)
            shown = finished(a, scan(a, READER_A, PERSON))["result"]["identity"]  # type: ignore[index]
            assert shown["religion"] == citizen(PERSON).religion
            assert shown["father_name"] == citizen(PERSON).father_name
            seen_by_b = b.get(f"/api/v1/citizens/{PERSON}").json()["identity"]
            assert "religion" not in seen_by_b and "father_name" not in seen_by_b
            assert seen_by_b["full_name"] == shown["full_name"]
    finally:
        stop_server(server)


def test_network_binding_needs_tls(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCCD_")}
    env.update(CCCD_DATA_DIR=str(tmp_path), CCCD_API_KEYS=f"desk-a={KEY_A}")
    refused = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "serve", "--simulated", "--host", "0.0.0.0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "without TLS" in refused.stderr


def _self_signed(folder: Path, address: str) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_network_binding_with_tls_serves_https(tmp_path: Path) -> None:
    from tests.service.conftest import free_port

    address = "127.0.0.2"  # a loopback address, but not the default one: treated as network
    cert, key = _self_signed(tmp_path, address)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCCD_")}
    env.update(
        CCCD_DATA_DIR=str(tmp_path / "data"),
        CCCD_API_KEYS=f"desk-a={KEY_A}",
        CCCD_HOST=address,
        CCCD_PORT=str(port),
        CCCD_TLS_CERT=str(cert),
        CCCD_TLS_KEY=str(key),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli.main", "serve", "--simulated"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(
                    f"https://{address}:{port}/healthz",
                    verify=ssl.create_default_context(cafile=str(cert)),
                )
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.3)
        assert health.status_code == 200
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://{address}:{port}/healthz", timeout=3)
    finally:
        process.terminate()
        process.wait(10)
