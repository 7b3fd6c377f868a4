"""A per-file progress line on the terminal while a card is read (stderr, and only when
stderr is a terminal: pipes and logs stay clean). Used by ``cccd read`` and ``cccd watch``."""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 24


class FileProgress:
    """A ``progress(name, bytes_done, total)`` callback for ``reader.read_card``.

    Draws ``DG2   [##########..............]  7.6/18.2 kB`` on one line, redrawn in place,
    ending the line when the file is complete.
    """

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._current: str | None = None
        self._started = time.perf_counter()

    def __call__(self, name: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if name != self._current:
            if self._current is not None:
                self.stream.write("\n")
            self._current = name
            self._started = time.perf_counter()
        self.stream.write("\r" + render(name, done, total))
        if done >= total:
            elapsed = time.perf_counter() - self._started
            self.stream.write(f"  {elapsed * 1000:.0f} ms\n")
            self._current = None
        self.stream.flush()

    def finish(self) -> None:
        """End a line left open (a read cut short)."""
        if self.enabled and self._current is not None:
            self.stream.write("\n")
            self.stream.flush()
            self._current = None


def render(name: str, done: int, total: int) -> str:
    """One progress line (pure, for tests)."""
    total = max(total, 1)
    done = min(max(done, 0), total)
    filled = BAR_WIDTH * done // total
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return f"{name:<10} [{bar}] {_size(done)}/{_size(total)}"


def _size(count: int) -> str:
    return f"{count} B" if count < 1000 else f"{count / 1000:.1f} kB"


__all__ = ["FileProgress", "render"]
