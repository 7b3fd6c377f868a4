"""The simulated chip's side of PACE (ICAO 9303-11 §4.4.4): MSE:Set AT as a chip parses it
(6A80 for what it cannot read, 6A88 for what it does not offer), and the answers of the
GENERAL AUTHENTICATE steps, byte for byte where the terminal would not notice a difference."""

from __future__ import annotations

import os

import pytest

from fixtures.chip_pace import build_card_access
from reader import tlv
from reader.keys import CANKey
from reader.lds.security_infos import encode_oid
from reader.protocol.pace import PaceTerminal
from reader.protocol.pace_chip import PaceChip

GM = "0.4.0.127.0.7.2.2.4.2.2"  # id-PACE-ECDH-GM-AES-CBC-CMAC-128
IM = "0.4.0.127.0.7.2.2.4.4.2"  # id-PACE-ECDH-IM-AES-CBC-CMAC-128
CAN_REF = b"\x83\x01\x02"


def _chip(offers: list[tuple[str, int]], *, require_parameter_id: bool = False) -> PaceChip:
    return PaceChip(
        offers=offers,
        mrz=None,
        can="123456",
        random=os.urandom,
        require_parameter_id=require_parameter_id,
    )


def _set_at(oid: str, *extra: bytes, password: bytes = CAN_REF) -> bytes:
    return tlv.encode(0x80, encode_oid(oid)) + password + b"".join(extra)


def test_one_offer_needs_no_parameter_id() -> None:
    chip = _chip([(GM, 13)])
    assert chip.set_at(_set_at(GM)) == 0x9000
    assert chip.active
    assert _chip([(GM, 13)], require_parameter_id=True).set_at(_set_at(GM)) == 0x6A88
    assert _chip([(GM, 13)], require_parameter_id=True).set_at(_set_at(GM, b"\x84\x01\x0d")) == (
        0x9000
    )


def test_two_offers_of_one_protocol_need_the_parameter_id() -> None:
    chip = _chip([(GM, 13), (GM, 17)])
    assert chip.set_at(_set_at(GM)) == 0x6A88 and not chip.active
    assert chip.set_at(_set_at(GM, b"\x84\x01\x11")) == 0x9000
    assert chip.set_at(_set_at(GM, b"\x84\x01\x0c")) == 0x6A88  # not offered


@pytest.mark.parametrize(
    ("data", "sw"),
    [
        (_set_at("0.4.0.127.0.7.2.2.4.2.9"), 0x6A80),  # no such PACE protocol
        (CAN_REF, 0x6A80),  # no protocol object at all
        (b"\x80\x05\x01", 0x6A80),  # not TLV
        (_set_at(GM, password=b""), 0x6A88),  # no password reference
        (_set_at(GM, password=b"\x83\x01\x01"), 0x6A88),  # MRZ, which this chip has not
        (_set_at(GM, password=b"\x83\x02\x00\x02"), 0x6A88),
    ],
)
def test_set_at_the_chip_cannot_run(data: bytes, sw: int) -> None:
    chip = _chip([(GM, 13)])
    assert chip.set_at(data) == sw
    assert not chip.active
    assert chip.general_authenticate(b"\x7c\x00") == (b"", 0x6985)


def test_set_at_is_bounded_to_eight_data_objects() -> None:
    padding = [bytes([0x90 + n, 0x00]) for n in range(7)]
    assert _chip([(GM, 13)]).set_at(_set_at(GM, *padding[:6])) == 0x9000  # 8 objects
    assert _chip([(GM, 13)]).set_at(_set_at(GM, *padding)) == 0x6A80  # 9 objects


def _start(protocol: str) -> tuple[PaceChip, PaceTerminal]:
    chip = _chip([(protocol, 13)])
    terminal = PaceTerminal(CANKey("123456"), build_card_access([(protocol, 13)]), os.urandom)
    assert chip.set_at(terminal.mse_set_at().data) == 0x9000
    return chip, terminal


def test_integrated_mapping_answer_carries_empty_mapping_data() -> None:
    chip, terminal = _start(IM)
    nonce, sw = chip.general_authenticate(terminal.nonce_command().data)
    assert sw == 0x9000
    command = terminal.mapping_command(nonce)
    assert command.cla == 0x10  # chained: not the last GENERAL AUTHENTICATE
    answer, sw = chip.general_authenticate(command.data)
    assert (answer, sw) == (b"\x7c\x02\x82\x00", 0x9000)


def test_wrong_token_is_a_bare_6300() -> None:
    chip, terminal = _start(GM)
    nonce, _ = chip.general_authenticate(terminal.nonce_command().data)
    mapped, _ = chip.general_authenticate(terminal.mapping_command(nonce).data)
    agreement, _ = chip.general_authenticate(terminal.key_agreement_command(mapped).data)
    terminal.mutual_authentication_command(agreement)
    assert chip.general_authenticate(b"\x7c\x0a\x85\x08" + bytes(8)) == (b"", 0x6300)
    assert not chip.active and chip.result is None


def test_terminal_names_the_parameter_id_when_card_access_offers_several() -> None:
    offers = [(GM, 13), (GM, 17)]
    chip = _chip(offers)
    terminal = PaceTerminal(CANKey("123456"), build_card_access(offers), os.urandom)
    command = terminal.mse_set_at()
    assert command.data.endswith(b"\x84\x01" + bytes([terminal.parameter_id]))
    assert terminal.sent_parameter_id
    assert chip.set_at(command.data) == 0x9000
    single = PaceTerminal(CANKey("123456"), build_card_access(offers[:1]), os.urandom)
    assert b"\x84" not in single.mse_set_at().data[-3:] and not single.sent_parameter_id
