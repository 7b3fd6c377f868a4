"""Desk authentication and rate limiting (issue 9 "Security"): ``Authorization: Bearer KEY``
checked against stored SHA-256 digests in constant time; a token bucket per desk (and per
client address for refused keys, so a key-guessing loop cannot flood the audit log)."""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Desk:
    name: str


class KeyRing:
    def __init__(self, stored: Mapping[str, str]) -> None:
        self._digests = [
            (desk, bytes.fromhex(value.split(":", 1)[1])) for desk, value in stored.items()
        ]

    def __len__(self) -> int:
        return len(self._digests)

    def desk_for(self, secret: str) -> Desk | None:
        digest = hashlib.sha256(secret.encode("utf-8")).digest()
        found: str | None = None
        for desk, expected in self._digests:  # no early exit: same time for every key
            if hmac.compare_digest(digest, expected):
                found = desk
        return Desk(name=found) if found else None


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class RateLimiter:
    """Token buckets: ``rate`` requests per minute, bursts up to ``burst``."""

    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when allowed; else the seconds to wait before the next request will pass."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > 10_000:  # bounded: forget the idlest buckets
                for stale in sorted(self._buckets, key=lambda k: self._buckets[k][1])[:5000]:
                    del self._buckets[stale]
            return max(1.0, math.ceil((1.0 - tokens) / self.rate))
