"""Simulated cards in a process of their own (fixtures/card_host.py): the reader reads them
through the simulated reader exactly as it reads an in-process chip, the card's work is
done in the host process, and a card that leaves raises the reader's own errors."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from fixtures.card_host import CardHostProcess, RemoteChip
from fixtures.quirks import CardLeftError
from reader.errors import CardRemovedError
from reader.keys import keys_for_id_number
from service.scan.pipeline import read, verify_read
from service.scan.readers import SimulatedReader

CITIZEN = "017072769692"


@pytest.fixture(scope="module")
def host() -> Iterator[CardHostProcess]:
    process = CardHostProcess()
    try:
        yield process
    finally:
        process.stop()


def test_a_card_in_the_host_reads_and_verifies(host: CardHostProcess) -> None:
    reader = SimulatedReader("host reader")
    reader.insert(host.chip(CITIZEN, [], False))
    assert reader.card_present()
    card = read(reader.connect(), tuple(keys_for_id_number(CITIZEN)))
    outcome = verify_read(card, None)
    assert outcome.id_number == CITIZEN
    assert outcome.accepted
    assert card.pace_parameters  # PACE ran, its chip side in the host
    assert host.pid is not None and host.pid != os.getpid()
    # A second read on the same card: a fresh power-up, the same result.
    again = read(reader.connect(), tuple(keys_for_id_number(CITIZEN)))
    assert verify_read(again, None).id_number == CITIZEN


def test_an_unknown_citizen_is_a_key_error(host: CardHostProcess) -> None:
    with pytest.raises(KeyError):
        host.chip("001099999999", [], False)


def test_a_card_taken_off_is_gone_for_the_reader(host: CardHostProcess) -> None:
    reader = SimulatedReader("host reader 2")
    chip = host.chip(CITIZEN, [], False)
    reader.insert(chip)
    assert reader.remove()
    assert not reader.card_present()
    assert isinstance(chip, RemoteChip) and chip.removed
    with pytest.raises(CardRemovedError):
        chip.transmit(bytes.fromhex("00A4040C07A0000002471001"))


def test_a_card_removed_by_its_fault_raises_card_removed(host: CardHostProcess) -> None:
    chip = host.chip(CITIZEN, ["removed_after=2"], False)
    select = bytes.fromhex("00A4040C07A0000002471001")
    chip.transmit(select)
    chip.transmit(select)
    with pytest.raises(CardRemovedError, match="removed"):
        chip.transmit(select)
    assert chip.removed


def test_a_card_that_leaves_for_a_while_says_when_it_is_back(host: CardHostProcess) -> None:
    chip = host.chip(CITIZEN, ["lost_at=1:300"], False)
    with pytest.raises(CardLeftError) as left:
        chip.transmit(bytes.fromhex("00A4040C07A0000002471001"))
    assert left.value.back_after == pytest.approx(0.3)
    assert chip.removed  # off the antenna while away
