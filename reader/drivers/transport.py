"""The one-method transport every card talk goes through, and a strict replay transport for
tests (in the spirit of httpx's MockTransport)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from reader.errors import TransportError


@runtime_checkable
class Transport(Protocol):
    """Sends one command APDU, returns the response (data + SW1 SW2)."""

    def transmit(self, apdu: bytes) -> bytes: ...

    def close(self) -> None: ...


class ReplayMismatchError(TransportError):
    """The command sent differs from the one recorded (or none was recorded)."""


class ReplayTransport:
    """Replays ordered (command, response) pairs; any deviation raises, showing both."""

    def __init__(self, pairs: Iterable[tuple[bytes | str, bytes | str]]) -> None:
        self._pairs = [(_as_bytes(c), _as_bytes(r)) for c, r in pairs]
        self._position = 0
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> bytes:
        apdu = bytes(apdu)
        self.sent.append(apdu)
        if self._position >= len(self._pairs):
            raise ReplayMismatchError(
                f"command #{self._position + 1} not in the recording: sent {apdu.hex().upper()}"
            )
        expected, response = self._pairs[self._position]
        if apdu != expected:
            raise ReplayMismatchError(
                f"command #{self._position + 1} differs: expected {expected.hex().upper()}, "
                f"sent {apdu.hex().upper()}"
            )
        self._position += 1
        return response

    @property
    def finished(self) -> bool:
        return self._position == len(self._pairs)

    def close(self) -> None:
        """Nothing to release."""


def _as_bytes(value: bytes | str) -> bytes:
    return bytes.fromhex(value) if isinstance(value, str) else bytes(value)
