"""The parts of the PC/SC layer that need no pcscd: ATR parsing, error translation, the
card-event state comparison (event counter), the progress line. Run everywhere."""

from __future__ import annotations

from reader.drivers.events import ReaderState, diff_states
from reader.drivers.pcsc import (
    NoCardError,
    NoReaderError,
    PCSCUnavailableError,
    ReaderBusyError,
    parse_atr,
    translate,
)
from reader.errors import CardRemovedError, TransportTimeoutError
from service.cli.progress import render

R = "Reader 0"


def _state(present: bool, counter: int, atr: bytes = b"\x3b\x00") -> ReaderState:
    raw = (counter << 16) | (0x20 if present else 0x10)
    return ReaderState.from_event_state(raw, atr if present else b"")


def test_quick_swap_seen_through_the_event_counter() -> None:
    before = {R: _state(True, 1)}
    after = {R: _state(True, 3)}  # removed and another inserted between two waits
    assert [e.kind for e in diff_states(before, after)] == ["card_removed", "card_inserted"]
    assert diff_states(before, {R: _state(True, 1)}) == []


def test_insert_remove_and_readers() -> None:
    assert [e.kind for e in diff_states({R: _state(False, 0)}, {R: _state(True, 1)})] == [
        "card_inserted"
    ]
    assert [e.kind for e in diff_states({R: _state(True, 1)}, {R: _state(False, 2)})] == [
        "card_removed"
    ]
    assert [e.kind for e in diff_states({}, {R: _state(True, 1)})] == [
        "reader_added",
        "card_inserted",
    ]
    assert [e.kind for e in diff_states({R: _state(True, 1)}, {})] == [
        "card_removed",
        "reader_removed",
    ]


def test_atr_card_capabilities_say_extended_length() -> None:
    # 3B 8C 80 01 | 80 (compact-TLV) 73 (card capabilities, 3 bytes) ... | TCK
    yes = parse_atr(bytes.fromhex("3B8C800180730000E0") + b"\x00" * 4 + b"\x00")
    assert yes.protocols == (0, 1)
    assert yes.extended_length is True
    no = parse_atr(bytes.fromhex("3B88800180730000A0000000") + b"\x00")
    assert no.extended_length is False
    unknown = parse_atr(bytes.fromhex("3B8880014A434F503231563232"))
    assert unknown.historical == b"JCOP21V2"
    assert unknown.extended_length is None
    assert parse_atr(b"").extended_length is None
    assert parse_atr(b"\x3b").protocols == ()


def test_pcsc_codes_become_errors_that_say_what_happened() -> None:
    assert isinstance(translate(0x8010001D, "x"), PCSCUnavailableError)
    assert "pcscd" in str(translate(0x8010001D, "x"))
    assert isinstance(translate(0x8010000C, "x", "R"), NoCardError)
    assert isinstance(translate(0x80100069, "x", "R"), CardRemovedError)
    assert isinstance(translate(0x8010000B, "x", "R"), ReaderBusyError)
    assert isinstance(translate(0x80100009, "x", "R"), NoReaderError)
    assert isinstance(translate(0x8010002E, "x"), NoReaderError)
    assert isinstance(translate(0x8010000A, "x"), TransportTimeoutError)
    assert "0x80100099" in str(translate(-0x7FEFFF67, "x"))


def test_progress_line() -> None:
    assert render("DG2", 0, 18203).startswith("DG2        [........................] 0 B/18.2 kB")
    assert "[########################] 18.2 kB/18.2 kB" in render("DG2", 18203, 18203)
    assert "#" * 12 + "." * 12 in render("COM", 13, 26)
