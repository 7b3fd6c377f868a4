"""EF.COM (ICAO 9303-10 §4.6.1): LDS version, Unicode version and the list of data groups by
their outer tags (names from the file table in ``reader.files``).
"""

from __future__ import annotations

from dataclasses import dataclass

from reader import tlv
from reader.errors import ParseError
from reader.files import FILES, TAG_TO_NAME, FileInfo
from reader.lds.outer import open_file

__all__ = ["COM", "FILES", "TAG_TO_NAME", "FileInfo", "parse_com"]


_MAX_TAGS = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class COM:
    """EF.COM: LDS and Unicode versions and the data groups the chip says it holds."""

    raw: bytes
    lds_version: str | None  # "1.7" from "0107"
    unicode_version: str | None  # "4.0.0" from "040000"
    tags: tuple[int, ...]
    data_groups: tuple[str, ...]  # names of the listed tags; unknown tags as "tag:XX"


def _dotted(text: str) -> str:
    parts = [text[i : i + 2] for i in range(0, len(text), 2)]
    return ".".join(str(int(p)) if p.isdigit() else p for p in parts)


def _ascii_version(element: tlv.TLV | None, size: int) -> str | None:
    if element is None:
        return None
    try:
        text = element.value.decode("ascii")
    except UnicodeDecodeError:
        raise ParseError("version is not ASCII", offset=element.offset, file="COM") from None
    if len(text) != size or not text.isdigit():
        raise ParseError(f"version must be {size} digits", offset=element.offset, file="COM")
    return _dotted(text)


def parse_com(raw: bytes) -> COM:
    """Parse EF.COM (tag 0x60: 5F01 LDS version, 5F36 Unicode version, 5C tag list)."""
    raw = bytes(raw)
    top = open_file(raw, 0x60, "COM")
    tag_list = top.require(0x5C, "COM")
    tags: list[int] = []
    pos = 0
    data = tag_list.value
    while pos < len(data):
        if len(tags) >= _MAX_TAGS:
            raise ParseError("tag list too long", offset=tag_list.offset, file="COM")
        try:
            tag, pos = tlv.read_tag(data, pos)
        except ParseError as exc:
            raise ParseError(exc.reason, offset=tag_list.offset, file="COM") from None
        tags.append(tag)
    names = tuple(TAG_TO_NAME.get(tag, f"tag:{tag:X}") for tag in tags)
    return COM(
        raw=raw,
        lds_version=_ascii_version(top.find(0x5F01), 4),
        unicode_version=_ascii_version(top.find(0x5F36), 6),
        tags=tuple(tags),
        data_groups=names,
    )
