"""What a reader (with one kind of card, known by its ATR) is known to do, so the next read
starts where the last one ended: extended length works or not, the read size that works, the
largest answer seen, T=0 or T=1, what EF.ATR/INFO says (ISO/IEC 7816-4 §12.7.1 extended
length information DO'7F66', §12.1.1 card capabilities DO'47'; ICAO 9303-10 §3.11.1).

Pure data: ``ReaderProfile`` is built from and turned into JSON-ready dicts (bounded, typed,
anything unexpected dropped); the file that keeps them lives in the service.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from reader import tlv
from reader.errors import ParseError

if TYPE_CHECKING:
    from reader.drivers.read_binary import ReadOptions

MAX_ATR_INFO = 1024
SHORT_ANSWER = 258
SM_OVERHEAD = 48  # DO'87' header, padding and indicator, DO'99', DO'8E', SW: at most 44
RECOVERY_CAUSES = ("extended_length", "card_lost", "different_card")


@dataclass(frozen=True, slots=True, kw_only=True)
class AtrInfo:
    """The parts of EF.ATR/INFO a reader uses."""

    extended_length: bool | None = None  # DO'47' third byte, b7
    max_command: int | None = None  # DO'7F66': bytes in a command APDU
    max_response: int | None = None  # DO'7F66': bytes in a response APDU

    def to_json(self) -> dict[str, Any]:
        return {
            "extended_length": self.extended_length,
            "max_command": self.max_command,
            "max_response": self.max_response,
        }


def parse_atr_info(raw: bytes) -> AtrInfo:
    """EF.ATR/INFO's data objects; ``ParseError`` when it is not BER-TLV."""
    if len(raw) > MAX_ATR_INFO:
        raise ParseError(f"EF.ATR/INFO of {len(raw)} bytes is longer than any real one")
    extended: bool | None = None
    max_command = max_response = None
    for element in tlv.decode(raw, max_elements=32):
        if element.tag == 0x47 and len(element.value) >= 3:
            extended = bool(element.value[2] & 0x40)
        elif element.tag == 0x7F66:
            numbers = [
                int.from_bytes(inner.value, "big")
                for inner in tlv.decode(element.value, max_elements=4)
                if inner.tag == 0x02 and 0 < len(inner.value) <= 3
            ]
            if len(numbers) >= 2:
                max_command, max_response = numbers[0], numbers[1]
                extended = extended if extended is not None else max_response > 258
    return AtrInfo(extended_length=extended, max_command=max_command, max_response=max_response)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReaderProfile:
    """What worked on one reader with one kind of card."""

    extended_length: bool | None = None  # None: not known yet
    max_read: int | None = None  # the READ BINARY size that worked
    largest_answer: int = 0  # the longest response APDU received, in bytes
    protocol: str | None = None  # "T=0" / "T=1" when the transport says
    atr_info: AtrInfo | None = None
    atr_info_checked: bool = False  # EF.ATR/INFO looked for (absent when atr_info is None)
    reads: int = 0
    recoveries: dict[str, int] = field(default_factory=dict)  # cause -> times

    def options(self, base: ReadOptions) -> ReadOptions:
        """``base`` with what is known applied: no failed probe on a known reader."""
        extended = self.extended_length
        max_read = self.max_read
        if self.atr_info is not None:
            if extended is None:
                extended = self.atr_info.extended_length
            response = self.atr_info.max_response
            if max_read is None and response is not None and response > SHORT_ANSWER:
                max_read = response - SM_OVERHEAD  # what fits its answer under SM
        return replace(
            base,
            extended_length=extended if base.extended_length is None else base.extended_length,
            max_read=max_read if base.max_read is None else base.max_read,
            read_atr_info=base.read_atr_info or not self.atr_info_checked,
        )

    def learn(
        self,
        *,
        extended_length: bool | None,
        max_read: int | None,
        largest_answer: int,
        protocol: str | None,
        atr_info: AtrInfo | None,
        atr_info_checked: bool,
        recoveries: list[str],
    ) -> ReaderProfile:
        """This profile updated with what one read found."""
        counts = dict(self.recoveries)
        for cause in recoveries:
            counts[cause] = counts.get(cause, 0) + 1
        return ReaderProfile(
            extended_length=extended_length
            if extended_length is not None
            else self.extended_length,
            max_read=max_read or self.max_read,
            largest_answer=max(self.largest_answer, largest_answer),
            protocol=protocol or self.protocol,
            atr_info=atr_info if atr_info_checked else self.atr_info,
            atr_info_checked=self.atr_info_checked or atr_info_checked,
            reads=self.reads + 1,
            recoveries=counts,
        )

    # -- JSON -----------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "extended_length": self.extended_length,
            "max_read": self.max_read,
            "largest_answer": self.largest_answer,
            "protocol": self.protocol,
            "atr_info": self.atr_info.to_json() if self.atr_info else None,
            "atr_info_checked": self.atr_info_checked,
            "reads": self.reads,
            "recoveries": dict(self.recoveries),
        }

    @classmethod
    def from_json(cls, data: Any) -> ReaderProfile:
        """Lenient: a field of the wrong type is dropped (the reader probes it again)."""
        if not isinstance(data, dict):
            return cls()
        info = data.get("atr_info")
        atr_info = None
        if isinstance(info, dict):
            atr_info = AtrInfo(
                extended_length=_bool(info.get("extended_length")),
                max_command=_size(info.get("max_command")),
                max_response=_size(info.get("max_response")),
            )
        recoveries = data.get("recoveries")
        return cls(
            extended_length=_bool(data.get("extended_length")),
            max_read=_size(data.get("max_read")),
            largest_answer=_size(data.get("largest_answer")) or 0,
            protocol=data.get("protocol") if data.get("protocol") in ("T=0", "T=1") else None,
            atr_info=atr_info,
            atr_info_checked=data.get("atr_info_checked") is True,
            reads=_size(data.get("reads")) or 0,
            recoveries={
                cause: count
                for cause, count in (recoveries.items() if isinstance(recoveries, dict) else ())
                if cause in RECOVERY_CAUSES and isinstance(count, int) and 0 <= count < 2**31
            },
        )


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _size(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 2**31:
        return None
    return value


__all__ = ["AtrInfo", "ReaderProfile", "parse_atr_info"]
