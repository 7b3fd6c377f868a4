"""Readers the service drives: simulated readers holding fictional chips (``cccd serve
--simulated``) and PC/SC readers (``reader.drivers.pcsc``, imported lazily so the service runs where
pyscard or pcscd are missing, and says so in ``GET /readers``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from reader.drivers.transport import Transport
from reader.errors import CardRemovedError, TransportError

log = logging.getLogger(__name__)


class NoCardYet(TransportError):
    """The reader holds no card (yet): the scan waits for one."""


class Reader(Protocol):
    name: str
    kind: str

    def card_present(self) -> bool | None: ...  # None: unknown until connect() tries

    def connect(self) -> Transport: ...  # raises NoCardYet when there is no card

    def release(self, transport: Transport) -> None: ...

    def abort(self, transport: Transport) -> None: ...  # unblock a hung read

    def describe(self) -> dict[str, Any]: ...


class SlotTransport:
    """The field of a simulated reader: commands go to whichever card is on it now (a card
    lifted and put back, or another one, is what the reader talks to next)."""

    def __init__(self, reader: SimulatedReader) -> None:
        self.reader = reader
        self.reader_name = reader.name
        self.protocol: str | None = None

    @property
    def atr(self) -> bytes:
        chip = self.reader.chip
        return bytes(getattr(chip, "atr", b"")) if chip is not None else b""

    def transmit(self, apdu: bytes) -> bytes:
        chip = self.reader.chip
        if chip is None:
            raise CardRemovedError("the card was removed from the reader")
        answer: bytes = chip.transmit(apdu)
        return answer

    def reconnect(self, timeout: float = 10.0) -> bool:
        """Wait (bounded) for a card on the reader; it powers up afresh."""
        deadline = time.monotonic() + timeout
        while not self.reader.card_present():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        chip = self.reader.chip
        if chip is not None:
            chip.reset()
        return True

    def close(self) -> None:
        """The card stays on the reader."""


class SimulatedReader:
    """A reader with a fictional card put on it by ``PUT /demo/readers/{name}/card``."""

    kind = "simulated"

    def __init__(
        self, name: str, on_change: Callable[[SimulatedReader], None] | None = None
    ) -> None:
        self.name = name
        self.chip: Any | None = None
        self.faults: tuple[str, ...] = ()
        self.inserted_at: datetime | None = None
        self.on_change = on_change
        self._lock = threading.Lock()

    def insert(self, chip: Any, *, faults: tuple[str, ...] = ()) -> None:
        with self._lock:
            if self.chip is not None:
                self.chip.remove()
                self.chip.close()
            self.chip, self.faults, self.inserted_at = chip, faults, datetime.now(UTC)
        self._changed()

    def remove(self) -> bool:
        with self._lock:
            chip, self.chip, self.faults, self.inserted_at = self.chip, None, (), None
        if chip is None:
            return False
        chip.remove()  # a read in progress sees the card leave the field
        chip.close()
        self._changed()
        return True

    def card_present(self) -> bool:
        chip = self.chip
        return chip is not None and not chip.removed

    def connect(self) -> Transport:
        chip = self.chip
        if chip is None or chip.removed:
            raise NoCardYet("no card on the reader")
        chip.power_up()  # a fresh power-up for every read, as lifting the card would give
        return SlotTransport(self)

    def release(self, transport: Transport) -> None:
        pass  # the card stays on the reader

    def abort(self, transport: Transport) -> None:
        chip = self.chip
        if chip is not None:
            chip.close()  # releases a chip that hangs on purpose

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "card_present": self.card_present(),
            "faults": list(self.faults),
            "card_since": self.inserted_at.isoformat() if self.inserted_at else None,
        }

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self)


class PCSCReader:
    kind = "pcsc"

    def __init__(self, name: str, *, timeout: float = 5.0) -> None:
        self.name = name
        self.timeout = timeout

    def card_present(self) -> bool | None:
        return None

    def connect(self) -> Transport:
        from reader.drivers import pcsc

        try:
            transport: Transport = pcsc.PCSCTransport(self.name, timeout=self.timeout)
        except pcsc.NoCardError as exc:
            raise NoCardYet(str(exc)) from exc
        return transport

    def release(self, transport: Transport) -> None:
        transport.close()

    def abort(self, transport: Transport) -> None:
        transport.close()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "card_present": None}


class ReaderRegistry:
    """The readers by name. PC/SC readers are listed again on each ``refresh()``."""

    def __init__(self, *, pcsc_filters: tuple[str, ...] = (), use_pcsc: bool = True) -> None:
        self.readers: dict[str, Reader] = {}
        self.pcsc_filters = pcsc_filters
        self.use_pcsc = use_pcsc
        self.pcsc_status = "not used" if not use_pcsc else "not checked"

    def add(self, reader: Reader) -> None:
        self.readers[reader.name] = reader

    def get(self, name: str) -> Reader | None:
        return self.readers.get(name)

    def refresh(self) -> None:
        if not self.use_pcsc:
            return
        try:
            from reader.drivers import pcsc

            names = pcsc.list_readers()
        except ImportError:
            self.pcsc_status = "PC/SC support is not installed (pip install 'cccd[pcsc]')"
            return
        except TransportError as exc:
            self.pcsc_status = f"PC/SC unavailable: {exc}"
            return
        except Exception as exc:  # pyscard missing or broken underneath reader.drivers.pcsc
            self.pcsc_status = f"PC/SC unavailable: {type(exc).__name__}"
            return
        self.pcsc_status = "ok"
        wanted = [
            n for n in names if not self.pcsc_filters or any(f in n for f in self.pcsc_filters)
        ]
        for name in wanted:
            if name not in self.readers:
                self.add(PCSCReader(name))

    def describe(self) -> list[dict[str, Any]]:
        return [reader.describe() for reader in self.readers.values()]
