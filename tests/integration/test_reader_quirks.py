"""Quirky readers and restless cards, in process: a whole card read through each reader
quirk of ``fixtures.quirks`` with a transport offering only ``transmit`` and ``close``, then
checked by ``verify`` like any read; the second read on the same reader uses what the first
learned (``reader.profile``)."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from fixtures.cards import Card, CardProfile, build_card, chip_for_card, trust_store_for_tests
from fixtures.citizens import citizen
from fixtures.quirks import (
    AnswerCap,
    CardLostFor,
    ExtendedApduFails,
    ReaderError,
    SpuriousReset,
    T0Card,
    is_extended,
)
from reader import CANKey, IncompleteReadError, ReadOptions, read_card
from reader.drivers.card import CardRead, ReadEvent
from reader.errors import CardRemovedError
from reader.profile import ReaderProfile, parse_atr_info
from verify.check import check_card

AT = datetime(2026, 11, 28, tzinfo=UTC)
ID = "017072769692"
# Access control again after a recovery: the plain MSE the chip answers 6982 (it ends SM),
# MSE:Set AT and 4 General Authenticates, SELECT of the applet.
REOPEN_APDUS = 7


class Bare:
    """Only what ``reader.Transport`` promises: ``transmit`` and ``close``."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def transmit(self, apdu: bytes) -> bytes:
        answer: bytes = self._inner.transmit(apdu)
        return answer

    def close(self) -> None:
        self._inner.close()


@pytest.fixture(scope="module")
def card() -> Card:
    return build_card(ID)


@pytest.fixture(scope="module")
def trust() -> Any:
    return trust_store_for_tests()


def _read(transport: Any, card: Card, **kwargs: Any) -> CardRead:
    return read_card(Bare(transport), CANKey(card.can), **kwargs)


def _assert_whole_and_genuine(result: CardRead, card: Card, trust: Any) -> None:
    assert result.complete
    for name in ("COM", "SOD", "DG1", "DG2", "DG13", "DG14", "DG15"):
        assert result.files[name] == card.files[name], name
    check = check_card(result, trust, at=AT)
    assert check.genuine, check.status
    assert check.not_a_clone


@pytest.fixture(scope="module")
def short_only_apdus(card: Card) -> int:
    """APDUs of a whole read with extended length known to be off from the start."""
    result = _read(chip_for_card(card), card, options=ReadOptions(extended_length=False))
    assert result.complete and not result.recoveries
    return result.stats.apdus


def test_reader_failing_every_extended_apdu_reads_the_whole_card(
    card: Card, trust: Any, short_only_apdus: int
) -> None:
    quirk = ExtendedApduFails(chip_for_card(card))
    events: list[ReadEvent] = []
    # A reader met for the first time: nothing known, EF.ATR/INFO looked for (1 APDU).
    first = _read(quirk, card, on_event=events.append, profile=ReaderProfile())
    _assert_whole_and_genuine(first, card, trust)
    assert first.recoveries == ["extended_length"]
    assert quirk.failures == 1  # one failed extended APDU, never a loop
    assert first.stats.apdus <= short_only_apdus + 1 + 1 + REOPEN_APDUS
    assert [e.kind for e in events] == ["recovered"]
    assert first.learned.extended_length is False

    # The second read on the same reader: what the first learned, no failed probe.
    profile = first.profile(ReaderProfile())
    assert profile.extended_length is False and profile.recoveries == {"extended_length": 1}
    second = _read(quirk, card, profile=profile)
    _assert_whole_and_genuine(second, card, trust)
    assert quirk.failures == 1 and not second.recoveries
    assert second.stats.apdus == short_only_apdus


def test_the_recovery_is_made_once_then_a_clear_error(card: Card) -> None:
    """A reader that fails short APDUs too gets one recovery, then the read fails."""

    class FailsEverything(ExtendedApduFails):
        def _transmit(self, apdu: bytes, count: int) -> bytes:
            if count > 8 and (apdu[1] == 0xB0 or is_extended(apdu)):
                self.failures += 1
                raise ReaderError("the reader failed the command")
            return super()._transmit(apdu, count)

    quirk = FailsEverything(chip_for_card(card))
    started = time.monotonic()
    with pytest.raises(IncompleteReadError, match="reader failed") as caught:
        _read(quirk, card)
    assert time.monotonic() - started < 2
    assert caught.value.partial.recoveries == ["extended_length"]
    assert quirk.failures <= 3


