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

from service.storage.audit_key import AuditKeys
from service.storage.store import SCHEMA_VERSION, Store

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
        s = Store(url, audit_keys=AuditKeys.for_tests())
        s.migrate()
        yield s
        s.close()
        return
    base = _postgres_url()
    schema = "t" + uuid.uuid4().hex[:12]  # each test in its own schema
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    s = Store(base, audit_keys=AuditKeys.for_tests())
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


def test_find_by_whole_folded_name_and_birth_date(store: Store) -> None:
    save(store, "001185483324", "nguyen thi huong")
    save(store, "017072769692", "tran van duc", dob="1972-11-02")
    save(store, "001201670839", "do dinh dat_%")
    found = store.find_by_name(key="nguyen thi huong", date_of_birth="1985-03-14", now=NOW)
    assert [r.id_number for r in found] == ["001185483324"]
    # a fragment, a wildcard or the wrong birth date finds nobody
    assert store.find_by_name(key="huong", date_of_birth="1985-03-14", now=NOW) == []
    assert store.find_by_name(key="%", date_of_birth="1985-03-14", now=NOW) == []
    assert store.find_by_name(key="tran van duc", date_of_birth="1985-03-14", now=NOW) == []
    assert [
        r.id_number
        for r in store.find_by_name(key="tran van duc", date_of_birth="1972-11-02", now=NOW)
    ] == ["017072769692"]


def test_purge_removes_expired_reads_and_old_insurance(store: Store) -> None:
    save(store, "001185483324", "a", hours=1)
    save(store, "017072769692", "b", hours=48)
    store.cache_insurance("001185483324", NOW.date(), {"status": "usable"}, now=NOW)
    store.cache_insurance("001185483324", NOW.date(), {"status": "usable", "v": 2}, now=NOW)
    assert store.cached_insurance("001185483324", NOW.date(), now=NOW) == {
        "status": "usable",
        "v": 2,
    }
    counts = store.purge(now=NOW + timedelta(days=1))
    assert counts == {"reads": 1, "insurance": 1, "skipped": 0}
    assert [r.action for r in store.audit_records()] == ["purge"]
    assert store.latest_read("017072769692", now=NOW + timedelta(days=1)) is not None
    assert store.cached_insurance("001185483324", NOW.date(), now=NOW) is None


def test_insurance_answers_expire_with_the_read(store: Store) -> None:
    read_expires = NOW + timedelta(minutes=30)
    store.cache_insurance(
        "001185483324", NOW.date(), {"status": "usable"}, now=NOW, expires_at=read_expires
    )
    assert store.cached_insurance("001185483324", NOW.date(), now=NOW) is not None
    later = read_expires + timedelta(seconds=1)
    assert store.cached_insurance("001185483324", NOW.date(), now=later) is None
    assert store.purge(now=later)["insurance"] == 1


def test_erase_removes_one_person(store: Store) -> None:
    save(store, "001185483324", "a")
    save(store, "001185483324", "a", read_at=NOW + timedelta(minutes=1))
    save(store, "017072769692", "b")
    store.cache_insurance("001185483324", NOW.date(), {"status": "usable"}, now=NOW)
    assert store.erase("001185483324") == {"reads": 2, "insurance": 1}
    assert store.latest_read("001185483324", now=NOW) is None
    assert store.latest_read("017072769692", now=NOW) is not None


def _tamper(store: Store, statement: str) -> None:
    """What an attacker with the database's owner rights can do despite the triggers."""
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
            conn.execute(text(statement))
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
            conn.execute(text(statement))


@pytest.mark.parametrize(
    ("statement", "broken"),
    [
        ("UPDATE audit_log SET outcome = 'not_found' WHERE id = 2", 2),
        ("DELETE FROM audit_log WHERE id = 2", 3),
        ("UPDATE audit_log SET subject = NULL WHERE id = 3", 3),
    ],
)
def test_audit_chain_reveals_tampering(store: Store, statement: str, broken: int) -> None:
    for n in range(4):
        store.audit(
            desk="desk-1",
            role="desk",
            action="lookup",
            outcome="found",
            id_number=f"00118548332{n}",
            client="127.0.0.1",
        )
    check = store.verify_audit_chain()
    assert check.records == 4 and check.first_broken is None
    _tamper(store, statement)
    assert store.verify_audit_chain().first_broken == broken


def test_audit_chain_needs_the_key(store: Store) -> None:
    store.audit(desk="desk-1", action="lookup", outcome="found", id_number="001185483324")
    other = Store(store.url, audit_keys=AuditKeys.derive(b"another key, sixteen+ bytes"))
    other.engine.dispose()
    other.engine = store.engine
    # a forger without the key cannot write a record the chain accepts
    assert other.verify_audit_chain().first_broken == 1


