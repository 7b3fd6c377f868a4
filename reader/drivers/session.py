"""An open chip (docs/architecture.md data path steps 2 and 3): the channel that counts what
passes, sends under secure messaging once it is up (ICAO 9303-11 §9.8), tells a reader that
cannot carry extended length from other transport failures, and reads files with the READ
BINARY engine of :mod:`reader.drivers.read_binary`. :mod:`reader.drivers.access` opens it.
"""

from __future__ import annotations

from dataclasses import dataclass

from reader.apdu import Command, Response
from reader.drivers.read_binary import ReadBinaryEngine, ReadOptions, is_extended
from reader.drivers.t0 import t0_transmit
from reader.drivers.transport import Transport
from reader.errors import (
    CardRemovedError,
    ExtendedLengthError,
    TransportError,
    TransportTimeoutError,
)
from reader.profile import AtrInfo
from reader.protocol.sm import SecureMessaging


@dataclass(slots=True)
class ApduStats:
    apdus: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0


class CountingTransport:
    """Counts what passes through to the real transport, and resolves T=0's 61xx / 6Cxx
    (``reader.drivers.t0``) so every layer above sees whole answers."""

    def __init__(self, inner: Transport, stats: ApduStats) -> None:
        self.inner = inner
        self.stats = stats

    def _send(self, apdu: bytes) -> bytes:
        self.stats.apdus += 1
        self.stats.bytes_sent += len(apdu)
        answer = self.inner.transmit(apdu)
        self.stats.bytes_received += len(answer)
        return answer

    def transmit(self, apdu: bytes) -> bytes:
        return t0_transmit(self._send, apdu)

    def close(self) -> None:
        self.inner.close()


@dataclass(slots=True)
class AccessReport:
    """What access control ran, and why (a PACE->BAC fallback is never silent)."""

    protocol: str = ""
    pace_offered: bool = False
    pace_parameters: str | None = None
    fallback_reason: str | None = None
    card_access: bytes | None = None
    atr_info: AtrInfo | None = None  # None: not read (or the chip has none)
    atr_info_read: bool = False


class Session(ReadBinaryEngine):
    """An open chip: secure messaging is up (or, for tests, deliberately not)."""

    def __init__(
        self,
        transport: Transport,
        sm: SecureMessaging | None,
        access: AccessReport,
        options: ReadOptions,
        stats: ApduStats,
    ) -> None:
        super().__init__(options)
        self.transport = transport
        self.sm = sm
        self.access = access
        self.stats = stats

    @property
    def access_protocol(self) -> str:
        return self.access.protocol

    @property
    def fallback_reason(self) -> str | None:
        return self.access.fallback_reason

    # -- sending --------------------------------------------------------------------------
    def send(self, command: Command) -> Response:
        """Send one command, under secure messaging when it is up. Bare error SWs raise."""
        if self.sm is None:
            return Response.parse(self._transmit(command.to_bytes()))
        return self.sm.transmit(self._transmit, command)

    def _transmit(self, apdu: bytes) -> bytes:
        extended = is_extended(apdu)
        try:
            answer = self.transport.transmit(apdu)
        except (CardRemovedError, TransportTimeoutError, ExtendedLengthError):
            raise
        except TransportError as exc:
            if extended:
                raise ExtendedLengthError(
                    f"the reader failed an extended-length command: {exc}"
                ) from exc
            raise
        if extended and answer[-2:] != b"\x67\x00" and self.learned.extended_length is None:
            self.learned.extended_length = True
        self.learned.largest_answer = max(self.learned.largest_answer, len(answer))
        return answer

    def replace_sm(self, sm: SecureMessaging) -> None:
        """Continue with new keys (after Chip Authentication)."""
        self.sm = sm


__all__ = ["AccessReport", "ApduStats", "CountingTransport", "Session"]
