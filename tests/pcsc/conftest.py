"""The PC/SC tests run through a real pcscd with vsmartcard's vpcd virtual readers, our
simulated chip on the card side (``docs/spec/pcsc-testing.md``).

Without pcscd they skip, saying how to enable them; with ``CCCD_REQUIRE_PCSC=1`` (CI) a
missing stack is a failure.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from fixtures.cards import Card, build_card, chip_for_card
from fixtures.chip import SimulatedChip
from fixtures.vpcd import VpcdCard
from reader import ReadOptions, keys_for_id_number
from reader.keys import AccessKey

READER = "Virtual PCD 00 00"
OTHER_READER = "Virtual PCD 00 01"
PORT = 35963
HOW_TO_ENABLE = (
    "install pcscd, libpcsclite-dev and vsmartcard-vpcd (apt-get install --no-install-recommends"
    " pcscd libpcsclite-dev vsmartcard-vpcd), pip install 'cccd[pcsc]', and start "
    "`pcscd --foreground &` (scripts/test starts it when run as root)"
)


def _unavailable(reason: str) -> None:
    if os.environ.get("CCCD_REQUIRE_PCSC") == "1":
        pytest.fail(f"CCCD_REQUIRE_PCSC=1 but the PC/SC stack is unavailable: {reason}")
    pytest.skip(f"PC/SC tests skipped ({reason}); to run them: {HOW_TO_ENABLE}")


@pytest.fixture(scope="session")
def pcsc_stack() -> list[str]:
    """The reader names, once pcscd with both vpcd readers is known to be there."""
    try:
        import smartcard  # noqa: F401
    except ImportError:
        _unavailable("pyscard is not installed")
    from reader.drivers.pcsc import list_readers
    from reader.errors import TransportError

    try:
        readers = list_readers()
    except TransportError as exc:
        _unavailable(str(exc))
        raise
    if READER not in readers or OTHER_READER not in readers:
        _unavailable(f"the vpcd readers are missing (pcscd lists {readers})")
    return readers


def reader_has_card(reader: str = READER) -> bool:
    from reader.drivers.events import CardMonitor

    state = CardMonitor([reader]).snapshot().get(reader)
    return bool(state and state.present)


def wait_for_reader(present: bool, reader: str = READER, timeout: float = 5.0) -> None:
    """Until pcscd reports the reader (non-)empty: a card put on within pcscd's 400 ms
    presence poll after another left could otherwise be missed."""
    deadline = time.monotonic() + timeout
    while reader_has_card(reader) != present:
        if time.monotonic() > deadline:
            raise AssertionError(f"{reader} still {'empty' if present else 'holds a card'}")
        time.sleep(0.05)


@pytest.fixture
def vpcd(pcsc_stack: list[str]) -> Iterator[VpcdCard]:
    """The card side of 'Virtual PCD 00 00', empty at the start and the end of a test."""
    wait_for_reader(False)
    card = VpcdCard(PORT)
    try:
        yield card
    finally:
        card.stop()
        wait_for_reader(False)


def put_card(vpcd: VpcdCard, chip: SimulatedChip) -> None:
    """Take off whatever card is on the reader, put ``chip`` on, wait until pcscd sees it."""
    if vpcd.chip is not None:
        vpcd.remove()
    wait_for_reader(False)
    vpcd.insert(chip)
    wait_for_reader(True)


_CARDS: dict[tuple[str, tuple[str, ...]], Card] = {}


def card_for(id_number: str, faults: tuple[str, ...] = ()) -> Card:
    key = (id_number, faults)
    if key not in _CARDS:
        _CARDS[key] = build_card(id_number, faults=faults)
    return _CARDS[key]


def chip_for(card: Card, **options: Any) -> SimulatedChip:
    return chip_for_card(card, **options)


def access_for(card: Card, chip: SimulatedChip) -> tuple[AccessKey, ReadOptions]:
    """The CAN with PACE when the simulated chip runs PACE, else its BAC key."""
    if "CardAccess" in card.files and any(0x86 in e.instructions for e in chip.extensions):
        return keys_for_id_number(card.citizen.id_number)[0], ReadOptions()
    return card.bac_key, ReadOptions(allow_pace=False)
