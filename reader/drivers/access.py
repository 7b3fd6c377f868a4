"""Opening the chip: access control (ICAO 9303-11 §4; docs/architecture.md data path step 2).

``open_session`` reads EF.CardAccess by FID or SFI (never SELECT MF: CCCD chips answer 6D00),
runs PACE when the card offers it, else BAC, and says which ran and why (a PACE->BAC fallback
is reported, never silent). The protocol steps are the sans-I/O objects of
:mod:`reader.protocol` (:class:`~reader.protocol.bac.BACTerminal`,
:class:`~reader.protocol.pace.PaceTerminal`); this module sends them. EF.ATR/INFO
(ISO/IEC 7816-4 §12.7.1, ICAO 9303-10 §3.11.1) is read where the chip has it. A transport
failure on an extended-length APDU is raised as ``ExtendedLengthError``, for ``read_card`` to
recover from.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from reader.apdu import Command, Response, read_binary, select_aid, select_file, status_error
from reader.drivers.read_binary import SW_END_OF_FILE, ReadOptions
from reader.drivers.session import AccessReport, ApduStats, CountingTransport, Session
from reader.drivers.transport import Transport
from reader.errors import AccessDeniedError, ParseError, StatusWordError, UnsupportedError
from reader.files import FILES, MRTD_AID
from reader.keys import AccessKey, BACKey, CANKey
from reader.lds import parse_card_access
from reader.profile import MAX_ATR_INFO, AtrInfo, parse_atr_info
from reader.protocol.bac import BACTerminal
from reader.protocol.groups import RandomFn
from reader.protocol.pace import PaceSecureMessaging, PaceTerminal

log = logging.getLogger(__name__)

SendFn = Callable[[Command], Response]

# What a card without EF.CardAccess answers (a BAC-only card).
CARD_ACCESS_ABSENT = frozenset({0x6A82, 0x6982, 0x6A86, 0x6B00, 0x6D00, 0x6985})


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
            return plain.read_content(info.name, None)
        if response.sw == 0x6A82:
            return None
        return plain.read_content(info.name, info.sfi)  # SELECT refused: try the SFI
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
    assert access.card_access is not None
    plain = Session(transport, None, access, options, stats)
    sm, description = perform_pace(plain.send, key, access.card_access, random)
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


def _wrong_password(key: AccessKey, sw: int, step: str) -> AccessDeniedError:
    if isinstance(key, CANKey):
        hint = "the CAN is wrong: on a CCCD the CAN is the last 6 digits of the 12-digit ID number"
    else:
        hint = (
            "the MRZ password is wrong: check the document number (last 9 digits of the "
            "ID number), date of birth and date of expiry"
        )
    return AccessDeniedError(sw, f"PACE refused at {step} (card answered {sw:04X}): {hint}")


def perform_pace(
    send: SendFn, key: AccessKey, card_access: bytes, random: RandomFn
) -> tuple[PaceSecureMessaging, str]:
    """Run PACE over ``send`` (plain commands, answers not raised on SW); the new secure
    messaging and a description such as "PACE-ECDH-GM-AES-128 brainpoolP256r1"."""
    terminal = PaceTerminal(key, card_access, random)
    answer = send(terminal.mse_set_at())
    if answer.sw == 0x6A88 and not terminal.sent_parameter_id:
        # Some chips want the parameter id even when EF.CardAccess names just one set.
        answer = send(terminal.mse_set_at(with_parameter_id=True))
    if answer.sw != 0x9000:
        raise status_error(answer.sw, "PACE MSE:Set AT")

    def exchange(command: Command, step: str) -> bytes:
        response = send(command)
        if response.sw == 0x6300 or response.sw & 0xFFF0 == 0x63C0:
            raise _wrong_password(key, response.sw, step)
        if response.sw != 0x9000:
            raise status_error(response.sw, f"PACE General Authenticate ({step})")
        return response.data

    data = exchange(terminal.nonce_command(), "encrypted nonce")
    data = exchange(terminal.mapping_command(data), "map nonce")
    data = exchange(terminal.key_agreement_command(data), "key agreement")
    data = exchange(terminal.mutual_authentication_command(data), "mutual authentication")
    sm = terminal.finish(data)
    return sm, terminal.description


__all__ = ["open_session", "perform_pace", "read_atr_info", "reopen_session"]
