"""Quirky readers and restless cards through a real pcscd + vpcd: the reader quirks of
``fixtures.quirks`` on the card side of vpcd, read with ``PCSCTransport`` -- the extended-APDU
reader error, an answer cap, T=0, a spurious reset, a card lost for 500 ms in DG2 -- and the
card reset at the end of every session."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fixtures.cards import Card, chip_for_card, trust_store_for_tests
from fixtures.citizens import load_citizens
from fixtures.quirks import AnswerCap, CardLostFor, ExtendedApduFails, SpuriousReset, T0Card
from fixtures.vpcd import VpcdCard
from reader import CANKey, ReadOptions, read_card
from reader.drivers.card import CardRead, ReadEvent
from reader.drivers.pcsc import PCSCTransport
from reader.profile import ReaderProfile
from tests.pcsc.conftest import READER, card_for, put_card
from verify.check import check_card

pytestmark = pytest.mark.pcsc

AT = datetime(2026, 11, 28, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
SELECT_CARD_ACCESS = bytes.fromhex("00A4020C02011C")


@pytest.fixture(scope="module")
def card() -> Card:
    return card_for(load_citizens()[1].id_number)


def _whole_and_genuine(result: CardRead, card: Card) -> None:
    assert result.complete
    for name in ("COM", "SOD", "DG1", "DG2", "DG13", "DG14", "DG15"):
        assert result.files[name] == card.files[name], name
    check = check_card(result, trust_store_for_tests(), at=AT)
    assert check.genuine and check.not_a_clone, check.status


def test_the_session_ends_with_a_card_reset(vpcd: VpcdCard, card: Card) -> None:
    chip = chip_for_card(card)
    put_card(vpcd, chip)
    with PCSCTransport(READER) as transport:
        result = read_card(transport, CANKey(card.can))
        assert result.complete and chip.sm is not None  # still in secure messaging
    # Closed with SCARD_RESET_CARD: the chip is at power-up, not in the old session, and
    # the next session's first plain SELECT works (left as it was, it would answer 6982).
    assert chip.sm is None
    with PCSCTransport(READER) as transport:
        assert transport.transmit(SELECT_CARD_ACCESS) == b"\x90\x00"
        assert read_card(transport, CANKey(card.can), authenticate_chip=False).complete


def test_reader_failing_extended_apdus_twice_second_read_without_probe(
    vpcd: VpcdCard, card: Card
) -> None:
    quirk = ExtendedApduFails(chip_for_card(card))
    put_card(vpcd, quirk)
    with PCSCTransport(READER) as transport:
        first = read_card(transport, CANKey(card.can), profile=ReaderProfile())
        protocol = transport.protocol
    _whole_and_genuine(first, card)
    assert first.recoveries == ["extended_length"] and quirk.failures == 1
    profile = first.profile(ReaderProfile(), protocol)
    assert profile.extended_length is False and profile.protocol == "T=1"
    with PCSCTransport(READER, extended_length=profile.extended_length) as transport:
        second = read_card(transport, CANKey(card.can), profile=profile)
    _whole_and_genuine(second, card)
    assert quirk.failures == 1 and not second.recoveries
    assert second.stats.apdus < first.stats.apdus


def test_reader_capping_answers_reads_the_whole_card(vpcd: VpcdCard, card: Card) -> None:
    quirk = AnswerCap(chip_for_card(card), 2048)
    put_card(vpcd, quirk)
    with PCSCTransport(READER) as transport:
        result = read_card(transport, CANKey(card.can))
    _whole_and_genuine(result, card)
    assert result.recoveries == ["extended_length"] and quirk.failures == 1


def test_t0_card_reads_the_whole_card(vpcd: VpcdCard, card: Card) -> None:
    t0 = T0Card(chip_for_card(card))
    put_card(vpcd, t0)
    with PCSCTransport(READER) as transport:
        assert transport.protocol == "T=0" and transport.extended_length is False
        result = read_card(transport, CANKey(card.can))
    _whole_and_genuine(result, card)
    assert t0.get_responses > 20 and not result.recoveries


def test_spurious_reset_after_a_slow_command_resumes(vpcd: VpcdCard, card: Card) -> None:
    # The 12th APDU (a READ BINARY after access control) is slow, then the card is reset;
    # through vpcd the card drops off and is back after pcscd's presence poll.
    quirk = SpuriousReset(chip_for_card(card), apdu=12, delay=0.3, back_after=0.6)
    put_card(vpcd, quirk)
    with PCSCTransport(READER) as transport:
        result = read_card(transport, CANKey(card.can))
    _whole_and_genuine(result, card)
    assert quirk.resets == 1 and result.recoveries == ["card_lost"]


def _dg2_start(card: Card, vpcd: VpcdCard, options: ReadOptions) -> int:
    counter = CardLostFor(chip_for_card(card), apdu=10**9, seconds=0)
    put_card(vpcd, counter)
    seen: list[int] = []

    def progress(name: str, done: int, total: int) -> None:
        if name == "DG2" and not seen:
            seen.append(counter.apdus)

    with PCSCTransport(READER) as transport:
        read_card(transport, CANKey(card.can), options=options, progress=progress)
    return seen[0]


def test_card_lost_in_dg2_for_500_ms_resumes_and_verifies(vpcd: VpcdCard, card: Card) -> None:
    options = ReadOptions(ladder=(1024,))
    at = _dg2_start(card, vpcd, options) + 8
    quirk = CardLostFor(chip_for_card(card), apdu=at, seconds=0.5)
    put_card(vpcd, quirk)
    events: list[ReadEvent] = []
    started = time.monotonic()
    with PCSCTransport(READER) as transport:
        result = read_card(transport, CANKey(card.can), options=options, on_event=events.append)
    elapsed = time.monotonic() - started
    _whole_and_genuine(result, card)
    assert quirk.losses == 1 and result.recoveries == ["card_lost"]
    assert [e.kind for e in events] == ["paused", "resumed"]
    assert 0.5 <= elapsed < 6


def test_card_not_back_in_time_fails_clearly(vpcd: VpcdCard, card: Card) -> None:
    quirk: Any = CardLostFor(chip_for_card(card), apdu=14, seconds=30)
    put_card(vpcd, quirk)
    started = time.monotonic()
    with PCSCTransport(READER) as transport, pytest.raises(Exception, match="did not come back"):
        read_card(transport, CANKey(card.can), resume_wait=1.0)
    assert 1.0 <= time.monotonic() - started < 5
    vpcd.remove()


def _cccd(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cccd_readers_probe_shows_the_quirk_and_what_was_learned(
    vpcd: VpcdCard, card: Card, tmp_path: Path
) -> None:
    quirk = ExtendedApduFails(chip_for_card(card))
    put_card(vpcd, quirk)
    before = _cccd("readers", "--probe", data_dir=tmp_path)
    assert before.returncode == 0, before.stderr
    text = before.stdout
    assert READER in text and "connected with T=1" in text
    assert "tried: fails at the reader" in text
    assert "learned: nothing yet" in text

    read = _cccd(
        "read",
        "--reader",
        READER,
        "--id-number",
        card.citizen.id_number,
        "--json",
        data_dir=tmp_path,
    )
    assert read.returncode in (0, 1), read.stderr
    assert "short commands" in read.stderr
    assert (tmp_path / "readers.json").is_file()

    after = _cccd("readers", "--probe", "--json", data_dir=tmp_path)
    (entry,) = [e for e in json.loads(after.stdout) if e["name"] == READER]
    assert entry["extended_length_tried"].startswith("fails at the reader")
    (learned,) = entry["learned"]
    assert learned["extended_length"] is False and learned["recoveries"] == {"extended_length": 1}
    assert learned["atr"] == quirk.atr.hex().upper()
    assert card.citizen.id_number not in after.stdout


def test_cccd_read_resumes_when_the_card_comes_back(
    vpcd: VpcdCard, card: Card, tmp_path: Path
) -> None:
    quirk = CardLostFor(chip_for_card(card), apdu=12, seconds=0.6)
    put_card(vpcd, quirk)
    done = _cccd(
        "read",
        "--reader",
        READER,
        "--id-number",
        card.citizen.id_number,
        "--json",
        data_dir=tmp_path,
    )
    assert done.returncode in (0, 1), done.stderr
    assert "hold it still on the reader" in done.stderr and "reading on" in done.stderr
    assert json.loads(done.stdout)["identity"]["id_number"] == card.citizen.id_number
