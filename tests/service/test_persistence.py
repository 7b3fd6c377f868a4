"""Persistence on SQLite and on a real PostgreSQL server (``CCCD_TEST_POSTGRES_URL``; started
by ``scripts/start-postgres``; skipped when unreachable unless ``CCCD_REQUIRE_POSTGRES=1``)."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from service.db import SCHEMA_VERSION, Store

POSTGRES_ENV = "CCCD_TEST_POSTGRES_URL"


def _postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    required = os.environ.get("CCCD_REQUIRE_POSTGRES") == "1"
    if not url:
        if required:
            pytest.fail(f"CCCD_REQUIRE_POSTGRES=1 but {POSTGRES_ENV} is not set")
        pytest.skip(f"no PostgreSQL: set {POSTGRES_ENV} (scripts/start-postgres prints it)")
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        if required:
            pytest.fail(f"PostgreSQL at {POSTGRES_ENV} unreachable: {type(exc).__name__}")
        pytest.skip(f"PostgreSQL at {POSTGRES_ENV} unreachable: {type(exc).__name__}")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cccd.sqlite3'}"
        s = Store(url)
        s.migrate()
        yield s
        s.close()
        return
    base = _postgres_url()
    schema = "t" + uuid.uuid4().hex[:12]  # each test in its own schema
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    s = Store(base)
    s.engine.dispose()
    s.engine = create_engine(base, connect_args={"options": f"-csearch_path={schema}"})
    s.migrate()
    yield s
    s.close()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


def save(
    store: Store,
    id_number: str,
    name_key: str,
    *,
    read_at: datetime = NOW,
    hours: float = 8,
    dob: str = "1985-03-14",
) -> int:
    return store.save_read(
        id_number=id_number,
        search_key=name_key,
        date_of_birth=dob,
        status="verified",
        genuine=True,
        desk="desk-1",
        scan_id="s1",
        identity={"id_number": id_number, "full_name": name_key.upper()},
        his={"SO_CCCD": id_number},
        report={"status": "verified"},
        photo=b"\xff\xd8jpeg",
        read_at=read_at,
        expires_at=read_at + timedelta(hours=hours),
    )


def test_migrate_is_versioned_and_idempotent(store: Store) -> None:
    assert store.schema_version() == SCHEMA_VERSION
    assert store.migrate() == SCHEMA_VERSION


def test_latest_read_within_retention(store: Store) -> None:
    save(store, "001185483324", "nguyen thi huong", read_at=NOW)
    newer = save(store, "001185483324", "nguyen thi huong", read_at=NOW + timedelta(minutes=5))
    record = store.latest_read("001185483324", now=NOW + timedelta(hours=1))
    assert record is not None and record.id == newer and record.photo == b"\xff\xd8jpeg"
    assert record.read_at == NOW + timedelta(minutes=5)
    assert store.latest_read("001185483324", now=NOW + timedelta(hours=9)) is None
    assert store.latest_read("017072769692", now=NOW) is None


def test_search_by_folded_name_and_birth_date(store: Store) -> None:
    save(store, "001185483324", "nguyen thi huong")
    save(store, "017072769692", "tran van duc", dob="1972-11-02")
    save(store, "001201670839", "do dinh dat_%")
    found = store.search(key="huong", date_of_birth=None, now=NOW)
    assert [r.id_number for r in found] == ["001185483324"]
    assert [r.id_number for r in store.search(key=None, date_of_birth="1972-11-02", now=NOW)] == [
        "017072769692"
    ]
    assert [r.id_number for r in store.search(key="_%", date_of_birth=None, now=NOW)] == [
        "001201670839"
    ]  # LIKE wildcards in the query are literal


def test_purge_removes_expired_reads_and_old_insurance(store: Store) -> None:
    save(store, "001185483324", "a", hours=1)
    save(store, "017072769692", "b", hours=48)
    store.cache_insurance("001185483324", NOW.date(), {"status": "usable"}, now=NOW)
    store.cache_insurance("001185483324", NOW.date(), {"status": "usable", "v": 2}, now=NOW)
    assert store.cached_insurance("001185483324", NOW.date()) == {"status": "usable", "v": 2}
    counts = store.purge(now=NOW + timedelta(days=1))
    assert counts == {"reads": 1, "insurance": 1}
    assert store.latest_read("017072769692", now=NOW + timedelta(days=1)) is not None
    assert store.cached_insurance("001185483324", NOW.date()) is None


def test_audit_log_is_append_only_and_hashes_subjects(store: Store) -> None:
    store.audit(desk="desk-1", action="lookup", outcome="found", id_number="001185483324")
    store.audit(desk="-", action="auth", outcome="wrong_key", detail="GET /api/v1/readers")
    records = list(store.audit_records())
    assert [r.action for r in records] == ["lookup", "auth"]
    subject = records[0].subject
    assert subject and subject.startswith("h:") and "483324" not in subject
    assert store.subject("001185483324") == subject  # stable: lookups can be traced
    for statement in ("UPDATE audit_log SET outcome = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError), store.engine.begin() as conn:
            conn.execute(text(statement))
    out = io.StringIO()
    assert store.audit_csv(out) == 2
    assert "001185483324" not in out.getvalue() and "wrong_key" in out.getvalue()
    store.audit_subject = "mask"
    assert store.subject("001185483324") == "001*******24"
