"""The audit key (docs/operations.md "Audit log"): one secret kept outside the database, from
which two keys are derived -- one that hashes ID numbers into audit subjects, one that chains
the audit records (each record's MAC covers the previous record's MAC, so an edited, removed
or inserted row breaks the chain at that row).

The secret comes from ``CCCD_AUDIT_KEY`` or a key file (default ``audit.key`` in the data
folder, created 0600 with 32 random bytes on first start). Instances sharing one PostgreSQL
must share the key: give each the same file or variable.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from service.storage.private_files import private_file, write_private


class AuditKeyError(ValueError):
    """The audit key cannot be read or is unusable."""


@dataclass(frozen=True, slots=True)
class AuditKeys:
    subject: bytes  # HMAC key for hashed ID numbers
    chain: bytes  # HMAC key for the record chain

    @classmethod
    def derive(cls, master: bytes) -> AuditKeys:
        if len(master) < 16:
            raise AuditKeyError("the audit key must be at least 16 bytes")
        return cls(
            subject=hmac.new(master, b"cccd audit subject", hashlib.sha256).digest(),
            chain=hmac.new(master, b"cccd audit chain", hashlib.sha256).digest(),
        )

    @classmethod
    def for_tests(cls) -> AuditKeys:
        return cls.derive(b"cccd test audit key, never for use")


def load_audit_keys(*, key: str | None, key_file: Path, create: bool = True) -> AuditKeys:
    """From ``key`` (hex or text), else the key file (made when missing and ``create``)."""
    if key:
        try:
            master = bytes.fromhex(key)
        except ValueError:
            master = key.encode("utf-8")
        return AuditKeys.derive(master)
    if not key_file.exists():
        if not create:
            raise AuditKeyError(
                f"no audit key: {key_file} does not exist (set CCCD_AUDIT_KEY or "
                "CCCD_AUDIT_KEY_FILE to the key the service uses)"
            )
        write_private(key_file, secrets.token_hex(32).encode("ascii") + b"\n")
    private_file(key_file)
    try:
        text = key_file.read_text("ascii").strip()
        return AuditKeys.derive(bytes.fromhex(text))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise AuditKeyError(f"cannot use the audit key file {key_file}: {exc}") from None
