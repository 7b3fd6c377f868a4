"""Fuzzing every LDS parser: arbitrary and mutated bytes give a result or ParseError, never
another exception, and quickly (no blow-up from a declared length)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures import lds_build as B
from fixtures.citizens import load_citizens
from reader.errors import ParseError
from reader.lds import (
    parse_card_access,
    parse_com,
    parse_dg1,
    parse_dg2,
    parse_dg13,
    parse_dg14,
    parse_dg15,
)
from reader.lds.dg2 import ImageError
from reader.tlv import encode_length

PERSON = load_citizens()[1]
_KEY = ec.derive_private_key(42, ec.BrainpoolP256R1()).public_key()
SEEDS: dict[str, tuple[Callable[[bytes], Any], bytes]] = {
    "DG1": (parse_dg1, B.build_dg1(PERSON)),
    "DG2": (parse_dg2, B.build_dg2(PERSON, size=(48, 64))),
    "DG13": (parse_dg13, B.build_dg13(PERSON, field16=True)),
    "DG13alt": (parse_dg13, B.build_dg13(PERSON, parents_layout="combined")),
    "DG14": (
        parse_dg14,
        B.build_dg14(_KEY, aa_signature_algorithm="ecdsa-with-SHA256", explicit_parameters=True),
    ),
    "DG15": (parse_dg15, B.build_dg15(_KEY)),
    "COM": (parse_com, B.build_com()),
    "CardAccess": (parse_card_access, B.build_card_access()),
}
PARSERS = sorted({name: fn for name, (fn, _) in SEEDS.items()}.items())
SETTINGS = settings(max_examples=100, deadline=None)


def _run(parser: Callable[[bytes], Any], data: bytes) -> None:
    start = time.perf_counter()
    try:
        result = parser(data)
    except ParseError:
        pass
    else:
        assert result.raw == data
        to_jpeg = getattr(result, "to_jpeg", None)
        if to_jpeg is not None:
            with contextlib.suppress(ImageError):
                to_jpeg(max_pixels=100_000)
    assert time.perf_counter() - start < 2.0


@SETTINGS
@given(st.sampled_from(PARSERS), st.binary(max_size=600))
def test_arbitrary_bytes(named: tuple[str, Callable[[bytes], Any]], data: bytes) -> None:
    _run(named[1], data)


@SETTINGS
@given(st.sampled_from(PARSERS), st.binary(max_size=300))
def test_arbitrary_bytes_behind_right_tag(
    named: tuple[str, Callable[[bytes], Any]], data: bytes
) -> None:
    seed = SEEDS[named[0]][1]
    _run(named[1], seed[:1] + encode_length(len(data)) + data)


@SETTINGS
@given(
    st.sampled_from(sorted(SEEDS)),
    st.lists(
        st.tuples(
            st.sampled_from(["flip", "cut", "insert", "delete", "length"]),
            st.integers(min_value=0),
            st.integers(min_value=0, max_value=255),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_mutated_files(name: str, edits: list[tuple[str, int, int]]) -> None:
    parser, seed = SEEDS[name]
    data = bytearray(seed)
    for kind, where, value in edits:
        if not data:
            break
        pos = where % len(data)
        if kind == "flip":
            data[pos] ^= value or 1
        elif kind == "cut":
            del data[pos:]
        elif kind == "insert":
            data[pos:pos] = bytes([value])
        elif kind == "delete":
            del data[pos]
        else:  # a declared length made huge
            data[pos : pos + 1] = bytes([0x84, 0x7F, 0xFF, 0xFF, value])
    _run(parser, bytes(data))
