"""Server-sent events for live desk screens (WHATWG HTML "Server-sent events"): reader and
card changes, scan progress and completion. Events go only to the desks they concern (the
desk that owns the scan, the desks that own the reader), never to everyone; they carry ids
and states only, never personal data: a desk that wants the identity asks
``GET /scans/{id}`` with its key."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

Item = tuple[int, str, dict[str, Any]]


class EventBus:
    """Fan-out per desk; a slow subscriber loses old events rather than blocking."""

    def __init__(self, queue_size: int = 256) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Item]]] = {}
        self._ids = itertools.count(1)
        self.queue_size = queue_size
        self.loop: asyncio.AbstractEventLoop | None = None

    def publish(self, kind: str, data: dict[str, Any], *, to: Iterable[str]) -> None:
        """Call on the event loop. ``to``: the desks that may see this event."""
        item = (next(self._ids), kind, data)
        for desk in set(to):
            for queue in list(self._subscribers.get(desk, ())):
                if queue.full():
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                queue.put_nowait(item)

    def publish_threadsafe(self, kind: str, data: dict[str, Any], *, to: Iterable[str]) -> None:
        if self.loop is not None and not self.loop.is_closed():
            desks = tuple(to)
            self.loop.call_soon_threadsafe(lambda: self.publish(kind, data, to=desks))

    @property
    def subscribers(self) -> int:
        return sum(len(queues) for queues in self._subscribers.values())

    async def stream(
        self,
        desk: str,
        *,
        heartbeat: float = 15.0,
        initial: list[tuple[str, dict[str, Any]]] | None = None,
    ) -> AsyncIterator[str]:
        queue: asyncio.Queue[Item] = asyncio.Queue(self.queue_size)
        self._subscribers.setdefault(desk, set()).add(queue)
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
            queues = self._subscribers.get(desk)
            if queues is not None:
                queues.discard(queue)
                if not queues:
                    del self._subscribers[desk]


def format_event(event_id: int, kind: str, data: dict[str, Any]) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
