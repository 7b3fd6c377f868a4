"""A desk service for the insurance tests, built in this process (``tests.service.harness``):
a real SQLite file, no readers, the BHXH gateway at ``bhxh_url`` (a real server on
127.0.0.1) or served in process by the stand-in, and verified reads saved the way a finished
scan saves them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from fixtures import bhxh_gateway as standin
from fixtures.citizens import citizen
from service.scan.readers import ReaderRegistry
from service.settings import Settings, hash_key
from service.storage.store import Store, open_store
from tests.service.harness import run_app, stop_server

KEYS = {
    "desk-1": "desk-one-secret-key",
    "desk-2": "desk-two-secret-key",
    "desk-3": "desk-three-key",
}
OFFICERS = {**standin.DEMO_OFFICERS}


@contextmanager
def desk_service(
    tmp: Path,
    *,
    gateway: Any = None,
    bhxh_url: str = "http://standin.test",
    desk_officers: dict[str, str] | None = None,
    **settings: Any,
) -> Iterator[tuple[Any, Store]]:
    values: dict[str, Any] = {
        "data_dir": tmp,
        "api_keys": {desk: hash_key(key) for desk, key in KEYS.items()},
        "desk_readers": {desk: (f"Reader of {desk}",) for desk in KEYS},
        "bhxh_url": bhxh_url,
        "bhxh_username": standin.DEMO_USERNAME,
        "bhxh_password": standin.DEMO_PASSWORD,
        "bhxh_officers": OFFICERS,
        "bhxh_desk_officers": {"desk-1": "cb01", "desk-3": "cb02"}
        if desk_officers is None
        else desk_officers,
        "rate_limit_per_minute": 6000,
        "rate_limit_burst": 1000,
        **settings,
    }
    config = Settings.load(environ={}, **values)
    store = open_store(config)
    server = run_app(
        config,
        store=store,
        registry=ReaderRegistry(pcsc_filters=(), use_pcsc=False),
        trust=object(),
        bhyt_transport=httpx.ASGITransport(app=gateway) if gateway is not None else None,
    )
    try:
        with server.client(desk=None, timeout=90) as client:
            client.app = server.app  # type: ignore[attr-defined]
            yield client, store
    finally:
        stop_server(server)


def headers(desk: str = "desk-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[desk]}"}


def save_read(store: Store, id_number: str, *, hours: float = 8) -> None:
    """A verified read of a fictional citizen, as a finished scan stores it."""
    person = citizen(id_number)
    now = datetime.now(UTC)
    store.save_read(
        id_number=id_number,
        search_key=person.full_name.lower(),
        date_of_birth=person.date_of_birth.isoformat(),
        status="verified",
        genuine=True,
        desk="desk-1",
        scan_id="s1",
        identity={
            "id_number": id_number,
            "full_name": person.full_name,
            "date_of_birth": person.date_of_birth.isoformat(),
            "sex": person.sex,
        },
        his={"SO_CCCD": id_number},
        report={"status": "verified"},
        photo=None,
        read_at=now,
        expires_at=now + timedelta(hours=hours),
    )
