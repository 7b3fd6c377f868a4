"""Face images (DG2 as JPEG) kept in memory with a time-to-live (docs/operations.md
"Retention": face images are not written to disk by default; ``store_photos`` keeps them with
the read instead, and either way they go no later than the read)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class PhotoCache:
    """key -> JPEG bytes, dropped after ``ttl`` seconds or when over ``limit`` entries."""

    def __init__(
        self, ttl: float, *, limit: int = 256, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.limit = limit
        self.clock = clock
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: str, jpeg: bytes) -> None:
        with self._lock:
            self._items[key] = (self.clock() + self.ttl, jpeg)
            self._items.move_to_end(key)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= self.clock():
                del self._items[key]
                return None
            return item[1]

    def drop(self, key: str) -> bool:
        with self._lock:
            return self._items.pop(key, None) is not None

    def purge(self) -> int:
        now = self.clock()
        with self._lock:
            stale = [k for k, (deadline, _) in self._items.items() if deadline <= now]
            for key in stale:
                del self._items[key]
        return len(stale)

    def __len__(self) -> int:
        return len(self._items)
