"""Authentication and rate limiting (docs/operations.md "Desks, roles and readers"):
``Authorization: Bearer KEY`` checked against stored SHA-256 digests in constant time; the key
names a principal (a desk, a lookup-only caller or an admin, ``service.desks``); a token bucket
per principal (and per client address for refused keys, so a key-guessing loop cannot flood
the audit log)."""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping

from service.desks import DeskConfig, Principal


class KeyRing:
    """Key digests -> principals. Takes ``desks`` (``DeskConfig``) or, as before, a mapping
    of desk name -> stored digest (each a desk that owns every reader)."""

    def __init__(self, desks: Iterable[DeskConfig] | Mapping[str, str]) -> None:
        if isinstance(desks, Mapping):
            desks = [DeskConfig(name=n, keys=(v,)) for n, v in desks.items()]
        self._digests: list[tuple[Principal, bytes]] = [
            (Principal.of(desk), bytes.fromhex(value.split(":", 1)[1]))
            for desk in desks
            for value in desk.keys
        ]
        self.principals = {p.name: p for p, _ in self._digests}

    def __len__(self) -> int:
        return len(self._digests)

    def desk_for(self, secret: str) -> Principal | None:
        digest = hashlib.sha256(secret.encode("utf-8")).digest()
        found: Principal | None = None
        for principal, expected in self._digests:  # no early exit: same time for every key
            if hmac.compare_digest(digest, expected):
                found = principal
        return found

    def owners_of(self, reader_name: str) -> list[str]:
        """The desks that own a reader (who may see its events)."""
        return [p.name for p in self.principals.values() if p.owns_reader(reader_name)]


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
