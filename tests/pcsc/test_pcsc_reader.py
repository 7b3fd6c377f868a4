"""Reading simulated cards through a real pcscd + vpcd:
several citizens swapped between reads, a card removed mid-DG2, a card that stops answering,
a chip refusing extended length, the reader errors, and the CLI."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path

import pytest

from fixtures import faults as F
from fixtures.citizens import load_citizens
from fixtures.vpcd import VpcdCard
from reader import CardRemovedError, IncompleteReadError, TransportTimeoutError, read_card
from reader.drivers.events import CardEvent, CardMonitor
from reader.drivers.pcsc import NoCardError, NoReaderError, PCSCTransport, ReaderBusyError
from tests.pcsc.conftest import (
    OTHER_READER,
    READER,
    access_for,
    card_for,
    chip_for,
    put_card,
    wait_for_reader,
)

pytestmark = pytest.mark.pcsc

ROOT = Path(__file__).resolve().parents[2]


def _nfc(text: str | None) -> str | None:
    return None if text is None else unicodedata.normalize("NFC", text)


def test_several_citizens_read_with_card_swaps(vpcd: VpcdCard) -> None:
    people = load_citizens()[:4]
    for person in people:
        card = card_for(person.id_number)
        chip = chip_for(card)
        put_card(vpcd, chip)
        key, options = access_for(card, chip)
        with PCSCTransport(READER, timeout=5.0) as transport:
            assert transport.protocol == "T=1"
            result = read_card(transport, key, options=options, authenticate_chip=False)
        assert result.complete
        dg13 = result.parsed["DG13"]
        assert dg13.id_number == person.id_number
        assert _nfc(dg13.full_name) == _nfc(person.full_name)
        assert result.parsed["DG1"].id_number == person.id_number
        for name in ("COM", "SOD", "DG1", "DG2", "DG13", "DG14"):
            assert result.files[name] == card.files[name], name
        # Extended length went through pcscd and vpcd: DG2 (18 kB) took one READ BINARY.
        assert transport.extended_length is True
        assert result.stats.apdus < 30


def test_card_removed_in_the_middle_of_dg2(vpcd: VpcdCard) -> None:
    person, following = load_citizens()[0], load_citizens()[1]
    card = card_for(person.id_number)
    chip = chip_for(card)
    put_card(vpcd, chip)
    key, options = access_for(card, chip)
    seen: list[int] = []

    def lift_during_dg2(name: str, done: int, total: int) -> None:
        if name == "DG2" and 0 < done < total and vpcd.chip is not None:
            seen.append(done)
            vpcd.remove()

    started = time.monotonic()
    with (
        PCSCTransport(READER, timeout=5.0) as transport,
        pytest.raises(IncompleteReadError) as caught,
    ):
        read_card(
            transport,
            key,
            options=dataclasses.replace(options, ladder=(1024,)),
            progress=lift_during_dg2,
            authenticate_chip=False,
            resume_wait=0.5,  # the card is not put back: the read fails after the wait
        )
    elapsed = time.monotonic() - started
    assert seen, "the card was never lifted during DG2"
    assert isinstance(caught.value.__cause__, CardRemovedError)
    assert "removed" in str(caught.value)
    assert elapsed < 3.5
    partial = caught.value.partial
    assert not partial.complete
    assert "DG1" in partial.files and "DG2" not in partial.files

    # The next card on the same reader reads correctly.
    next_card = card_for(following.id_number)
    next_chip = chip_for(next_card)
    put_card(vpcd, next_chip)
    key, options = access_for(next_card, next_chip)
    with PCSCTransport(READER) as transport:
        result = read_card(transport, key, options=options, authenticate_chip=False)
    assert result.complete
    assert result.parsed["DG13"].id_number == following.id_number


def test_card_leaving_during_a_command(vpcd: VpcdCard) -> None:
    """The chip vanishes while pcscd waits for its answer (vpcd's socket closes)."""
    card = card_for(load_citizens()[2].id_number)
    chip = chip_for(card, faults=[F.RemovedAfter(12)])
    put_card(vpcd, chip)
    key, options = access_for(card, chip)
    started = time.monotonic()
    with PCSCTransport(READER) as transport, pytest.raises(IncompleteReadError) as caught:
        read_card(transport, key, options=options, authenticate_chip=False, resume_wait=0)
    assert time.monotonic() - started < 3.0
    assert isinstance(caught.value.__cause__, CardRemovedError)
    wait_for_reader(False)


def test_card_that_stops_answering_times_out(vpcd: VpcdCard) -> None:
    person = load_citizens()[3]
    card = card_for(person.id_number)
    chip = chip_for(card, faults=[F.StopsAnsweringAfter(8)])
    put_card(vpcd, chip)
    key, options = access_for(card, chip)
    transport = PCSCTransport(READER, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(IncompleteReadError) as caught:
        read_card(transport, key, options=options, authenticate_chip=False)
    elapsed = time.monotonic() - started
    transport.close()  # must not block on the stuck command
    assert isinstance(caught.value.__cause__, TransportTimeoutError)
    assert 1.0 <= elapsed < 2.5
    assert time.monotonic() - started < 3.0

    # Lifting the silent card frees the reader; the next card reads.
    fresh = chip_for(card)
    put_card(vpcd, fresh)
    key, options = access_for(card, fresh)
    with PCSCTransport(READER) as transport:
        result = read_card(transport, key, options=options, authenticate_chip=False)
    assert result.complete and result.parsed["DG13"].id_number == person.id_number


def test_chip_refusing_extended_length_is_read_with_the_ladder(vpcd: VpcdCard) -> None:
    person = load_citizens()[4]
    card = card_for(person.id_number)
    plain_chip = chip_for(card)
    refusing_chip = chip_for(card, faults=[F.NoExtendedLength()])
    counts = []
    for chip in (plain_chip, refusing_chip):
        put_card(vpcd, chip)
        key, options = access_for(card, chip)
        with PCSCTransport(READER) as transport:
            result = read_card(transport, key, options=options, authenticate_chip=False)
        assert result.complete
        assert result.files["DG2"] == card.files["DG2"]
        assert result.parsed["DG13"].id_number == person.id_number
        counts.append(result.stats.apdus)
    assert any(sw == 0x6700 for _, sw in refusing_chip.counters.log) or refusing_chip.counters
    # Short APDUs: DG2 alone needs more than 18 kB / 231 bytes of READ BINARY.
    assert counts[1] > counts[0] + 70


def test_reader_errors_say_what_happened(vpcd: VpcdCard) -> None:
    with pytest.raises(NoCardError, match="no card"):
        PCSCTransport(OTHER_READER)
    with pytest.raises(NoReaderError, match="not connected"):
        PCSCTransport("No Such Reader 00 00")
    card = card_for(load_citizens()[0].id_number)
    put_card(vpcd, chip_for(card))
    with PCSCTransport(READER), pytest.raises(ReaderBusyError, match="in use"):
        PCSCTransport(READER)


def test_monitor_reports_insertions_and_removals(vpcd: VpcdCard) -> None:
    card = card_for(load_citizens()[0].id_number)
    events: list[CardEvent] = []
    monitor = CardMonitor([READER], report_present=False)
    watcher = threading.Thread(target=lambda: events.extend(monitor.events(timeout=15)))
    watcher.start()
    time.sleep(0.3)
    put_card(vpcd, chip_for(card))
    vpcd.remove()
    wait_for_reader(False)
    put_card(vpcd, chip_for(card))
    vpcd.remove()
    wait_for_reader(False)
    monitor.stop()
    watcher.join(timeout=5)
    assert not watcher.is_alive()
    kinds = [e.kind for e in events if e.reader == READER]
    assert kinds == ["card_inserted", "card_removed", "card_inserted", "card_removed"]
    assert events[0].atr == chip_for(card).atr


def _cccd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli.main", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cccd_readers_lists_both_virtual_readers(vpcd: VpcdCard) -> None:
    card = card_for(load_citizens()[0].id_number)
    put_card(vpcd, chip_for(card))
    done = _cccd("readers")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith(READER) and "card present" in line for line in lines)
    assert any(line.startswith(OTHER_READER) and "no card" in line for line in lines)
    listed = json.loads(_cccd("readers", "--json").stdout)
    assert {r["name"]: r["card_present"] for r in listed} == {READER: True, OTHER_READER: False}


def test_cccd_read_prints_the_identity(vpcd: VpcdCard) -> None:
    person = load_citizens()[1]
    card = card_for(person.id_number)
    chip = chip_for(card)
    put_card(vpcd, chip)
    _, options = access_for(card, chip)
    args = ["read", "--reader", READER, "--json"]
    if options.allow_pace:
        args += ["--id-number", person.id_number]
    else:  # the simulated chip has no PACE yet: the card's BAC key
        bac = card.bac_key
        args += [
            "--bac",
            "--document-number",
            bac.document_number,
            "--birth",
            bac.date_of_birth,
            "--expiry",
            bac.date_of_expiry,
        ]
    done = _cccd(*args)
    assert done.returncode in (0, 1), done.stderr
    assert person.id_number in done.stdout
    document = json.loads(done.stdout)
    assert person.id_number in json.dumps(document)
