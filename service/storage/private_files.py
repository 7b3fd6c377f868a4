"""Files and folders holding personal data or secrets are private to the service's account
(Decree 13/2023/NĐ-CP: personal data protected against access by others): folders 0700,
files 0600, created so from the start rather than tightened afterwards.

On Windows the POSIX modes mean little (``os.chmod`` only sets read-only); there the data
folder under the user's profile is private to that user already. Nothing here fails on a
platform that cannot apply a mode.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` (and any missing parents we create) as a folder only we can enter."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Tighten an existing file to 0600 (no-op when it does not exist)."""
    with contextlib.suppress(OSError):
        if path.exists():
            os.chmod(path, FILE_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a file created 0600 (its folder created 0700 when missing)."""
    private_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    private_file(path)


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """New files (SQLite's database, WAL and journal, dumps) are created 0600/0700 while
    inside: those files are opened by libraries that take no mode argument."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def restrict_umask() -> None:
    """For a whole process (``cccd serve``): every file it creates is private."""
    os.umask(0o077)
