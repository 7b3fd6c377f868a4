"""Several service instances on one PostgreSQL database (the configuration for more desks than
one PC serves; here two apps built in this process, each with its own store and audit
writer): a read verified on one instance is found by a lookup on another within a second, the
audit log collects both, and the retention purge is done by exactly one instance per round
(none deletes twice, none misses a row)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from service.settings import Settings
from service.storage.audit_key import AuditKeys
from service.storage.store import PURGE_LOCK, Store, card_reads, open_store
from tests.service.conftest import READER_1, put_card, scan, start_app, stop_server
from tests.service.test_persistence import NOW, _postgres_url, save

pytestmark = pytest.mark.postgres
AUDIT_KEY = "a shared audit key for the instances of this test"


@pytest.fixture
def schema_url() -> Iterator[str]:
    """A URL whose connections use a fresh schema of the test database."""
    base = _postgres_url()
    schema = "i" + uuid.uuid4().hex[:12]
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _stores(url: str, count: int) -> list[Store]:
    stores = [Store(url, audit_keys=AuditKeys.for_tests()) for _ in range(count)]
    for store in stores:
        store.migrate()  # each instance migrates at start; the lock makes it once
    return stores


def test_one_purge_job_wins_and_every_expired_row_goes_once(schema_url: str) -> None:
    first, *others = stores = _stores(schema_url, 4)
    for n in range(30):
        save(first, f"{n:012d}", f"expired {n}", hours=1)
    for n in range(30, 35):
        save(first, f"{n:012d}", f"kept {n}", hours=48)
    later = NOW + timedelta(hours=2)
    barrier = threading.Barrier(len(stores))
    counts: list[dict[str, int]] = []
    lock = threading.Lock()

    def purge(store: Store) -> None:
        barrier.wait()
        result = store.purge(now=later)
        with lock:
            counts.append(result)

    threads = [threading.Thread(target=purge, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(counts) == 4
    assert sum(c["reads"] for c in counts) == 30  # none missed, none deleted twice
    assert sum(1 for c in counts if c["reads"]) == 1  # one job did the round
    with first.engine.connect() as conn:
        left = conn.execute(select(func.count()).select_from(card_reads)).scalar()
    assert left == 5
    purges = [r for r in first.audit_records() if r.action == "purge"]
    assert len(purges) == 1 and purges[0].detail == "30 reads, 0 insurance"
    for store in stores:
        store.close()
    assert others


def test_a_purge_round_held_by_another_instance_is_skipped_not_waited_for(
    schema_url: str,
) -> None:
    store, other = _stores(schema_url, 2)
    save(store, "000000000001", "expired", hours=1)
    holder = other.engine.connect()
    holder.execute(text(f"SELECT pg_advisory_lock({PURGE_LOCK})"))  # another instance purging
    try:
        started = time.monotonic()
        assert store.purge(now=NOW + timedelta(hours=2)) == {
            "reads": 0,
            "insurance": 0,
            "skipped": 1,
        }
        assert time.monotonic() - started < 2
    finally:
        holder.execute(text(f"SELECT pg_advisory_unlock({PURGE_LOCK})"))
        holder.close()
    assert store.purge(now=NOW + timedelta(hours=2))["reads"] == 1
    store.close()
    other.close()


@pytest.mark.slow
def test_a_read_on_one_instance_is_found_on_another_within_a_second(
    schema_url: str, tmp_path: Path
) -> None:
    servers = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            # Instances on one database share the audit key: one chain, one subject hash.
            servers.append(
                start_app(tmp_path / name, CCCD_DATABASE_URL=schema_url, CCCD_AUDIT_KEY=AUDIT_KEY)
            )
        a, b = servers
        id_number = "017072769692"
        with a.client() as on_a, b.client("desk-2") as on_b:
            assert on_b.get(f"/api/v1/citizens/{id_number}").status_code == 404
            put_card(on_a, READER_1, id_number)
            scan_id = scan(on_a, READER_1, id_number)
            body = on_a.get(f"/api/v1/scans/{scan_id}", params={"wait": 30}).json()
            assert body["state"] == "done" and body["result"]["accepted"], body
            done = time.monotonic()
            while True:
                response = on_b.get(f"/api/v1/citizens/{id_number}")
                if response.status_code == 200 or time.monotonic() - done > 1.0:
                    break
                time.sleep(0.05)
            elapsed = time.monotonic() - done
            assert response.status_code == 200, response.text
            assert elapsed <= 1.0
            found = response.json()
            assert found["identity"]["id_number"] == id_number
            assert found["desk"] == "desk-1"
            insurance = on_b.get(f"/api/v1/citizens/{id_number}/insurance")
            assert insurance.status_code == 200
    finally:
        for server in servers:
            stop_server(server)
    store = open_store(Settings.load(environ=servers[0].env), create_key=False)
    records = list(store.audit_records())
    chain = store.verify_audit_chain()
    store.close()
    assert chain.first_broken is None, chain  # both instances' records in one unbroken chain
    # One audit log for both instances: the scan on A, the lookups on B.
    assert {(r.desk, r.action) for r in records} >= {
        ("desk-1", "scan"),
        ("desk-2", "lookup"),
        ("desk-2", "insurance"),
    }
