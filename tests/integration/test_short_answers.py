"""The simulated chip caps short answers as real chips do (shared chip facts, "How a chip
answers reads"): under secure messaging a short command's protected answer must fit a short
response (256 bytes + SW), so Le=00 gets 231 plain bytes with 3DES and 223 with AES; an answer
that cannot fit (a 256-byte RSA active-authentication signature) is refused with 6700, and
the reader then asks with extended length."""

from __future__ import annotations

import os

import pytest

from fixtures import faults as F
from fixtures.cards import chip_for_citizen
from fixtures.chip import SimulatedChip
from reader import BACKey, CANKey, open_session, read_card
from reader.apdu import Command, Response, read_binary, select_file
from reader.drivers.authenticate import active_authentication
from reader.errors import StatusWordError
from reader.files import FILES
from verify.active_auth import verify_active_authentication

PERSON = "017072769692"
BAC = BACKey("185001234", "850314", "250314")
BIG = bytes(range(256)) * 8


def _bac_chip() -> SimulatedChip:
    return SimulatedChip({"COM": b"\x60\x03\x5c\x01\x61", "DG2": BIG}, bac_key=BAC)


def _raw(session, command: Command) -> tuple[bytes, Response]:  # type: ignore[no-untyped-def]
    sm = session.sm
    raw = session.transport.transmit(sm.wrap(command))
    return raw, sm.unwrap(raw)


@pytest.mark.parametrize(("ins", "expected"), [(0xB0, 231), (0xB1, 231 - 4)])
def test_3des_short_le00_answers_231_plain_bytes(ins: int, expected: int) -> None:
    session = open_session(_bac_chip(), BAC)
    assert session.sm is not None and session.sm.cipher.name == "3DES"
    session.send(select_file(FILES["DG2"].fid)).check("SELECT")
    command = read_binary(0, 256) if ins == 0xB0 else _odd_read(0)
    raw, response = _raw(session, command)
    assert len(raw) <= 258
    data = response.data if ins == 0xB0 else response.data[3:]
    assert len(data) == expected and data == BIG[: len(data)]


def _odd_read(offset: int) -> Command:
    return Command(0x00, 0xB1, 0x00, 0x00, bytes([0x54, 0x02]) + offset.to_bytes(2, "big"), 256)


def test_aes_short_le00_answers_223_plain_bytes_and_extended_more() -> None:
    chip = chip_for_citizen(PERSON)
    session = open_session(chip, CANKey(PERSON[-6:]))
    assert session.sm is not None and session.sm.cipher.name == "AES"
    session.send(select_file(FILES["DG2"].fid)).check("SELECT")
    raw, response = _raw(session, read_binary(0, 256))
    assert len(raw) <= 258 and len(response.data) == 223
    _, extended = _raw(session, read_binary(0, 1000))
    assert len(extended.data) == 1000


@pytest.mark.parametrize("faults", [[], [F.NoExtendedLength()]], ids=["extended", "short-only"])
def test_every_short_answer_fits_a_short_response_over_a_whole_read(faults: list[object]) -> None:
    chip = chip_for_citizen(PERSON, faults=faults)
    sizes: list[tuple[bool, int]] = []
    original = chip.transmit

    def spy(apdu: bytes) -> bytes:
        answer = original(apdu)
        sizes.append((Command.parse(apdu).is_extended, len(answer)))
        return answer

    chip.transmit = spy  # type: ignore[method-assign]
    card = read_card(chip, CANKey(PERSON[-6:]))
    assert card.complete
    short = [size for extended, size in sizes if not extended]
    assert short and max(short) <= 258


def test_rsa_2048_aa_to_a_short_command_is_refused_and_read_extended() -> None:
    chip = chip_for_citizen(PERSON)
    session = open_session(chip, CANKey(PERSON[-6:]))
    dg15 = session.read_file("DG15")
    sm = session.sm
    assert sm is not None
    challenge = os.urandom(8)
    raw = chip.transmit(sm.wrap(Command(0x00, 0x88, 0x00, 0x00, challenge, 256)))
    assert len(raw) <= 258
    with pytest.raises(StatusWordError) as caught:
        sm.unwrap(raw).check("INTERNAL AUTHENTICATE")
    assert caught.value.sw == 0x6700
    outcome = active_authentication(session, dg15, None, challenge)
    assert outcome.outcome == "signed", outcome.reason
    response = bytes.fromhex(outcome.transcript["response"])
    assert len(response) == 256
    assert verify_active_authentication(dg15, challenge, response)
