"""Command and response APDUs, ISO/IEC 7816-4 §5.1 (cases 1-4, short and extended length,
command chaining) and the status words an eMRTD reader meets (ICAO 9303-11, docs/spec
``cccd-chip.md`` "Status words").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from reader.errors import AccessDeniedError, ProtocolError, StatusWordError

SHORT_MAX = 256
EXTENDED_MAX = 65536


class SW(IntEnum):
    """Status words with names (ISO/IEC 7816-4 §5.1.3)."""

    OK = 0x9000
    END_OF_FILE = 0x6282
    VERIFICATION_FAILED = 0x6300
    MEMORY_FAILURE = 0x6581
    WRONG_LENGTH = 0x6700
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_NOT_USABLE = 0x6984
    CONDITIONS_NOT_SATISFIED = 0x6985
    SM_DATA_MISSING = 0x6987
    SM_DATA_INCORRECT = 0x6988
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    INCORRECT_P1P2 = 0x6A86
    REFERENCED_DATA_NOT_FOUND = 0x6A88
    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    UNKNOWN = 0x6F00


_MEANINGS = {
    0x6282: "end of file reached before Le bytes",
    0x6300: "verification failed (wrong access key)",
    0x6700: "wrong length",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6985: "conditions of use not satisfied",
    0x6987: "expected secure-messaging data objects missing",
    0x6988: "secure-messaging data objects incorrect",
    0x6A80: "incorrect data",
    0x6A82: "file not found",
    0x6A86: "incorrect P1-P2",
    0x6A88: "referenced data not found",
    0x6B00: "wrong parameters P1-P2 (offset beyond the file)",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
}

ACCESS_DENIED = frozenset({0x6300, 0x6982, 0x6983})


def describe_sw(sw: int) -> str:
    if sw & 0xFF00 == 0x6100:
        return f"{sw & 0xFF} more bytes available"
    if sw & 0xFF00 == 0x6C00:
        return f"wrong Le; exact length is {sw & 0xFF or 256}"
    if sw & 0xFFF0 == 0x63C0:
        return f"verification failed, {sw & 0xF} tries left"
    return _MEANINGS.get(sw, "unknown status word")


def status_error(sw: int, context: str = "") -> StatusWordError:
    """The typed error for a status word (``AccessDeniedError`` for 6300/6982/63Cx...)."""
    text = f"{context + ': ' if context else ''}card answered {sw:04X} ({describe_sw(sw)})"
    if sw in ACCESS_DENIED or sw & 0xFFF0 == 0x63C0:
        return AccessDeniedError(sw, text)
    return StatusWordError(sw, text)


@dataclass(frozen=True, slots=True)
class Response:
    """A response APDU split into data and status word."""

    data: bytes
    sw: int

    @classmethod
    def parse(cls, raw: bytes) -> Response:
        if len(raw) < 2:
            raise ProtocolError(f"response APDU of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000

    def check(self, context: str = "") -> bytes:
        """The data when SW is 9000; the typed error otherwise."""
        if self.sw != 0x9000:
            raise status_error(self.sw, context)
        return self.data

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")


@dataclass(frozen=True, slots=True)
class Command:
    """A command APDU. ``le`` is the number of bytes expected (None: case 1/3; 256 or
    65536 encode as 00 / 0000)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    extended: bool | None = None  # None: choose the shortest encoding that fits

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise ValueError(f"{name} out of range")
        if len(self.data) > 65535:
            raise ValueError("command data longer than 65535 bytes")
        if self.le is not None and not 1 <= self.le <= EXTENDED_MAX:
            raise ValueError("Le must be 1..65536")

    @property
    def is_extended(self) -> bool:
        if self.extended is not None:
            return self.extended
        return len(self.data) > 255 or (self.le is not None and self.le > SHORT_MAX)

    def to_bytes(self) -> bytes:
        header = bytes([self.cla, self.ins, self.p1, self.p2])
        ext = self.is_extended
        if not ext and (len(self.data) > 255 or (self.le or 0) > SHORT_MAX):
            raise ValueError("command does not fit a short APDU")
        body = b""
        if self.data:
            if ext:
                body += b"\x00" + len(self.data).to_bytes(2, "big")
            else:
                body += bytes([len(self.data)])
            body += self.data
        if self.le is not None:
            if ext:
                le_bytes = (self.le % EXTENDED_MAX).to_bytes(2, "big")
                body += le_bytes if self.data else b"\x00" + le_bytes
            else:
                body += bytes([self.le % SHORT_MAX])
        return header + body

    @classmethod
    def parse(cls, raw: bytes) -> Command:
        """Decode a command APDU (all four cases, short and extended)."""
        raw = bytes(raw)
        if len(raw) < 4:
            raise ProtocolError("command APDU shorter than 4 bytes")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, le=body[0] or SHORT_MAX, extended=False)
        if body[0] == 0 and len(body) >= 3:
            if len(body) == 3:
                return cls(
                    cla,
                    ins,
                    p1,
                    p2,
                    le=int.from_bytes(body[1:3], "big") or EXTENDED_MAX,
                    extended=True,
                )
            lc = int.from_bytes(body[1:3], "big")
            rest = body[3:]
            if lc == 0 or len(rest) not in (lc, lc + 2):
                raise ProtocolError("inconsistent extended Lc")
            data = rest[:lc]
            le = None
            if len(rest) == lc + 2:
                le = int.from_bytes(rest[lc:], "big") or EXTENDED_MAX
            return cls(cla, ins, p1, p2, data=data, le=le, extended=True)
        lc = body[0]
        rest = body[1:]
        if lc == 0 or len(rest) not in (lc, lc + 1):
            raise ProtocolError("inconsistent short Lc")
        data = rest[:lc]
        le = (rest[lc] or SHORT_MAX) if len(rest) == lc + 1 else None
        return cls(cla, ins, p1, p2, data=data, le=le, extended=False)


