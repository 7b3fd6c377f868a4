"""Card and reader events from PC/SC (PC/SC Workgroup spec part 5, ``SCardGetStatusChange``;
``docs/spec/pcsc-testing.md``, "Quick card swaps").

pcsc-lite keeps a per-reader event counter in the upper 16 bits of ``dwEventState``; it goes
up on every insertion and removal. Passing it back as the current state means a card swapped
faster than one wait (removed and another inserted) still shows as removed + inserted, not as
"still present". Reader arrivals and departures come from the ``\\\\?PnP?\\Notification``
pseudo-reader, and from listing the readers again after every wait.

The state comparison (``diff_states``) is pure; ``CardMonitor`` does the waiting. PC/SC is
reached only through ``reader.drivers.pcsc``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from reader.drivers import pcsc
from reader.errors import TransportTimeoutError

log = logging.getLogger(__name__)

EventKind = Literal["reader_added", "reader_removed", "card_inserted", "card_removed"]
PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
STATE_EMPTY = 0x0010
STATE_PRESENT = 0x0020
STATE_CHANGED = 0x0002
STATE_UNAWARE = 0x0000


@dataclass(frozen=True, slots=True, kw_only=True)
class ReaderState:
    """What one wait saw of a reader: a card present, pcscd's event counter, the ATR."""

    present: bool
    counter: int
    atr: bytes = b""
    raw: int = 0  # dwEventState as returned, to hand back on the next wait

    @classmethod
    def from_event_state(cls, event_state: int, atr: bytes = b"") -> ReaderState:
        present = bool(event_state & STATE_PRESENT)
        return cls(
            present=present,
            counter=(event_state >> 16) & 0xFFFF,
            atr=bytes(atr) if present else b"",
            raw=event_state & ~STATE_CHANGED,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CardEvent:
    kind: EventKind
    reader: str
    atr: bytes = b""


def diff_states(
    previous: Mapping[str, ReaderState], current: Mapping[str, ReaderState]
) -> list[CardEvent]:
    """The events between two snapshots. A changed counter with the card present both times
    is a swap: removed, then inserted."""
    events: list[CardEvent] = []
    for name, old in previous.items():
        if name not in current:
            if old.present:
                events.append(CardEvent(kind="card_removed", reader=name))
            events.append(CardEvent(kind="reader_removed", reader=name))
    for name, new in current.items():
        old_state = previous.get(name)
        if old_state is None:
            events.append(CardEvent(kind="reader_added", reader=name))
            if new.present:
                events.append(CardEvent(kind="card_inserted", reader=name, atr=new.atr))
            continue
        swapped = new.counter != old_state.counter or new.atr != old_state.atr
        if old_state.present and (not new.present or swapped):
            events.append(CardEvent(kind="card_removed", reader=name))
        if new.present and (not old_state.present or swapped):
            events.append(CardEvent(kind="card_inserted", reader=name, atr=new.atr))
    return events


class CardMonitor:
    """Waits for PC/SC events. ``events()`` is a blocking iterator: it ends when ``stop`` (an
    event of the caller's) is set, when ``stop()`` is called from another thread, or after
    ``timeout`` seconds. ``readers`` limits it to some readers (None: all).

    With ``report_present`` the first snapshot is reported too, so a card already on the
    reader when the monitor starts is an insertion (what ``cccd watch`` wants).
    """

    def __init__(
        self,
        readers: Sequence[str] | None = None,
        *,
        report_present: bool = True,
        poll_seconds: float = 0.5,
    ) -> None:
        self.only = set(readers) if readers is not None else None
        self.report_present = report_present
        self.poll_seconds = poll_seconds
        self._stopped = threading.Event()
        self._context: int | None = None
        self._lock = threading.Lock()

    def stop(self) -> None:
        """End ``events()`` promptly, from any thread."""
        self._stopped.set()
        with self._lock:
            context = self._context
        if context is not None:
            pcsc.scard().SCardCancel(context)

    def snapshot(self) -> dict[str, ReaderState]:
        """The readers and cards now, without waiting."""
        context = pcsc.establish_context()
        try:
            return self._wait(context, {}, 0)
        finally:
            pcsc.release_context(context)

    def events(
        self, stop: threading.Event | None = None, timeout: float | None = None
    ) -> Iterator[CardEvent]:
        deadline = None if timeout is None else time.monotonic() + timeout
        context = pcsc.establish_context()
        with self._lock:
            self._context = context
        try:
            known = self._wait(context, {}, 0)
            if self.report_present:
                yield from diff_states({}, known)
            while not self._stopped.is_set() and not (stop is not None and stop.is_set()):
                wait = self.poll_seconds
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                    if wait <= 0:
                        return
                current = self._wait(context, known, int(wait * 1000))
                changes = diff_states(known, current)
                known = current
                yield from changes
        finally:
            with self._lock:
                self._context = None
            pcsc.release_context(context)

    def wait_for(
        self, kind: EventKind, reader: str, timeout: float, stop: threading.Event | None = None
    ) -> CardEvent:
        """The next event of ``kind`` on ``reader`` (a present card counts as inserted and an
        empty reader as removed); ``TransportTimeoutError`` after ``timeout`` seconds."""
        for event in self.events(stop=stop, timeout=timeout):
            if event.kind == kind and event.reader == reader:
                return event
        state = self.snapshot().get(reader)
        if kind == "card_removed" and state is not None and not state.present:
            return CardEvent(kind=kind, reader=reader)
        raise TransportTimeoutError(f"no {kind.replace('_', ' ')} on {reader!r} in {timeout:g} s")

    # -- PC/SC ----------------------------------------------------------------------------
    def _wait(
        self, context: int, known: Mapping[str, ReaderState], milliseconds: int
    ) -> dict[str, ReaderState]:
        s = pcsc.scard()
        names = [n for n in pcsc._list(context) if self.only is None or n in self.only]
        states: list[tuple[str, int]] = [
            (name, known[name].raw if name in known else STATE_UNAWARE) for name in names
        ]
        # Any reader we did not know yet makes the wait return at once (state unaware).
        states.append((PNP_NOTIFICATION, len(names) << 16))
        hresult, answer = s.SCardGetStatusChange(context, max(milliseconds, 0), states)
        if hresult in (pcsc.SCARD_E_TIMEOUT, pcsc.SCARD_E_CANCELLED):
            return self._now(context, names, known)
        if hresult in (pcsc.SCARD_E_UNKNOWN_READER, pcsc.SCARD_E_READER_UNAVAILABLE):
            return self._now(context, pcsc._list(context), known)
        if hresult != pcsc.SCARD_S_SUCCESS:
            raise pcsc.translate(hresult, "SCardGetStatusChange")
        result: dict[str, ReaderState] = {}
        for name, event_state, atr in answer:
            if name == PNP_NOTIFICATION:
                continue
            result[str(name)] = ReaderState.from_event_state(int(event_state), bytes(atr))
        return result

    def _now(
        self, context: int, names: Sequence[str], known: Mapping[str, ReaderState]
    ) -> dict[str, ReaderState]:
        """A zero-wait snapshot of readers not yet known (after a timeout: nothing changed
        for the known ones)."""
        missing = [n for n in names if n not in known]
        result = {n: known[n] for n in names if n in known}
        if not missing:
            return result
        s = pcsc.scard()
        hresult, answer = s.SCardGetStatusChange(
            context, 0, [(name, STATE_UNAWARE) for name in missing]
        )
        if hresult != pcsc.SCARD_S_SUCCESS:
            return result
        for name, event_state, atr in answer:
            result[str(name)] = ReaderState.from_event_state(int(event_state), bytes(atr))
        return result


__all__ = ["CardEvent", "CardMonitor", "ReaderState", "diff_states"]
