"""Persistence (docs/operations.md "Retention", "Audit log", "PostgreSQL"): SQLAlchemy 2 over
SQLite (default, one file) or PostgreSQL (by URL, shared by several instances).

Tables: ``card_reads`` (identities the service accepted -- genuine, or with the issuer not
checked when the operator allows it -- each with a retention deadline the purge job
enforces), ``insurance_cache`` (gateway answers, never kept past the read's deadline),
``audit_log`` (append-only: database triggers refuse UPDATE and DELETE, and each record
carries a keyed MAC chained to the previous one, the key kept outside the database) and
``service_meta``. ``schema_migrations`` records which numbered, frozen migration steps ran;
``Store.migrate()`` applies the missing ones in order.

Times are stored as naive UTC (SQLite has no time zones); the boundary converts.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import hmac
import io
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
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
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection

from service.storage.audit_key import AuditKeys
from service.storage.group_commit import GroupCommit
from service.storage.migrations import MIGRATIONS
from service.storage.private_files import private_dir, private_file, private_umask
from verify.times import aware as aware_utc  # a time read back from a column: UTC, zone said

metadata = MetaData()

# -- the current schema (what the code reads and writes) -----------------------------------
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
card_reads = Table(
    "card_reads",
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
    Column("acceptance", String(32), nullable=True),  # genuine | issuer_not_checked
    Column("acceptance_reason", String(64), nullable=True),
)
insurance_cache = Table(
    "insurance_cache",
    metadata,
    Column("id_number", String(12), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("result", JSON, nullable=False),
    Column("fetched_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=True, index=True),
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
    Column("role", String(16), nullable=True),
    Column("subjects", Text, nullable=True),
    Column("client", String(64), nullable=True),
    Column("mac", String(64), nullable=True),
)

SCHEMA_VERSION = MIGRATIONS[-1][0]
GENESIS_MAC = "0" * 64


# pg_advisory_xact_lock keys: schema migrations, the purge round, the audit chain's head.
MIGRATE_LOCK = 4242420009
PURGE_LOCK = 4242420010
AUDIT_LOCK = 4242420013


def utcnow() -> datetime:
    return datetime.now(UTC)


def naive_utc(moment: datetime) -> datetime:
    """A time as the database columns keep it: UTC without a zone (SQLite keeps no zone)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


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
    acceptance: str | None = None
    acceptance_reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    id: int
    at: datetime
    desk: str
    action: str
    subject: str | None
    outcome: str
    detail: str | None
    role: str | None = None
    subjects: str | None = None
    client: str | None = None
    mac: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One audit record to write. ``id_numbers`` are hashed (or masked) into the subjects;
    ``detail`` must hold no personal data (the caller bounds and escapes outside text)."""

    desk: str
    action: str
    outcome: str
    role: str | None = None
    id_number: str | None = None
    id_numbers: tuple[str, ...] = ()
    detail: str | None = None
    client: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainCheck:
    records: int
    first_broken: int | None  # the id of the first record whose MAC does not hold
    last_mac: str


def chain_mac(key: bytes, previous: str, fields: list[Any]) -> str:
    """A record's MAC: HMAC-SHA256 over the previous record's MAC and the record's fields."""
    body = json.dumps(fields, ensure_ascii=False, separators=(",", ":"), default=str)
    return hmac.new(key, (previous + "\n" + body).encode("utf-8"), hashlib.sha256).hexdigest()


def _chain_fields(row: Mapping[str, Any]) -> list[Any]:
    at = row["at"]
    at_text = naive_utc(at).isoformat(timespec="microseconds") if isinstance(at, datetime) else at
    return [
        at_text,
        row["desk"],
        row.get("role"),
        row["action"],
        row.get("subject"),
        row.get("subjects"),
        row["outcome"],
        row.get("detail"),
        row.get("client"),
    ]


