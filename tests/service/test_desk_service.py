"""The desk page's server side: ``/`` redirects to ``/desk``, ``cccd serve`` prints the
desk's address, ``/desk/config`` (idle time, this hospital's MaCSKCB, the clinic list),
``/api/v1/clinics/{code}`` from the operator's CSV, and the day's list carries the clerk's
text of a failed read."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from service import create_app
from service.integrations.clinics import ClinicListError, load_clinics, parse_clinics
from service.settings import Settings, SettingsError
from tests.service.conftest import KEYS, READER_2, AppServer, LiveServer, put_card, scan

AUTH = {"Authorization": f"Bearer {KEYS['desk-1']}"}


def test_root_redirects_to_the_desk_page(app: AppServer) -> None:
    with app.client(desk=None) as client:
        response = client.get("/", follow_redirects=False)
        assert response.status_code in (307, 308) and response.headers["location"] == "/desk"
        assert (
            client.get("/", follow_redirects=True).headers["content-type"].startswith("text/html")
        )


def test_serve_prints_the_desk_address(live: LiveServer) -> None:
    """The command's own output: a real ``cccd serve`` process."""
    port = live.url.rsplit(":", 1)[1]
    assert f"Desk page (bàn tiếp đón): http://127.0.0.1:{port}/desk" in live.log_text()


def test_desk_config_and_clinic_names(app: AppServer) -> None:
    with app.client() as client:
        config = client.get("/desk/config").json()
        assert config == {
            "idle_seconds": 120.0,
            "hospital_code": "17514",
            "clinic_list": {"loaded": True, "clinics": 10},
            "simulated": True,
        }
        clinic = client.get("/api/v1/clinics/17514").json()
        assert clinic["name"] == "Bệnh viện Đa khoa Tỉnh Giả lập"
        missing = client.get("/api/v1/clinics/99999")
        assert missing.status_code == 404
        assert missing.json()["type"].endswith("/unknown-clinic")
        assert client.get("/api/v1/clinics/1;DROP").status_code == 422
    with app.client(desk=None) as anonymous:
        assert anonymous.get("/desk/config").status_code == 401
        assert anonymous.get("/api/v1/clinics/17514").status_code == 401


def test_failed_reads_in_the_day_list_carry_the_clerk_text(app: AppServer) -> None:
    with app.client() as client:
        put_card(client, READER_2, "017072769692")
        scan_id = scan(client, READER_2, "017072769693")  # wrong last digit
        assert client.get(f"/api/v1/scans/{scan_id}?wait=20").json()["state"] == "failed"
        item = next(s for s in client.get("/api/v1/scans").json()["scans"] if s["id"] == scan_id)
        assert item["problem_type"].endswith("/wrong-access-key")
        assert item["clerk_message"] == "Sai số CCCD: kiểm tra lại 12 số"


def test_clinic_list_columns_and_forms(tmp_path: Path) -> None:
    clinics = parse_clinics(
        "\ufeffMaCSKCB;TenCSKCB;Khac\n01001;Bệnh viện A;x\n\n79002;Phòng khám B;y\n".encode()
    )
    assert len(clinics) == 2
    assert clinics.get("01001").name == "Bệnh viện A"  # type: ignore[union-attr]
    assert clinics.get("79002").address is None  # type: ignore[union-attr]
    path = tmp_path / "clinics.csv"
    path.write_text("code,name,address\n0100A,Trạm Y tế,Xã B\n", "utf-8")
    assert load_clinics(path).get("0100a").address == "Xã B"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty file"),
        (b"ten_cskcb\nx\n", "no ma_cskcb column"),
        (b"ma_cskcb,ten_cskcb\n1001,A\n", "line 2: ma_cskcb must be 5"),
        (b"ma_cskcb,ten_cskcb\n01001,A\n01001,B\n", "line 3: code 01001 is listed twice"),
        (b"ma_cskcb,ten_cskcb\n01001,\n", "line 2: ten_cskcb is empty"),
        (b"ma_cskcb,ten_cskcb\n01001,B\xe9nh vi\xean\n", "line 2: not UTF-8"),  # Windows-1258
        (b'ma_cskcb,ten_cskcb\n01001,"A\n', "line"),
        (b"ma_cskcb,ten_cskcb\n01001," + b"x" * 400 + b"\n", "longer than 300"),
    ],
)
def test_a_bad_clinic_list_is_refused_naming_the_line(raw: bytes, message: str) -> None:
    with pytest.raises(ClinicListError, match=message):
        parse_clinics(raw, source="clinics.csv")


def test_a_bad_clinic_list_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_bytes(b"ma_cskcb,ten_cskcb\n1,A\n")
    settings = Settings.load(
        environ={
            "CCCD_CLINIC_LIST": str(tmp_path / "c.csv"),
            "CCCD_DATA_DIR": str(tmp_path),
            "CCCD_API_KEYS": "desk-1=desk-one-secret-key",
        }
    )
    with pytest.raises(SettingsError, match=r"CCCD_CLINIC_LIST: c\.csv line 2"):
        create_app(settings)


def test_hospital_code_and_idle_time_settings(tmp_path: Path) -> None:
    env = {
        "CCCD_DATA_DIR": str(tmp_path),
        "CCCD_BHXH_USERNAME": "79002_BV",
        "CCCD_API_KEYS": "d=desk-one-secret-key",
    }
    settings = Settings.load(environ=env)
    assert settings.effective_hospital_code == "79002"
    assert settings.desk_idle_seconds == 120
    settings = Settings.load(
        environ={**env, "CCCD_HOSPITAL_CODE": "01001", "CCCD_DESK_IDLE_SECONDS": "30"}
    )
    assert settings.effective_hospital_code == "01001" and settings.desk_idle_seconds == 30

    async def config() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(settings))  # the route needs no lifespan
        local = "http://127.0.0.1:8080"
        async with httpx.AsyncClient(transport=transport, base_url=local) as client:
            return await client.get(
                "/desk/config", headers={"Authorization": "Bearer desk-one-secret-key"}
            )

    answer = asyncio.run(config()).json()
    assert answer["hospital_code"] == "01001" and answer["idle_seconds"] == 30
    assert answer["clinic_list"] == {"loaded": False, "clinics": 0}
    for bad in ({"CCCD_HOSPITAL_CODE": "1001"}, {"CCCD_DESK_IDLE_SECONDS": "1"}):
        with pytest.raises(SettingsError):
            Settings.load(environ={**env, **bad})
