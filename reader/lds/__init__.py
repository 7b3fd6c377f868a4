"""Parsing of the LDS files of a CCCD (ICAO 9303-10 §4.6-4.7; DG13 per docs/spec
``cccd-chip.md``): one module per file type, each a pure function from the file's bytes to a
frozen record that keeps those bytes as ``raw``. Errors are ``reader.errors.ParseError``
naming the file and the offset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reader.errors import ParseError
from reader.files import FILES, TAG_TO_NAME, FileInfo
from reader.lds.com import COM, parse_com
from reader.lds.dg1 import DG1, parse_dg1
from reader.lds.dg2 import DG2, ImageError, parse_dg2
from reader.lds.dg13 import DG13, parse_dg13
from reader.lds.dg15 import DG15, parse_dg15
from reader.lds.security_infos import SecurityInfos, parse_card_access, parse_dg14

__all__ = [
    "COM",
    "DG1",
    "DG2",
    "DG13",
    "DG15",
    "FILES",
    "PARSERS",
    "TAG_TO_NAME",
    "FileInfo",
    "ImageError",
    "SecurityInfos",
    "parse_card_access",
    "parse_com",
    "parse_dg1",
    "parse_dg2",
    "parse_dg13",
    "parse_dg14",
    "parse_dg15",
    "parse_file",
    "parse_sod",
]


def parse_sod(raw: bytes) -> Any:
    """Parse EF.SOD (``reader.lds.sod``; imported on first use)."""
    from reader.lds.sod import parse_sod as parse

    return parse(raw)


PARSERS: dict[str, Callable[[bytes], Any]] = {
    "CardAccess": parse_card_access,
    "COM": parse_com,
    "SOD": parse_sod,
    "DG1": parse_dg1,
    "DG2": parse_dg2,
    "DG13": parse_dg13,
    "DG14": parse_dg14,
    "DG15": parse_dg15,
}


def parse_file(name: str, raw: bytes) -> Any:
    """Parse the file called ``name`` ("CardAccess", "COM", "SOD", "DG1" ... "DG16").

    ``KeyError`` when there is no parser for that file (the caller keeps its raw bytes);
    ``ParseError`` (naming the file) when the bytes do not parse.
    """
    parser = PARSERS[name]
    try:
        return parser(raw)
    except ParseError as exc:
        raise exc.in_file(name) from None
