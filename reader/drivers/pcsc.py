"""PC/SC readers through pyscard: the ``Transport`` the desk uses (PC/SC Workgroup spec part 5,
ISO/IEC 7816-3 T=0/T=1, ISO/IEC 7816-4 §5.1 extended length, §8.1.1.2.7 card capabilities;
``docs/spec/pcsc-testing.md``).

This is the only module importing ``smartcard`` (pyscard), and it imports it lazily: the rest
of the package, and the error classes here, work without pyscard. Every PC/SC failure is
translated at this edge into a ``TransportError`` subclass saying what happened (no reader, no
card, card removed, reader busy, PC/SC daemon not running, timeout).

Design points:

* T=1 is preferred; T=0 is used when the card offers nothing else, with GET RESPONSE for
  61xx and the command re-issued with the right Le for 6Cxx (ISO/IEC 7816-3 §10.3.3,
  ``reader.drivers.t0``).
* The card is held with ``SCARD_SHARE_EXCLUSIVE`` for the life of the transport (one read):
  no other application can interleave commands and break secure messaging.
* Transmits run in a worker thread under our own deadline: vpcd (and some drivers) never
  time out, a card that stops answering would block forever.
* Extended length: decided from the ATR's card-capabilities byte when it says so (or by the
  caller, from what an earlier read on this reader learned); otherwise the session's read
  ladder probes. An extended APDU the reader fails (a CCID error, not a status word) raises
  ``ExtendedLengthError``: the card may have run it, so ``read_card`` resets the card
  (``reconnect``) and opens access control again. Once known not to work, extended APDUs
  are answered with a synthetic ``6700`` without being sent, so the ladder steps down.
* ``close()`` resets the card (``SCARD_RESET_CARD``): the next session starts at power-up,
  not inside the old secure messaging (whose first plain command would get 6982).
* ``reconnect()`` waits (bounded) for a card on the reader and connects to it afresh: after
  the card left mid-read, or to reset it.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from reader.drivers.t0 import t0_transmit
from reader.errors import (
    CardRemovedError,
    ExtendedLengthError,
    TransportError,
    TransportTimeoutError,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT = 10.0  # seconds for one APDU; a full DG2 in one extended read fits easily
REMOVAL_CHECK_SECONDS = 1.0  # pcscd polls presence every 400 ms
WRONG_LENGTH = b"\x67\x00"

# PC/SC return codes (pcsc-lite pcsclite.h; the same values as WinSCard).
SCARD_S_SUCCESS = 0x00000000
SCARD_E_CANCELLED = 0x80100002
SCARD_E_INVALID_HANDLE = 0x80100003
SCARD_E_UNKNOWN_READER = 0x80100009
SCARD_E_TIMEOUT = 0x8010000A
SCARD_E_SHARING_VIOLATION = 0x8010000B
SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_E_PROTO_MISMATCH = 0x8010000F
SCARD_F_COMM_ERROR = 0x80100013
SCARD_E_NOT_TRANSACTED = 0x80100016
SCARD_E_READER_UNAVAILABLE = 0x80100017
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_E_SERVICE_STOPPED = 0x8010001E
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
SCARD_E_INSUFFICIENT_BUFFER = 0x80100008
SCARD_W_UNRESPONSIVE_CARD = 0x80100066
SCARD_W_UNPOWERED_CARD = 0x80100067
SCARD_W_RESET_CARD = 0x80100068
SCARD_W_REMOVED_CARD = 0x80100069


# -- errors (importable without pyscard) ---------------------------------------------------
class PCSCUnavailableError(TransportError):
    """The PC/SC daemon (pcscd) is not running, or pyscard is not installed."""


class NoReaderError(TransportError):
    """No reader by that name (or no reader at all) is connected."""


class NoCardError(TransportError):
    """The reader is there but holds no card."""


class ReaderBusyError(TransportError):
    """Another application holds the reader or the card."""


class CardUnresponsiveError(TransportError):
    """The card does not answer the reset: badly placed, damaged or not a smart card."""


_REMOVED = frozenset({SCARD_W_REMOVED_CARD, SCARD_W_RESET_CARD, SCARD_W_UNPOWERED_CARD})


def translate(hresult: int, action: str, reader: str | None = None) -> TransportError:
    """The ``TransportError`` for a PC/SC return code (like httpx's map_httpcore_exceptions)."""
    code = hresult & 0xFFFFFFFF
    on = f" on reader {reader!r}" if reader else ""
    suffix = f"(PC/SC {action}, 0x{code:08X})"
    if code in (SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED):
        return PCSCUnavailableError(f"the PC/SC daemon (pcscd) is not running: start it {suffix}")
    if code == SCARD_E_NO_READERS_AVAILABLE:
        return NoReaderError(f"no smart-card reader is connected {suffix}")
    if code in (SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE):
        return NoReaderError(f"reader {reader!r} is not connected {suffix}")
    if code == SCARD_E_NO_SMARTCARD:
        return NoCardError(f"no card{on}: place the card on the reader {suffix}")
    if code in _REMOVED:
        return CardRemovedError(f"the card was removed{on} {suffix}")
    if code == SCARD_E_SHARING_VIOLATION:
        return ReaderBusyError(f"reader {reader!r} is in use by another application {suffix}")
    if code == SCARD_E_TIMEOUT:
        return TransportTimeoutError(f"the reader did not answer in time {suffix}")
    if code == SCARD_W_UNRESPONSIVE_CARD:
        return CardUnresponsiveError(
            f"the card{on} does not answer: place it flat on the reader {suffix}"
        )
    if code == SCARD_E_PROTO_MISMATCH:
        return TransportError(f"the card speaks neither T=1 nor T=0 {suffix}")
    if code in (SCARD_E_NOT_TRANSACTED, SCARD_F_COMM_ERROR):
        return TransportError(f"the card did not answer the command{on} {suffix}")
    return TransportError(f"PC/SC {action} failed{on} (0x{code:08X})")


def scard() -> ModuleType:
    """pyscard's low-level ``smartcard.scard`` module, imported on first use."""
    try:
        from smartcard import scard as module
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise PCSCUnavailableError(
            "pyscard is not installed: pip install 'cccd[pcsc]' (needs libpcsclite-dev)"
        ) from exc
    return module  # type: ignore[no-any-return]


def establish_context() -> int:
    """A PC/SC context; ``PCSCUnavailableError`` when pcscd is not running."""
    s = scard()
    hresult, context = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
    if hresult != SCARD_S_SUCCESS:
        raise translate(hresult, "SCardEstablishContext")
    return int(context)


def release_context(context: int) -> None:
    scard().SCardReleaseContext(context)


def _list(context: int) -> list[str]:
    hresult, names = scard().SCardListReaders(context, [])
    if hresult in (SCARD_E_NO_READERS_AVAILABLE, SCARD_E_READER_UNAVAILABLE):
        return []
    if hresult != SCARD_S_SUCCESS:
        raise translate(hresult, "SCardListReaders")
    return [str(name) for name in names]


def list_readers() -> list[str]:
    """The names of the connected readers (empty when there are none)."""
    context = establish_context()
    try:
        return _list(context)
    finally:
        release_context(context)


# -- ATR ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ATRInfo:
    """What the ATR says (ISO/IEC 7816-3 §8.2, 7816-4 §8.1.1): offered protocols, historical
    bytes, and extended-length support when the card-capabilities object states it."""

    protocols: tuple[int, ...]
    historical: bytes
    extended_length: bool | None


def parse_atr(atr: bytes) -> ATRInfo:
    """Parse an ATR leniently: anything malformed yields "unknown" rather than an error."""
    protocols: list[int] = []
    if len(atr) < 2:
        return ATRInfo(protocols=(), historical=b"", extended_length=None)
    t0 = atr[1]
    count = t0 & 0x0F
    indicator = t0 >> 4
    position = 2
    first = True
    while True:
        position += bin(indicator & 0x07).count("1")  # TA, TB, TC
        if not indicator & 0x08:
            break
        if position >= len(atr):
            return ATRInfo(protocols=tuple(protocols), historical=b"", extended_length=None)
        td = atr[position]
        position += 1
        protocols.append(td & 0x0F)
        indicator = td >> 4
        first = False
    if first or not protocols:
        protocols = [0]  # no TD1: T=0 only
    historical = atr[position : position + count]
    return ATRInfo(
        protocols=tuple(dict.fromkeys(protocols)),
        historical=bytes(historical),
        extended_length=_extended_from_historical(bytes(historical)),
    )


def _extended_from_historical(historical: bytes) -> bool | None:
    """The card-capabilities object (compact-TLV tag 7, third byte, bit b7) if present."""
    if not historical or historical[0] not in (0x00, 0x80):
        return None  # proprietary historical bytes (or a DIR reference): nothing stated
    body = historical[1:]
    if historical[0] == 0x00:
        body = body[:-3]  # the mandatory status indicator at the end
    position = 0
    while position < len(body):
        tag, length = body[position] >> 4, body[position] & 0x0F
        value = body[position + 1 : position + 1 + length]
        if len(value) < length:
            return None
        if tag == 0x7:
            if length < 3:
                return None  # the capability byte that would say it is absent
            return bool(value[2] & 0x40)
        position += 1 + length
    return None


# -- the worker thread ----------------------------------------------------------------------
class _Worker:
    """One daemon thread running PC/SC calls, so a call that never returns cannot block the
    caller (or keep the interpreter from exiting)."""

    def __init__(self, name: str) -> None:
        self._requests: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._requests.get()
            if job is None:
                return
            job()

    def call(self, function: Callable[[], T], timeout: float) -> T:
        done = threading.Event()
        box: list[Any] = []

        def job() -> None:
            try:
                box.append((True, function()))
            except BaseException as exc:  # handed to the caller's thread
                box.append((False, exc))
            done.set()

        self._requests.put(job)
        if not done.wait(timeout):
            raise TransportTimeoutError(f"the card did not answer within {timeout:g} s")
        ok, value = box[0]
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def submit(self, function: Callable[[], object]) -> None:
        def job() -> None:
            function()

        self._requests.put(job)

    def stop(self) -> None:
        self._requests.put(None)


# -- the transport --------------------------------------------------------------------------
class PCSCTransport:
    """A card in a PC/SC reader, held exclusively until ``close()``.

    ``timeout`` bounds every APDU (seconds). ``shared=True`` opens the card in shared mode
    (for diagnostics next to another application), at the risk of interleaved commands.
    """

    def __init__(
        self,
        reader_name: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        shared: bool = False,
        connect_timeout: float = 5.0,
        extended_length: bool | None = None,
    ) -> None:
        s = scard()
        self.reader_name = reader_name
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._share = s.SCARD_SHARE_SHARED if shared else s.SCARD_SHARE_EXCLUSIVE
        self._worker = _Worker(f"pcsc:{reader_name}")
        self._closed = False
        self._hung = False
        self._context = self._worker.call(establish_context, connect_timeout)
        try:
            names = self._worker.call(lambda: _list(self._context), connect_timeout)
            if reader_name not in names:
                known = ", ".join(repr(n) for n in names) or "none"
                raise NoReaderError(f"reader {reader_name!r} is not connected (readers: {known})")
            self._handle, self._protocol = self._worker.call(
                lambda: self._connect(self._share), connect_timeout
            )
            self._card_state = self._worker.call(self._reader_state, connect_timeout)
        except BaseException:
            self._release(disconnect=False)
            raise
        self._known_extended = extended_length
        self._after_connect()
        log.debug(
            "connected to %s with %s, extended length %s",
            reader_name,
            self.protocol,
            self.extended_length,
        )

    def _after_connect(self) -> None:
        s = scard()
        self.atr = self._card_state[1]
        self.atr_info = parse_atr(self.atr)
        # T=0 carries no extended APDUs without ENVELOPE, which we do not implement.
        self.extended_length: bool | None = (
            False
            if self._protocol == s.SCARD_PROTOCOL_T0
            else self._known_extended
            if self._known_extended is not None
            else self.atr_info.extended_length
        )

    @property
    def protocol(self) -> str:
        return "T=0" if self._protocol == scard().SCARD_PROTOCOL_T0 else "T=1"

    def _connect(self, share: int) -> tuple[int, int]:
        s = scard()
        hresult = SCARD_E_PROTO_MISMATCH
        for protocols in (s.SCARD_PROTOCOL_T1, s.SCARD_PROTOCOL_T0):
            hresult, handle, protocol = s.SCardConnect(
                self._context, self.reader_name, share, protocols
            )
            if hresult == SCARD_S_SUCCESS:
                return int(handle), int(protocol)
            if hresult != SCARD_E_PROTO_MISMATCH:
                break
        raise translate(hresult, "SCardConnect", self.reader_name)

    def _reader_state(self) -> tuple[int, bytes]:
        s = scard()
        hresult, states = s.SCardGetStatusChange(
            self._context, 0, [(self.reader_name, s.SCARD_STATE_UNAWARE)]
        )
        if hresult != SCARD_S_SUCCESS:
            raise translate(hresult, "SCardGetStatusChange", self.reader_name)
        _, event_state, atr = states[0]
        return int(event_state), bytes(atr)

    # -- Transport ------------------------------------------------------------------------
    def transmit(self, apdu: bytes) -> bytes:
        if self._closed:
            raise TransportError("the PC/SC transport is closed")
        if self._hung:
            raise TransportTimeoutError(
                "an earlier command never got an answer: remove and re-insert the card"
            )
        apdu = bytes(apdu)
        extended = _is_extended(apdu)
        if extended and self.extended_length is False:
            return WRONG_LENGTH  # as a chip refusing extended length: the ladder steps down
        try:
            answer = self._transmit_t0(apdu) if self.protocol == "T=0" else self._send(apdu)
        except CardRemovedError:
            raise
        except TransportTimeoutError:
            self._hung = True
            raise
        except TransportError as exc:
            if self._card_removed():
                raise CardRemovedError(
                    f"the card was removed from reader {self.reader_name!r} during a command"
                ) from exc
            if extended and self.extended_length is not False:
                log.info("extended APDU failed at the reader (%s): using short APDUs", exc)
                self.extended_length = False
                self._known_extended = False
                raise ExtendedLengthError(
                    f"reader {self.reader_name!r} failed an extended-length command: {exc}"
                ) from exc
            raise
        if (
            extended
            and self.extended_length is None
            and (answer[-2:] == b"\x90\x00" or len(answer) > 258)
        ):
            self.extended_length = True
        return answer

    def _send(self, apdu: bytes) -> bytes:
        s = scard()
        handle, protocol = self._handle, self._protocol
        command = list(apdu)

        def call() -> tuple[int, list[int]]:
            result: tuple[int, list[int]] = s.SCardTransmit(handle, protocol, command)
            return result

        hresult, response = self._worker.call(call, self.timeout)
        if hresult != SCARD_S_SUCCESS:
            raise translate(hresult, "SCardTransmit", self.reader_name)
        if len(response) < 2:
            raise TransportError(
                f"reader {self.reader_name!r} returned {len(response)} bytes, no status word"
            )
        return bytes(response)

    def _transmit_t0(self, apdu: bytes) -> bytes:
        """ISO/IEC 7816-3 §10.3.3: collect 61xx with GET RESPONSE, re-issue on 6Cxx."""
        return t0_transmit(self._send, apdu)

    def _card_removed(self) -> bool:
        """After a failed command: did the card leave? Waits (bounded) for pcscd to notice."""
        s = scard()
        known_state, _ = self._card_state
        deadline = time.monotonic() + REMOVAL_CHECK_SECONDS
        state = known_state
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            wait = functools.partial(
                s.SCardGetStatusChange,
                self._context,
                int(remaining * 1000),
                [(self.reader_name, state)],
            )
            try:
                hresult, states = self._worker.call(wait, remaining + 1.0)
            except TransportError:
                return False
            if hresult == SCARD_E_TIMEOUT:
                return False
            if hresult != SCARD_S_SUCCESS:
                return hresult in (SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE)
            state = int(states[0][1])
            if state & s.SCARD_STATE_EMPTY or (state >> 16) != (known_state >> 16):
                return True
            state &= ~s.SCARD_STATE_CHANGED

    def reconnect(self, timeout: float = 10.0) -> bool:
        """Connect to the card on the reader afresh, waiting up to ``timeout`` seconds for
        one: a warm reset when the card stayed (SCardReconnect with SCARD_RESET_CARD), else a
        new connection once a card is back. False when none came in time."""
        if self._closed or self._hung:
            return False
        s = scard()
        deadline = time.monotonic() + timeout

        def warm_reset() -> int:
            hresult, protocol = s.SCardReconnect(
                self._handle, self._share, self._protocol, s.SCARD_RESET_CARD
            )
            if hresult == SCARD_S_SUCCESS:
                self._protocol = int(protocol)
            return int(hresult)

        if self._worker.call(warm_reset, self.connect_timeout) == SCARD_S_SUCCESS:
            self._card_state = self._worker.call(self._reader_state, self.connect_timeout)
            self._after_connect()
            return True
        handle = self._handle
        self._worker.call(lambda: s.SCardDisconnect(handle, s.SCARD_LEAVE_CARD), 5.0)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                self._handle, self._protocol = self._worker.call(
                    lambda: self._connect(self._share), self.connect_timeout
                )
            except (NoCardError, CardRemovedError, CardUnresponsiveError, ReaderBusyError):
                time.sleep(min(0.1, max(remaining, 0)))
                continue
            self._card_state = self._worker.call(self._reader_state, self.connect_timeout)
            self._after_connect()
            log.debug("reconnected to %s", self.reader_name)
            return True

    def close(self) -> None:
        """Reset the card (the next session starts at power-up) and release the reader."""
        if self._closed:
            return
        self._closed = True
        self._release(disconnect=True)

    def _release(self, *, disconnect: bool) -> None:
        s = scard()
        handle = getattr(self, "_handle", None)
        context = self._context if hasattr(self, "_context") else None

        def release() -> None:
            if disconnect and handle is not None:
                s.SCardDisconnect(handle, s.SCARD_RESET_CARD)
            if context is not None:
                s.SCardReleaseContext(context)

        if self._hung:
            # The worker is stuck in a transmit; it will release once the card goes away.
            self._worker.submit(release)
        else:
            try:
                self._worker.call(release, 5.0)
            except TransportError:
                log.debug("releasing reader %s timed out", self.reader_name)
        self._worker.stop()

    def __enter__(self) -> PCSCTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PCSCTransport({self.reader_name!r}, {self.protocol})"


def _is_extended(apdu: bytes) -> bool:
    """ISO/IEC 7816-4 §5.1: a body starting with 00 and longer than one byte."""
    return len(apdu) > 5 and apdu[4] == 0x00


__all__ = [
    "ATRInfo",
    "CardUnresponsiveError",
    "NoCardError",
    "NoReaderError",
    "PCSCTransport",
    "PCSCUnavailableError",
    "ReaderBusyError",
    "establish_context",
    "list_readers",
    "parse_atr",
    "translate",
]
