"""``cccd doctor``: each check finds what is wrong and names the fix in Vietnamese. The BHXH
checks talk to the shipped gateway stand-in (the real protocol, in process); the port check
binds real sockets; the PC/SC check's reader listing is passed in (a real pcscd run is in
``cccd doctor`` on a desk PC, and ``tests/pcsc`` covers the listing itself)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures import bhxh_gateway as standin
from fixtures import pki
from reader.drivers.pcsc import PCSCUnavailableError
from service.cli.cmd_doctor import Check, check_clock, check_port, run_checks
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _settings(tmp_path: Path, **values: Any) -> Settings:
    trust = tmp_path / "trust"
    trust.mkdir(exist_ok=True)
    (trust / "csca.der").write_bytes(pki.csca("brainpool512").der)
    base: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "trust_store": trust,
        "api_keys": {"quay-1": "sha256:" + "0" * 64},
        "port": _free_port(),
        "bhxh_url": "http://bhxh-standin.invalid",
        "bhxh_username": standin.DEMO_USERNAME,
        "bhxh_password": standin.DEMO_PASSWORD,
        "bhxh_officer_name": standin.DEMO_OFFICER_NAME,
        "bhxh_officer_id": standin.DEMO_OFFICER_ID,
    }
    base.update(values)
    return Settings(**base)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gateway() -> httpx.AsyncBaseTransport:
    return httpx.ASGITransport(app=standin.create_gateway_app())


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_a_healthy_desk_pc(tmp_path: Path) -> None:
    checks = _by_name(
        run_checks(
            _settings(tmp_path),
            bhyt_transport=_gateway(),
            list_readers=lambda: ["ACS ACR1252 1S CL Reader PICC 0"],
        )
    )
    for name in (
        "settings",
        "pcsc",
        "readers",
        "trust_store",
        "data",
        "bhxh",
        "bhxh_credentials",
        "port",
    ):
        assert checks[name].level == "ok", checks[name]
    assert "1 CSCA" in checks["trust_store"].detail
    assert checks["audit_key"].level == "ok"


def test_each_problem_names_its_fix_in_vietnamese(tmp_path: Path) -> None:
    def no_service() -> list[str]:
        raise PCSCUnavailableError("SCardEstablishContext: the Smart Card service is not running")

    settings = _settings(
        tmp_path,
        bhxh_password="wrong password",
        trust_store=tmp_path / "missing",
        api_keys={},
    )
    checks = _by_name(
        run_checks(settings, bhyt_transport=_gateway(), list_readers=no_service, platform="win32")
    )
    assert checks["pcsc"].level == "fail" and "SCardSvr" in checks["pcsc"].fix
    assert checks["trust_store"].level == "fail" and "cccd trust add" in checks["trust_store"].fix
    assert checks["bhxh_credentials"].level == "fail"
    assert "mật khẩu" in checks["bhxh_credentials"].fix
    assert checks["desk_keys"].level == "fail" and "CCCD_API_KEYS" in checks["desk_keys"].fix
    linux = _by_name(run_checks(settings, offline=True, list_readers=no_service, platform="linux"))
    assert "systemctl enable --now pcscd" in linux["pcsc"].fix
    assert linux["bhxh"].level == "skip"
    empty = _by_name(run_checks(settings, offline=True, list_readers=list))
    assert empty["readers"].level == "fail" and "Cắm đầu đọc" in empty["readers"].fix


def test_gateway_unreachable(tmp_path: Path) -> None:
    # a real connection to a closed loopback port
    settings = _settings(tmp_path, bhxh_url=f"http://127.0.0.1:{_free_port()}")
    checks = _by_name(run_checks(settings, list_readers=lambda: ["r"]))
    assert checks["bhxh"].level == "fail" and "tường lửa" in checks["bhxh"].fix


def test_port_in_use_and_bind_address(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        checks = _by_name(check_port(_settings(tmp_path, port=port)))
    assert checks["port"].level == "fail" and "CCCD_PORT" in checks["port"].fix
    wide = _by_name(check_port(_settings(tmp_path, host="0.0.0.0")))
    assert wide["bind"].level == "warn" and "127.0.0.1" in wide["bind"].fix


def test_clock_against_the_gateway() -> None:
    vietnam = datetime(2026, 3, 2, 8, 0, tzinfo=UTC).astimezone()
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    late = _by_name(check_clock(now - timedelta(minutes=5), now=now))
    assert late["clock"].level == "fail" and "w32tm /resync" in late["clock"].fix
    fine = _by_name(check_clock(now - timedelta(seconds=3), now=now))
    assert fine["clock"].level == "ok"
    assert _by_name(check_clock(None, now=vietnam))["clock"].level == "skip"


def test_the_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCCD_")}
    env.update(
        CCCD_DATA_DIR=str(tmp_path),
        CCCD_SIMULATED="1",
        CCCD_PORT=str(_free_port()),
        CCCD_API_KEYS="quay-1=a-long-desk-key-123",
    )
    done = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "doctor", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)}
    assert checks["pcsc"]["level"] == "skip" and checks["data"]["level"] == "ok"
    env["CCCD_PORT"] = "not-a-port"
    bad = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "doctor"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and "[LỖI] settings" in bad.stdout and "Cách sửa" in bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr


@pytest.mark.parametrize("platform", ["win32", "linux", "darwin"])
def test_fix_text_per_platform(platform: str, tmp_path: Path) -> None:
    def down() -> list[str]:
        raise PCSCUnavailableError("no service")

    check = _by_name(
        run_checks(_settings(tmp_path), offline=True, list_readers=down, platform=platform)
    )
    assert check["pcsc"].fix


def test_an_unusable_audit_key(tmp_path: Path) -> None:
    from service.cli.cmd_doctor import check_audit_key

    key_file = tmp_path / "audit.key"
    key_file.write_text("not a key", "utf-8")
    check = check_audit_key(_settings(tmp_path, audit_key_file=key_file))
    assert check.level == "fail" and "audit.key" in check.fix
