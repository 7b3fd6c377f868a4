"""Secure messaging at its edges (ICAO 9303-11 §9.8.5-§9.8.6), from the terminal side and
checked against bytes built here by hand from the standard, not by the card-side code: the
size limits of a short protected answer, Le encoding, odd-INS DO'85', the SSC on each path,
and every malformed answer refused with the session ended."""

from __future__ import annotations

import pytest

from reader import tlv
from reader.apdu import Command, Response
from reader.errors import SecureMessagingError, StatusWordError
from reader.protocol.cipher import AES_128, TDES, Cipher
from reader.protocol.sm import (
    SecureMessaging,
    SessionDeadError,
    _protected_size,
    max_plain_for_short,
)
from tests.crypto_oracle import (  # pycryptodome from the definitions, not the object under test
    aes_cbc_encrypt,
    aes_cmac,
    aes_ecb_encrypt,
    pad,
    retail_mac,
    tdes_cbc_encrypt,
)

KEY16 = bytes(range(16))
MAC16 = bytes(range(16, 32))
TDES_ENC = bytes.fromhex("979EC13B1CBFE9DCD01AB0FED307EAE5")
TDES_MAC = bytes.fromhex("F1CB1F1FB5ADF208806B89DC579DC1F8")


def mac(cipher: Cipher, key: bytes, padded: bytes) -> bytes:
    return aes_cmac(key, padded) if cipher.name == "AES" else retail_mac(key, padded)


def test_short_answer_limits_are_231_for_3des_and_223_for_aes() -> None:
    assert max_plain_for_short(8) == 231
    assert max_plain_for_short(16) == 223
    # 231 plain -> 232 padded + indicator = 233 in DO'87' (87 81 E9), + DO'99' + DO'8E'
    assert _protected_size(231, 8) == 250 and _protected_size(232, 8) == 258
    assert _protected_size(223, 16) == 242 and _protected_size(224, 16) == 258
    assert _protected_size(0, 16) == 14  # DO'99' + DO'8E' only
    # DO'87' with a one-byte length (short) and with two (0x81 xx)
    assert _protected_size(100, 8) == 1 + 1 + 105 + 4 + 10
    assert _protected_size(200, 16) == 1 + 2 + 209 + 4 + 10


def _answer(cipher: Cipher, ks_enc: bytes, ks_mac: bytes, ssc: int, data: bytes, sw: int) -> bytes:
    """A protected response built straight from §9.8.6 (independent of the card side)."""
    block = cipher.block_size
    ssc_bytes = ssc.to_bytes(block, "big")
    body = b""
    if data:
        if cipher.name == "3DES":
            encrypted = tdes_cbc_encrypt(ks_enc, pad(data, block))
        else:
            iv = aes_ecb_encrypt(ks_enc, ssc_bytes)
            encrypted = aes_cbc_encrypt(ks_enc, pad(data, block), iv)
        body += tlv.encode(0x87, b"\x01" + encrypted)
    body += tlv.encode(0x99, sw.to_bytes(2, "big"))
    body += tlv.encode(0x8E, mac(cipher, ks_mac, pad(ssc_bytes + body, block)))
    return body + b"\x90\x00"


@pytest.mark.parametrize("cipher", [TDES, AES_128])
@pytest.mark.parametrize("size", [1, 15, 16, 17, 223, 300])
def test_unwrap_of_hand_built_answers(cipher: Cipher, size: int) -> None:
    ks_enc = TDES_ENC if cipher == TDES else KEY16
    ks_mac = TDES_MAC if cipher == TDES else MAC16
    sm = SecureMessaging(cipher, ks_enc, ks_mac, 41)
    sm.wrap(Command(0x00, 0xB0, 0, 0, b"", size))
    assert sm.ssc == 42
    data = bytes((i * 7) & 0xFF for i in range(size))
    assert sm.unwrap(_answer(cipher, ks_enc, ks_mac, 43, data, 0x9000)) == Response(data, 0x9000)
    assert sm.ssc == 43 and not sm.dead
    sm.wrap(Command(0x00, 0xB0, 0, 0, b"", 4))
    warning = sm.unwrap(_answer(cipher, ks_enc, ks_mac, 45, b"", 0x6282))
    assert warning == Response(b"", 0x6282)


