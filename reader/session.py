"""Opening the chip and reading its files (ICAO 9303-11 §4 access control, 9303-10 §3 file
selection, ISO/IEC 7816-4 §11.2 READ BINARY), as docs/architecture.md's data path steps 2 and 3.

``open_session`` reads EF.CardAccess by FID or SFI (never SELECT MF: CCCD chips answer 6D00),
runs PACE when the card offers it, else BAC, and says which ran and why. ``Session.read_file``
reads with few round trips: the first READ BINARY takes the header and as much of the file as
allowed, extended length where chip and reader accept it, and a ladder of smaller sizes on
6700 / 6Cxx / short answers, remembered for the session.

What a read learns about the reader (extended length works or not, the largest answer, the
read size) is kept in ``Session.learned`` so the caller can remember it per reader
(``reader.profile``) and start the next read where this one ended. A transport failure on an
extended-length APDU is raised as ``ExtendedLengthError``, for ``read_card`` to recover from.
EF.ATR/INFO (ISO/IEC 7816-4 §12.7.1, ICAO 9303-10 §3.11.1) is read where the chip has it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from reader import tlv
from reader.apdu import Command, Response, read_binary, select_aid, select_file, status_error
from reader.bac import BACTerminal
from reader.errors import (
    AccessDeniedError,
    CardRemovedError,
    ExtendedLengthError,
    ParseError,
    StatusWordError,
    TransportError,
    TransportTimeoutError,
    UnsupportedError,
)
from reader.files import FILES, MRTD_AID, file_info
from reader.keys import AccessKey, BACKey, CANKey
from reader.lds import parse_card_access
from reader.profile import AtrInfo, parse_atr_info
from reader.sm import SecureMessaging, max_plain_for_short
from reader.t0 import t0_transmit
from reader.transport import Transport

log = logging.getLogger(__name__)

RandomFn = Callable[[int], bytes]

DEFAULT_LADDER = (65535, 4096, 1024, 256, 231, 223, 160, 128)
MAX_FILE_SIZE = 512 * 1024
MAX_APDUS_PER_FILE = 4096
SW_END_OF_FILE = 0x6282
SW_OFFSET_BEYOND_END = 0x6B00
# What a card without EF.CardAccess answers (a BAC-only card).
CARD_ACCESS_ABSENT = frozenset({0x6A82, 0x6982, 0x6A86, 0x6B00, 0x6D00, 0x6985})
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
class ApduStats:
    apdus: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0


class CountingTransport:
    """Counts what passes through to the real transport, and resolves T=0's 61xx / 6Cxx
    (``reader.t0``) so every layer above sees whole answers."""

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


class Session:
    """An open chip: secure messaging is up (or, for tests, deliberately not)."""

    def __init__(
        self,
        transport: Transport,
        sm: SecureMessaging | None,
        access: AccessReport,
        options: ReadOptions,
        stats: ApduStats,
    ) -> None:
        self.transport = transport
        self.sm = sm
        self.access = access
        self.options = options
        self.stats = stats
        self._rung = 0
        self._cap = options.max_read or 65536  # learned from short answers and 6Cxx hints
        self._use_sfi = options.use_sfi
        self.selected: str | None = None
        self.extended_off = options.extended_length is False
        self.learned = Learned(extended_length=options.extended_length)
        self.partial: PartialFile | None = None

    @property
    def access_protocol(self) -> str:
        return self.access.protocol

    @property
    def fallback_reason(self) -> str | None:
        return self.access.fallback_reason

    @property
    def max_read(self) -> int:
        """The READ BINARY size that currently works with this card and reader."""
        size = min(self.options.ladder[self._rung], self._cap)
        return min(size, self.short_max) if self.extended_off else size

    def adopt(self, previous: Session) -> None:
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
                    return self._read(name, info.sfi, progress)
                except StatusWordError as exc:
                    if exc.sw not in SFI_NOT_SUPPORTED or (self.sm and self.sm.dead):
                        raise
                    log.debug("READ BINARY by SFI refused (%04X): selecting by FID", exc.sw)
                self.select(name)
                # The FID works where the SFI did not: this chip takes no SFI reads.
                self._use_sfi = False
            else:
                self.select(name)
            return self._read(name, None, progress)
        except ParseError as exc:
            raise exc.in_file(name) from None

    def _read(self, name: str, sfi: int | None, progress: ProgressFn | None) -> bytes:
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


def _read_card_access(transport: Transport) -> bytes | None:
    """EF.CardAccess before any applet is selected: SELECT by FID with P1=02, or READ BINARY
    by SFI when the card does not take that SELECT. None when the card has none (BAC only)."""
    plain = Session(
        transport,
        None,
        AccessReport(),
        ReadOptions(ladder=(256, 223, 128), use_sfi=False),
        ApduStats(),
    )
    info = FILES["CardAccess"]
    try:
        response = plain.send(select_file(info.fid, p1=0x02))
        if response.sw == 0x9000:
            return plain._read(info.name, None, None)
        if response.sw == 0x6A82:
            return None
        return plain._read(info.name, info.sfi, None)  # SELECT refused: try the SFI
    except StatusWordError as exc:
        if exc.sw in CARD_ACCESS_ABSENT:
            return None
        raise


ATR_INFO_FID = 0x2F01


def read_atr_info(transport: Transport) -> tuple[AtrInfo | None, bool]:
    """EF.ATR/INFO from the MF, plain, before access control: (what it says, whether the
    look-up got an answer). Absent, refused or malformed: (None, True); a chip answering
    garbage is not worth failing a read for."""
    plain = Session(transport, None, AccessReport(), ReadOptions(), ApduStats())
    response = plain.send(select_file(ATR_INFO_FID, p1=0x02))
    if response.sw != 0x9000:
        return None, True
    data = bytearray()
    from reader.profile import MAX_ATR_INFO

    while len(data) < MAX_ATR_INFO:
        answer = plain.send(read_binary(len(data), 256))
        if answer.sw not in (0x9000, SW_END_OF_FILE) or not answer.data:
            break
        data += answer.data
        if answer.sw == SW_END_OF_FILE or len(answer.data) < 256:
            break
    try:
        return parse_atr_info(bytes(data)), True
    except ParseError as exc:
        log.info("EF.ATR/INFO does not parse (%s): ignored", exc)
        return None, True


def _pace_offered(card_access: bytes) -> bool:
    """Any id-PACE entry counts, even one we cannot parse or run: the card then gets
    UnsupportedError naming it (or a reported fallback), never a silent BAC."""
    return parse_card_access(card_access).pace_offered


def open_session(
    transport: Transport,
    key: AccessKey,
    *,
    random: RandomFn = os.urandom,
    options: ReadOptions | None = None,
    stats: ApduStats | None = None,
) -> Session:
    """Open the chip with PACE when offered, else BAC; report which ran and why."""
    options = options or ReadOptions()
    stats = stats if stats is not None else ApduStats()
    counted = CountingTransport(transport, stats)
    access = AccessReport()
    if options.read_card_access:
        access.card_access = _read_card_access(counted)
        if access.card_access is not None:
            access.pace_offered = _pace_offered(access.card_access)
        if options.read_atr_info:
            access.atr_info, access.atr_info_read = read_atr_info(counted)
    if access.pace_offered and not options.allow_pace:
        access.fallback_reason = "PACE offered; the caller asked for BAC"
    elif access.pace_offered:
        assert access.card_access is not None
        try:
            return _open_with_pace(counted, key, access, options, stats, random)
        except (UnsupportedError, AccessDeniedError, StatusWordError) as exc:
            if not options.allow_fallback_to_bac or not isinstance(key, BACKey):
                raise
            access.fallback_reason = f"PACE failed: {exc}"
            log.warning("PACE failed, falling back to BAC as allowed by the caller")
    if isinstance(key, CANKey):
        raise UnsupportedError(
            "this card offers no PACE, and a CAN only works with PACE: give the date of birth "
            "and expiry for BAC"
        )
    return _open_with_bac(counted, key, access, options, stats, random)


def _open_with_bac(
    transport: Transport,
    key: BACKey,
    access: AccessReport,
    options: ReadOptions,
    stats: ApduStats,
    random: RandomFn,
) -> Session:
    plain = Session(transport, None, access, options, stats)
    if options.select_applet:
        plain.send(select_aid(MRTD_AID)).check("SELECT eMRTD application")
    terminal = BACTerminal(key, random)
    rnd_ic = plain.send(terminal.challenge_command()).check("GET CHALLENGE")
    answer = plain.send(terminal.authenticate_command(rnd_ic))
    if answer.sw != 0x9000:
        error = status_error(answer.sw, "BAC EXTERNAL AUTHENTICATE")
        if isinstance(error, AccessDeniedError):
            raise AccessDeniedError(
                answer.sw,
                "BAC refused: the document number (last 9 digits of the ID number), date of "
                "birth or date of expiry is wrong",
            )
        raise error
    sm = terminal.finish(answer.data)
    access.protocol = "BAC"
    return Session(transport, sm, access, options, stats)


def _open_with_pace(
    transport: Transport,
    key: AccessKey,
    access: AccessReport,
    options: ReadOptions,
    stats: ApduStats,
    random: RandomFn,
) -> Session:
    try:
        from reader import pace
    except ImportError:
        raise UnsupportedError(
            "the card offers PACE, which this reader does not support yet"
        ) from None
    assert access.card_access is not None
    plain = Session(transport, None, access, options, stats)
    sm, description = pace.perform_pace(plain.send, key, access.card_access, random)
    access.protocol = "PACE"
    access.pace_parameters = description
    session = Session(transport, sm, access, options, stats)
    if options.select_applet:
        session.send(select_aid(MRTD_AID)).check("SELECT eMRTD application")
    return session


def reopen_session(
    transport: Transport,
    key: AccessKey,
    previous: Session,
    *,
    random: RandomFn = os.urandom,
) -> Session:
    """Access control again on the same card, in band (the reader could not be reset): the
    protocol that ran before, with the EF.CardAccess already read. The first plain command
    ends the old secure messaging on ICAO chips; a chip that answers it with 6982/6988
    instead of running it gets it once more."""
    access = AccessReport(
        pace_offered=previous.access.pace_offered,
        fallback_reason=previous.access.fallback_reason,
        card_access=previous.access.card_access,
        atr_info=previous.access.atr_info,
        atr_info_read=previous.access.atr_info_read,
    )
    options, stats = previous.options, previous.stats
    counted = CountingTransport(transport, stats)
    for attempt in (1, 2):
        try:
            if previous.access_protocol == "PACE":
                session = _open_with_pace(counted, key, access, options, stats, random)
            else:
                assert isinstance(key, BACKey)
                session = _open_with_bac(counted, key, access, options, stats, random)
        except StatusWordError as exc:
            if attempt == 2 or exc.sw not in (0x6982, 0x6987, 0x6988):
                raise
            log.debug("the chip answered %04X as secure messaging ended: once more", exc.sw)
            continue
        session.adopt(previous)
        return session
    raise AssertionError("unreachable")


__all__ = [
    "AccessReport",
    "ApduStats",
    "Learned",
    "PartialFile",
    "ReadOptions",
    "Session",
    "is_extended",
    "open_session",
    "read_atr_info",
    "reopen_session",
]