def test_audit_records_roles_subjects_and_clients(store: Store) -> None:
    store.audit(
        desk="desk-1",
        role="desk",
        action="search",
        outcome="2 found",
        id_numbers=("001185483324", "017072769692"),
        client="10.0.0.7",
    )
    record = next(iter(store.audit_records()))
    assert record.role == "desk" and record.client == "10.0.0.7"
    subjects = (record.subjects or "").split(",")
    assert subjects == [store.subject("001185483324"), store.subject("017072769692")]


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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def unmigrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store whose database holds nothing yet (not even the migrations table)."""
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'old.sqlite3'}", audit_keys=AuditKeys.for_tests())
        yield s
        s.close()
        return
    base = _postgres_url()
    schema = "m" + uuid.uuid4().hex[:12]
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    s = Store(base, audit_keys=AuditKeys.for_tests())
    s.engine.dispose()
    s.engine = create_engine(base, connect_args={"options": f"-csearch_path={schema}"})
    yield s
    s.close()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def test_an_old_database_with_data_migrates_to_the_current_schema(unmigrated: Store) -> None:
    """Schema step 1 exactly as the first release ran it, data written the way it wrote
    them, then every later step: the data survive and the code reads them."""
    from service.storage.migrations import MIGRATIONS
    from service.storage.store import schema_migrations

    first_version, description, first_step = MIGRATIONS[0]
    with unmigrated.engine.begin() as conn:
        schema_migrations.create(conn)
        first_step(conn)
        conn.execute(
            schema_migrations.insert().values(
                version=first_version, description=description, applied_at=NOW.replace(tzinfo=None)
            )
        )
        conn.execute(
            text(
                "INSERT INTO verified_reads (id_number, search_key, date_of_birth, status, genuine,"
                " desk, scan_id, identity, his, report, photo, read_at, expires_at) VALUES "
                "('001185483324', 'nguyen thi huong', '1985-03-14', 'verified', :t, 'desk-1', 's1',"
                " :identity, '{}', '{}', NULL, :read_at, :expires_at)"
            ),
            {
                "t": True,
                "identity": '{"id_number": "001185483324", "full_name": "NGUYỄN THỊ HƯƠNG"}',
                "read_at": NOW.replace(tzinfo=None),
                "expires_at": (NOW + timedelta(hours=8)).replace(tzinfo=None),
            },
        )
        conn.execute(
            text(
                "INSERT INTO audit_log (at, desk, action, subject, outcome, detail) VALUES "
                "(:at, 'desk-1', 'lookup', 'h:old', 'found', NULL)"
            ),
            {"at": NOW.replace(tzinfo=None)},
        )
        conn.execute(
            text(
                "INSERT INTO insurance_cache (id_number, day, result, fetched_at) VALUES "
                "('001185483324', :day, '{\"status\": \"usable\"}', :at)"
            ),
            {"day": NOW.date(), "at": NOW.replace(tzinfo=None)},
        )
    assert unmigrated.schema_version() == 1
    assert unmigrated.migrate() == SCHEMA_VERSION
    record = unmigrated.latest_read("001185483324", now=NOW + timedelta(hours=1))
    assert record is not None and record.identity["full_name"] == "NGUYỄN THỊ HƯƠNG"
    # insurance answers without a deadline are dropped (asked again), never kept unbounded
    assert unmigrated.cached_insurance("001185483324", NOW.date(), now=NOW) is None
    unmigrated.audit(desk="desk-1", role="desk", action="lookup", outcome="found")
    records = list(unmigrated.audit_records())
    assert [r.subject for r in records][:1] == ["h:old"] and records[-1].mac
    assert unmigrated.verify_audit_chain().first_broken is None
    with unmigrated.engine.connect() as conn:
        secret = conn.execute(text("SELECT value FROM service_meta")).all()
    assert secret == []  # the subject key no longer sits in the database


def test_the_migrated_schema_has_every_table_and_column_the_code_uses(store: Store) -> None:
    """The frozen steps and the live table definitions cannot drift apart: after every step
    ran, each table the code defines (the store's and the HIS outbox's) exists with exactly
    its columns."""
    from sqlalchemy import inspect

    from service.integrations.his.outbox import metadata as outbox_metadata
    from service.storage.store import metadata as store_metadata

    found = inspect(store.engine)
    for table in (*store_metadata.sorted_tables, *outbox_metadata.sorted_tables):
        columns = {column["name"] for column in found.get_columns(table.name)}
        assert columns == set(table.columns.keys()), table.name
