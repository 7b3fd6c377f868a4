"""The T=0 transmission protocol's answers seen from the terminal (ISO/IEC 7816-3 §10.3.3,
ISO/IEC 7816-4 §5.3.4 GET RESPONSE): ``61xx`` says xx more bytes wait for GET RESPONSE,
``6Cxx`` on a case-2 command says "send it again with Le = xx".

``T0Exchange`` is the sans-I/O state: given the command and each answer it says what to send
next, or the final answer (the collected data and the last status word). ``t0_transmit``
drives it with any ``send`` function; ``T0Transport`` puts it in front of a ``Transport``.
T=1 cards rarely answer 61xx, but when they do the data must be fetched the same way, so the
reader always runs answers through it.
"""

from __future__ import annotations

from collections.abc import Callable

from reader.drivers.transport import Transport
from reader.errors import ProtocolError

MAX_ROUNDS = 64  # 64 GET RESPONSEs of 256 bytes: far more than any eMRTD answer
MAX_DATA = 65536 + 256


class T0Exchange:
    """One command's exchange. ``next(answer)`` returns ``(command_to_send, None)`` while the
    card wants GET RESPONSE or a re-issue, then ``(None, final_answer)``."""

    def __init__(self, command: bytes) -> None:
        self.command = bytes(command)
        self._data = bytearray()
        self._rounds = 0
        self._reissued = False

    def next(self, answer: bytes) -> tuple[bytes | None, bytes | None]:
        if len(answer) < 2:
            raise ProtocolError(f"answer of {len(answer)} bytes has no status word")
        sw1, sw2 = answer[-2], answer[-1]
        self._rounds += 1
        if self._rounds > MAX_ROUNDS:
            raise ProtocolError("the card keeps asking for GET RESPONSE")
        if sw1 == 0x61:
            self._data += answer[:-2]
            if len(self._data) > MAX_DATA:
                raise ProtocolError("the card's GET RESPONSE data exceeds any APDU answer")
            return bytes([self.command[0] & 0x03, 0xC0, 0x00, 0x00, sw2]), None
        if sw1 == 0x6C and self._is_case_2() and not self._reissued:
            # Re-issue once with the exact length the card names (00: 256).
            self._reissued = True
            return self.command[:4] + bytes([sw2]), None
        return None, bytes(self._data) + bytes(answer)

    def _is_case_2(self) -> bool:
        return len(self.command) == 5


def t0_transmit(send: Callable[[bytes], bytes], command: bytes) -> bytes:
    """Send ``command``, following 61xx and 6Cxx until the card gives its final answer."""
    exchange = T0Exchange(command)
    answer = send(command)
    while True:
        following, final = exchange.next(answer)
        if final is not None:
            return final
        assert following is not None
        answer = send(following)


class T0Transport:
    """A ``Transport`` that resolves 61xx / 6Cxx in front of another one."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner

    def transmit(self, apdu: bytes) -> bytes:
        return t0_transmit(self.inner.transmit, apdu)

    def close(self) -> None:
        self.inner.close()


__all__ = ["T0Exchange", "T0Transport", "t0_transmit"]
