"""BER-TLV as ISO/IEC 7816-4 §5.2 and ICAO 9303-10 §4 use it.

Decoding is iterative-bounded: nesting depth, element count and lengths are all checked
against the available bytes before anything is allocated, and every element keeps the exact
byte span it came from (hashes are computed over raw bytes, never a re-encoding).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from reader.errors import ParseError

MAX_DEPTH = 16
MAX_ELEMENTS = 10_000
MAX_LENGTH_BYTES = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class TLV:
    """One decoded element; ``raw`` is the whole element, ``value`` its value bytes."""

    tag: int
    value: bytes
    raw: bytes
    offset: int
    children: tuple[TLV, ...] = field(default=())

    @property
    def constructed(self) -> bool:
        return is_constructed(self.tag)

    def find(self, tag: int) -> TLV | None:
        """The first direct child with this tag."""
        for child in self.children:
            if child.tag == tag:
                return child
        return None

    def find_all(self, tag: int) -> list[TLV]:
        return [child for child in self.children if child.tag == tag]

    def require(self, tag: int, file: str | None = None) -> TLV:
        """The first direct child with this tag, or ``ParseError``."""
        child = self.find(tag)
        if child is None:
            raise ParseError(
                f"missing tag {tag:X} inside {self.tag:X}", offset=self.offset, file=file
            )
        return child


def is_constructed(tag: int) -> bool:
    first = tag
    while first > 0xFF:
        first >>= 8
    return bool(first & 0x20)


def read_tag(data: bytes, offset: int) -> tuple[int, int]:
    """Decode a tag at ``offset``; returns (tag, offset after it)."""
    if offset >= len(data):
        raise ParseError("tag expected, data ended", offset=offset)
    first = data[offset]
    tag = first
    pos = offset + 1
    if first & 0x1F == 0x1F:
        for _ in range(3):
            if pos >= len(data):
                raise ParseError("multi-byte tag cut short", offset=offset)
            byte = data[pos]
            tag = (tag << 8) | byte
            pos += 1
            if not byte & 0x80:
                break
        else:
            raise ParseError("tag longer than 4 bytes", offset=offset)
    if first == 0x00 or first == 0xFF:
        raise ParseError(f"invalid tag byte {first:02X}", offset=offset)
    return tag, pos


def read_length(data: bytes, offset: int) -> tuple[int | None, int]:
    """Decode a length at ``offset``; ``None`` means BER indefinite length (0x80)."""
    if offset >= len(data):
        raise ParseError("length expected, data ended", offset=offset)
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    if first == 0x80:
        return None, offset + 1
    count = first & 0x7F
    if count > MAX_LENGTH_BYTES:
        raise ParseError(f"length field of {count} bytes", offset=offset)
    if offset + 1 + count > len(data):
        raise ParseError("length field cut short", offset=offset)
    return int.from_bytes(data[offset + 1 : offset + 1 + count], "big"), offset + 1 + count


class _Budget:
    __slots__ = ("left", "limit")

    def __init__(self, count: int) -> None:
        self.left = self.limit = count

    def take(self, offset: int) -> None:
        self.left -= 1
        if self.left < 0:
            raise ParseError(f"more than {self.limit} TLV elements", offset=offset)


def _decode_one(data: bytes, offset: int, end: int, depth: int, budget: _Budget) -> TLV:
    budget.take(offset)
    tag, pos = read_tag(data, offset)
    if pos > end:
        raise ParseError("tag runs past its parent", offset=offset)
    length, pos = read_length(data, pos)
    constructed = is_constructed(tag)
    if length is None:
        if not constructed:
            raise ParseError("indefinite length on a primitive tag", offset=offset)
        if depth >= MAX_DEPTH:
            raise ParseError(f"nesting deeper than {MAX_DEPTH}", offset=offset)
        children: list[TLV] = []
        child_pos = pos
        while True:
            if child_pos + 2 > end:
                raise ParseError("indefinite length without end-of-contents", offset=offset)
            if data[child_pos] == 0 and data[child_pos + 1] == 0:
                value_end = child_pos
                element_end = child_pos + 2
                break
            child = _decode_one(data, child_pos, end, depth + 1, budget)
            children.append(child)
            child_pos = child.offset + len(child.raw)
        return TLV(
            tag=tag,
            value=data[pos:value_end],
            raw=data[offset:element_end],
            offset=offset,
            children=tuple(children),
        )
    if pos + length > end:
        raise ParseError(
            f"length {length} runs past the data ({end - pos} bytes left)", offset=offset
        )
    value_end = pos + length
    kids: tuple[TLV, ...] = ()
    if constructed:
        if depth >= MAX_DEPTH:
            raise ParseError(f"nesting deeper than {MAX_DEPTH}", offset=offset)
        kids = tuple(_decode_seq(data, pos, value_end, depth + 1, budget))
    return TLV(
        tag=tag, value=data[pos:value_end], raw=data[offset:value_end], offset=offset, children=kids
    )


def _decode_seq(data: bytes, start: int, end: int, depth: int, budget: _Budget) -> Iterator[TLV]:
    pos = start
    while pos < end:
        element = _decode_one(data, pos, end, depth, budget)
        yield element
        pos = element.offset + len(element.raw)


def decode(data: bytes, *, max_elements: int = MAX_ELEMENTS) -> list[TLV]:
    """Decode a concatenation of TLV elements (constructed ones recursively, depth-bounded)."""
    data = bytes(data)
    return list(_decode_seq(data, 0, len(data), 0, _Budget(max_elements)))


def decode_one(data: bytes, *, allow_trailing: bool = False) -> TLV:
    """Decode exactly one element; trailing bytes are an error unless allowed."""
    data = bytes(data)
    element = _decode_one(data, 0, len(data), 0, _Budget(MAX_ELEMENTS))
    if not allow_trailing and len(element.raw) != len(data):
        raise ParseError(f"{len(data) - len(element.raw)} trailing bytes", offset=len(element.raw))
    return element


def header_length(data: bytes) -> tuple[int, int]:
    """From the first bytes of a file: (header size, total element size).

    Used by the file reader to size its reads; only the tag and length must be present.
    """
    tag_end = read_tag(data, 0)[1]
    length, pos = read_length(data, tag_end)
    if length is None:
        raise ParseError("indefinite length at the top of a file", offset=0)
    return pos, pos + length


def encode_tag(tag: int) -> bytes:
    if tag <= 0 or tag > 0xFFFFFFFF:
        raise ValueError(f"invalid tag {tag:X}")
    return tag.to_bytes((tag.bit_length() + 7) // 8, "big")


def encode_length(length: int) -> bytes:
    if length < 0:
        raise ValueError("negative length")
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    if len(body) > MAX_LENGTH_BYTES:
        raise ValueError("length too large")
    return bytes([0x80 | len(body)]) + body


def encode(tag: int, value: bytes | list[bytes] | tuple[bytes, ...]) -> bytes:
    """Encode one element; a list/tuple value is concatenated (children already encoded)."""
    body = b"".join(value) if isinstance(value, (list, tuple)) else bytes(value)
    return encode_tag(tag) + encode_length(len(body)) + body


def encode_tlv(element: TLV) -> bytes:
    """Re-encode a decoded element in definite form (children re-encoded)."""
    if element.children:
        return encode(element.tag, [encode_tlv(child) for child in element.children])
    return encode(element.tag, element.value)
