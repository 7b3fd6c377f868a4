"""BER-TLV (ISO/IEC 7816-4 §5.2): round trips, bounds and hostile input."""

from __future__ import annotations

import contextlib
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reader import tlv
from reader.errors import ParseError

tags = st.sampled_from([0x02, 0x04, 0x06, 0x0C, 0x13, 0x5A, 0x5F1F, 0x5F0E, 0x9F8101])
constructed_tags = st.sampled_from([0x30, 0x31, 0x61, 0x6D, 0x7F49, 0x7F61, 0xA1, 0xBF8101])


def tree(depth: int = 3) -> st.SearchStrategy[bytes]:
    leaf = st.builds(tlv.encode, tags, st.binary(max_size=300))
    if depth == 0:
        return leaf
    node = st.builds(
        lambda t, kids: tlv.encode(t, kids), constructed_tags, st.lists(tree(depth - 1), max_size=4)
    )
    return st.one_of(leaf, node)


@given(tree())
def test_round_trip_keeps_raw_bytes(encoded: bytes) -> None:
    element = tlv.decode_one(encoded)
    assert element.raw == encoded
    assert tlv.encode_tlv(element) == encoded


@given(st.binary(max_size=400))
def test_random_bytes_give_only_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        tlv.decode(data)


@given(tree(), st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_mutated_bytes_give_only_parse_error(encoded: bytes, where: int, value: int) -> None:
    data = bytearray(encoded)
    data[where % len(data)] = value
    with contextlib.suppress(ParseError):
        tlv.decode(bytes(data))


def test_long_form_lengths() -> None:
    value = b"x" * 300
    encoded = tlv.encode(0x0C, value)
    assert encoded[:4] == bytes([0x0C, 0x82, 0x01, 0x2C])
    assert tlv.decode_one(encoded).value == value
    assert tlv.decode_one(bytes([0x0C, 0x81, 0x03]) + b"abc").value == b"abc"


def test_multi_byte_tags() -> None:
    element = tlv.decode_one(bytes.fromhex("7F6103020101"))
    assert element.tag == 0x7F61 and element.constructed
    assert element.children[0].tag == 0x02


def test_deep_nesting_refused_fast() -> None:
    data = b""
    for _ in range(5000):
        data = tlv.encode(0x30, data)
    started = time.perf_counter()
    with pytest.raises(ParseError, match="nesting"):
        tlv.decode(data)
    assert time.perf_counter() - started < 1.0


def test_huge_declared_length_refused_without_allocating() -> None:
    with pytest.raises(ParseError, match="runs past"):
        tlv.decode(bytes([0x04, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]))
    with pytest.raises(ParseError, match="length field of 9"):
        tlv.decode(bytes([0x04, 0x89]) + b"\xff" * 9)


def test_element_count_bounded() -> None:
    with pytest.raises(ParseError, match="more than"):
        tlv.decode(b"\x05\x00" * 20000)


def test_offsets_in_errors() -> None:
    with pytest.raises(ParseError) as caught:
        tlv.decode(tlv.encode(0x30, tlv.encode(0x04, b"abc")) + b"\x04\x05ab")
    assert caught.value.offset == 7


def test_indefinite_length_constructed() -> None:
    data = bytes.fromhex("3080040161040162 0000".replace(" ", ""))
    element = tlv.decode_one(data)
    assert [c.value for c in element.children] == [b"a", b"b"]
    assert element.raw == data


def test_the_element_budget_names_the_callers_limit() -> None:
    """Five empty elements against a limit of three: refused, and the message says three."""
    with pytest.raises(ParseError, match=r"more than 3 TLV elements"):
        tlv.decode(bytes.fromhex("0400") * 5, max_elements=3)
    assert len(tlv.decode(bytes.fromhex("0400") * 3, max_elements=3)) == 3
    with pytest.raises(ParseError, match=rf"more than {tlv.MAX_ELEMENTS} TLV elements"):
        tlv.decode(bytes.fromhex("0400") * (tlv.MAX_ELEMENTS + 1))