CHAINING_BIT = 0x10


def chain(command: Command, chunk: int = 255) -> list[Command]:
    """Split a command's data with ISO 7816-4 command chaining (CLA bit 0x10 on all but last)."""
    if len(command.data) <= chunk:
        return [command]
    parts = [command.data[i : i + chunk] for i in range(0, len(command.data), chunk)]
    out = [
        Command(command.cla | CHAINING_BIT, command.ins, command.p1, command.p2, part)
        for part in parts[:-1]
    ]
    out.append(Command(command.cla, command.ins, command.p1, command.p2, parts[-1], command.le))
    return out


def select_file(fid: int, *, p1: int = 0x02) -> Command:
    """SELECT EF by file identifier, no response data (P2=0C)."""
    return Command(0x00, 0xA4, p1, 0x0C, fid.to_bytes(2, "big"))


def select_aid(aid: bytes) -> Command:
    """SELECT by DF name (the eMRTD applet), no response data."""
    return Command(0x00, 0xA4, 0x04, 0x0C, aid)


def read_binary(offset: int, le: int, *, sfi: int | None = None) -> Command:
    """READ BINARY: by SFI (P1 bit 8 set, offset < 256), by offset < 32768 (B0), or odd INS B1
    with the offset in DO'54' beyond that."""
    if sfi is not None:
        if offset > 0xFF:
            raise ValueError("SFI reads address offsets up to 255")
        return Command(0x00, 0xB0, 0x80 | sfi, offset, le=le)
    if offset <= 0x7FFF:
        return Command(0x00, 0xB0, offset >> 8, offset & 0xFF, le=le)
    do54 = (
        b"\x54"
        + bytes([3 if offset > 0xFFFF else 2])
        + offset.to_bytes(3 if offset > 0xFFFF else 2, "big")
    )
    return Command(0x00, 0xB1, 0x00, 0x00, do54, le=le)


def get_challenge(length: int = 8) -> Command:
    return Command(0x00, 0x84, 0x00, 0x00, le=length)