def test_ssc_given_as_bytes_or_int_is_the_same() -> None:
    a = SecureMessaging(AES_128, KEY16, MAC16, bytes.fromhex("00" * 15 + "2A"))
    b = SecureMessaging(AES_128, KEY16, MAC16, 42)
    assert a.ssc == b.ssc == 42 and a.ssc_bytes() == (42).to_bytes(16, "big")
    command = Command(0x00, 0xB0, 0, 0, b"", 16)
    assert a.wrap(command) == b.wrap(command)
    assert not a.dead and a.cipher == AES_128 and a.block == 16


def test_wrap_layout_by_hand() -> None:
    """§9.8.5: header with CLA 0C, DO'87' (even INS) / DO'85' (odd INS), DO'97', DO'8E'."""
    sm = SecureMessaging(AES_128, KEY16, MAC16, 0)
    wrapped = Command.parse(sm.wrap(Command(0x00, 0xD6, 0x01, 0x02, b"abc", 16)))
    assert (wrapped.cla, wrapped.ins, wrapped.p1, wrapped.p2) == (0x0C, 0xD6, 1, 2)
    objects = tlv.decode(wrapped.data)
    assert [o.tag for o in objects] == [0x87, 0x97, 0x8E]
    iv = aes_ecb_encrypt(KEY16, (1).to_bytes(16, "big"))
    assert objects[0].value == b"\x01" + aes_cbc_encrypt(KEY16, pad(b"abc", 16), iv)
    assert objects[1].value == b"\x10"
    header = pad(bytes([0x0C, 0xD6, 0x01, 0x02]), 16)
    macced = pad((1).to_bytes(16, "big") + header + objects[0].raw + objects[1].raw, 16)
    assert objects[2].value == mac(AES_128, MAC16, macced)
    assert wrapped.le == 256 and not wrapped.is_extended

    odd = Command.parse(sm.wrap(Command(0x10, 0xB1, 0, 0, b"\x54\x02\x80\x00", 256)))
    assert odd.cla == 0x1C  # chaining bit kept
    first = tlv.decode(odd.data)[0]
    assert first.tag == 0x85 and len(first.value) == 16  # no padding-content indicator
    assert odd.le == 256 and not odd.is_extended  # Le=00 stays short

    big = Command.parse(sm.wrap(Command(0x00, 0xB0, 0, 0, b"", 1000)))
    assert big.is_extended and big.le == 65536
    assert tlv.decode(big.data)[0].value == (1000).to_bytes(2, "big")
    full = Command.parse(sm.wrap(Command(0x00, 0xB0, 0, 0, b"", 65536)))
    assert tlv.decode(full.data)[0].value == b"\x00\x00"
    no_le = Command.parse(sm.wrap(Command(0x00, 0xA4, 0x02, 0x0C, b"\x01\x1e")))
    assert [o.tag for o in tlv.decode(no_le.data)] == [0x87, 0x8E]
    assert no_le.le == 256
    long_data = Command.parse(sm.wrap(Command(0x00, 0xD6, 0, 0, bytes(300), 16)))
    assert long_data.is_extended
    forced = Command.parse(sm.wrap(Command(0x00, 0xB0, 0, 0, b"", 16, extended=True)))
    assert forced.is_extended
    fits = Command.parse(sm.wrap(Command(0x00, 0xB0, 0, 0, b"", 223)))
    assert not fits.is_extended
    too_big = Command.parse(sm.wrap(Command(0x00, 0xB0, 0, 0, b"", 224)))
    assert too_big.is_extended


def _session() -> SecureMessaging:
    sm = SecureMessaging(AES_128, KEY16, MAC16, 7)
    sm.wrap(Command(0x00, 0xB0, 0, 0, b"", 4))
    return sm


def _objects_answer(*objects: bytes, ssc: int = 9) -> bytes:
    body = b"".join(objects)
    ssc_bytes = ssc.to_bytes(16, "big")
    return body + tlv.encode(0x8E, mac(AES_128, MAC16, pad(ssc_bytes + body, 16))) + b"\x90\x00"


