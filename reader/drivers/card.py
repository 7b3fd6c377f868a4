"""Reading a whole card: docs/architecture.md data path step 4 (gmrtd's ``reader.go`` shape:
open the session, read the files, authenticate the chip, keep partial results on error).

``read_card`` returns a ``CardRead`` with the raw bytes of every file, parsed data groups
where a parser exists, APDU statistics, the access protocol and the chip / active
authentication transcripts. Whether the data is genuine is ``verify``'s job.

Recovery, each bounded (at most one per cause and read for extended length, a few card
losses, each with a bounded wait), never a loop:

* a transport failure on an extended-length APDU (``ExtendedLengthError``: readers such as
  ACS's ACR1252U answer a CCID error instead of a status word) turns extended length off,
  opens access control again -- after a reset when the transport offers ``reconnect``, else
  in band (the first plain command ends secure messaging on ICAO chips, 9303-11 §9.8.6.3) --
  and reads on from the file and offset reached;
* a card that leaves the field (``CardRemovedError``) is waited for up to ``resume_wait``
  seconds; when it is back, access control runs again and EF.SOD is read once more: the same
  SOD keeps every file already read and goes on at the offset reached, another SOD (another
  card) starts the read over, so two cards' files are never mixed.

``on_event`` hears ``ReadEvent``s ("paused" while waiting for the card, "resumed",
"restarted", "recovered") so a desk can say "hold the card still".
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from reader import lds
from reader.drivers.access import open_session, reopen_session
from reader.drivers.authenticate import AuthOutcome, authenticate
from reader.drivers.read_binary import Learned, PartialFile, ProgressFn, ReadOptions
from reader.drivers.session import ApduStats, Session
from reader.drivers.transport import Transport
from reader.errors import (
    CardError,
    CardRemovedError,
    ExtendedLengthError,
    ParseError,
    StatusWordError,
    TransportError,
    TransportTimeoutError,
)
from reader.files import EAC_PROTECTED, TAG_TO_NAME
from reader.keys import AccessKey
from reader.profile import AtrInfo, ReaderProfile

log = logging.getLogger(__name__)

RandomFn = Callable[[int], bytes]
DEFAULT_FILES = ("DG1", "DG2", "DG13", "DG14", "DG15")
NOT_PRESENT_SW = frozenset({0x6A82, 0x6982, 0x6A86})
DEFAULT_RESUME_WAIT = 10.0  # seconds a card may be away before the read fails
MAX_CARD_LOST = 3  # resumes per read: a card that keeps sliding off fails clearly
POLL_SECONDS = 0.1
# A plain SELECT EF.CardAccess: any answer says a card is in the field again.
PRESENCE_PROBE = bytes.fromhex("00A4020C02011C")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadEvent:
    """Something the read did on its own: "paused" (waiting up to ``wait_seconds`` for the
    card), "resumed", "restarted" (another card came back) or "recovered"."""

    kind: Literal["paused", "resumed", "restarted", "recovered"]
    reason: str  # "card_lost", "different_card", "extended_length"
    wait_seconds: float = 0.0


EventFn = Callable[[ReadEvent], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadStats:
    apdus: int
    bytes_sent: int
    bytes_received: int
    seconds: float


@dataclass(slots=True, kw_only=True)
class CardRead:
    """Everything read from one card. ``complete`` is False when the read was cut short."""

    files: dict[str, bytes]
    parsed: dict[str, Any]
    parse_errors: dict[str, str]
    missing: dict[str, str]
    stats: ReadStats
    access_protocol: str
    pace_parameters: str | None = None
    fallback_reason: str | None = None
    chip_authentication: AuthOutcome = field(
        default_factory=lambda: AuthOutcome.not_attempted("not offered")
    )
    active_authentication: AuthOutcome = field(
        default_factory=lambda: AuthOutcome.not_attempted("not offered")
    )
    complete: bool = False
    recoveries: list[str] = field(default_factory=list)  # causes, in order
    learned: Learned = field(default_factory=Learned)
    atr_info: AtrInfo | None = None
    atr_info_checked: bool = False

    def profile(self, before: ReaderProfile | None, protocol: str | None = None) -> ReaderProfile:
        """What the reader is now known to do: ``before`` updated with this read."""
        return (before or ReaderProfile()).learn(
            extended_length=self.learned.extended_length,
            max_read=self.learned.max_read,
            largest_answer=self.learned.largest_answer,
            protocol=protocol,
            atr_info=self.atr_info,
            atr_info_checked=self.atr_info_checked,
            recoveries=self.recoveries,
        )


class IncompleteReadError(TransportError):
    """The card went away (or stopped answering) mid-read; ``partial`` keeps what was read,
    marked incomplete."""

    def __init__(self, message: str, partial: CardRead) -> None:
        super().__init__(message)
        self.partial = partial


def files_to_read(com: Any) -> list[str]:
    """The data groups EF.COM lists, minus those needing EAC; DG1-DG16 order."""
    names = [TAG_TO_NAME.get(tag) for tag in getattr(com, "tags", ())]
    wanted = {name for name in names if name and name.startswith("DG")} - EAC_PROTECTED
    return sorted(wanted, key=lambda n: int(n[2:])) or list(DEFAULT_FILES)


def read_card(
    transport: Transport,
    key: AccessKey,
    *,
    random: RandomFn = os.urandom,
    options: ReadOptions | None = None,
    files: tuple[str, ...] | None = None,
    progress: ProgressFn | None = None,
    authenticate_chip: bool = True,
    aa_challenge: bytes | None = None,
    aa_verifier: Callable[[bytes, bytes, bytes, bytes | None], bool] | None = None,
    profile: ReaderProfile | None = None,
    resume_wait: float = DEFAULT_RESUME_WAIT,
    on_event: EventFn | None = None,
) -> CardRead:
    """Open the card, read COM, SOD and the data groups, then authenticate the chip.
    ``profile``: what is known of this reader (no failed probe then); ``resume_wait``:
    seconds to wait for a card that left mid-read (0: fail at once)."""
    options = options or ReadOptions()
    if profile is not None:
        options = profile.options(options)
    run = _Run(
        transport,
        key,
        random=random,
        options=options,
        files=files,
        progress=progress,
        resume_wait=resume_wait,
        on_event=on_event,
    )
    return run.read(authenticate_chip, aa_challenge, aa_verifier)


class _Run:
    """One ``read_card``: the session in use, the files so far, the recoveries made."""

    def __init__(
        self,
        transport: Transport,
        key: AccessKey,
        *,
        random: RandomFn,
        options: ReadOptions,
        files: tuple[str, ...] | None,
        progress: ProgressFn | None,
        resume_wait: float,
        on_event: EventFn | None,
    ) -> None:
        self.transport = transport
        self.key = key
        self.random = random
        self.options = options
        self.files = files
        self.progress = progress
        self.resume_wait = resume_wait
        self.on_event = on_event
        self.stats = ApduStats()
        self.started = time.perf_counter()
        self.recoveries: list[str] = []

    def read(
        self,
        authenticate_chip: bool,
        aa_challenge: bytes | None,
        aa_verifier: Callable[[bytes, bytes, bytes, bytes | None], bool] | None,
    ) -> CardRead:
        session: Session | None = None
        result: CardRead | None = None
        partial: PartialFile | None = None
        while True:
            try:
                if session is None:
                    session = open_session(
                        self.transport,
                        self.key,
                        random=self.random,
                        options=self.options,
                        stats=self.stats,
                    )
                if result is None:
                    result = self._new_result(session)
                self._read_files(session, result, partial)
                partial = None
                if authenticate_chip:
                    _authenticate_chip(session, result, self.random, aa_challenge, aa_verifier)
                break
            except ExtendedLengthError as exc:
                result = result or self._empty_result()
                if session is None or "extended_length" in self.recoveries:
                    raise self._cut_short(result, exc) from exc
                partial = session.partial
                session = self._recover_extended(session, result, exc)
            except CardRemovedError as exc:
                result = result or self._empty_result()
                if self.recoveries.count("card_lost") >= MAX_CARD_LOST or self.resume_wait <= 0:
                    raise self._cut_short(result, exc) from exc
                partial = session.partial if session is not None else None
                previous = session
                session = self._wait_for_card(result, exc, previous)
                result, partial = self._same_card(session, result, partial)
            except CardError as exc:
                if result is not None:
                    result.stats = self._stats()
                    if isinstance(exc, TransportError):
                        raise self._cut_short(result, exc) from exc
                raise
        result.stats = self._stats()
        result.learned = session.learned
        result.recoveries = list(self.recoveries)
        result.complete = True
        return result

    # -- results --------------------------------------------------------------------------
    def _new_result(self, session: Session) -> CardRead:
        result = CardRead(
            files={},
            parsed={},
            parse_errors={},
            missing={},
            stats=self._stats(),
            access_protocol=session.access_protocol,
            pace_parameters=session.access.pace_parameters,
            fallback_reason=session.fallback_reason,
            atr_info=session.access.atr_info,
            atr_info_checked=session.access.atr_info_read,
        )
        if session.access.card_access is not None:
            result.files["CardAccess"] = session.access.card_access
            _parse_into(result, "CardAccess")
        return result

    def _empty_result(self) -> CardRead:
        return CardRead(
            files={},
            parsed={},
            parse_errors={},
            missing={},
            stats=self._stats(),
            access_protocol="",
        )

    def _cut_short(self, result: CardRead, exc: Exception) -> IncompleteReadError:
        result.stats = self._stats()
        result.recoveries = list(self.recoveries)
        return IncompleteReadError(f"read cut short: {exc}", result)

    def _stats(self) -> ReadStats:
        return _stats(self.stats, self.started)

    def _event(
        self,
        kind: Literal["paused", "resumed", "restarted", "recovered"],
        reason: str,
        wait: float = 0.0,
    ) -> None:
        if self.on_event is not None:
            self.on_event(ReadEvent(kind=kind, reason=reason, wait_seconds=wait))

    # -- files ----------------------------------------------------------------------------
    def _read_files(self, session: Session, result: CardRead, partial: PartialFile | None) -> None:
        def done(name: str) -> bool:
            return name in result.files or name in result.missing or name in result.parse_errors

        for name in ("COM", "SOD"):
            if not done(name):
                _read_one(session, result, name, self.progress, partial)
        names = list(self.files) if self.files else files_to_read(result.parsed.get("COM"))
        for name in names:
            if not done(name):
                _read_one(session, result, name, self.progress, partial)

    # -- recovery -------------------------------------------------------------------------
    def _recover_extended(
        self, session: Session, result: CardRead, exc: ExtendedLengthError
    ) -> Session:
        """Extended length off for good; access control again; on from where we were."""
        log.info("extended-length APDU failed at the reader (%s): short APDUs from now", exc)
        self.recoveries.append("extended_length")
        session.disable_extended()
        reconnect = getattr(self.transport, "reconnect", None)
        if callable(reconnect):
            reconnect(timeout=self.resume_wait or DEFAULT_RESUME_WAIT)
            fresh = open_session(
                self.transport,
                self.key,
                random=self.random,
                options=replace(self.options, extended_length=False, read_atr_info=False),
                stats=self.stats,
            )
            fresh.adopt(session)
        else:
            fresh = reopen_session(self.transport, self.key, session, random=self.random)
        self._event("recovered", "extended_length")
        return fresh

    def _wait_for_card(
        self, result: CardRead, exc: CardRemovedError, previous: Session | None
    ) -> Session:
        """Until the card is back (bounded by ``resume_wait``), then access control again."""
        self.recoveries.append("card_lost")
        log.info("the card left mid-read: waiting up to %.1f s for it", self.resume_wait)
        self._event("paused", "card_lost", self.resume_wait)
        deadline = time.monotonic() + self.resume_wait
        reconnect = getattr(self.transport, "reconnect", None)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._cut_short(
                    result,
                    CardRemovedError(
                        f"the card was removed and did not come back within "
                        f"{self.resume_wait:g} s ({exc})"
                    ),
                ) from exc
            try:
                if callable(reconnect):
                    if reconnect(timeout=remaining):
                        break
                else:
                    self.transport.transmit(PRESENCE_PROBE)
                    break
            except TransportTimeoutError as lost:
                raise self._cut_short(result, lost) from exc
            except TransportError:
                time.sleep(min(POLL_SECONDS, max(remaining, 0)))
        self._event("resumed", "card_lost")
        options = self.options
        if previous is not None:
            options = replace(
                options,
                extended_length=False if previous.extended_off else options.extended_length,
                read_atr_info=False,
            )
        session = open_session(
            self.transport, self.key, random=self.random, options=options, stats=self.stats
        )
        if previous is not None:
            session.adopt(previous)
        return session

    def _same_card(
        self, session: Session, result: CardRead, partial: PartialFile | None
    ) -> tuple[CardRead, PartialFile | None]:
        """Keep what was read only when the card back is the same one (the same EF.SOD)."""
        held = result.files.get("SOD")
        if held is None:
            return self._new_result(session), None  # nothing worth keeping was read yet
        sod = session.read_file("SOD", self.progress)
        if sod == held:
            return result, partial
        log.info("another card came back: the read starts over")
        self.recoveries.append("different_card")
        self._event("restarted", "different_card")
        fresh = self._new_result(session)
        fresh.files["SOD"] = sod
        _parse_into(fresh, "SOD")
        return fresh, None


def _read_one(
    session: Session,
    result: CardRead,
    name: str,
    progress: ProgressFn | None,
    partial: PartialFile | None = None,
) -> None:
    """Read and parse one file. A file that is absent, or whose bytes on the chip are not
    even a whole TLV (truncated, hostile length), is recorded and the read goes on: what the
    other files prove is not lost."""
    resume = partial if partial is not None and partial.name == name else None
    try:
        result.files[name] = session.read_file(name, progress, resume=resume)
    except StatusWordError as exc:
        if exc.sw in NOT_PRESENT_SW:
            result.missing[name] = f"{exc.sw:04X}"
            return
        raise
    except ParseError as exc:
        result.parse_errors[name] = str(exc.in_file(name))
        return
    _parse_into(result, name)


def _parse_into(result: CardRead, name: str) -> None:
    parsed, error = parse_one(name, result.files[name])
    if parsed is not None:
        result.parsed[name] = parsed
    if error is not None:
        result.parse_errors[name] = error


def parse_one(name: str, raw: bytes) -> tuple[Any, str | None]:
    """(record, None), or (None, the reason it does not parse); (None, None) when the file
    has no parser and is kept as raw bytes only."""
    try:
        return lds.parse_file(name, raw), None
    except ParseError as exc:
        log.info("%s does not parse: %s", name, exc.reason)
        return None, str(exc.in_file(name))
    except KeyError:
        return None, None


def _authenticate_chip(
    session: Session,
    result: CardRead,
    random: RandomFn,
    aa_challenge: bytes | None,
    aa_verifier: Callable[[bytes, bytes, bytes, bytes | None], bool] | None,
) -> None:
    result.chip_authentication, result.active_authentication = authenticate(
        session,
        result.files,
        result.parsed,
        random=random,
        aa_challenge=aa_challenge,
        aa_verifier=aa_verifier,
    )


def _stats(stats: ApduStats, started: float) -> ReadStats:
    return ReadStats(
        apdus=stats.apdus,
        bytes_sent=stats.bytes_sent,
        bytes_received=stats.bytes_received,
        seconds=time.perf_counter() - started,
    )
