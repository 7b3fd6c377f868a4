"""The push channel a browser can use (WHATWG HTML "Server-sent events", RFC 6455 WebSocket):
what a subscriber asked for, the single-use tickets that let ``EventSource`` (which cannot
send an ``Authorization`` header) subscribe, and the one feed both channels deliver.

A subscriber sees only the events ``service.api.visibility`` lets it see. With ``results`` on,
the event of a finished scan carries the result itself (identity, verdict, HIS fields) and
the face image as the subscriber chose: its URL (``photo: "url"``), inline as a ``data:`` URL
(``"data"``), or not at all (``"none"``). Every result pushed is audited like a lookup.
A subscriber that reconnects with the last event id it saw gets the events it missed from
the bus's replay buffer; when some cannot be replayed it gets a ``gap`` event and the
readers' current state, and should ask ``GET /scans`` for what it may have lost.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

from service.api.events import Event
from service.api.visibility import may_see_event, may_see_reader
from service.desks import Principal, result_for

PhotoChoice = Literal["url", "data", "none"]
PHOTO_CHOICES: tuple[str, ...] = ("url", "data", "none")
TICKET_SECONDS = 30.0
TICKET_LIMIT = 1000  # tickets outstanding at once (all desks): bounded memory


@dataclass(frozen=True, slots=True)
class PushOptions:
    """What a subscriber asked for."""

    results: bool = True
    photo: PhotoChoice = "url"


class TicketError(Exception):
    """The ticket is unknown, already used or expired."""


class TicketBook:
    """Short-lived single-use tickets, kept only as SHA-256 digests: redeeming one removes it,
    so a ticket copied from a log or a browser history opens nothing."""

    def __init__(
        self,
        ttl: float = TICKET_SECONDS,
        limit: int = TICKET_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.limit = limit
        self.clock = clock
        self._tickets: dict[bytes, tuple[float, Any, PushOptions]] = {}
        self._lock = threading.Lock()  # routes run in the thread pool and on the loop

    def __len__(self) -> int:
        return len(self._tickets)

    def issue(self, caller: Any, options: PushOptions) -> str:
        ticket = secrets.token_urlsafe(24)
        with self._lock:
            now = self.clock()
            self._drop_expired(now)
            while len(self._tickets) >= self.limit:  # the oldest goes first
                del self._tickets[next(iter(self._tickets))]
            self._tickets[_digest(ticket)] = (now + self.ttl, caller, options)
        return ticket

    def redeem(self, ticket: str) -> tuple[Any, PushOptions]:
        if len(ticket) > 100:
            raise TicketError("the event ticket is unknown, used or expired")
        with self._lock:
            entry = self._tickets.pop(_digest(ticket), None)
        if entry is None or entry[0] < self.clock():
            raise TicketError("the event ticket is unknown, used or expired")
        return entry[1], entry[2]

    def _drop_expired(self, now: float) -> None:
        for key in [k for k, (expires, _, _) in self._tickets.items() if expires < now]:
            del self._tickets[key]


def _digest(ticket: str) -> bytes:
    return hashlib.sha256(ticket.encode("utf-8", "replace")).digest()


def parse_photo(value: Any) -> PhotoChoice:
    if value is None:
        return "url"
    if value not in PHOTO_CHOICES:
        raise ValueError("photo must be url, data or none")
    choice: PhotoChoice = value
    return choice


# -- what a subscriber receives ----------------------------------------------------------


def scan_result(scan: Any, photo: PhotoChoice, caller: Principal) -> dict[str, Any]:
    """A finished scan's result as a subscriber asked for it (a copy: the scan keeps its own),
    with only the card fields this caller may see (as ``GET /scans/{id}`` shows them)."""
    result = result_for(scan.result or {}, caller.fields)
    if photo == "none":
        result.pop("photo_url", None)
    elif photo == "data" and scan.photo_jpeg:
        result["photo"] = "data:image/jpeg;base64," + base64.b64encode(scan.photo_jpeg).decode()
    return result


def shown_id_number(result: dict[str, Any]) -> str | None:
    shown = result.get("identity") or result.get("unverified_identity") or {}
    value = shown.get("id_number")
    return str(value) if value else None


Audit = Callable[[str, str, str | None], None]


@dataclass(slots=True)
class Feed:
    """One subscriber's events, in order: ``hello`` (its id is where a reconnection resumes
    from), the readers' state (or the replay of what it missed), then live events; ``None``
    when nothing happened for ``heartbeat`` seconds."""

    ctx: Any
    caller: Principal
    options: PushOptions
    audit: Audit

    async def events(
        self, last_event_id: str | None = None, *, heartbeat: float = 15.0
    ) -> AsyncIterator[tuple[str, str, dict[str, Any]] | None]:
        bus = self.ctx.bus
        subscription = bus.subscribe(self.caller.name, last_event_id)
        now = bus.last_id  # taken with the subscription: nothing falls between the two
        try:
            # The id to resume from, even when no event has come yet.
            yield now, "hello", {"desk": self.caller.name, "resumed": bool(last_event_id)}
            if subscription.gap:
                yield now, "gap", {"last_event_id": last_event_id}
            if subscription.gap or not last_event_id:
                for reader in self.ctx.registry.describe():
                    if may_see_reader(self.caller, reader["name"]):
                        yield "", "reader", reader
            for event in subscription.replay:
                item = await self._render(event)
                if item is not None:
                    yield item
            while True:
                try:
                    event = await asyncio.wait_for(subscription.queue.get(), heartbeat)
                except TimeoutError:
                    yield None
                    continue
                item = await self._render(event)
                if item is not None:
                    yield item
        finally:
            bus.unsubscribe(subscription)

    async def _render(self, event: Event) -> tuple[str, str, dict[str, Any]] | None:
        if not may_see_event(self.caller, event):
            return None
        data = event.data
        scan = event.subject
        if self.options.results and scan is not None and scan.result is not None:
            result = scan_result(scan, self.options.photo, self.caller)
            data = {**data, "result": result}
            await asyncio.to_thread(
                self.audit,
                "scan_result",
                "pushed" if result.get("identity") else "pushed_unverified",
                shown_id_number(result),
            )
        return self.ctx.bus.event_id(event.seq), event.kind, data