@pytest.mark.parametrize(
    ("objects", "message"),
    [
        ((tlv.encode(0x99, b"\x90"),), "two bytes"),
        ((tlv.encode(0x87, b"\x02" + bytes(16)), tlv.encode(0x99, b"\x90\x00")), "indicator"),
        ((tlv.encode(0x87, b""), tlv.encode(0x99, b"\x90\x00")), "indicator"),
        ((tlv.encode(0x87, b"\x01" + bytes(15)), tlv.encode(0x99, b"\x90\x00")), "blocks"),
        ((tlv.encode(0x99, b"\x90\x00"), tlv.encode(0x53, b"x")), "unexpected"),
    ],
)
def test_malformed_but_correctly_maced_answers_are_refused(
    objects: tuple[bytes, ...], message: str
) -> None:
    sm = _session()
    with pytest.raises(SecureMessagingError, match=message):
        sm.unwrap(_objects_answer(*objects))
    assert sm.dead
    with pytest.raises(SessionDeadError):
        sm.unwrap(b"\x90\x00")


def test_do8e_must_be_last_and_do99_present() -> None:
    sm = _session()
    swapped = (
        tlv.encode(0x99, b"\x90\x00")
        + tlv.encode(0x8E, bytes(8))
        + tlv.encode(0x87, b"\x01" + bytes(16))
        + b"\x90\x00"
    )
    with pytest.raises(SecureMessagingError, match="last"):
        sm.unwrap(swapped)
    sm = _session()
    with pytest.raises(SecureMessagingError, match="99"):
        sm.unwrap(_objects_answer(tlv.encode(0x87, b"\x01" + bytes(16))))
    sm = _session()
    with pytest.raises(SecureMessagingError, match="TLV"):
        sm.unwrap(b"\x99\x05\x90\x00\x90\x00")


def test_protected_6988_ends_the_session_and_bare_6982_keeps_it() -> None:
    sm = _session()
    assert sm.unwrap(_objects_answer(tlv.encode(0x99, b"\x69\x88"))).sw == 0x6988
    assert sm.dead
    sm = _session()
    with pytest.raises(StatusWordError):
        sm.unwrap(b"\x69\x82")
    assert not sm.dead and sm.ssc == 7
    assert sm.unwrap_command is not None


def test_card_side_refusals_end_the_session() -> None:
    terminal = SecureMessaging(AES_128, KEY16, MAC16, 0)
    card = SecureMessaging(AES_128, KEY16, MAC16, 0)
    with pytest.raises(StatusWordError) as plain:
        card.unwrap_command(bytes.fromhex("00B0000004"))
    assert plain.value.sw == 0x6982 and card.dead
    card = SecureMessaging(AES_128, KEY16, MAC16, 0)
    with pytest.raises(StatusWordError) as garbage:
        card.unwrap_command(bytes.fromhex("0CB0000003990100"))
    assert garbage.value.sw in (0x6987, 0x6988) and card.dead
    card = SecureMessaging(AES_128, KEY16, MAC16, 0)
    wrapped = terminal.wrap(Command(0x00, 0xB0, 0x00, 0x00, b"", 4))
    command = card.unwrap_command(wrapped)
    assert (command.cla, command.ins, command.le) == (0x00, 0xB0, 4)
    assert card.ssc == terminal.ssc == 1
    no_mac = Command.parse(wrapped)
    stripped = Command(0x0C, 0xB0, 0, 0, tlv.decode(no_mac.data)[0].raw, 256).to_bytes()
    card = SecureMessaging(AES_128, KEY16, MAC16, 0)
    with pytest.raises(StatusWordError) as missing:
        card.unwrap_command(stripped)
    assert missing.value.sw == 0x6987 and card.dead


def _protected_command(sm_mac: bytes, ssc: int, header: bytes, *objects: bytes) -> bytes:
    """A protected command built by hand (§9.8.5), MAC over SSC || pad(header) || objects."""
    body = b"".join(objects)
    macced = pad(ssc.to_bytes(16, "big") + pad(header, 16) + body, 16)
    body += tlv.encode(0x8E, mac(AES_128, sm_mac, macced))
    return header + bytes([len(body)]) + body + b"\x00"


def test_card_side_le_from_do97() -> None:
    header = bytes([0x0C, 0xB0, 0x00, 0x00])
    cases = {
        b"": 256,  # an empty DO'97' asks for as much as fits
        b"\x00": 256,
        b"\x00\x00": 65536,
        b"\x10": 16,
        b"\x01\x00": 256,
    }
    for value, expected in cases.items():
        card = SecureMessaging(AES_128, KEY16, MAC16, 0)
        raw = _protected_command(MAC16, 1, header, tlv.encode(0x97, value))
        assert card.unwrap_command(raw).le == expected, value.hex()
    terminal = SecureMessaging(AES_128, KEY16, MAC16, 0)
    card = SecureMessaging(AES_128, KEY16, MAC16, 0)
    assert card.unwrap_command(terminal.wrap(Command(0, 0xB0, 0, 0, b"", 256))).le == 256
    assert card.unwrap_command(terminal.wrap(Command(0, 0xB0, 0, 0, b"", 65536))).le == 65536


