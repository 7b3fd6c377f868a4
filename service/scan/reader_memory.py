"""What each reader is known to do, kept for the service's lifetime and across restarts: one
``reader.profile.ReaderProfile`` per reader name and card ATR, in a small JSON file in the
data folder (``readers.json``).

The file holds no personal data (reader names, ATRs, sizes, counts). It is written whole to a
temporary file created 0600 and moved into place (``os.replace``, atomic on Windows too); the
folder is created 0700. Reading is bounded and lenient: a file that is too large, not JSON or
of the wrong shape is set aside with a warning and the readers are probed again -- a desk
never stops reading cards over this file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reader.profile import ReaderProfile

log = logging.getLogger(__name__)

FILE_NAME = "readers.json"
MAX_FILE_BYTES = 256 * 1024
MAX_ENTRIES = 64  # readers x card kinds; the least recently used go first
MAX_NAME = 200
MAX_ATR = 33  # ISO/IEC 7816-3: at most 33 bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    reader: str
    atr: bytes
    profile: ReaderProfile
    updated_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "reader": self.reader,
            "atr": self.atr.hex().upper(),
            "updated_at": self.updated_at,
            "profile": self.profile.to_json(),
        }


class ReaderMemory:
    """Profiles by (reader name, ATR). ``path`` None: kept in memory only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._entries: dict[tuple[str, bytes], Entry] = {}
        if path is not None:
            self._entries = _load(path)

    @classmethod
    def in_folder(cls, folder: Path) -> ReaderMemory:
        return cls(folder / FILE_NAME)

    def get(self, reader: str, atr: bytes) -> ReaderProfile:
        with self._lock:
            entry = self._entries.get((reader, bytes(atr)))
        return entry.profile if entry is not None else ReaderProfile()

    def known(self, reader: str, atr: bytes) -> bool:
        with self._lock:
            return (reader, bytes(atr)) in self._entries

    def put(self, reader: str, atr: bytes, profile: ReaderProfile) -> None:
        if len(reader) > MAX_NAME or len(atr) > MAX_ATR:
            return
        entry = Entry(
            reader=reader,
            atr=bytes(atr),
            profile=profile,
            updated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self._save_lock:  # one writer at a time, the newest snapshot last
            with self._lock:
                known = self._entries.pop((reader, entry.atr), None)
                if known is not None and known.profile == profile:
                    # Nothing new learned (every read but the first on a reader): the entry
                    # moves to the recent end, the file is written with the next change.
                    self._entries[(reader, entry.atr)] = known
                    return
                self._entries[(reader, entry.atr)] = entry
                while len(self._entries) > MAX_ENTRIES:
                    del self._entries[next(iter(self._entries))]
                snapshot = [e.to_json() for e in self._entries.values()]
            if self.path is not None:
                try:
                    _save(self.path, snapshot)
                except OSError as exc:
                    log.warning("cannot save what was learned about the readers: %s", exc.strerror)

    def entries(self) -> list[Entry]:
        with self._lock:
            return list(self._entries.values())


def _load(path: Path) -> dict[tuple[str, bytes], Entry]:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return {}
    except OSError as exc:
        log.warning("cannot read %s: %s", path.name, exc.strerror)
        return {}
    try:
        if size > MAX_FILE_BYTES:
            raise ValueError(f"{size} bytes, more than {MAX_FILE_BYTES}")
        data = json.loads(path.read_text("utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("readers"), list):
            raise ValueError("not a reader list")
        entries: dict[tuple[str, bytes], Entry] = {}
        for item in data["readers"][:MAX_ENTRIES]:
            if not isinstance(item, dict):
                continue
            name, atr_hex = item.get("reader"), item.get("atr")
            if not isinstance(name, str) or not isinstance(atr_hex, str) or len(name) > MAX_NAME:
                continue
            try:
                atr = bytes.fromhex(atr_hex)
            except ValueError:
                continue
            if len(atr) > MAX_ATR:
                continue
            updated = item.get("updated_at")
            entries[(name, atr)] = Entry(
                reader=name,
                atr=atr,
                profile=ReaderProfile.from_json(item.get("profile")),
                updated_at=updated if isinstance(updated, str) else "",
            )
        return entries
    except (ValueError, UnicodeDecodeError) as exc:
        aside = path.with_name(path.name + ".bad")
        with contextlib.suppress(OSError):
            os.replace(path, aside)
        log.warning(
            "%s is unusable (%s): set aside as %s, readers are probed again",
            path.name,
            exc,
            aside.name,
        )
        return {}


def _save(path: Path, entries: list[dict[str, Any]]) -> None:
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = json.dumps({"version": 1, "readers": entries}, indent=1, ensure_ascii=False)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


__all__ = ["FILE_NAME", "Entry", "ReaderMemory"]
