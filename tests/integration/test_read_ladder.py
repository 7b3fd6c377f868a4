"""The read strategy: few round trips, extended length when it
works, a ladder down on 6700 / 6Cxx / short answers without desynchronising SM, odd INS B1
beyond offset 32767 -- against the simulated chip from the card side."""

from __future__ import annotations

import math
import os

import pytest

from fixtures import faults as F
from fixtures.chip import SimulatedChip
from reader import BACKey, ReadOptions, open_session, tlv
from reader.errors import AccessDeniedError, CardRemovedError, ParseError
from reader.protocol.sm import max_plain_for_short

KEY = BACKey("185001234", "850314", "250314")
COM = bytes.fromhex("60145F0104303130365F36063034303030305C026175")


def _files(dg2_size: int = 20_000) -> dict[str, bytes]:
    return {
        "COM": COM,
        "DG1": tlv.encode(0x61, tlv.encode(0x5F1F, b"I" * 90)),
        "DG2": tlv.encode(0x75, os.urandom(dg2_size)),
    }


def _read(
    faults: list[F.Fault],
    name: str = "DG2",
    dg2_size: int = 20_000,
    options: ReadOptions | None = None,
) -> tuple[bytes, bytes, int, int]:
    files = _files(dg2_size)
    chip = SimulatedChip(files, bac_key=KEY, faults=faults)
    session = open_session(chip, KEY, options=options)
    before = session.stats.apdus
    data = session.read_file(name)
    apdus = session.stats.apdus - before
    # The session is still in step: one more protected read works.
    assert session.read_file("DG1") == files["DG1"]
    return data, files[name], apdus, session.max_read


def test_extended_length_reads_a_file_in_one_go() -> None:
    data, expected, apdus, _ = _read([])
    assert data == expected
    assert apdus == 1  # one READ BINARY by SFI selects and reads the whole file


def test_chip_rejecting_extended_length_steps_down_the_ladder() -> None:
    data, expected, apdus, max_read = _read([F.NoExtendedLength()])
    assert data == expected
    assert max_read == max_plain_for_short(8)
    # One refused extended read, then the largest chunks a short SM answer carries.
    assert apdus == 1 + math.ceil(len(expected) / max_read)


def test_chip_truncating_answers_is_followed_without_rereading() -> None:
    data, expected, apdus, max_read = _read([F.TruncatesAnswers(1000)])
    assert data == expected
    assert max_read == 1000
    assert apdus == math.ceil(len(expected) / 1000)


def test_chip_answering_6cxx_gets_the_size_it_names() -> None:
    data, expected, apdus, max_read = _read([F.WrongLengthHint(200)])
    assert data == expected
    assert max_read == 200
    assert apdus == 1 + math.ceil(len(expected) / 200)


def test_the_ladder_is_remembered_for_the_session() -> None:
    files = _files()
    chip = SimulatedChip(files, bac_key=KEY, faults=[F.NoExtendedLength()])
    session = open_session(chip, KEY)
    session.read_file("DG2")
    refused = [sw for _, sw in chip.counters.log if sw == 0x6700]
    before = session.stats.apdus
    session.read_file("DG2")
    assert session.stats.apdus - before == math.ceil(len(files["DG2"]) / session.max_read)
    assert [sw for _, sw in chip.counters.log if sw == 0x6700] == refused


def test_select_by_fid_when_asked() -> None:
    data, expected, apdus, _ = _read([], name="DG1", options=ReadOptions(use_sfi=False))
    assert data == expected
    assert apdus == 2  # SELECT, READ BINARY


def test_chip_without_sfi_reads_falls_back_to_select_and_remembers() -> None:
    files = _files()
    chip = SimulatedChip(files, bac_key=KEY)
    original = chip._read_binary

    def no_sfi(command):  # type: ignore[no-untyped-def]
        if command.ins == 0xB0 and command.p1 & 0x80:
            from reader.apdu import Response

            return Response(b"", 0x6A86)
        return original(command)

    chip._read_binary = no_sfi  # type: ignore[method-assign]
    session = open_session(chip, KEY)
    assert session.read_file("DG1") == files["DG1"]
    before = session.stats.apdus
    assert session.read_file("DG2") == files["DG2"]
    assert session.stats.apdus - before == 2  # SELECT + READ: no SFI attempt any more


def test_odd_ins_beyond_32767() -> None:
    files = _files(40_000)
    chip = SimulatedChip(files, bac_key=KEY, faults=[F.TruncatesAnswers(20_000)])
    session = open_session(chip, KEY)
    assert session.read_file("DG2") == files["DG2"]
    assert ("B1", 0x9000) in chip.counters.log


def test_declared_length_beyond_the_file_is_a_parse_error() -> None:
    files = _files()
    files["DG2"] = files["DG2"][:-500]
    chip = SimulatedChip(files, bac_key=KEY)
    session = open_session(chip, KEY)
    with pytest.raises(ParseError, match="DG2"):
        session.read_file("DG2")


def test_hostile_declared_length_is_refused() -> None:
    files = _files()
    files["DG2"] = bytes([0x75, 0x84, 0x7F, 0xFF, 0xFF, 0xFF]) + bytes(100)
    chip = SimulatedChip(files, bac_key=KEY)
    session = open_session(chip, KEY)
    with pytest.raises(ParseError, match="more than"):
        session.read_file("DG2")


def test_wrong_bac_key_is_access_denied_and_reads_stay_closed() -> None:
    chip = SimulatedChip(_files(), bac_key=KEY)
    wrong = BACKey("185001235", "850314", "250314")
    with pytest.raises(AccessDeniedError, match="last 9 digits"):
        open_session(chip, wrong)
    # Without SM the chip keeps its files closed.
    assert chip.transmit(bytes.fromhex("00A4020C020101")) == b"\x69\x82"


def test_card_removed_mid_read() -> None:
    chip = SimulatedChip(_files(), bac_key=KEY, faults=[F.RemovedAfter(5)])
    session = open_session(chip, KEY)
    with pytest.raises(CardRemovedError):
        session.read_file("DG2", None)
        session.read_file("DG1")
        session.read_file("DG2")


def test_sm_error_from_chip_ends_the_session() -> None:
    chip = SimulatedChip(_files(), bac_key=KEY, faults=[F.SMFailsAfter(1)])
    session = open_session(chip, KEY)
    session.select("DG1")
    with pytest.raises(Exception, match="6988"):
        session.read_file("DG1")
    assert session.sm is not None and session.sm.dead


def test_card_access_by_sfi_when_select_by_fid_is_refused() -> None:
    from fixtures.cards import build_card, chip_for_card
    from reader import CANKey
    from reader.apdu import Response

    card = build_card("017072769692")
    chip = chip_for_card(card)
    original = chip._select

    def no_fid_select_in_mf(command):  # type: ignore[no-untyped-def]
        if command.p1 == 0x02:
            return Response(b"", 0x6A86)
        return original(command)

    chip._select = no_fid_select_in_mf  # type: ignore[method-assign]
    session = open_session(chip, CANKey(card.can))
    assert session.access.card_access == card.files["CardAccess"]
    assert session.access_protocol == "PACE"


def test_slow_card_fault_delays_every_apdu() -> None:
    import time

    chip = SimulatedChip(_files(), bac_key=KEY, faults=[F.Slow(0.02)])
    started = time.perf_counter()
    session = open_session(chip, KEY)
    session.read_file("DG1")
    assert time.perf_counter() - started >= 0.02 * chip.counters.apdus