def test_card_side_refusals_say_why() -> None:
    header = bytes([0x0C, 0xB0, 0x00, 0x00])
    card = SecureMessaging(AES_128, KEY16, MAC16, 0)
    with pytest.raises(StatusWordError, match=r"^plain command while secure messaging is active$"):
        card.unwrap_command(bytes.fromhex("00B0000004"))
    card = SecureMessaging(AES_128, KEY16, MAC16, 0)
    with pytest.raises(StatusWordError, match=r"^SM command without DO'8E'$"):
        card.unwrap_command(header + b"\x03\x97\x01\x00\x00")
    card = SecureMessaging(AES_128, KEY16, MAC16, 0)
    with pytest.raises(StatusWordError, match=r"^SM command MAC does not verify$"):
        card.unwrap_command(_protected_command(bytes(16), 1, header, tlv.encode(0x97, b"\x04")))
    card = SecureMessaging(AES_128, KEY16, MAC16, 0)
    with pytest.raises(StatusWordError, match="unexpected data object 53 in an SM command"):
        card.unwrap_command(_protected_command(MAC16, 1, header, tlv.encode(0x53, b"\x04")))
    card = SecureMessaging(AES_128, KEY16, MAC16, 0)
    with pytest.raises(StatusWordError, match=r"^SM data objects are not valid TLV$"):
        card.unwrap_command(header + b"\x02\x97\x05\x00")
    card = SecureMessaging(AES_128, KEY16, MAC16, 0)
    with pytest.raises(StatusWordError, match=r"^SM command data does not decrypt$") as caught:
        card.unwrap_command(
            _protected_command(MAC16, 1, header, tlv.encode(0x87, b"\x01" + bytes(15)))
        )
    assert caught.value.sw == 0x6988 and card.dead


def test_card_side_decrypts_do87_and_do85() -> None:
    terminal = SecureMessaging(TDES, TDES_ENC, TDES_MAC, 5)
    card = SecureMessaging(TDES, TDES_ENC, TDES_MAC, 5)
    even = card.unwrap_command(terminal.wrap(Command(0x00, 0xD6, 0, 0, b"hello", None)))
    assert even.data == b"hello" and even.le is None
    odd = card.unwrap_command(terminal.wrap(Command(0x00, 0xB1, 0, 0, b"\x54\x02\x01\x00", 8)))
    assert odd.data == b"\x54\x02\x01\x00" and odd.le == 8
    answer = card.wrap_response(b"abc", 0x9000)
    objects = tlv.decode(answer[:-2])
    assert [o.tag for o in objects] == [0x87, 0x99, 0x8E] and answer[-2:] == b"\x90\x00"
    assert objects[1].value == b"\x90\x00"
    assert terminal.unwrap(answer) == Response(b"abc", 0x9000)


def _refusal(sm: SecureMessaging, raw: bytes) -> str:
    with pytest.raises(SecureMessagingError) as caught:
        sm.unwrap(raw)
    assert sm.dead
    return str(caught.value)


def test_terminal_refusals_say_exactly_why() -> None:
    """The operator reads these words: each refusal names its cause exactly."""
    assert _refusal(_session(), b"\x90\x00") == (
        "unprotected 9000 answer while secure messaging is active"
    )
    assert _refusal(_session(), b"\x01\x02\x90\x00") == (
        "unprotected answer with data while secure messaging is active"
    )
    assert _refusal(_session(), tlv.encode(0x99, b"\x90\x00") + b"\x90\x00") == (
        "protected response without DO'8E' (MAC)"
    )
    assert _refusal(_session(), _objects_answer(tlv.encode(0x87, b"\x01" + bytes(16)))) == (
        "protected response without DO'99' (status word)"
    )
    swapped = tlv.encode(0x99, b"\x90\x00") + tlv.encode(0x8E, bytes(8))
    assert _refusal(_session(), swapped + tlv.encode(0x87, b"\x01") + b"\x90\x00") == (
        "DO'8E' is not the last data object"
    )
    assert _refusal(_session(), _objects_answer(tlv.encode(0x99, b"\x90\x00"), ssc=8)) == (
        "response MAC does not verify (wrong key, replay or tampering)"
    )
    assert _refusal(_session(), _objects_answer(tlv.encode(0x99, b"\x90"))) == (
        "DO'99' does not hold two bytes"
    )
    bad_indicator = _objects_answer(
        tlv.encode(0x87, b"\x02" + bytes(16)), tlv.encode(0x99, b"\x90\x00")
    )
    assert _refusal(_session(), bad_indicator) == "DO'87' without padding-content indicator 01"
    sm = _session()
    _refusal(sm, b"\x90\x00")
    with pytest.raises(SessionDeadError) as dead:
        sm.wrap(Command(0x00, 0xB0, 0, 0, b"", 4))
    assert str(dead.value) == "secure messaging has ended; authenticate the card again"
    sm = _session()
    with pytest.raises(StatusWordError) as bare:
        sm.unwrap(b"\x6a\x82")
    assert str(bare.value).startswith("secure messaging: card answered 6A82")


