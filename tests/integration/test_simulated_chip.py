"""The simulated chip and the card factory: every citizen reads back byte for byte
through the real reader; faults give the typed errors or flagged results they should; the
chip refuses what a real chip refuses."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from fixtures import faults as F
from fixtures.cards import build_card, chip_for_card
from fixtures.chip import SimulatedChip
from fixtures.citizens import load_citizens
from reader import BACKey, CANKey, ReadOptions, read_card
from reader.drivers.card import IncompleteReadError
from reader.errors import AccessDeniedError
from reader.keys import check_digit

BAC_ONLY = ReadOptions(allow_pace=False)
CITIZENS = load_citizens()


@pytest.mark.parametrize("person", CITIZENS, ids=lambda c: c.id_number)
def test_every_citizen_reads_back_over_bac(person) -> None:  # type: ignore[no-untyped-def]
    card = build_card(person)
    result = read_card(chip_for_card(card), card.bac_key, options=BAC_ONLY, authenticate_chip=False)
    assert result.complete
    assert result.access_protocol == "BAC"
    assert result.fallback_reason == "PACE offered; the caller asked for BAC"
    for name, raw in card.files.items():
        if name == "DG3":
            assert name not in result.files  # needs EAC: never read
        else:
            assert result.files[name] == raw, name
    mrz = result.files["DG1"][5:].decode("ascii")
    line1, line2 = mrz[:30], mrz[30:60]
    assert line1[5:14] == person.id_number[3:]
    assert check_digit(line1[5:14]) == line1[14]
    assert check_digit(line2[0:6]) == line2[6]
    assert check_digit(line2[8:14]) == line2[14]
    assert line1[15:27] == person.id_number
    dg2 = result.parsed["DG2"]
    face = dg2.face
    assert face is not None
    image = Image.open(io.BytesIO(face.image))
    image.load()
    assert image.width > 100 and image.height > 100
    assert 8_000 < len(face.image) < 64_000


def test_for_citizen_one_liner() -> None:
    chip = SimulatedChip.for_citizen("017072769692", faults=["no_pace"])  # type: ignore[attr-defined]
    key = BACKey("072769692", "721102", "321102")
    result = read_card(chip, key, authenticate_chip=False)
    assert result.access_protocol == "BAC" and result.fallback_reason is None
    assert "CardAccess" not in result.files


def test_card_removed_mid_read_raises_and_marks_partial_incomplete() -> None:
    card = build_card("001185483324")
    chip = chip_for_card(card, faults=[F.RemovedAfter(8)])  # during DG2
    with pytest.raises(IncompleteReadError) as caught:  # waited for, briefly: never back
        read_card(chip, card.bac_key, options=BAC_ONLY, resume_wait=0.5)
    partial = caught.value.partial
    assert not partial.complete
    assert "the card was removed" in str(caught.value)
    assert len(partial.files) < len(card.files) - 1


def test_wrong_bac_key_6300_then_reads_6982() -> None:
    card = build_card("001185483324")
    chip = chip_for_card(card)
    wrong = BACKey(card.citizen.document_number, "850315", "250314")
    with pytest.raises(AccessDeniedError) as caught:
        read_card(chip, wrong, options=BAC_ONLY)
    assert caught.value.sw == 0x6300
    assert ("82", 0x6300) in chip.counters.log
    assert chip.transmit(bytes.fromhex("00B0810000")) == b"\x69\x82"


def test_unprotected_read_after_bac_is_refused() -> None:
    card = build_card("001185483324")
    chip = chip_for_card(card)
    from reader import open_session

    session = open_session(chip, card.bac_key, options=BAC_ONLY)
    session.select("DG1")
    assert chip.transmit(bytes.fromhex("00B0000010")) == b"\x69\x82"


def test_bad_mac_gets_6988() -> None:
    card = build_card("001185483324")
    chip = chip_for_card(card)
    from reader import open_session
    from reader.apdu import read_binary

    session = open_session(chip, card.bac_key, options=BAC_ONLY)
    assert session.sm is not None
    wrapped = bytearray(session.sm.wrap(read_binary(0, 4)))
    wrapped[-3] ^= 1
    assert chip.transmit(bytes(wrapped)) == b"\x69\x88"


def test_truncated_file_is_reported_and_the_other_files_kept() -> None:
    card = build_card("001185483324", faults=["truncated_file"])
    result = read_card(chip_for_card(card), card.bac_key, options=BAC_ONLY)
    assert "DG2" not in result.files
    assert "DG2" in result.parse_errors["DG2"] and "declared" in result.parse_errors["DG2"]
    assert result.files["DG13"] == card.files["DG13"]
    assert result.chip_authentication.outcome == "passed"


def test_dg13_alternative_layout_and_legacy_bytes_still_parse() -> None:
    for fault in ("dg13_alt_layout", "dg13_tcvn3", "dg13_vni"):
        card = build_card("017072769692", faults=[fault])
        result = read_card(
            chip_for_card(card), card.bac_key, options=BAC_ONLY, authenticate_chip=False
        )
        assert "DG13" in result.parsed, fault
        assert result.parsed["DG13"].raw == card.files["DG13"]


def test_slow_card_and_link_model_count_time() -> None:
    from fixtures.link import CONTACTLESS_106

    card = build_card("001185483324")
    chip = chip_for_card(card, link=CONTACTLESS_106)
    read_card(chip, card.bac_key, options=BAC_ONLY, authenticate_chip=False)
    # DG2 alone is ~16 KB: at 106 kbit/s that is more than a second of link time.
    assert chip.counters.link_seconds > 1.0
    assert chip.counters.bytes_out > 16_000


def test_sm_failure_after_n_commands() -> None:
    card = build_card("001185483324")
    chip = chip_for_card(card, faults=[F.SMFailsAfter(3)])
    with pytest.raises(Exception, match="6988"):
        read_card(chip, card.bac_key, options=BAC_ONLY)


def test_dg3_needs_terminal_authentication() -> None:
    card = build_card("001185483324")
    from reader import open_session
    from reader.errors import AccessDeniedError as Denied

    session = open_session(chip_for_card(card), card.bac_key, options=BAC_ONLY)
    with pytest.raises(Denied):
        session.read_file("DG3")


def test_card_removed_during_chip_authentication_is_not_a_verdict() -> None:
    card = build_card("001185483324")
    chip = chip_for_card(card)
    full = read_card(chip, CANKey(card.can))
    assert full.chip_authentication.outcome == "passed"
    before_ca = full.stats.apdus - 3  # MSE:Set AT, General Authenticate, protected SELECT
    chip = chip_for_card(card, faults=[F.RemovedAfter(before_ca)])
    with pytest.raises(IncompleteReadError) as caught:  # waited for, briefly: never back
        read_card(chip, CANKey(card.can), resume_wait=0.5)
    assert set(caught.value.partial.files) >= {"DG14", "DG15"}
    assert not caught.value.partial.complete
