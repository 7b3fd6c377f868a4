"""Persistence (issue 9 "Persistence"): SQLAlchemy 2 over SQLite (default, one file) or
PostgreSQL (by URL, for several desks against one service).

Tables: ``verified_reads`` (identities that passed verification, each with a retention
deadline the purge job enforces), ``insurance_cache`` (one gateway answer per citizen per
day), ``audit_log`` (append-only: database triggers refuse UPDATE and DELETE), and
``service_meta`` (the secret that keys subject hashes). ``schema_migrations`` records which
numbered migration steps ran; ``Store.migrate()`` applies the missing ones in order.

Times are stored as naive UTC (SQLite has no time zones); the boundary converts.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime, nullable=False),
)
service_meta = Table(
    "service_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
verified_reads = Table(
    "verified_reads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("id_number", String(12), nullable=False, index=True),
    Column("search_key", String(300), nullable=False, index=True),
    Column("date_of_birth", String(10), nullable=True),
    Column("status", String(32), nullable=False),
    Column("genuine", Boolean, nullable=False),
    Column("desk", String(64), nullable=False),
    Column("scan_id", String(64), nullable=True),
    Column("identity", JSON, nullable=False),
    Column("his", JSON, nullable=False),
    Column("report", JSON, nullable=False),
    Column("photo", LargeBinary, nullable=True),  # only with store_photos
    Column("read_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False, index=True),
)
insurance_cache = Table(
    "insurance_cache",
    metadata,
    Column("id_number", String(12), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("result", JSON, nullable=False),
    Column("fetched_at", DateTime, nullable=False),
)
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("desk", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(64), nullable=True),
    Column("outcome", String(64), nullable=False),
    Column("detail", String(300), nullable=True),
)

_SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)
_POSTGRES_APPEND_ONLY = (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
)


def _migration_1(conn: Connection) -> None:
    for table in (service_meta, verified_reads, insurance_cache, audit_log):
        table.create(conn, checkfirst=True)
    statements = _POSTGRES_APPEND_ONLY if conn.dialect.name == "postgresql" else _SQLITE_APPEND_ONLY
    for statement in statements:
        conn.execute(text(statement))
    conn.execute(insert(service_meta).values(key="subject_secret", value=secrets.token_hex(32)))


MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "verified reads, insurance cache, append-only audit log", _migration_1),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _naive(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadRecord:
    id: int
    id_number: str
    status: str
    genuine: bool
    desk: str
    scan_id: str | None
    identity: dict[str, Any]
    his: dict[str, Any]
    report: dict[str, Any]
    photo: bytes | None
    read_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    id: int
    at: datetime
    desk: str
    action: str
    subject: str | None
    outcome: str
    detail: str | None


class Store:
    """All database access. Thread-safe (one engine, short transactions)."""

    def __init__(self, url: str, *, audit_subject: str = "hash") -> None:
        self.url = url
        self.audit_subject = audit_subject
        kwargs: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._secret: bytes | None = None
        self._lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- schema ---------------------------------------------------------------------------
    def migrate(self) -> int:
        """Apply missing migrations; returns the schema version now in place."""
        with self._lock, self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # several service processes may start together against one database
                conn.execute(text("SELECT pg_advisory_xact_lock(4242420009)"))
            schema_migrations.create(conn, checkfirst=True)
            done = set(conn.execute(select(schema_migrations.c.version)).scalars())
            for version, description, step in MIGRATIONS:
                if version in done:
                    continue
                step(conn)
                conn.execute(
                    insert(schema_migrations).values(
                        version=version, description=description, applied_at=_naive(utcnow())
                    )
                )
        return self.schema_version()

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(func.max(schema_migrations.c.version))).scalar()
        return int(value or 0)

    def close(self) -> None:
        self.engine.dispose()

    # -- subject hashing ------------------------------------------------------------------
    def _subject_secret(self) -> bytes:
        if self._secret is None:
            with self.engine.connect() as conn:
                value = conn.execute(
                    select(service_meta.c.value).where(service_meta.c.key == "subject_secret")
                ).scalar_one()
            self._secret = bytes.fromhex(value)
        return self._secret

    def subject(self, id_number: str | None) -> str | None:
        """The audit log's form of an ID number, per ``audit_subject``."""
        if not id_number:
            return None
        if self.audit_subject == "none":
            return None
        if self.audit_subject == "mask":
            return id_number[:3] + "*" * (len(id_number) - 5) + id_number[-2:]
        digest = hmac.new(self._subject_secret(), id_number.encode(), hashlib.sha256)
        return "h:" + digest.hexdigest()[:32]

    # -- verified reads -------------------------------------------------------------------
    def save_read(
        self,
        *,
        id_number: str,
        search_key: str,
        date_of_birth: str | None,
        status: str,
        genuine: bool,
        desk: str,
        scan_id: str | None,
        identity: dict[str, Any],
        his: dict[str, Any],
        report: dict[str, Any],
        photo: bytes | None,
        read_at: datetime,
        expires_at: datetime,
    ) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(verified_reads).values(
                    id_number=id_number,
                    search_key=search_key[:300],
                    date_of_birth=date_of_birth,
                    status=status,
                    genuine=genuine,
                    desk=desk,
                    scan_id=scan_id,
                    identity=identity,
                    his=his,
                    report=report,
                    photo=photo,
                    read_at=_naive(read_at),
                    expires_at=_naive(expires_at),
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def latest_read(self, id_number: str, *, now: datetime) -> ReadRecord | None:
        query = (
            select(verified_reads)
            .where(
                verified_reads.c.id_number == id_number, verified_reads.c.expires_at > _naive(now)
            )
            .order_by(verified_reads.c.read_at.desc(), verified_reads.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _read(row) if row else None

    def search(
        self, *, key: str | None, date_of_birth: str | None, now: datetime, limit: int = 20
    ) -> list[ReadRecord]:
        """Latest unexpired read per citizen whose folded name contains ``key``."""
        query = select(verified_reads).where(verified_reads.c.expires_at > _naive(now))
        if key:
            escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(verified_reads.c.search_key.like(f"%{escaped}%", escape="\\"))
        if date_of_birth:
            query = query.where(verified_reads.c.date_of_birth == date_of_birth)
        query = query.order_by(verified_reads.c.read_at.desc(), verified_reads.c.id.desc())
        seen: dict[str, ReadRecord] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query.limit(limit * 5)).mappings():
                if row["id_number"] not in seen:
                    seen[row["id_number"]] = _read(row)
                if len(seen) >= limit:
                    break
        return list(seen.values())

    def reads_by_desk(
        self, desk: str, *, since: datetime, now: datetime, limit: int = 100
    ) -> list[ReadRecord]:
        query = (
            select(verified_reads)
            .where(
                verified_reads.c.desk == desk,
                verified_reads.c.read_at >= _naive(since),
                verified_reads.c.expires_at > _naive(now),
            )
            .order_by(verified_reads.c.read_at.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_read(row) for row in conn.execute(query).mappings()]

    def purge(self, *, now: datetime) -> dict[str, int]:
        """Delete reads past their retention deadline and insurance answers from past days."""
        with self.engine.begin() as conn:
            reads = conn.execute(
                delete(verified_reads).where(verified_reads.c.expires_at <= _naive(now))
            ).rowcount
            cached = conn.execute(
                delete(insurance_cache).where(insurance_cache.c.day < _aware(now).date())
            ).rowcount
        return {"reads": int(reads or 0), "insurance": int(cached or 0)}

    # -- insurance cache ------------------------------------------------------------------
    def cached_insurance(self, id_number: str, day: date) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(insurance_cache.c.result).where(
                    insurance_cache.c.id_number == id_number, insurance_cache.c.day == day
                )
            ).scalar()
        return dict(value) if value else None

    def cache_insurance(
        self, id_number: str, day: date, result: dict[str, Any], *, now: datetime
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(insurance_cache).where(
                    insurance_cache.c.id_number == id_number, insurance_cache.c.day == day
                )
            )
            conn.execute(
                insert(insurance_cache).values(
                    id_number=id_number, day=day, result=result, fetched_at=_naive(now)
                )
            )

    # -- audit ----------------------------------------------------------------------------
    def audit(
        self,
        *,
        desk: str,
        action: str,
        outcome: str,
        id_number: str | None = None,
        detail: str | None = None,
        at: datetime | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(audit_log).values(
                    at=_naive(at or utcnow()),
                    desk=desk[:64],
                    action=action[:64],
                    subject=self.subject(id_number),
                    outcome=outcome[:64],
                    detail=detail[:300] if detail else None,
                )
            )

    def audit_records(self, *, since: datetime | None = None) -> Iterator[AuditRecord]:
        query = select(audit_log).order_by(audit_log.c.id)
        if since is not None:
            query = query.where(audit_log.c.at >= _naive(since))
        with self.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                yield AuditRecord(
                    id=row["id"],
                    at=_aware(row["at"]),
                    desk=row["desk"],
                    action=row["action"],
                    subject=row["subject"],
                    outcome=row["outcome"],
                    detail=row["detail"],
                )

    def audit_csv(self, out: io.TextIOBase | Any, *, since: datetime | None = None) -> int:
        writer = csv.writer(out)
        writer.writerow(["id", "at", "desk", "action", "subject", "outcome", "detail"])
        count = 0
        for record in self.audit_records(since=since):
            writer.writerow(
                [
                    record.id,
                    record.at.isoformat(),
                    record.desk,
                    record.action,
                    record.subject or "",
                    record.outcome,
                    record.detail or "",
                ]
            )
            count += 1
        return count


def _read(row: Any) -> ReadRecord:
    return ReadRecord(
        id=row["id"],
        id_number=row["id_number"],
        status=row["status"],
        genuine=bool(row["genuine"]),
        desk=row["desk"],
        scan_id=row["scan_id"],
        identity=dict(row["identity"]),
        his=dict(row["his"]),
        report=dict(row["report"]),
        photo=row["photo"],
        read_at=_aware(row["read_at"]),
        expires_at=_aware(row["expires_at"]),
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # desks read while a scan writes
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