def test_reader_capping_answers_reads_the_whole_card(card: Card, trust: Any) -> None:
    quirk = AnswerCap(chip_for_card(card), 1024)
    first = _read(quirk, card, profile=ReaderProfile())
    _assert_whole_and_genuine(first, card, trust)
    assert first.recoveries == ["extended_length"]
    failures = quirk.failures
    second = _read(quirk, card, profile=first.profile(ReaderProfile()))
    _assert_whole_and_genuine(second, card, trust)
    assert quirk.failures == failures and not second.recoveries


def test_t0_card_reads_the_whole_card(card: Card, trust: Any, short_only_apdus: int) -> None:
    t0 = T0Card(chip_for_card(card))
    result = _read(t0, card)
    _assert_whole_and_genuine(result, card, trust)
    assert t0.get_responses > 20  # every protected answer came by GET RESPONSE
    assert not result.recoveries  # 6700 to the extended probe: the ladder, no recovery
    # A T=0 read costs the GET RESPONSEs: about twice the short-APDU read.
    assert result.stats.apdus <= 2 * short_only_apdus + 2


def test_t0_wrong_le_is_sent_again_with_the_length_the_card_names() -> None:
    """A plain case-2 READ BINARY of EF.CardAccess with Le=00: 6Cxx, then the exact Le."""
    card = build_card(ID, profile=CardProfile(atr_info=True))
    t0 = T0Card(chip_for_card(card))
    result = _read(t0, card, profile=ReaderProfile())
    assert result.complete and result.files["CardAccess"] == card.files["CardAccess"]
    assert t0.wrong_le >= 1
    assert result.atr_info is not None and result.atr_info.extended_length is True


def test_spurious_reset_after_a_slow_command_resumes(card: Card, trust: Any) -> None:
    # APDU 12: a READ BINARY after access control (CardAccess 2, PACE 5, SELECT 1, COM, SOD).
    quirk = SpuriousReset(chip_for_card(card), apdu=12, delay=0.2)
    result = _read(quirk, card)
    _assert_whole_and_genuine(result, card, trust)
    assert quirk.resets == 1
    assert result.recoveries == ["card_lost"]


def _first_dg2_apdu(card: Card, options: ReadOptions) -> int:
    """The APDU number at which DG2 starts, on a quirk that never triggers."""
    counter = CardLostFor(chip_for_card(card), apdu=10**9, seconds=0)
    seen: list[int] = []

    def progress(name: str, done: int, total: int) -> None:
        if name == "DG2" and not seen:
            seen.append(counter.apdus)

    assert _read(counter, card, options=options, progress=progress).complete
    return seen[0]


