"""The READ BINARY engine (ISO/IEC 7816-4 §11.2, ICAO 9303-10 §3 file selection): whole files
in few round trips. The first READ BINARY takes the header and as much of the file as allowed,
extended length where chip and reader accept it, and a ladder of smaller sizes on 6700 / 6Cxx /
short answers, remembered for the session; SFI reads where the chip takes them, odd INS B1
past offset 32767. docs/spec/cccd-chip.md describes what CCCD chips and readers accept.

What a read learns about the reader (extended length works or not, the largest answer, the
read size) is kept in ``learned`` so the caller can remember it per reader (``reader.profile``)
and start the next read where this one ended. :class:`reader.drivers.session.Session` is this
engine over a channel to the chip.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from reader import tlv
from reader.apdu import Command, Response, read_binary, select_file, status_error
from reader.errors import ParseError, StatusWordError
from reader.files import file_info
from reader.protocol.sm import SecureMessaging, max_plain_for_short

log = logging.getLogger(__name__)

DEFAULT_LADDER = (65535, 4096, 1024, 256, 231, 223, 160, 128)
MAX_FILE_SIZE = 512 * 1024
MAX_APDUS_PER_FILE = 4096
SW_END_OF_FILE = 0x6282
SW_OFFSET_BEYOND_END = 0x6B00
# What chips answer an SFI READ BINARY they do not support (6A82 too: try the FID to be sure).
SFI_NOT_SUPPORTED = frozenset({0x6A81, 0x6A82, 0x6A86, 0x6B00, 0x6D00, 0x6E00, 0x6986})
WRONG_LENGTH = 0x6700


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadOptions:
    """How files are selected and read. The defaults are the fast path; ``worked_example()``
    reproduces ICAO 9303-11 Appendix D byte for byte."""

    ladder: tuple[int, ...] = DEFAULT_LADDER
    first_read: int | None = None  # bytes for the first READ BINARY; None: the current rung
    use_sfi: bool = True  # READ BINARY by SFI selects and reads in one APDU
    read_card_access: bool = True
    select_applet: bool = True
    allow_pace: bool = True
    allow_fallback_to_bac: bool = False
    # What is known about the reader (``reader.profile.ReaderProfile.options``):
    extended_length: bool | None = None  # False: never send an extended-length APDU
    max_read: int | None = None  # the read size known to work; None: probe
    read_atr_info: bool = False  # read EF.ATR/INFO first (on by a ReaderProfile that lacks it)

    @classmethod
    def worked_example(cls) -> ReadOptions:
        return cls(
            first_read=4, read_card_access=False, select_applet=False, ladder=(255,), use_sfi=False
        )


@dataclass(slots=True)
class Learned:
    """What this session found out about the reader and card (for ``reader.profile``)."""

    extended_length: bool | None = None
    largest_answer: int = 0
    max_read: int | None = None


@dataclass(slots=True)
class PartialFile:
    """The part of a file read before the read was cut short: resumed at its offset."""

    name: str
    data: bytearray
    total: int


ProgressFn = Callable[[str, int, int], None]


class ReadBinaryEngine:
    """Selecting and reading files over :meth:`send`, which the channel below provides."""

    sm: SecureMessaging | None

    def __init__(self, options: ReadOptions) -> None:
        self.options = options
        self._rung = 0
        self._cap = options.max_read or 65536  # learned from short answers and 6Cxx hints
        self._use_sfi = options.use_sfi
        self.selected: str | None = None
        self.extended_off = options.extended_length is False
        self.learned = Learned(extended_length=options.extended_length)
        self.partial: PartialFile | None = None

    def send(self, command: Command) -> Response:
        raise NotImplementedError

    @property
    def max_read(self) -> int:
        """The READ BINARY size that currently works with this card and reader."""
        size = min(self.options.ladder[self._rung], self._cap)
        return min(size, self.short_max) if self.extended_off else size

    def adopt(self, previous: ReadBinaryEngine) -> None:
        """Carry on with what an earlier session on this reader learned (read sizes, SFI
        support, extended length)."""
        self.extended_off = self.extended_off or previous.extended_off
        self.learned = previous.learned
        self._cap = min(self._cap, previous._cap)
        self._rung = max(self._rung, previous._rung)
        self._use_sfi = self._use_sfi and previous._use_sfi

    def disable_extended(self) -> None:
        """No extended-length APDU from now on (the reader cannot carry them)."""
        self.extended_off = True
        self.learned.extended_length = False

    # -- files ----------------------------------------------------------------------------
    def select(self, name: str) -> None:
        info = file_info(name)
        self.send(select_file(info.fid)).check(f"SELECT {name}")
        self.selected = name

    def read_file(
        self, name: str, progress: ProgressFn | None = None, *, resume: PartialFile | None = None
    ) -> bytes:
        """The whole content of a file (ICAO names: "COM", "SOD", "DG1" ... "DG16").
        ``resume``: what an earlier session of the same card read of it; reading goes on
        from its end."""
        info = file_info(name)
        self.partial = None
        try:
            if resume is not None and resume.name == name and resume.data:
                self.select(name)
                return self._read_rest(name, resume, progress)
            if self._use_sfi:
                try:
                    return self.read_content(name, info.sfi, progress)
                except StatusWordError as exc:
                    if exc.sw not in SFI_NOT_SUPPORTED or (self.sm and self.sm.dead):
                        raise
                    log.debug("READ BINARY by SFI refused (%04X): selecting by FID", exc.sw)
                self.select(name)
                # The FID works where the SFI did not: this chip takes no SFI reads.
                self._use_sfi = False
            else:
                self.select(name)
            return self.read_content(name, None, progress)
        except ParseError as exc:
            raise exc.in_file(name) from None

    def read_content(self, name: str, sfi: int | None, progress: ProgressFn | None = None) -> bytes:
        """The whole content of ``name``: of the file already selected (``sfi`` None) or read
        by its short file identifier. ``read_file`` chooses between the two; opening a
        session uses this directly for EF.CardAccess, which it selects its own way."""
        first_le = self.options.first_read or self.max_read
        head = self._read_chunk(0, first_le, sfi)
        if not head:
            raise ParseError("file is empty", offset=0, file=name)
        while True:
            try:
                _, total = tlv.header_length(head)
                break
            except ParseError:
                if len(head) >= 8:
                    raise
                more = self._read_chunk(len(head), 8 - len(head), None)
                if not more:
                    raise
                head += more
        if total > MAX_FILE_SIZE:
            raise ParseError(
                f"file declares {total} bytes, more than the {MAX_FILE_SIZE} allowed",
                offset=0,
                file=name,
            )
        if len(head) < min(first_le, total):
            self._limit_to(len(head))  # the card or reader cut the answer: remember what fits
        return self._read_rest(name, PartialFile(name, bytearray(head[:total]), total), progress)

    def _read_rest(self, name: str, partial: PartialFile, progress: ProgressFn | None) -> bytes:
        """Read on from the end of ``partial`` (the file is selected) to its declared end."""
        data, total = partial.data, partial.total
        self.partial = partial
        for _ in range(MAX_APDUS_PER_FILE):
            if progress is not None:
                progress(name, len(data), total)
            if len(data) >= total:
                self.partial = None
                self.learned.max_read = self.max_read
                return bytes(data)
            wanted = min(total - len(data), self.max_read)
            chunk = self._read_chunk(len(data), wanted, None)
            if not chunk:
                raise ParseError(
                    f"file ends after {len(data)} of {total} declared bytes",
                    offset=len(data),
                    file=name,
                )
            if len(chunk) < wanted:
                self._limit_to(len(chunk))
            data += chunk[: total - len(data)]
        raise ParseError("too many READ BINARY commands for one file", file=name)

    def _step_down(self) -> bool:
        """Move to the next smaller rung of the ladder; False when there is none."""
        current = self.max_read
        for index in range(self._rung + 1, len(self.options.ladder)):
            if self.options.ladder[index] < current:
                self._rung = index
                log.debug("read size lowered to %d bytes", self.max_read)
                return True
        return False

    def _limit_to(self, size: int) -> None:
        """The card or reader told us (by a short answer or 6Cxx) what fits."""
        if 0 < size < self.max_read:
            self._cap = size
            log.debug("read size limited to %d bytes", size)

    def _read_chunk(self, offset: int, le: int, sfi: int | None) -> bytes:
        """One READ BINARY, retried down the ladder when the length is refused."""
        wanted = min(le, 65536)
        while True:
            odd = offset > 0x7FFF
            command = read_binary(
                offset, min(wanted + (4 if odd else 0), 65536), sfi=sfi if offset <= 0xFF else None
            )
            try:
                response = self.send(command)
            except StatusWordError as exc:  # a bare SW: the chip did not take the command
                if self._length_refused(exc.sw, wanted):
                    wanted = min(wanted, self.max_read)
                    continue
                raise
            if response.sw == SW_OFFSET_BEYOND_END and offset > 0:
                return b""  # the file is shorter than its header says
            if response.sw not in (0x9000, SW_END_OF_FILE):
                if self._length_refused(response.sw, wanted):
                    wanted = min(wanted, self.max_read)
                    continue
                raise status_error(response.sw, "READ BINARY")
            return _strip_do53(response.data) if odd else response.data

    def _length_refused(self, sw: int, wanted: int) -> bool:
        """After 6700 or 6Cxx: lower the read size; False when nothing smaller is left."""
        if sw & 0xFF00 == 0x6C00:
            self._limit_to(sw & 0xFF or 256)
        elif sw == WRONG_LENGTH:
            short = self.short_max
            if wanted > short:
                # An extended APDU was refused: go straight to what a short answer carries.
                self._limit_to(short)
            elif wanted < self.max_read:
                self._limit_to(wanted)  # the card refuses even less than our rung
            if self.max_read >= wanted:
                self._step_down()
        else:
            return False
        return self.max_read < wanted

    @property
    def short_max(self) -> int:
        """The most plain data a short (256-byte) answer carries, with SM overhead."""
        return 256 if self.sm is None else max_plain_for_short(self.sm.block)


def is_extended(apdu: bytes) -> bool:
    """ISO/IEC 7816-4 §5.1: a body starting with 00 and longer than one byte."""
    return len(apdu) > 5 and apdu[4] == 0x00


def _strip_do53(data: bytes) -> bytes:
    if not data:
        return data
    element = tlv.decode_one(data, allow_trailing=True)
    if element.tag != 0x53:
        raise ParseError("odd-INS READ BINARY answer without DO'53'", offset=0)
    return element.value


__all__ = [
    "DEFAULT_LADDER",
    "Learned",
    "PartialFile",
    "ProgressFn",
    "ReadBinaryEngine",
    "ReadOptions",
    "is_extended",
]
