"""The service's live events (WHATWG HTML "Server-sent events"; RFC 6455 for the WebSocket
that carries the same events): reader and card changes, scan progress and completion.

``EventBus`` fans each event out to every subscriber and keeps the last few in a short replay
buffer, so a subscriber that reconnects with the last event id it saw gets what it missed
(a completed result included) instead of losing it. Event ids are ``<boot>-<n>``: ``boot``
changes at every start of the service, so an id from before a restart is recognised as such
and answered with a ``gap`` event rather than silently replaying the wrong events.

An event names the desks it is for (the desk that owns the scan, the desks that own the
reader) and the reader it is about; whether a subscriber sees it is decided by
``service.api.visibility``, and what a subscriber receives (ids only, or the result with its
photo) by the channel that delivers it (``service.api.push``). The bus itself holds no copy of
personal data: a completion event points at its scan, whose result lives in the scan history.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

REPLAY_EVENTS = 256  # the replay buffer: this many events ...
REPLAY_SECONDS = 300.0  # ... and none older than this


@dataclass(frozen=True, slots=True)
class Event:
    """One published event. ``to``: the desks it is for; ``reader``: the reader it is about;
    ``subject``: the scan a completion event is about (its result is read when sent)."""

    seq: int
    kind: str
    data: dict[str, Any]
    to: frozenset[str] = frozenset()
    reader: str | None = None
    subject: Any = field(default=None, repr=False, compare=False)
    at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(slots=True)
class Subscription:
    """A subscriber's queue, plus what it missed when it resumed from an event id: the
    ``replay`` events, and ``gap`` when some could not be replayed (too old, or the id came
    from before a restart)."""

    queue: asyncio.Queue[Event]
    replay: list[Event]
    gap: bool
    desk: str = ""


class EventBus:
    """Fan-out per desk: an event goes only onto the queues of the desks it names (fifty
    desks' events cost each desk only its own); a slow subscriber loses old events rather
    than blocking."""

    def __init__(
        self,
        queue_size: int = 256,
        *,
        replay_events: int = REPLAY_EVENTS,
        replay_seconds: float = REPLAY_SECONDS,
    ) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = {}
        self._ids = itertools.count(1)
        self._last_seq = 0
        self._replay: deque[Event] = deque(maxlen=replay_events)
        self.replay_seconds = replay_seconds
        self.queue_size = queue_size
        self.boot = secrets.token_hex(4)
        self.loop: asyncio.AbstractEventLoop | None = None

    def publish(
        self,
        kind: str,
        data: dict[str, Any],
        *,
        to: Iterable[str],
        reader: str | None = None,
        subject: Any = None,
    ) -> Event:
        """Call on the event loop. ``to``: the desks that may see this event."""
        event = Event(next(self._ids), kind, data, to=frozenset(to), reader=reader, subject=subject)
        self._last_seq = event.seq
        self._replay.append(event)
        for desk in event.to:
            for queue in list(self._subscribers.get(desk, ())):
                self._put(queue, event)
        return event

    @staticmethod
    def _put(queue: asyncio.Queue[Event], event: Event) -> None:
        if queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()
        queue.put_nowait(event)

    def publish_threadsafe(
        self, kind: str, data: dict[str, Any], *, to: Iterable[str], reader: str | None = None
    ) -> None:
        if self.loop is not None and not self.loop.is_closed():
            desks = tuple(to)
            self.loop.call_soon_threadsafe(
                lambda: self.publish(kind, data, to=desks, reader=reader)
            )

    @property
    def subscribers(self) -> int:
        return sum(len(queues) for queues in self._subscribers.values())

    @property
    def last_id(self) -> str:
        """The id of the latest event (``<boot>-0`` before the first)."""
        return self.event_id(self._last_seq)

    def event_id(self, seq: int) -> str:
        return f"{self.boot}-{seq}"

    def subscribe(self, desk: str, last_event_id: str | None = None) -> Subscription:
        """A new subscription for ``desk``'s events; with ``last_event_id``, the buffered
        events after it that were for that desk."""
        queue: asyncio.Queue[Event] = asyncio.Queue(self.queue_size)
        self._subscribers.setdefault(desk, set()).add(queue)
        if not last_event_id:
            return Subscription(queue, [], gap=False, desk=desk)
        after = self._seq_of(last_event_id)
        fresh = time.monotonic() - self.replay_seconds
        window = [e for e in self._replay if e.at >= fresh]
        kept = [e for e in window if desk in e.to]
        if after is None:
            return Subscription(queue, kept, gap=True, desk=desk)
        replay = [e for e in kept if e.seq > after]
        oldest = window[0].seq if window else self._last_seq + 1
        gap = after > self._last_seq or after + 1 < oldest
        return Subscription(queue, replay, gap=gap, desk=desk)

    def unsubscribe(self, subscription: Subscription) -> None:
        queues = self._subscribers.get(subscription.desk)
        if queues is not None:
            queues.discard(subscription.queue)
            if not queues:
                del self._subscribers[subscription.desk]

    def _seq_of(self, event_id: str) -> int | None:
        """The sequence number of one of this boot's ids; None for anything else."""
        boot, _, seq = event_id.strip().partition("-")
        if boot != self.boot or not seq.isdigit() or len(seq) > 18:
            return None
        return int(seq)


def format_event(event_id: str, kind: str, data: dict[str, Any]) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