def test_do85_answers_and_header_details() -> None:
    sm = _session()
    ssc_bytes = (9).to_bytes(16, "big")
    iv = aes_ecb_encrypt(KEY16, ssc_bytes)
    do85 = tlv.encode(0x85, aes_cbc_encrypt(KEY16, pad(b"odd answer", 16), iv))
    assert sm.unwrap(_objects_answer(do85, tlv.encode(0x99, b"\x90\x00"))).data == b"odd answer"
    fresh = SecureMessaging(AES_128, KEY16, MAC16, 5)
    with pytest.raises(StatusWordError):
        fresh.unwrap(b"\x69\x82")
    assert fresh.ssc == 5 and not fresh.dead
    terminal = SecureMessaging(AES_128, KEY16, MAC16, 0)
    assert Command.parse(terminal.wrap(Command(0x03, 0xB0, 0, 0, b"", 4))).cla == 0x0C
    le257 = Command.parse(terminal.wrap(Command(0x00, 0xB0, 0, 0, b"", 257)))
    assert tlv.decode(le257.data)[0].value == b"\x01\x01" and le257.is_extended
    le256 = Command.parse(terminal.wrap(Command(0x00, 0xB0, 0, 0, b"", 256)))
    assert tlv.decode(le256.data)[0].value == b"\x00" and not le256.is_extended


def test_card_side_kills_the_session_on_every_refusal() -> None:
    header = bytes([0x0C, 0xB0, 0x00, 0x00])
    for raw in (
        _protected_command(MAC16, 1, header, tlv.encode(0x53, b"\x04")),
        header + b"\x02\x97\x05\x00",
        header + b"\x03\x97\x01\x00\x00",
        _protected_command(bytes(16), 1, header, tlv.encode(0x97, b"\x04")),
        _protected_command(MAC16, 1, header, tlv.encode(0x87, b"\x01" + bytes(15))),
    ):
        card = SecureMessaging(AES_128, KEY16, MAC16, 0)
        with pytest.raises(StatusWordError) as caught:
            card.unwrap_command(raw)
        assert card.dead and caught.value.sw in (0x6987, 0x6988)
        with pytest.raises(SessionDeadError):
            card.unwrap_command(raw)
    card = SecureMessaging(AES_128, KEY16, MAC16, 0)
    with pytest.raises(StatusWordError) as unexpected:
        card.unwrap_command(_protected_command(MAC16, 1, header, tlv.encode(0x53, b"\x04")))
    assert unexpected.value.sw == 0x6988
    assert str(unexpected.value) == "unexpected data object 53 in an SM command"


def test_card_side_keeps_the_chaining_bit_and_duplicates_are_named() -> None:
    terminal = SecureMessaging(AES_128, KEY16, MAC16, 0)
    card = SecureMessaging(AES_128, KEY16, MAC16, 0)
    chained = card.unwrap_command(terminal.wrap(Command(0x10, 0xB0, 0, 0, b"", 4)))
    assert chained.cla == 0x10
    assert card.unwrap_command(terminal.wrap(Command(0x00, 0xB0, 0, 0, b"", 4))).cla == 0x00
    sm = _session()
    twice = _objects_answer(tlv.encode(0x99, b"\x90\x00"), tlv.encode(0x99, b"\x90\x00"))
    assert _refusal(sm, twice) == "duplicated data object 99 in a protected response"
