"""Command APDUs in the four ISO/IEC 7816-4 cases, short and extended, chaining, status words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reader.apdu import Command, Response, chain, read_binary, status_error
from reader.errors import AccessDeniedError, ProtocolError, StatusWordError


@pytest.mark.parametrize(
    ("command", "encoded"),
    [
        (Command(0x00, 0x84, 0, 0), "00840000"),
        (Command(0x00, 0x84, 0, 0, le=8), "0084000008"),
        (Command(0x00, 0xB0, 0, 0, le=256), "00B0000000"),
        (Command(0x00, 0xB0, 0, 0, le=65536), "00B00000000000"),
        (Command(0x00, 0xB0, 0, 0, le=4096), "00B00000001000"),
        (Command(0x00, 0xA4, 2, 0x0C, b"\x01\x1e"), "00A4020C02011E"),
        (Command(0x00, 0x88, 0, 0, b"\x11" * 8, le=256), "00880000081111111111111111" + "00"),
        (Command(0x00, 0xD6, 0, 0, b"\x22" * 300), "00D6000000012C" + "22" * 300),
        (
            Command(0x00, 0xD6, 0, 0, b"\x22" * 300, le=65536),
            "00D6000000012C" + "22" * 300 + "0000",
        ),
    ],
)
def test_encoding_of_all_cases(command: Command, encoded: str) -> None:
    assert command.to_bytes().hex().upper() == encoded.upper()
    assert Command.parse(bytes.fromhex(encoded)).to_bytes() == command.to_bytes()


@given(data=st.binary(max_size=700), le=st.none() | st.integers(min_value=1, max_value=65536))
def test_parse_inverts_encode(data: bytes, le: int | None) -> None:
    command = Command(0x0C, 0xB0, 0x12, 0x34, data, le)
    parsed = Command.parse(command.to_bytes())
    assert (parsed.data, parsed.le) == (data, le)


def test_chaining_sets_cla_bit_on_all_but_last() -> None:
    parts = chain(Command(0x00, 0x86, 0, 0, bytes(600), le=256), chunk=255)
    assert [p.cla for p in parts] == [0x10, 0x10, 0x00]
    assert b"".join(p.data for p in parts) == bytes(600)
    assert parts[-1].le == 256 and parts[0].le is None


def test_read_binary_addressing() -> None:
    assert read_binary(0, 4, sfi=0x1C).to_bytes().hex().upper() == "00B09C0004"
    assert read_binary(0x1234, 16).to_bytes().hex().upper() == "00B0123410"
    odd = read_binary(40000, 16)
    assert odd.ins == 0xB1 and odd.data == bytes.fromhex("54029C40")


def test_status_words_map_to_typed_errors() -> None:
    assert isinstance(status_error(0x6982), AccessDeniedError)
    assert isinstance(status_error(0x6300), AccessDeniedError)
    error = status_error(0x6A82, "SELECT DG11")
    assert type(error) is StatusWordError and error.sw == 0x6A82
    assert "file not found" in str(error)
    with pytest.raises(StatusWordError):
        Response(b"", 0x6B00).check()
    with pytest.raises(ProtocolError):
        Response.parse(b"\x90")
