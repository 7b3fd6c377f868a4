"""The T=0 exchange (ISO/IEC 7816-3 §10.3.3), EF.ATR/INFO parsing (ISO/IEC 7816-4 §12.7.1)
and the bounded reader-memory file, without a card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reader.drivers.t0 import T0Exchange, t0_transmit
from reader.errors import ParseError, ProtocolError
from reader.profile import ReaderProfile, parse_atr_info
from service.scan.reader_memory import MAX_ENTRIES, ReaderMemory


def test_61xx_is_collected_with_get_response() -> None:
    sent: list[bytes] = []
    answers = [
        bytes.fromhex("6110"),
        bytes(16) + bytes.fromhex("6104"),
        b"\x01\x02\x03\x04\x90\x00",
    ]

    def send(apdu: bytes) -> bytes:
        sent.append(apdu)
        return answers[len(sent) - 1]

    command = bytes.fromhex("0CB0000004870901") + bytes(9) + b"\x00"
    assert t0_transmit(send, command) == bytes(16) + b"\x01\x02\x03\x04\x90\x00"
    assert sent[1:] == [bytes.fromhex("00C0000010"), bytes.fromhex("00C0000004")]


def test_6cxx_reissues_a_case_2_command_once() -> None:
    exchange = T0Exchange(bytes.fromhex("00B0000000"))
    following, final = exchange.next(bytes.fromhex("6C3A"))
    assert following == bytes.fromhex("00B000003A") and final is None
    # A second 6Cxx is the answer, not another round.
    assert exchange.next(bytes.fromhex("6C10")) == (None, bytes.fromhex("6C10"))
    # 6Cxx to a case-4 command is just its status word.
    assert T0Exchange(bytes.fromhex("00A4020C02011C00")).next(b"\x6c\x10")[1] == b"\x6c\x10"


def test_a_card_that_never_stops_asking_is_refused() -> None:
    with pytest.raises(ProtocolError, match="GET RESPONSE"):
        t0_transmit(lambda apdu: bytes(200) + b"\x61\xff", bytes.fromhex("00B0000000"))
    with pytest.raises(ProtocolError, match="status word"):
        T0Exchange(b"\x00\xb0\x00\x00\x00").next(b"\x90")


def test_atr_info_is_bounded_and_typed() -> None:
    assert parse_atr_info(b"").extended_length is None
    assert parse_atr_info(bytes.fromhex("470300 00 00".replace(" ", ""))).extended_length is False
    with pytest.raises(ParseError):
        parse_atr_info(bytes.fromhex("4705C0"))
    with pytest.raises(ParseError):
        parse_atr_info(bytes(2000))


def test_reader_memory_is_bounded(tmp_path: Path) -> None:
    memory = ReaderMemory(tmp_path / "readers.json")
    for number in range(MAX_ENTRIES + 5):
        memory.put(f"Reader {number}", b"\x3b\x00", ReaderProfile(max_read=223))
    assert len(memory.entries()) == MAX_ENTRIES
    assert not memory.known("Reader 0", b"\x3b\x00")  # the oldest went first
    assert memory.known(f"Reader {MAX_ENTRIES + 4}", b"\x3b\x00")
    memory.put("x" * 500, b"\x3b", ReaderProfile())  # names beyond reason are not kept
    assert not memory.known("x" * 500, b"\x3b")
    saved = json.loads((tmp_path / "readers.json").read_text("utf-8"))
    assert len(saved["readers"]) == MAX_ENTRIES
    (tmp_path / "readers.json").write_text(json.dumps({"readers": [{"reader": 1}, "x"]}))
    assert ReaderMemory(tmp_path / "readers.json").entries() == []
