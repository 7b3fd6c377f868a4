"""Text that arrives from outside (paths, headers) and ends up in the audit log or a log
line: bounded and escaped so it can neither flood a record nor forge one (no control
characters, no line breaks, nothing past the bound)."""

from __future__ import annotations


def bounded(value: str, limit: int) -> str:
    """``value`` with non-printable and non-ASCII characters escaped, cut to ``limit``."""
    escaped = value.encode("ascii", "backslashreplace").decode("ascii")
    escaped = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in escaped)
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "~"
