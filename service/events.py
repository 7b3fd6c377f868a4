"""Server-sent events for live desk screens (WHATWG HTML "Server-sent events"): reader and
card changes, scan progress and completion. Events carry ids and states only, never personal
data: a desk that wants the identity asks ``GET /scans/{id}`` with its key."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any


class EventBus:
    """Fan-out to subscribers; a slow subscriber loses old events rather than blocking."""

    def __init__(self, queue_size: int = 256) -> None:
        self._subscribers: set[asyncio.Queue[tuple[int, str, dict[str, Any]]]] = set()
        self._ids = itertools.count(1)
        self.queue_size = queue_size
        self.loop: asyncio.AbstractEventLoop | None = None

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Call on the event loop."""
        item = (next(self._ids), kind, data)
        for queue in list(self._subscribers):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(item)

    def publish_threadsafe(self, kind: str, data: dict[str, Any]) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.publish, kind, data)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def stream(
        self, *, heartbeat: float = 15.0, initial: list[tuple[str, dict[str, Any]]] | None = None
    ) -> AsyncIterator[str]:
        queue: asyncio.Queue[tuple[int, str, dict[str, Any]]] = asyncio.Queue(self.queue_size)
        self._subscribers.add(queue)
        try:
            yield "retry: 2000\n\n"
            for kind, data in initial or []:
                yield format_event(0, kind, data)
            while True:
                try:
                    event_id, kind, data = await asyncio.wait_for(queue.get(), heartbeat)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield format_event(event_id, kind, data)
        finally:
            self._subscribers.discard(queue)


def format_event(event_id: int, kind: str, data: dict[str, Any]) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