def test_card_lost_in_the_middle_of_dg2_for_500_ms_resumes(card: Card, trust: Any) -> None:
    # Reads of 1 kB: DG2 takes about 17 READ BINARY; the card leaves at the 8th of them.
    options = ReadOptions(ladder=(1024,))
    quirk = CardLostFor(chip_for_card(card), apdu=_first_dg2_apdu(card, options) + 8, seconds=0.5)
    events: list[ReadEvent] = []
    offsets: list[int] = []

    def watch(name: str, done: int, total: int) -> None:
        if name == "DG2":
            offsets.append(done)

    started = time.monotonic()
    result = _read(quirk, card, options=options, progress=watch, on_event=events.append)
    elapsed = time.monotonic() - started
    _assert_whole_and_genuine(result, card, trust)
    assert quirk.losses == 1 and result.recoveries == ["card_lost"]
    assert [e.kind for e in events] == ["paused", "resumed"]
    assert events[0].reason == "card_lost" and events[0].wait_seconds == 10.0
    assert 0.5 <= elapsed < 5
    # DG2 went on from the offset reached (reported once more there): nothing read twice.
    assert offsets == sorted(offsets)
    repeated = [offset for offset in set(offsets) if offsets.count(offset) > 1]
    assert len(repeated) == 1 and 0 < repeated[0] < len(card.files["DG2"])
    assert len(set(offsets)) == -(-len(card.files["DG2"]) // 1024)


def test_card_that_does_not_come_back_fails_after_the_wait(card: Card) -> None:
    quirk = CardLostFor(chip_for_card(card), apdu=15, seconds=60)
    started = time.monotonic()
    with pytest.raises(IncompleteReadError, match=r"did not come back within 0\.5 s") as caught:
        _read(quirk, card, resume_wait=0.5)
    assert 0.5 <= time.monotonic() - started < 3
    assert isinstance(caught.value.__cause__, CardRemovedError)
    assert not caught.value.partial.complete


def test_resume_off_fails_at_once(card: Card) -> None:
    quirk = CardLostFor(chip_for_card(card), apdu=15, seconds=0.2)
    with pytest.raises(IncompleteReadError):
        _read(quirk, card, resume_wait=0)


class Swap:
    """A reader slot: the card on it can be lifted and another (or the same) put back."""

    def __init__(self, first: Any) -> None:
        self.card: Any | None = first
        self.apdus = 0
        self.swap_at: int | None = None
        self.back: Any = None
        self.back_after = 0.3
        self._back_at = 0.0

    def transmit(self, apdu: bytes) -> bytes:
        self.apdus += 1
        if self.apdus == self.swap_at:
            self.card = None
            self._back_at = time.monotonic() + self.back_after
            raise CardRemovedError("the card left the field")
        if self.card is None:
            if time.monotonic() < self._back_at:
                raise CardRemovedError("no card")
            self.card = self.back
            self.card.reset()
        answer: bytes = self.card.transmit(apdu)
        return answer

    def close(self) -> None:
        pass


def _twin(card: Card) -> Card:
    """Another citizen's card with the same CAN (last 6 digits of the ID number)."""
    person = citizen(ID)
    other = dataclasses.replace(
        person,
        id_number="079" + person.id_number[3:],
        full_name="NGUYỄN VĂN KHÁC",
    )
    return build_card(other)


def test_different_card_put_back_mid_read_starts_a_new_read(card: Card, trust: Any) -> None:
    twin = _twin(card)
    assert twin.can == card.can and twin.files["SOD"] != card.files["SOD"]
    slot = Swap(chip_for_card(card))
    slot.swap_at = 14  # after COM and SOD, in the data groups
    slot.back = chip_for_card(twin)
    events: list[ReadEvent] = []
    result = read_card(slot, CANKey(card.can), on_event=events.append)
    assert result.recoveries == ["card_lost", "different_card"]
    assert [e.kind for e in events] == ["paused", "resumed", "restarted"]
    # Every file is the second card's: nothing of the first is mixed in.
    for name, raw in result.files.items():
        assert raw == twin.files[name], name
    assert result.parsed["DG13"].id_number == twin.citizen.id_number
    check = check_card(result, trust, at=AT)
    assert check.genuine


def test_same_card_put_back_keeps_the_files_already_read(card: Card) -> None:
    slot = Swap(chip_for_card(card))
    slot.swap_at = 14
    slot.back = chip_for_card(card)
    result = read_card(slot, CANKey(card.can))
    assert result.recoveries == ["card_lost"]
    assert result.files["DG2"] == card.files["DG2"]


def test_profile_json_round_trip_and_atr_info_parse() -> None:
    info = parse_atr_info(bytes.fromhex("4703C001C0") + bytes.fromhex("7F660802020400020204FF"))
    assert info.extended_length is True and info.max_command == 1024
    assert info.max_response == 1279
    profile = ReaderProfile(extended_length=False, max_read=223, atr_info=info).learn(
        extended_length=None,
        max_read=None,
        largest_answer=258,
        protocol="T=1",
        atr_info=None,
        atr_info_checked=False,
        recoveries=["card_lost"],
    )
    again = ReaderProfile.from_json(profile.to_json())
    assert again == profile
    assert ReaderProfile.from_json({"extended_length": "yes", "max_read": -1}) == ReaderProfile()
    options = again.options(ReadOptions())
    assert options.extended_length is False and options.max_read == 223