class Store:
    """All database access. Thread-safe (one engine, short transactions).

    ``audit_keys`` (``service.storage.audit_key``) hash subjects and chain the audit records;
    the key is kept outside the database."""

    def __init__(self, url: str, *, audit_keys: AuditKeys, audit_subject: str = "hash") -> None:
        self.url = url
        self.audit_subject = audit_subject
        self.keys = audit_keys
        kwargs: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._lock = threading.Lock()
        self._audit_lock = threading.Lock()
        # Audit records are committed in groups: each caller's records are written by one
        # writer thread, many callers' in one chained transaction, and no caller goes on
        # before the transaction holding its records has committed (service.storage.group_commit).
        self.audit_writer: GroupCommit[list[AuditEntry]] = GroupCommit(
            self._commit_audit_groups, name="audit-writer"
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def sqlite_path(self) -> Path | None:
        database = self.engine.url.database
        if self.dialect != "sqlite" or not database or database == ":memory:":
            return None
        return Path(database)

    # -- schema ---------------------------------------------------------------------------
    def migrate(self) -> int:
        """Apply missing migrations; returns the schema version now in place."""
        path = self.sqlite_path
        if path is not None:
            private_dir(path.parent)
        with private_umask(), self._lock, self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # several service processes may start together against one database
                conn.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATE_LOCK})"))
            schema_migrations.create(conn, checkfirst=True)
            done = set(conn.execute(select(schema_migrations.c.version)).scalars())
            for version, description, step in MIGRATIONS:
                if version in done:
                    continue
                step(conn)
                conn.execute(
                    insert(schema_migrations).values(
                        version=version, description=description, applied_at=naive_utc(utcnow())
                    )
                )
        if path is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                private_file(path.with_name(path.name + suffix))
        return self.schema_version()

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(select(func.max(schema_migrations.c.version))).scalar()
        return int(value or 0)

    def close(self) -> None:
        self.audit_writer.close()
        self.engine.dispose()

    # -- subject hashing ------------------------------------------------------------------
    def subject(self, id_number: str | None) -> str | None:
        """The audit log's form of an ID number, per ``audit_subject``."""
        if not id_number:
            return None
        if self.audit_subject == "none":
            return None
        if self.audit_subject == "mask":
            return id_number[:3] + "*" * (len(id_number) - 5) + id_number[-2:]
        digest = hmac.new(self.keys.subject, id_number.encode(), hashlib.sha256)
        return "h:" + digest.hexdigest()[:32]

    # -- card reads -----------------------------------------------------------------------
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
        acceptance: str | None = None,
        acceptance_reason: str | None = None,
    ) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(card_reads).values(
                    acceptance=acceptance,
                    acceptance_reason=acceptance_reason,
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
                    read_at=naive_utc(read_at),
                    expires_at=naive_utc(expires_at),
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def latest_read(self, id_number: str, *, now: datetime) -> ReadRecord | None:
        query = (
            select(card_reads)
            .where(card_reads.c.id_number == id_number, card_reads.c.expires_at > naive_utc(now))
            .order_by(card_reads.c.read_at.desc(), card_reads.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _read(row) if row else None

    def find_by_name(
        self, *, key: str, date_of_birth: str, now: datetime, limit: int = 20
    ) -> list[ReadRecord]:
        """Latest unexpired read per citizen whose folded full name IS ``key`` and who was
        born on ``date_of_birth``: a whole name and a birth date, never a fragment."""
        query = (
            select(card_reads)
            .where(
                card_reads.c.expires_at > naive_utc(now),
                card_reads.c.search_key == key[:300],
                card_reads.c.date_of_birth == date_of_birth,
            )
            .order_by(card_reads.c.read_at.desc(), card_reads.c.id.desc())
        )
        seen: dict[str, ReadRecord] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query.limit(limit * 5)).mappings():
                if row["id_number"] not in seen:
                    seen[row["id_number"]] = _read(row)
                if len(seen) >= limit:
                    break
        return list(seen.values())

    def purge(self, *, now: datetime) -> dict[str, int]:
        """Delete reads past their retention deadline and insurance answers past theirs (or
        from past days), then leave nothing of them in the file, its WAL or journal.

        Several instances on one PostgreSQL database each run this: the first to take the
        purge lock (a transaction-level advisory lock) deletes, the others skip the round
        (``skipped``: 1) rather than queue behind it, so every expired row is deleted by
        exactly one transaction. A round that deleted something is audited in the same
        transaction: no deletion without its record."""
        with self._audit_lock, self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                won = conn.execute(text(f"SELECT pg_try_advisory_xact_lock({PURGE_LOCK})"))
                if not won.scalar():
                    return {"reads": 0, "insurance": 0, "skipped": 1}
            reads = conn.execute(
                delete(card_reads).where(card_reads.c.expires_at <= naive_utc(now))
            ).rowcount
            cached = conn.execute(
                delete(insurance_cache).where(
                    or_(
                        insurance_cache.c.expires_at <= naive_utc(now),
                        insurance_cache.c.day < aware_utc(now).date(),
                    )
                )
            ).rowcount
            counts = {"reads": int(reads or 0), "insurance": int(cached or 0), "skipped": 0}
            if counts["reads"] or counts["insurance"]:
                record = AuditEntry(
                    desk="-",
                    role="service",
                    action="purge",
                    outcome="deleted",
                    detail=f"{counts['reads']} reads, {counts['insurance']} insurance",
                    at=now,
                )
                self._chain_into(conn, [record])
        if counts["reads"] or counts["insurance"]:
            self.scrub()
        return counts

    def erase(self, id_number: str) -> dict[str, int]:
        """Every stored read and insurance answer of one person (an erasure request)."""
        with self.engine.begin() as conn:
            reads = conn.execute(
                delete(card_reads).where(card_reads.c.id_number == id_number)
            ).rowcount
            cached = conn.execute(
                delete(insurance_cache).where(insurance_cache.c.id_number == id_number)
            ).rowcount
        self.scrub()
        return {"reads": int(reads or 0), "insurance": int(cached or 0)}

    def scrub(self) -> None:
        """After deleting personal data. SQLite: ``secure_delete`` (set on every connection)
        has zeroed the freed cells and pages; a TRUNCATE checkpoint copies the WAL back and
        empties it, so no old page image survives there. PostgreSQL keeps dead tuples until
        VACUUM reclaims them (docs/operations.md says what that does and does not promise)."""
        if self.dialect == "sqlite":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        elif self.dialect == "postgresql":
            with self.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                for table in ("card_reads", "insurance_cache"):
                    with contextlib.suppress(Exception):  # VACUUM needs the table's owner
                        conn.exec_driver_sql(f"VACUUM {table}")

    # -- insurance cache ------------------------------------------------------------------
    def cached_insurance(
        self, id_number: str, day: date, *, now: datetime
    ) -> dict[str, Any] | None:
        moment = naive_utc(now)
        with self.engine.connect() as conn:
            value = conn.execute(
                select(insurance_cache.c.result).where(
                    insurance_cache.c.id_number == id_number,
                    insurance_cache.c.day == day,
                    or_(
                        insurance_cache.c.expires_at.is_(None),
                        insurance_cache.c.expires_at > moment,
                    ),
                )
            ).scalar()
        return dict(value) if value else None

    def cache_insurance(
        self,
        id_number: str,
        day: date,
        result: dict[str, Any],
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> None:
        """Keep a gateway answer for the day, and never past ``expires_at`` (the read's
        retention deadline)."""
        end_of_day = datetime.combine(day, datetime.max.time()).replace(tzinfo=UTC)
        deadline = min(end_of_day, aware_utc(expires_at)) if expires_at else end_of_day
        with self.engine.begin() as conn:
            conn.execute(
                delete(insurance_cache).where(
                    insurance_cache.c.id_number == id_number, insurance_cache.c.day == day
                )
            )
            conn.execute(
                insert(insurance_cache).values(
                    id_number=id_number,
                    day=day,
                    result=result,
                    fetched_at=naive_utc(now),
                    expires_at=naive_utc(deadline),
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
        role: str | None = None,
        id_numbers: tuple[str, ...] = (),
        client: str | None = None,
    ) -> None:
        """One audit record; returns once it is committed."""
        self.audit_many([AuditEntry(**_fields_of(locals()))])

    async def audit_async(
        self,
        *,
        desk: str,
        action: str,
        outcome: str,
        id_number: str | None = None,
        detail: str | None = None,
        at: datetime | None = None,
        role: str | None = None,
        id_numbers: tuple[str, ...] = (),
        client: str | None = None,
    ) -> None:
        """``audit`` from the event loop: waits for the commit without holding a thread."""
        await self.audit_many_async([AuditEntry(**_fields_of(locals()))])

    def audit_many(self, entries: list[AuditEntry]) -> None:
        """Write records, each chained to the one before; on disk when this returns. The
        records go in one transaction with whatever other callers' records are waiting
        (group commit)."""
        if entries:
            self.audit_writer.write(list(entries))

    async def audit_many_async(self, entries: list[AuditEntry]) -> None:
        """``audit_many`` from the event loop: waits for the commit without a thread."""
        if entries:
            await self.audit_writer.write_async(list(entries))

    def _commit_audit_groups(self, groups: list[list[AuditEntry]]) -> None:
        self._write_chained([entry for group in groups for entry in group])

    def _write_chained(self, entries: list[AuditEntry]) -> None:
        """Write records in one transaction, each chained to the one before. Across
        instances on PostgreSQL an advisory lock orders the writers: the chain's head is read
        once per batch, under the lock."""
        if not entries:
            return
        with self._audit_lock, self.engine.begin() as conn:
            self._chain_into(conn, entries)

    def _chain_into(self, conn: Connection, entries: list[AuditEntry]) -> None:
        """Link ``entries`` to the chain's head inside ``conn``'s transaction (the caller
        holds ``_audit_lock``)."""
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"SELECT pg_advisory_xact_lock({AUDIT_LOCK})"))
        previous = conn.execute(
            select(audit_log.c.mac).order_by(audit_log.c.id.desc()).limit(1)
        ).scalar()
        previous = previous or GENESIS_MAC
        rows = []
        for entry in entries:
            row = self._audit_row(entry)
            previous = chain_mac(self.keys.chain, previous, _chain_fields(row))
            rows.append(row | {"mac": previous})
        conn.execute(insert(audit_log), rows)  # one statement, executemany

    def _audit_row(self, entry: AuditEntry) -> dict[str, Any]:
        shown = [s for s in (self.subject(i) for i in entry.id_numbers) if s]
        return {
            "at": naive_utc(entry.at or utcnow()),
            "desk": entry.desk[:64],
            "role": entry.role[:16] if entry.role else None,
            "action": entry.action[:64],
            "subject": self.subject(entry.id_number),
            "subjects": ",".join(dict.fromkeys(shown)) or None,
            "outcome": entry.outcome[:64],
            "detail": entry.detail[:300] if entry.detail else None,
            "client": entry.client[:64] if entry.client else None,
        }

    def audit_records(self, *, since: datetime | None = None) -> Iterator[AuditRecord]:
        query = select(audit_log).order_by(audit_log.c.id)
        if since is not None:
            query = query.where(audit_log.c.at >= naive_utc(since))
        with self.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                yield AuditRecord(
                    id=row["id"],
                    at=aware_utc(row["at"]),
                    desk=row["desk"],
                    action=row["action"],
                    subject=row["subject"],
                    outcome=row["outcome"],
                    detail=row["detail"],
                    role=row["role"],
                    subjects=row["subjects"],
                    client=row["client"],
                    mac=row["mac"],
                )

    def verify_audit_chain(self) -> ChainCheck:
        """Recompute every record's MAC in order; the first that differs is where the log
        was edited, or a row removed or inserted. Records without a MAC are accepted only
        from before the chain existed (written before schema step 2 was applied)."""
        previous = GENESIS_MAC
        count = 0
        with self.engine.connect() as conn:
            chained_since = conn.execute(
                select(schema_migrations.c.applied_at).where(schema_migrations.c.version == 2)
            ).scalar()
            for row in conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings():
                count += 1
                if row["mac"] is None and chained_since and row["at"] < chained_since:
                    continue
                expected = chain_mac(self.keys.chain, previous, _chain_fields(dict(row)))
                if row["mac"] is None or not hmac.compare_digest(str(row["mac"]), expected):
                    return ChainCheck(records=count, first_broken=int(row["id"]), last_mac=previous)
                previous = expected
        return ChainCheck(records=count, first_broken=None, last_mac=previous)

    def audit_csv(
        self,
        out: io.TextIOBase | Any,
        *,
        since: datetime | None = None,
        declaration: Sequence[tuple[str, str]] = (),
    ) -> int:
        """The records as CSV, after the ``declaration`` rows (action ``declaration``)."""
        writer = csv.writer(out)
        writer.writerow(
            [
                "id",
                "at",
                "desk",
                "role",
                "action",
                "subject",
                "subjects",
                "outcome",
                "detail",
                "client",
                "mac",
            ]
        )
        for name, value in declaration:
            writer.writerow(["", "", "", "", "declaration", "", "", name, value, "", ""])
        count = 0
        for record in self.audit_records(since=since):
            writer.writerow(
                [
                    record.id,
                    record.at.isoformat(),
                    record.desk,
                    record.role or "",
                    record.action,
                    record.subject or "",
                    record.subjects or "",
                    record.outcome,
                    record.detail or "",
                    record.client or "",
                    record.mac or "",
                ]
            )
            count += 1
        return count


def _fields_of(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in arguments.items() if k != "self"}


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
        read_at=aware_utc(row["read_at"]),
        expires_at=aware_utc(row["expires_at"]),
        acceptance=row["acceptance"],
        acceptance_reason=row["acceptance_reason"],
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # desks read while a scan writes
    cursor.execute("PRAGMA secure_delete=ON")  # deleted personal data is zeroed, not freed
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def open_store(settings: Any, *, create_key: bool = True) -> Store:
    """The store a ``Settings`` names, with the audit key it names (created on first use
    when ``create_key``; commands that only read the log refuse to invent one)."""
    from service.storage.audit_key import load_audit_keys

    keys = load_audit_keys(
        key=settings.audit_key, key_file=settings.effective_audit_key_file, create=create_key
    )
    return Store(
        settings.effective_database_url, audit_keys=keys, audit_subject=settings.audit_subject
    )
