"""Reading a whole card: ARCHITECTURE.md data path step 4 (gmrtd's ``reader.go`` shape:
open the session, read the files, authenticate the chip, keep partial results on error).

``read_card`` returns a ``CardRead`` with the raw bytes of every file, parsed data groups
where a parser exists, APDU statistics, the access protocol and the chip / active
authentication transcripts. Whether the data is genuine is ``verify``'s job.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reader import chipauth, lds
from reader.chipauth import AuthOutcome
from reader.errors import CardError, ParseError, StatusWordError, TransportError
from reader.files import EAC_PROTECTED, TAG_TO_NAME
from reader.keys import AccessKey
from reader.session import ApduStats, ProgressFn, ReadOptions, Session, open_session
from reader.transport import Transport

log = logging.getLogger(__name__)

RandomFn = Callable[[int], bytes]
DEFAULT_FILES = ("DG1", "DG2", "DG13", "DG14", "DG15")
NOT_PRESENT_SW = frozenset({0x6A82, 0x6982, 0x6A86})


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
) -> CardRead:
    """Open the card, read COM, SOD and the data groups, then authenticate the chip."""
    stats = ApduStats()
    started = time.perf_counter()
    session = open_session(transport, key, random=random, options=options, stats=stats)
    result = CardRead(
        files={},
        parsed={},
        parse_errors={},
        missing={},
        stats=_stats(stats, started),
        access_protocol=session.access_protocol,
        pace_parameters=session.access.pace_parameters,
        fallback_reason=session.fallback_reason,
    )
    if session.access.card_access is not None:
        result.files["CardAccess"] = session.access.card_access
        _parse_into(result, "CardAccess")
    try:
        for name in ("COM", "SOD"):
            _read_one(session, result, name, progress)
        names = list(files) if files else files_to_read(result.parsed.get("COM"))
        for name in names:
            _read_one(session, result, name, progress)
        if authenticate_chip:
            _authenticate_chip(session, result, random, aa_challenge, aa_verifier)
    except CardError as exc:
        result.stats = _stats(stats, started)
        if isinstance(exc, TransportError):
            raise IncompleteReadError(f"read cut short: {exc}", result) from exc
        raise
    result.stats = _stats(stats, started)
    result.complete = True
    return result


def _read_one(session: Session, result: CardRead, name: str, progress: ProgressFn | None) -> None:
    """Read and parse one file. A file that is absent, or whose bytes on the chip are not
    even a whole TLV (truncated, hostile length), is recorded and the read goes on: what the
    other files prove is not lost."""
    try:
        result.files[name] = session.read_file(name, progress)
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
    result.chip_authentication, result.active_authentication = chipauth.authenticate(
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
