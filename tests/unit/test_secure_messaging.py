"""Secure messaging (ICAO 9303-11 §9.8): round trips with the card-side counterpart at every
key length, and the negatives: flipped MAC, replay, bare SW, missing DO'8E', truncated DO'87'."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reader import tlv
from reader.apdu import Command, Response, read_binary, select_file
from reader.errors import AccessDeniedError, SecureMessagingError, StatusWordError
from reader.protocol.cipher import AES_128, Cipher
from reader.protocol.sm import SecureMessaging, SessionDeadError

PAIRS = [
    (Cipher("3DES"), 16),
    (Cipher("AES", 16), 16),
    (Cipher("AES", 24), 24),
    (Cipher("AES", 32), 32),
]


def _pair(cipher: Cipher, key_len: int) -> tuple[SecureMessaging, SecureMessaging]:
    ks_enc, ks_mac = os.urandom(key_len), os.urandom(key_len)
    if cipher.name == "3DES":
        ks_enc = ks_enc[:8] + bytes(b ^ 0xFF for b in ks_enc[:8])
    ssc = int.from_bytes(os.urandom(cipher.block_size), "big") >> 1
    return (
        SecureMessaging(cipher, ks_enc, ks_mac, ssc),
        SecureMessaging(cipher, ks_enc, ks_mac, ssc),
    )


@pytest.mark.parametrize(("cipher", "key_len"), PAIRS)
@given(
    data=st.binary(max_size=600),
    le=st.integers(min_value=1, max_value=65536),
    answer=st.binary(max_size=2000),
)
def test_round_trip_with_card_side(
    cipher: Cipher, key_len: int, data: bytes, le: int, answer: bytes
) -> None:
    terminal, card = _pair(cipher, key_len)
    command = Command(0x00, 0xD6 if data else 0xB0, 0x01, 0x02, data, le)
    wrapped = terminal.wrap(command)
    seen = card.unwrap_command(wrapped)
    assert (seen.ins, seen.p1, seen.p2, seen.data, seen.le) == (command.ins, 1, 2, data, le)
    response = terminal.unwrap(card.wrap_response(answer, 0x9000))
    assert response == Response(answer, 0x9000)
    assert terminal.ssc == card.ssc


def _session(cipher: Cipher = AES_128) -> tuple[SecureMessaging, SecureMessaging]:
    return _pair(cipher, 16)


def test_flipped_mac_byte_is_refused_and_kills_the_session() -> None:
    terminal, card = _session()
    card.unwrap_command(terminal.wrap(read_binary(0, 16)))
    answer = bytearray(card.wrap_response(b"secret data here", 0x9000))
    answer[-3] ^= 0x01  # inside DO'8E'
    with pytest.raises(SecureMessagingError, match="MAC"):
        terminal.unwrap(bytes(answer))
    with pytest.raises(SessionDeadError):
        terminal.wrap(read_binary(0, 16))


def test_replayed_response_is_refused() -> None:
    terminal, card = _session(Cipher("3DES"))
    card.unwrap_command(terminal.wrap(read_binary(0, 4)))
    first = card.wrap_response(b"abcd", 0x9000)
    assert terminal.unwrap(first).data == b"abcd"
    card.unwrap_command(terminal.wrap(read_binary(4, 4)))
    card.wrap_response(b"efgh", 0x9000)
    with pytest.raises(SecureMessagingError):
        terminal.unwrap(first)


@pytest.mark.parametrize("sw", [0x6982, 0x6700, 0x6988])
def test_bare_status_word_is_reported_without_corrupting_the_ssc(sw: int) -> None:
    terminal, card = _session()
    before = terminal.ssc
    terminal.wrap(read_binary(0, 300))
    with pytest.raises(StatusWordError) as caught:
        terminal.unwrap(sw.to_bytes(2, "big"))
    assert caught.value.sw == sw
    assert terminal.ssc == before
    if sw == 0x6982:
        assert isinstance(caught.value, AccessDeniedError)
    if sw == 0x6988:
        assert terminal.dead
    else:
        # The next exchange still verifies: the chip did not count the refused command.
        card.unwrap_command(terminal.wrap(read_binary(0, 8)))
        assert terminal.unwrap(card.wrap_response(b"12345678", 0x9000)).data == b"12345678"


def test_unprotected_success_is_refused() -> None:
    terminal, _ = _session()
    terminal.wrap(read_binary(0, 4))
    with pytest.raises(SecureMessagingError, match="unprotected"):
        terminal.unwrap(b"abcd\x90\x00")


def _answer_objects(card: SecureMessaging, terminal: SecureMessaging) -> list[Any]:
    card.unwrap_command(terminal.wrap(read_binary(0, 40)))
    answer = card.wrap_response(bytes(40), 0x9000)
    return tlv.decode(answer[:-2])


def test_missing_do8e_is_refused() -> None:
    terminal, card = _session()
    objects = _answer_objects(card, terminal)
    stripped = b"".join(o.raw for o in objects if o.tag != 0x8E) + b"\x90\x00"
    with pytest.raises(SecureMessagingError, match="8E"):
        terminal.unwrap(stripped)


def test_missing_do99_is_refused() -> None:
    terminal, card = _session()
    objects = _answer_objects(card, terminal)
    stripped = b"".join(o.raw for o in objects if o.tag != 0x99) + b"\x90\x00"
    with pytest.raises(SecureMessagingError):
        terminal.unwrap(stripped)


def test_truncated_do87_is_refused() -> None:
    terminal, card = _session()
    objects = _answer_objects(card, terminal)
    do87 = objects[0]
    cut = tlv.encode(0x87, do87.value[:-5])
    tampered = cut + b"".join(o.raw for o in objects[1:]) + b"\x90\x00"
    with pytest.raises(SecureMessagingError):
        terminal.unwrap(tampered)


def test_card_side_refuses_bad_mac_with_6988() -> None:
    terminal, card = _session()
    wrapped = bytearray(terminal.wrap(select_file(0x0101)))
    wrapped[-2] ^= 0x80
    with pytest.raises(StatusWordError) as caught:
        card.unwrap_command(bytes(wrapped))
    assert caught.value.sw == 0x6988
    assert card.dead


def test_extended_length_under_sm_when_needed() -> None:
    terminal, card = _session()
    wrapped = terminal.wrap(read_binary(0, 4096))
    command = Command.parse(wrapped)
    assert command.is_extended and command.le == 65536
    assert card.unwrap_command(wrapped).le == 4096
    small = Command.parse(terminal.wrap(read_binary(0, 223)))
    assert not small.is_extended
