"""The HIS object's formats and profiles (``service.integrations.his.fields``), the partial
birth dates (``verify.identity``), the settings that configure them, and the outbox's
retention on SQLite and PostgreSQL (``service.integrations.his.outbox``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.integrations.his.fields import (
    ProfileError,
    apply_profile,
    his_object,
    insurance_fields,
    validate_profiles,
)
from service.integrations.his.outbox import Outbox, verify_signature
from service.integrations.his.units import resolve_residence
from service.settings import Settings, SettingsError
from service.storage.store import Store
from tests.service.test_persistence import store  # noqa: F401  (SQLite and PostgreSQL)
from verify.identity import build_identity

ID = "001185483324"


@pytest.mark.parametrize(
    ("printed", "ngay_sinh"),
    [
        ("14/03/1985", "198503140000"),
        ("1950", "195000000000"),
        ("03/1950", "195003000000"),
        ("00/00/1950", "195000000000"),
        ("00/03/1950", "195003000000"),
        ("31/02/1950", ""),  # no such day: unknown, not half-known
        ("garbage", ""),
    ],
)
def test_ngay_sinh_with_unknown_parts(printed: str, ngay_sinh: str) -> None:
    identity = build_identity(dg13={"id_number": ID, "full_name": "A", "date_of_birth": printed})
    assert identity.his_fields()["NGAY_SINH"] == ngay_sinh


def test_his_object_keys_are_the_standard_names() -> None:
    identity = build_identity(
        dg13={
            "id_number": ID,
            "full_name": "Nguyễn Văn An",
            "date_of_birth": "14/03/1985",
            "sex": "Nữ",
            "nationality": "Việt Nam",
            "ethnicity": "Mường",
            "place_of_residence": "Xóm Đầm Củ, Xã Tú Lý, Huyện Đà Bắc, Tỉnh Hòa Bình",
        }
    )
    his = his_object(identity.his_fields(), resolve_residence(identity.place_of_residence))
    assert list(his) == [
        "HO_TEN",
        "SO_CCCD",
        "NGAY_SINH",
        "GIOI_TINH",
        "MA_QUOCTICH",
        "MA_DANTOC",
        "DIA_CHI",
        "MATINH_CU_TRU",
        "MAHUYEN_CU_TRU",
        "MAXA_CU_TRU",
        "MA_THE_BHYT",
        "GT_THE_TU",
        "GT_THE_DEN",
        "MA_DKBD",
        "MA_KHUVUC",
    ]
    assert his["GIOI_TINH"] == "2" and his["MA_DANTOC"] == "06" and his["MA_QUOCTICH"] == "000"
    assert (his["MATINH_CU_TRU"], his["MAHUYEN_CU_TRU"], his["MAXA_CU_TRU"]) == (
        "25",
        "150",
        "04831",
    )
    assert all(isinstance(v, str) for v in his.values())


CHECK: dict[str, Any] = {
    "status": "usable",
    "code": "000",
    "card": {
        "card_code": "HS4010120878811",
        "valid_from": "01/01/2025",
        "valid_to": "31/12/2025",
        "registered_clinic": "01001",
        "area_code": "K2",
    },
}


def test_insurance_fields_after_a_check() -> None:
    assert insurance_fields(CHECK) == {
        "MA_THE_BHYT": "HS4010120878811",
        "GT_THE_TU": "20250101",
        "GT_THE_DEN": "20251231",
        "MA_DKBD": "01001",
        "MA_KHUVUC": "K2",
    }
    replaced = CHECK | {
        "code": "003",
        "new_card": {"card_code": "HS4010120878822", "valid_to": "31/12/2026"},
    }
    assert insurance_fields(replaced)["MA_THE_BHYT"] == "HS4010120878822"
    assert insurance_fields(replaced)["GT_THE_DEN"] == "20261231"
    # no answer, or no card in it: empty, never a made-up code
    assert set(insurance_fields(None).values()) == {""}
    assert set(insurance_fields({"status": "unavailable", "code": None}).values()) == {""}
    bad = CHECK | {"card": {"card_code": "not a card"}}
    assert insurance_fields(bad)["MA_THE_BHYT"] == ""


def test_operator_profiles() -> None:
    profiles = validate_profiles(
        {
            "bv": {"SoCCCD": "SO_CCCD", "MaTinh": "MATINH_CU_TRU"},
            "cu": {"_base": "qd130-old", "Tinh": "MATINH_CU_TRU"},
        }
    )
    units = resolve_residence("Xã Tú Lý, Huyện Đà Bắc, Tỉnh Hòa Bình")
    his = {"SO_CCCD": ID, "MATINH_CU_TRU": "25", "MAXA_CU_TRU": "04831"}
    assert apply_profile(his, units, "bv", profiles) == {"SoCCCD": ID, "MaTinh": "25"}
    assert apply_profile(his, units, "cu", profiles) == {"Tinh": "17"}
    assert apply_profile(his, units, "qd130-old", profiles)["MAXA_CU_TRU"] == "04867"
    with pytest.raises(ProfileError, match="unknown profile"):
        apply_profile(his, units, "other", profiles)
    for bad in (
        {"bv": {"SoCCCD": "SOCCCD"}},  # not a field of the object
        {"qd130": {"A": "SO_CCCD"}},  # a built-in name
        {"bv": {"bad name": "SO_CCCD"}},
        {"bv": {}},
        {"bv": {"_base": "xml5"}},
    ):
        with pytest.raises(ProfileError):
            validate_profiles(bad)


def test_settings_for_profiles_and_webhook(tmp_path: Path) -> None:
    config = tmp_path / "cccd.toml"
    config.write_text(
        '[his_profiles.benhvien]\nSoCCCD = "SO_CCCD"\n\n'
        '[webhook]\nurl = "https://his.example/cccd"\nsecret = "0123456789abcdef0123"\n'
        'profile = "benhvien"\n',
        "utf-8",
    )
    settings = Settings.load(environ={}, config_file=config)
    assert settings.his_profiles == {"benhvien": {"SoCCCD": "SO_CCCD"}}
    assert (
        settings.webhook_url == "https://his.example/cccd"
        and settings.webhook_profile == "benhvien"
    )
    assert "0123456789abcdef0123" not in repr(settings)
    env = {"CCCD_HIS_PROFILES": '{"x": {"HoTen": "HO_TEN"}}'}
    assert Settings.load(environ=env).his_profiles == {"x": {"HoTen": "HO_TEN"}}
    for bad, match in (
        ({"CCCD_HIS_PROFILES": "{not json"}, "CCCD_HIS_PROFILES"),
        ({"CCCD_HIS_PROFILES": '{"x": {"A": "NOPE"}}'}, "NOPE"),
        ({"CCCD_WEBHOOK_URL": "ftp://x", "CCCD_WEBHOOK_SECRET": "s" * 20}, "http"),
        ({"CCCD_WEBHOOK_URL": "https://x", "CCCD_WEBHOOK_SECRET": "short"}, "16"),
        (
            {
                "CCCD_WEBHOOK_URL": "https://x",
                "CCCD_WEBHOOK_SECRET": "s" * 20,
                "CCCD_WEBHOOK_PROFILE": "z",
            },
            "PROFILE",
        ),
    ):
        with pytest.raises(SettingsError, match=match):
            Settings.load(environ=bad)


# -- the outbox on both databases -------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def db(store: Store) -> Store:  # noqa: F811
    return store


@pytest.fixture
def received() -> list[httpx.Request]:
    return []


def _outbox(db: Store, clock: _Clock, received: list[httpx.Request], status: int) -> Outbox:
    def handler(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(status)

    outbox = Outbox(
        db.engine,
        url="http://his.invalid/hook",
        secret="s" * 20,
        build_body=lambda delivery, result: {"delivery_id": delivery, "his": result["his"]},
        transport=httpx.MockTransport(handler),
        clock=clock,
        max_attempts=3,
        stuck_seconds=60,
    )
    return outbox


def test_outbox_retries_then_fails_visibly_and_expires(
    db: Store, received: list[httpx.Request]
) -> None:
    clock = _Clock()
    outbox = _outbox(db, clock, received, 503)

    async def run() -> None:
        expires = clock.now + timedelta(hours=12)
        await outbox.enqueue(
            scan_id="s1", id_number=ID, result={"his": {"SO_CCCD": ID}}, expires_at=expires
        )
        await outbox.enqueue(
            scan_id="s1", id_number=ID, result={"his": {"SO_CCCD": ID}}, expires_at=expires
        )
        assert outbox.status().pending == 1  # one entry per result, whatever is queued twice
        for _ in range(3):
            await outbox.deliver_due()
            assert await outbox.deliver_due() == 0  # not due again before its backoff
            clock.now += timedelta(minutes=11)
        await outbox.aclose()

    asyncio.run(run())
    assert len(received) == 3
    assert len({r.headers["X-CCCD-Delivery"] for r in received}) == 1
    assert all(
        verify_signature(
            "s" * 20,
            timestamp=r.headers["X-CCCD-Timestamp"],
            body=r.content,
            signature=r.headers["X-CCCD-Signature"],
            now=float(r.headers["X-CCCD-Timestamp"]),
        )
        for r in received
    )
    status = outbox.status()
    assert status.failed == 1 and status.pending == 0 and status.stuck
    assert status.last_error == "HTTP 503"
    # the entry holds personal data: it goes with the read's retention deadline
    assert outbox.purge(now=clock.now) == 0
    assert outbox.purge(now=clock.now + timedelta(hours=12)) == 1
    assert outbox.status().failed == 0


def test_a_delivered_entry_keeps_no_personal_data(db: Store, received: list[httpx.Request]) -> None:
    from sqlalchemy import select

    from service.integrations.his.outbox import his_outbox

    clock = _Clock()
    outbox = _outbox(db, clock, received, 204)

    async def run() -> None:
        await outbox.enqueue(
            scan_id="s2",
            id_number=ID,
            result={"his": {"HO_TEN": "Nguyễn Văn An"}},
            expires_at=clock.now + timedelta(hours=1),
        )
        assert await outbox.deliver_due() == 1
        assert await outbox.deliver_due() == 0
        await outbox.aclose()

    asyncio.run(run())
    assert "Nguyễn Văn An" in received[0].content.decode("utf-8")
    with db.engine.connect() as conn:
        row = conn.execute(select(his_outbox)).mappings().one()
    assert row["state"] == "delivered" and row["body"] == ""
    assert not outbox.status().stuck
    # an erasure request removes the person's entries with their reads
    from service.integrations.his.outbox import erase

    assert erase(db.engine, "079198409238") == 0
    assert erase(db.engine, ID) == 1
    assert outbox.status().delivered == 0
