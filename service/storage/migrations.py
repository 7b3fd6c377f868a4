"""The schema's migration steps (docs/architecture.md "Service", "Storage"): numbered, each
frozen as the DDL it ran when it was written, never derived from the live table definitions
in ``service.storage.store`` -- so "migration 1" means the same thing on every database for
ever. ``Store.migrate()`` applies the steps a database has not had yet, in order, recording
each in ``schema_migrations``. A schema change is a new step at the end; old steps are never
edited (tests/service/test_persistence.py migrates a database written by step 1 with data
in it).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.engine import Connection

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
    frozen = MetaData()
    Table(
        "service_meta",
        frozen,
        Column("key", String(64), primary_key=True),
        Column("value", Text, nullable=False),
    )
    Table(
        "verified_reads",
        frozen,
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
        Column("photo", LargeBinary, nullable=True),
        Column("read_at", DateTime, nullable=False),
        Column("expires_at", DateTime, nullable=False, index=True),
    )
    Table(
        "insurance_cache",
        frozen,
        Column("id_number", String(12), primary_key=True),
        Column("day", Date, primary_key=True),
        Column("result", JSON, nullable=False),
        Column("fetched_at", DateTime, nullable=False),
    )
    Table(
        "audit_log",
        frozen,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", DateTime, nullable=False, index=True),
        Column("desk", String(64), nullable=False),
        Column("action", String(64), nullable=False),
        Column("subject", String(64), nullable=True),
        Column("outcome", String(64), nullable=False),
        Column("detail", String(300), nullable=True),
    )
    frozen.create_all(conn, checkfirst=True)
    statements = _POSTGRES_APPEND_ONLY if conn.dialect.name == "postgresql" else _SQLITE_APPEND_ONLY
    for statement in statements:
        conn.execute(text(statement))
    conn.execute(
        text("INSERT INTO service_meta (key, value) VALUES ('subject_secret', :v)"),
        {"v": secrets.token_hex(32)},
    )


def _migration_2(conn: Connection) -> None:
    """Reads are not all 'verified' (some are accepted with the issuer not checked); the
    audit log gets roles, the people shown, the client and a keyed chain; insurance answers
    expire with the read; the subject key leaves the database."""
    timestamp = "TIMESTAMP WITHOUT TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"
    for statement in (
        "ALTER TABLE verified_reads RENAME TO card_reads",
        "ALTER TABLE audit_log ADD COLUMN role VARCHAR(16)",
        "ALTER TABLE audit_log ADD COLUMN subjects TEXT",
        "ALTER TABLE audit_log ADD COLUMN client VARCHAR(64)",
        "ALTER TABLE audit_log ADD COLUMN mac VARCHAR(64)",
        f"ALTER TABLE insurance_cache ADD COLUMN expires_at {timestamp}",
        "CREATE INDEX ix_insurance_cache_expires_at ON insurance_cache (expires_at)",
        "DELETE FROM insurance_cache",  # rows without a deadline: asked again
        "DELETE FROM service_meta WHERE key = 'subject_secret'",
    ):
        conn.execute(text(statement))


def _migration_3(conn: Connection) -> None:
    """Each stored read says how it was accepted: anchored at a CSCA of the issuing state
    (genuine) or with the issuer not checked, and why."""
    for statement in (
        "ALTER TABLE card_reads ADD COLUMN acceptance VARCHAR(32)",
        "ALTER TABLE card_reads ADD COLUMN acceptance_reason VARCHAR(64)",
        "UPDATE card_reads SET acceptance = CASE WHEN genuine THEN 'genuine' "
        "ELSE 'issuer_not_checked' END",
    ):
        conn.execute(text(statement))


def _migration_4(conn: Connection) -> None:
    """The HIS webhook's outbox. Before this step the outbox created its table itself, from
    its live definition, when a webhook was configured; such a table has exactly these
    columns and is kept as it is."""
    frozen = MetaData()
    Table(
        "his_outbox",
        frozen,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("delivery_id", String(40), nullable=False, unique=True),
        Column("scan_id", String(64), nullable=False, unique=True),
        Column("id_number", String(12), nullable=False, index=True),
        Column("body", Text, nullable=False),
        Column("state", String(16), nullable=False, index=True),
        Column("attempts", Integer, nullable=False),
        Column("created_at", DateTime, nullable=False),
        Column("next_attempt_at", DateTime, nullable=False, index=True),
        Column("delivered_at", DateTime, nullable=True),
        Column("last_error", String(200), nullable=True),
        Column("expires_at", DateTime, nullable=False, index=True),
    )
    frozen.create_all(conn, checkfirst=True)


MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "verified reads, insurance cache, append-only audit log", _migration_1),
    (2, "card reads, chained audit with roles and subjects, expiring insurance", _migration_2),
    (3, "how each stored read was accepted", _migration_3),
    (4, "the HIS webhook's outbox", _migration_4),
)
