"""Document-signer issuers that no installed CSCA anchors (ICAO 9303-12 §5: a CSCA is found
by the DSC's issuer name and authority key identifier).

No public source says which CSCA anchors CCCD document signers, so a hospital learns it from
its own cards: every read whose signature is valid but whose signer is not anchored adds one
to the count of its (issuer, authority key identifier). Nothing personal is kept: only the
issuer's distinguished name, the key identifier (hex), a count and the first and last time
seen. ``cccd trust unknown-issuers`` lists them.

Storage is one small JSON file in the data directory (``unknown-issuers.json``, mode 0600),
written atomically; at most ``MAX_ENTRIES`` distinct issuers are kept (the least recently
seen drop out), so it cannot grow without bound. A file that does not parse is treated as
empty and replaced, never trusted.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.storage.private_files import write_private

FILE_NAME = "unknown-issuers.json"
MAX_ENTRIES = 200
MAX_FILE_BYTES = 256 << 10
_MAX_FIELD = 512


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownIssuer:
    issuer: str
    authority_key_identifier: str | None
    count: int
    first_seen: str
    last_seen: str

    def to_json(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authority_key_identifier": self.authority_key_identifier,
            "count": self.count,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
        }


class UnknownIssuers:
    """The counts in ``directory / FILE_NAME``; safe to call from several threads."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / FILE_NAME
        self._lock = threading.Lock()

    def record(
        self, issuer: str, authority_key_identifier: str | None, *, now: datetime | None = None
    ) -> None:
        when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        issuer = issuer[:_MAX_FIELD]
        aki = authority_key_identifier[:_MAX_FIELD] if authority_key_identifier else None
        with self._lock:
            entries = self._load()
            key = f"{issuer}\x00{aki or ''}"
            entry = entries.get(key)
            if entry is None:
                entry = {"issuer": issuer, "aki": aki, "count": 0, "first": when}
            entry["count"] = int(entry["count"]) + 1
            entry["last"] = when
            entries[key] = entry
            if len(entries) > MAX_ENTRIES:
                oldest = sorted(entries, key=lambda k: str(entries[k]["last"]))
                for stale in oldest[: len(entries) - MAX_ENTRIES]:
                    del entries[stale]
            self._save(entries)

    def list(self) -> list[UnknownIssuer]:
        """Most often seen first."""
        with self._lock:
            entries = self._load()
        found = [
            UnknownIssuer(
                issuer=str(e["issuer"]),
                authority_key_identifier=e.get("aki"),
                count=int(e["count"]),
                first_seen=str(e["first"]),
                last_seen=str(e["last"]),
            )
            for e in entries.values()
        ]
        return sorted(found, key=lambda u: (-u.count, u.issuer))

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            if self.path.stat().st_size > MAX_FILE_BYTES:
                return {}
            document = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        entries: dict[str, dict[str, Any]] = {}
        for item in document.get("issuers", []) if isinstance(document, dict) else []:
            try:
                issuer = str(item["issuer"])
                aki = item.get("authority_key_identifier")
                entries[f"{issuer}\x00{aki or ''}"] = {
                    "issuer": issuer,
                    "aki": str(aki) if aki else None,
                    "count": int(item["count"]),
                    "first": str(item["first_seen"]),
                    "last": str(item["last_seen"]),
                }
            except (KeyError, TypeError, ValueError):
                continue
        return entries

    def _save(self, entries: dict[str, dict[str, Any]]) -> None:
        document = {
            "issuers": [
                {
                    "issuer": e["issuer"],
                    "authority_key_identifier": e["aki"],
                    "count": e["count"],
                    "first_seen": e["first"],
                    "last_seen": e["last"],
                }
                for e in entries.values()
            ]
        }
        temporary = self.path.with_suffix(".tmp")
        text = json.dumps(document, ensure_ascii=False, indent=1)
        write_private(temporary, text.encode("utf-8"))  # 0600 from the start, folder 0700
        os.replace(temporary, self.path)
