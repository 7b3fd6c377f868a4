"""A logging filter that keeps personal data out of log files (Decree 13/2023/NĐ-CP:
no ID numbers, names or photos in logs; docs/operations.md "Network edges").

It rewrites every record it sees: 12-digit CCCD and 9-digit CMND numbers (also inside URLs
such as ``/citizens/001185483324``), search parameters and BHYT card codes in access-log URLs,
and any name the service registered as sensitive while handling a card (``SensitiveValues``).
It is attached to handlers, not loggers, because a filter on a logger does not see records its
children propagate.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict

from verify import vntext

_NUMBERS = re.compile(r"(?<!\d)(\d{12}|\d{9})(?!\d)")
_QUERY = re.compile(
    r"([?&](?:q|id_number|can|qr|card_code|full_name|name|date_of_birth"
    r"|token|id_token|ticket|password)=)"
    r"[^&\s\"']*",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


class SensitiveValues:
    """Names seen recently (bounded): the filter masks them wherever they appear."""

    def __init__(self, limit: int = 2000) -> None:
        self._values: OrderedDict[str, float] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, *values: str | None) -> None:
        with self._lock:
            added = False
            for value in values:
                if not value or len(value.strip()) < 3:
                    continue
                for form in {
                    value.strip(),
                    vntext.normalize(value),
                    vntext.fold(value),
                    vntext.title_case(value),
                    vntext.normalize(value).upper(),
                }:
                    if len(form) >= 3:
                        added = added or form not in self._values
                        self._values[form] = time.monotonic()
                        self._values.move_to_end(form)
            while len(self._values) > self._limit:
                self._values.popitem(last=False)
            if added:  # a name seen again does not cost a new pattern
                self._pattern = None

    def purge(self, max_age: float) -> int:
        """Forget names seen longer ago than ``max_age`` seconds: this list is personal data
        too, and keeps no longer than the reads it came from."""
        cutoff = time.monotonic() - max_age
        with self._lock:
            stale = [v for v, seen in self._values.items() if seen <= cutoff]
            for value in stale:
                del self._values[value]
            if stale:
                self._pattern = None
        return len(stale)

    def __len__(self) -> int:
        return len(self._values)

    def pattern(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                alternatives = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile(
                    "|".join(re.escape(v) for v in alternatives), re.IGNORECASE
                )
            return self._pattern


SENSITIVE = SensitiveValues()


def redact(text: str, sensitive: SensitiveValues = SENSITIVE) -> str:
    text = _QUERY.sub(lambda m: m.group(1) + REDACTED, text)
    text = _NUMBERS.sub(REDACTED, text)
    pattern = sensitive.pattern()
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Formats the message once, redacts it, and drops the arguments."""

    def __init__(self, sensitive: SensitiveValues = SENSITIVE) -> None:
        super().__init__()
        self.sensitive = sensitive

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = str(record.msg)
        record.msg = redact(message, self.sensitive)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.sensitive)
        record.exc_info = None  # the redacted exc_text is what gets printed
        return True


def install(
    logger_names: tuple[str, ...] = ("", "uvicorn", "uvicorn.error", "uvicorn.access"),
    sensitive: SensitiveValues = SENSITIVE,
) -> None:
    """Attach the filter to every handler of these loggers (idempotent)."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs URLs carrying the token
    for name in logger_names:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter(sensitive))
