"""The outer element of an LDS file (ICAO 9303-10 §4.6-4.7: each file is one BER-TLV under
its own application tag), shared by the per-file parsers so each checks it the same way."""

from __future__ import annotations

from reader import tlv
from reader.errors import ParseError


def open_file(raw: bytes, tag: int, file: str) -> tlv.TLV:
    """The file's single top-level element; ``ParseError`` naming ``file`` when the bytes are
    not one whole TLV (trailing bytes included) or its tag is not ``tag``."""
    try:
        top = tlv.decode_one(raw)
    except ParseError as exc:
        raise exc.in_file(file) from None
    if top.tag != tag:
        raise ParseError(
            f"{file} starts with tag {top.tag:X}, expected {tag:X}", offset=0, file=file
        )
    return top
