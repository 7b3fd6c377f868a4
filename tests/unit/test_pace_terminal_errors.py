"""How the PACE terminal reports a chip that refuses (ICAO 9303-11 §4.4.4; status words of
ISO/IEC 7816-4: 6300 and 63Cx for a wrong password, anything else as a status-word error
naming the step), and PACE options it cannot run."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from fixtures.chip_pace import build_card_access, pace_info
from reader import tlv
from reader.apdu import Command, Response
from reader.drivers.access import perform_pace
from reader.errors import AccessDeniedError, StatusWordError, UnsupportedError
from reader.keys import CANKey
from reader.lds.security_infos import PACEInfo, parse_card_access
from reader.protocol.pace import PaceTerminal, select_pace
from reader.protocol.pace_chip import PaceChip

GM = "0.4.0.127.0.7.2.2.4.2.2"  # id-PACE-ECDH-GM-AES-CBC-CMAC-128
CARD_ACCESS = build_card_access([(GM, 13)])
STEPS = ["encrypted nonce", "map nonce", "key agreement", "mutual authentication"]


def _chip_refusing(step: int, sw: int) -> Callable[[Command], Response]:
    """A genuine card side that answers ``sw`` to GENERAL AUTHENTICATE number ``step``."""
    chip = PaceChip(offers=[(GM, 13)], mrz=None, can="123456", random=os.urandom)
    count = 0

    def send(command: Command) -> Response:
        nonlocal count
        if command.ins == 0x22:
            return Response(b"", chip.set_at(command.data))
        count += 1
        if count == step:
            return Response(b"", sw)
        return Response(*chip.general_authenticate(command.data))

    return send


@pytest.mark.parametrize("step", [1, 2, 3, 4])
@pytest.mark.parametrize("sw", [0x6300, 0x63C1, 0x63CF])
def test_wrong_password_at_every_step_names_it(step: int, sw: int) -> None:
    with pytest.raises(AccessDeniedError) as info:
        perform_pace(_chip_refusing(step, sw), CANKey("123456"), CARD_ACCESS, os.urandom)
    assert info.value.sw == sw
    assert str(info.value).startswith(
        f"PACE refused at {STEPS[step - 1]} (card answered {sw:04X}): the CAN is wrong"
    )


@pytest.mark.parametrize("step", [1, 4])
def test_other_refusals_are_status_word_errors_naming_the_step(step: int) -> None:
    with pytest.raises(StatusWordError) as info:
        perform_pace(_chip_refusing(step, 0x6A80), CANKey("123456"), CARD_ACCESS, os.urandom)
    assert not isinstance(info.value, AccessDeniedError)
    assert str(info.value).startswith(
        f"PACE General Authenticate ({STEPS[step - 1]}): card answered 6A80"
    )


def test_refused_mse_set_at_names_it() -> None:
    def send(command: Command) -> Response:
        return Response(b"", 0x6A80)

    with pytest.raises(StatusWordError) as info:
        perform_pace(send, CANKey("123456"), CARD_ACCESS, os.urandom)
    assert info.value.sw == 0x6A80
    assert str(info.value).startswith("PACE MSE:Set AT: card answered 6A80")


def test_nothing_runnable_is_unsupported_naming_the_entries() -> None:
    infos = parse_card_access(build_card_access([(GM, 99)]))
    with pytest.raises(UnsupportedError) as info:
        select_pace(infos)
    assert str(info.value) == (
        "EF.CardAccess offers PACE, but no option this reader implements: "
        + infos.describe_pace_entries()
    )


def test_terminal_takes_parsed_security_infos() -> None:
    infos = parse_card_access(CARD_ACCESS)
    terminal = PaceTerminal(CANKey("123456"), infos, os.urandom)
    assert terminal.info == infos.pace_infos[0]
    assert terminal.description == "PACE-ECDH-GM-AES-128 brainpoolP256r1"


def test_terminal_refuses_a_pace_info_without_parameter_id() -> None:
    raw = pace_info(GM, None)
    info = PACEInfo(raw=raw, oid=GM, version=2, parameter_id=None)
    card_access = tlv.encode(0x31, [raw])
    with pytest.raises(UnsupportedError) as error:
        PaceTerminal(CANKey("123456"), card_access, os.urandom, info=info)
    assert str(error.value) == "PACEInfo without a known protocol or parameter id"
